package detect_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// Re-evaluating a fleet after a feed update: Lazy keeps Detect to the
// counts, and findings are built only for the devices someone looks at.
func ExampleLazy() {
	cat := feed.NewCatalog()
	cat.Add(patchcore.Patch{ID: "DSA-5678-1", Title: "unzip security update", Classification: patchcore.ClassSecurity,
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb, Package: "unzip",
			PackageKind: patchcore.PackageSource, FixedVersion: "6.0-28+deb12u1"}}})
	bookworm := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "debian", Version: "12", Codename: "bookworm"}
	fleet := []patchcore.Inventory{
		{DeviceID: "web1", Platform: bookworm, Packages: []patchcore.Package{{Name: "unzip", Version: "6.0-28", Ecosystem: patchcore.EcosystemDeb}}},
		{DeviceID: "web2", Platform: bookworm, Packages: []patchcore.Package{{Name: "unzip", Version: "6.0-28", Ecosystem: patchcore.EcosystemDeb}}},
		{DeviceID: "db1", Platform: bookworm, Packages: []patchcore.Package{{Name: "unzip", Version: "6.0-28+deb12u1", Ecosystem: patchcore.EcosystemDeb}}},
	}
	e := detect.New(cat, detect.Lazy())
	for _, inv := range fleet {
		r, err := e.Detect(context.Background(), inv)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d missing, %d installed\n", r.DeviceID, r.Counts.Missing, r.Counts.Installed)
		for _, f := range r.ActionableFindings() {
			fmt.Printf("  %s %s: %s\n", f.State, f.PatchID, f.Reason)
		}
	}
	// Output:
	// web1: 1 missing, 0 installed
	//   missing DSA-5678-1: unzip 6.0-28 < 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm
	// web2: 1 missing, 0 installed
	//   missing DSA-5678-1: unzip 6.0-28 < 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm
	// db1: 0 missing, 1 installed
}
