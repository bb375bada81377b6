// Command quickstart is the whole patchcore flow in one short program: a
// real vendor feed (Ubuntu's USN-5614-1, as OSV JSON) goes into a Catalog,
// detect finds which of two devices miss it, an approval baseline approves
// it, compliance says who is out of line, and deploy plans the deployment
// into a Saturday-night maintenance window.
//
// Run it from the repository root:
//
//	go run ./examples/quickstart
//
// or name another feed file: go run ./examples/quickstart FILE.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/patchcore/sdk/approve"
	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
)

func main() {
	path := "testdata/feeds/ubuntu/USN-5614-1.osv.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := run(context.Background(), os.Stdout, path); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run prints each step of the flow for the feed at path.
func run(ctx context.Context, w io.Writer, path string) error {
	// 1. Feed -> Catalog. The format (OSV here) is recognised from the content.
	cat := feed.NewCatalog()
	if err := formats.ParseFile(ctx, path, func(p patchcore.Patch) error {
		cat.Add(p)
		return nil
	}); err != nil {
		return err
	}
	for _, p := range cat.All() {
		fmt.Fprintf(w, "catalog: %s %s %q, released %s, fixes for %d releases\n", p.ID, p.Severity.Level, p.Title,
			p.Released.Format(time.DateOnly), len(p.Fixes))
	}

	// 2. Inventories (an adapter reads these on a real device) -> detect.
	jammy := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "ubuntu", Version: "22.04", Codename: "jammy"}
	wayland := func(v string) patchcore.Package {
		return patchcore.Package{Name: "libwayland-client0", Version: v, SourceName: "wayland", SourceVersion: v, Ecosystem: patchcore.EcosystemDeb}
	}
	fleet := []patchcore.Inventory{
		{DeviceID: "web-1", Platform: jammy, Packages: []patchcore.Package{wayland("1.20.0-1")}},
		{DeviceID: "web-2", Platform: jammy, Packages: []patchcore.Package{wayland("1.20.0-1ubuntu0.1")}},
	}
	engine := detect.New(cat)
	results := make([]*detect.Result, len(fleet))
	for i, inv := range fleet {
		r, err := engine.Detect(ctx, inv)
		if err != nil {
			return err
		}
		results[i] = &r
		for _, f := range r.Findings {
			fmt.Fprintf(w, "detect: %s %s %s: %s\n", r.DeviceID, f.PatchID, f.State, f.Reason)
		}
	}

	// 3. A baseline approves security patches 7 days after release. Rules
	// approve without a person only on the platforms AutoApproval names
	// (Windows by default), so this baseline names Ubuntu.
	now := time.Date(2022, 9, 26, 9, 0, 0, 0, time.UTC)
	b := approve.NewBaseline("ubuntu-servers", "Ubuntu servers")
	b.AutoApproval.Platforms = []string{"ubuntu"}
	b.Rules = []approve.Rule{{Name: "security-7d", Classifications: []patchcore.Classification{patchcore.ClassSecurity},
		ApproveAfterDays: 7, ComplianceLevel: approve.ComplianceHigh}}
	eval, err := approve.Evaluate(b, cat.All(), now)
	if err != nil {
		return err
	}
	for _, d := range eval.Decisions() {
		fmt.Fprintf(w, "approve: %s %s: %s\n", d.PatchID, d.Status, d.Reason)
	}

	// 4. Compliance per device, and what to deploy where: the approved
	// patches each device is missing.
	var targets []deploy.Target
	for _, r := range results {
		c := eval.Compliance(&approve.DeviceResult{Device: patchcore.Device{ID: r.DeviceID, Platform: r.Platform}, Findings: r.Findings})
		fmt.Fprintf(w, "compliance: %s compliant=%v missing=%d\n", r.DeviceID, c.Compliant, c.States.Missing)
		var missing []string
		for _, p := range c.Patches {
			if p.State == patchcore.ComplianceMissing {
				missing = append(missing, p.PatchID)
			}
		}
		if len(missing) > 0 {
			targets = append(targets, deploy.Target{Device: r.DeviceID, Zone: "Europe/Berlin", Patches: missing})
		}
	}

	// 5. Plan the deployment into a weekly Saturday 22:00 window.
	plan, err := deploy.Plan(deploy.Spec{ID: "wayland-fix", Targets: targets, Policy: deploy.Policy{
		Windows: deploy.Windows{{Name: "saturday night", Duration: patchcore.Duration(4 * time.Hour),
			Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Saturday}, At: deploy.TimeOfDay{Hour: 22}}}},
	}}, now)
	if err != nil {
		return err
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return err
	}
	for i, t := range plan.Targets {
		fmt.Fprintf(w, "deploy: %s window opens %s\n", t.Device, plan.Openings[i].Start.In(berlin).Format("Mon 2006-01-02 15:04 MST"))
	}
	for _, it := range plan.Items {
		fmt.Fprintf(w, "deploy: %s %s %s\n", it.Device, it.Patch, it.State)
	}
	return nil
}
