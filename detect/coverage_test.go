package detect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// covWinPatch is one KB for one MSRC product.
func covWinPatch(id, product, fixedBuild string) patchcore.Patch {
	return patchcore.Patch{ID: id, Source: "test", Classification: patchcore.ClassSecurity,
		Fixes: []patchcore.Fix{{Distro: "windows", Product: product, KB: id, FixedBuild: fixedBuild, Scheme: "dotted", Ecosystem: patchcore.EcosystemWindows}}}
}

func covEcoPatch(id string, eco patchcore.Ecosystem, pkg, fixed string) patchcore.Patch {
	return patchcore.Patch{ID: id, Source: "test", Classification: patchcore.ClassSecurity,
		Fixes: []patchcore.Fix{{Ecosystem: eco, Package: pkg, Scheme: "semver", FixedVersion: fixed}}}
}

// TestCoverage: a device the catalog has no patches for is not covered,
// with a reason and the list of what the catalog covers; a covered device
// with nothing applicable is covered, with the count of patches evaluated.
// Each not-covered case below gave "0 missing, 0 not applicable" and no
// other signal before Coverage existed.
func TestCoverage(t *testing.T) {
	win11 := patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro", DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3007, Arch: "amd64"}
	const win11Product = "Windows 11 Version 23H2 for x64-based Systems"
	unzip := []patchcore.Package{deb("unzip", "6.0-28", "unzip", "6.0-28")}
	rocky := patch("RLSA-2024:1", nil, rpmFix("rocky", "9", "openssl", "x86_64", "", "1:3.0.7-25.el9"))
	tests := []struct {
		name    string
		patches []patchcore.Patch
		inv     patchcore.Inventory
		covered bool
		n       int
		reason  string // substring of Coverage.Reason
		scopes  string // the catalog's scopes, joined with "; ", when not covered
	}{
		{"rocky catalog, debian device", []patchcore.Patch{rocky},
			patchcore.Inventory{Platform: bookworm(), Packages: unzip}, false, 0,
			"the catalog has no patches for debian bookworm/12", "rocky 9"},
		{"catalog of another release", []patchcore.Patch{patch("CVE-1", nil, debFix("sid", "unzip", "6.0-29", patchcore.FixFixed))},
			patchcore.Inventory{Platform: bookworm(), Packages: unzip}, false, 0,
			"no patches for debian bookworm/12", "debian sid"},
		{"codename typed as the distro", []patchcore.Patch{patch("DSA-1", nil, debFix("bookworm", "unzip", "6.0-28+deb12u1", patchcore.FixFixed))},
			patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "bookworm"}, Packages: unzip}, false, 0,
			"no patches for bookworm with no release", "debian bookworm"},
		{"no release, release-specific catalog", []patchcore.Patch{patch("DSA-1", nil, debFix("bookworm", "unzip", "6.0-28+deb12u1", patchcore.FixFixed))},
			patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "debian"}, Packages: unzip}, false, 0,
			"debian with no release", "debian bookworm"},
		{"covered, nothing installed is concerned", []patchcore.Patch{patch("DSA-1", nil, debFix("bookworm", "zlib", "1.2", patchcore.FixFixed)), rocky},
			patchcore.Inventory{Platform: bookworm(), Packages: unzip}, true, 1, "", ""},
		{"release-independent fixes cover any release", []patchcore.Patch{patch("CVE-1", nil, debFix("", "unzip", "6.0-29", patchcore.FixFixed))},
			patchcore.Inventory{Platform: bookworm(), Packages: unzip}, true, 1, "", ""},
		{"windows device, linux catalog", []patchcore.Patch{rocky},
			patchcore.Inventory{Platform: win11}, false, 0, "the catalog has no Windows patches", "rocky 9"},
		{"windows product not in the catalog", []patchcore.Patch{covWinPatch("KB1", "Windows Server 2022", "10.0.20348.100")},
			patchcore.Inventory{Platform: win11}, false, 0, "no patches for " + win11Product, "Windows Server 2022"},
		{"windows build that maps to no product", []patchcore.Patch{covWinPatch("KB1", win11Product, "10.0.22631.3007")},
			patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", Build: "22631"}}, false, 0, "cannot map the device to an MSRC product", win11Product},
		{"windows covered", []patchcore.Patch{covWinPatch("KB1", win11Product, "10.0.22631.3007"), covWinPatch("KB2", "Windows Server 2022", "10.0.20348.100")},
			patchcore.Inventory{Platform: win11}, true, 1, "", ""},
		{"packages only, ecosystem covered", []patchcore.Patch{covEcoPatch("GHSA-1", patchcore.EcosystemNPM, "left-pad", "1.3.0")},
			patchcore.Inventory{Packages: []patchcore.Package{{Name: "express", Version: "4.0.0", Ecosystem: patchcore.EcosystemNPM}}}, true, 1, "", ""},
		{"packages only, ecosystem not covered", []patchcore.Patch{covEcoPatch("GHSA-1", patchcore.EcosystemNPM, "left-pad", "1.3.0")},
			patchcore.Inventory{Packages: []patchcore.Package{{Name: "django", Version: "4.0", Ecosystem: patchcore.EcosystemPyPI}}}, false, 0,
			"or for the ecosystems of its packages (pypi)", "npm"},
		{"macos, empty catalog", nil,
			patchcore.Inventory{Platform: patchcore.Platform{Family: "darwin", Distro: "macos", Version: "14.2"},
				Packages: []patchcore.Package{{Name: "git", Version: "2.43.0", Ecosystem: patchcore.EcosystemHomebrew}}}, false, 0,
			"(the catalog is empty)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := feed.NewCatalog()
			cat.Add(tt.patches...)
			r := run(t, cat, tt.inv)
			c := r.Coverage
			if c.Covered != tt.covered || c.Patches != tt.n {
				t.Errorf("covered %v with %d patches, want %v with %d (reason %q)", c.Covered, c.Patches, tt.covered, tt.n, c.Reason)
			}
			if tt.covered {
				if c.Reason != "" || c.Catalog != nil {
					t.Errorf("covered device has reason %q and catalog %v", c.Reason, c.Catalog)
				}
				return
			}
			if !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", c.Reason, tt.reason)
			}
			var names []string
			for _, s := range c.Catalog {
				names = append(names, s.String())
			}
			if got := strings.Join(names, "; "); got != tt.scopes {
				t.Errorf("catalog covers %q, want %q", got, tt.scopes)
			}
		})
	}
}

