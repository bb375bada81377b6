package detect_test

import (
	"context"
	"fmt"
	"time"

	"github.com/patchcore/sdk/approve"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// A device the catalog has no patches for is not covered: its Result is no
// answer, however clean its counts look, and approve never counts it
// compliant once the reason is passed on.
func ExampleCoverage() {
	cat := feed.NewCatalog()
	cat.Add(patchcore.Patch{ID: "DSA-5678-1", Classification: patchcore.ClassSecurity,
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb, Package: "unzip",
			PackageKind: patchcore.PackageSource, FixedVersion: "6.0-28+deb12u1"}}})
	rocky := patchcore.Inventory{DeviceID: "db1", Platform: patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "rocky", Version: "9.3"},
		Packages: []patchcore.Package{{Name: "openssl", Version: "1:3.0.7-24.el9", Ecosystem: patchcore.EcosystemRPM}}}
	r, err := detect.New(cat).Detect(context.Background(), rocky)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d missing, covered: %v (%s)\n", r.Counts.Missing, r.Coverage.Covered, r.Coverage.Reason)
	for _, s := range r.Coverage.Catalog {
		fmt.Printf("the catalog covers %s: %d patches\n", s, s.Patches)
	}

	b := approve.NewBaseline("all", "")
	ev, _ := approve.Evaluate(b, []patchcore.Patch{}, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	dr := approve.DeviceResult{Device: patchcore.Device{ID: r.DeviceID}, Findings: r.AllFindings()}
	if !r.Coverage.Covered {
		dr.NotCovered = r.Coverage.Reason
	}
	fmt.Println("compliant:", ev.Compliance(&dr).Compliant)
	// Output:
	// 0 missing, covered: false (the catalog has no patches for rocky 9.3)
	// the catalog covers debian bookworm: 1 patches
	// compliant: false
}
