package sdk_test

import (
	"context"
	"fmt"
	"time"

	"github.com/patchcore/sdk/approve"
	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
)

// The whole flow: a real Ubuntu notice (USN-5614-1, OSV JSON, from the
// repository's testdata) into a Catalog; detection on two devices; a
// baseline that approves security patches a week after release; compliance;
// and a deployment planned into a Saturday-night window for the device
// that misses the patch.
func Example() {
	ctx := context.Background()

	// Feed -> Catalog; the format is recognised from the content.
	cat := feed.NewCatalog()
	err := formats.ParseFile(ctx, "testdata/feeds/ubuntu/USN-5614-1.osv.json", func(p patchcore.Patch) error {
		cat.Add(p)
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Inventories (an adapter reads them on a real device) -> findings.
	jammy := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "ubuntu", Version: "22.04", Codename: "jammy"}
	wayland := func(v string) []patchcore.Package {
		return []patchcore.Package{{Name: "libwayland-client0", Version: v, SourceName: "wayland", SourceVersion: v, Ecosystem: patchcore.EcosystemDeb}}
	}
	fleet := []patchcore.Inventory{
		{DeviceID: "web-1", Platform: jammy, Packages: wayland("1.20.0-1")},
		{DeviceID: "web-2", Platform: jammy, Packages: wayland("1.20.0-1ubuntu0.1")},
	}
	engine := detect.New(cat)
	var results []detect.Result
	for _, inv := range fleet {
		r, err := engine.Detect(ctx, inv)
		if err != nil {
			fmt.Println(err)
			return
		}
		results = append(results, r)
		for _, f := range r.Findings {
			fmt.Println(r.DeviceID, f.PatchID, f.State)
		}
	}

	// A baseline: security patches are approved 7 days after release.
	// Rules approve without a person only on the platforms AutoApproval
	// names (Windows unless a baseline says otherwise).
	now := time.Date(2022, 9, 26, 9, 0, 0, 0, time.UTC)
	b := approve.NewBaseline("ubuntu-servers", "Ubuntu servers")
	b.AutoApproval.Platforms = []string{"ubuntu"}
	b.Rules = []approve.Rule{{Name: "security-7d", Classifications: []patchcore.Classification{patchcore.ClassSecurity},
		ApproveAfterDays: 7, ComplianceLevel: approve.ComplianceHigh}}
	eval, err := approve.Evaluate(b, cat.All(), now)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range eval.Decisions() {
		fmt.Println(d.PatchID, d.Status, "-", d.Reason)
	}

	// Compliance, and the approved patches each device misses.
	var targets []deploy.Target
	for _, r := range results {
		c := eval.Compliance(&approve.DeviceResult{Device: patchcore.Device{ID: r.DeviceID, Platform: r.Platform}, Findings: r.Findings})
		fmt.Println(r.DeviceID, "compliant:", c.Compliant)
		var missing []string
		for _, p := range c.Patches {
			if p.State == patchcore.ComplianceMissing {
				missing = append(missing, p.PatchID)
			}
		}
		if missing != nil {
			targets = append(targets, deploy.Target{Device: r.DeviceID, Zone: "Europe/Berlin", Patches: missing})
		}
	}

	// The deployment plan: one Posted item per (device, patch), each
	// device's next window opening.
	plan, err := deploy.Plan(deploy.Spec{ID: "wayland-fix", Targets: targets, Policy: deploy.Policy{
		Windows: deploy.Windows{{Name: "saturday night", Duration: patchcore.Duration(4 * time.Hour),
			Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Saturday}, At: deploy.TimeOfDay{Hour: 22}}}},
	}}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, t := range plan.Targets {
		fmt.Println(t.Device, "window opens", plan.Openings[i].Start.UTC().Format(time.RFC3339))
	}
	for _, it := range plan.Items {
		fmt.Println(it.Device, it.Patch, it.State)
	}
	// Output:
	// web-1 USN-5614-1 missing
	// web-2 USN-5614-1 installed
	// USN-5614-1 approved - approved by rule "security-7d" (7 days after release on 2022-09-15)
	// web-1 compliant: false
	// web-2 compliant: true
	// web-1 window opens 2022-10-01T20:00:00Z
	// web-1 USN-5614-1 posted
}