// TestCoverageFollowsCatalog: the scopes are recomputed when the catalog
// changes, and a device becomes covered when its release's feed arrives.
func TestCoverageFollowsCatalog(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("CVE-1", nil, debFix("sid", "unzip", "6.0-29", patchcore.FixFixed)))
	e := New(cat, Lazy())
	inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("unzip", "6.0-28", "unzip", "6.0-28")}}
	r, err := e.Detect(context.Background(), inv)
	if err != nil || r.Coverage.Covered || len(r.Coverage.Catalog) != 1 {
		t.Fatalf("before: %+v, %v", r.Coverage, err)
	}
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "unzip", "6.0-28+deb12u1", patchcore.FixFixed)))
	r, err = e.Detect(context.Background(), inv)
	if err != nil || !r.Coverage.Covered || r.Coverage.Patches != 1 || r.Counts.Missing != 1 {
		t.Fatalf("after: %+v %+v, %v", r.Coverage, r.Counts, err)
	}
	cat.Add(patch("RLSA-1", nil, rpmFix("rocky", "9", "openssl", "x86_64", "", "3.0.7")))
	inv.Platform = patchcore.Platform{Family: "linux", Distro: "ubuntu", Version: "22.04"}
	r, err = e.Detect(context.Background(), inv)
	if err != nil || r.Coverage.Covered || len(r.Coverage.Catalog) != 3 {
		t.Fatalf("ubuntu: %+v, %v", r.Coverage, err)
	}
}

// TestEmptyInventory: an inventory with nothing to evaluate is an error,
// not a device with nothing missing; a Windows device is judged by its
// build and needs no packages.
func TestEmptyInventory(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "unzip", "6.0-28+deb12u1", patchcore.FixFixed)))
	for _, inv := range []patchcore.Inventory{
		{},
		{DeviceID: "d1", Platform: bookworm()},
		{Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro"}},
	} {
		if _, err := New(cat).Detect(context.Background(), inv); !errors.Is(err, patchcore.ErrInvalidInput) || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("%+v: error %v, want an empty-inventory ErrInvalidInput", inv, err)
		}
	}
	win := patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro", DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3007, Arch: "amd64"}}
	if _, err := New(cat).Detect(context.Background(), win); err != nil {
		t.Errorf("windows device with a build and no KBs: %v", err)
	}
}

// TestCoverageConcurrent: the scope list is built once, safely, when many
// devices that are not covered are detected at the same time.
func TestCoverageConcurrent(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("RLSA-1", nil, rpmFix("rocky", "9", "openssl", "x86_64", "", "3.0.7")))
	e := New(cat)
	inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("unzip", "6.0-28", "unzip", "6.0-28")}}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			r, err := e.Detect(context.Background(), inv)
			if err == nil && (r.Coverage.Covered || len(r.Coverage.Catalog) != 1 || r.Coverage.Catalog[0].String() != "rocky 9") {
				err = errors.New("coverage " + r.Coverage.Reason)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
