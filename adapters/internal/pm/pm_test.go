package pm

import "testing"

func TestIsAdvisoryID(t *testing.T) {
	for id, want := range map[string]bool{
		"DSA-5678-1": true, "DLA-3456-1": true, "USN-6000-1": true, "RHSA-2024:1234": true,
		"FEDORA-2024-1a2b3c4d5e": true, "FEDORA-EPEL-2024-0a1b2c": true, "SUSE-SU-2024:1234-1": true,
		"openSUSE-SU-2024:0001-1": true, "ALAS2-2024-001": true,
		"openssl": false, "libssl3": false, "DSA": false, "DSA-": false, "dsa-5678-1": false, "Microsoft.Edge": false,
	} {
		if got := IsAdvisoryID(id); got != want {
			t.Errorf("IsAdvisoryID(%q) = %v, want %v", id, got, want)
		}
	}
}
