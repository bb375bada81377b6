package adapterv1

import (
	"reflect"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

func TestInventoryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		inv  patchcore.Inventory
	}{
		{"zero", patchcore.Inventory{}},
		{"full", patchcore.Inventory{
			DeviceID: "dev-1",
			Platform: patchcore.Platform{Family: "windows", Distro: "windows", Version: "11", ProductName: "Windows 11 Pro",
				DisplayVersion: "23H2", Edition: "Professional", Build: "10.0.22631", UBR: 3007, Arch: "amd64", Kernel: "k"},
			Packages: []patchcore.Package{{Name: "a", Version: "1:2-3", Arch: "x86_64", SourceName: "a-src", SourceVersion: "1:2-3",
				Ecosystem: patchcore.EcosystemRPM, ModuleStream: "postgresql:12", ProductCode: "{X}", Held: true}},
			KBs: []string{"KB5034441"}, PendingReboot: true,
			CollectedAt: time.Date(2026, 11, 21, 10, 0, 0, 123, time.UTC), Duration: 1500 * time.Millisecond,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToInventoryHeader(FromInventoryHeader(tt.inv))
			got.Packages = AppendPackages(nil, FromPackages(tt.inv.Packages))
			if !reflect.DeepEqual(got, tt.inv) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.inv)
			}
		})
	}
	if !ToTime(nil).IsZero() || ToPlatform(nil) != (patchcore.Platform{}) || ToSeverity(nil) != (patchcore.Severity{}) {
		t.Error("nil messages must give zero values")
	}
	if s := ToSeverity(FromSeverity(patchcore.ParseSeverity("Important"))); s.Level != patchcore.SeverityHigh || s.Raw != "Important" {
		t.Errorf("severity round trip = %+v", s)
	}
}
