package deploy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/patchcore"
)

// A deployment of two patches to two devices, with a Saturday night
// window in each device's zone, driven to the end with a fake clock.
func ExampleRunner() {
	ctx := context.Background()
	clock := deploytest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	store := deploy.NewMemStore()
	inst := deploytest.NewExecutor(map[string]deploytest.Behavior{
		"web-1/KB5034441": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}},
	})
	r := deploy.NewRunner(store, inst, deploy.WithClock(clock))
	_, err := r.Create(ctx, deploy.Spec{
		ID:      "march",
		Patches: []string{"KB5034441", "KB5034439"},
		Targets: []deploy.Target{{Device: "web-1", Zone: "Europe/Berlin"}, {Device: "db-1", Zone: "America/New_York"}},
		Policy: deploy.Policy{
			Windows: deploy.Windows{{Name: "saturday night", Duration: patchcore.Duration(4 * time.Hour),
				Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Saturday}, At: deploy.TimeOfDay{Hour: 22}}}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		res, err := r.Tick(ctx, "march")
		if err != nil {
			fmt.Println(err)
			return
		}
		if res.Done {
			fmt.Println(res.Summary.State, res.Summary.Counts[patchcore.DeployInstalled], "installed")
			break
		}
		clock.Set(res.Next)
	}
	fmt.Println("finished", clock.Now().UTC().Format(time.RFC3339))
	// Output:
	// completed 4 installed
	// finished 2026-03-08T03:00:00Z
}

// Fire applies one event to one item through the transition table.
func ExampleFire() {
	it := deploy.Item{Device: "web-1", Patch: "DSA-5678-1", State: patchcore.DeployPosted}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	it, alert, _ := deploy.Fire("march", it, deploy.Input{Event: deploy.EvDownload, At: at}, deploy.Limits{})
	fmt.Println(it.State, alert.Kind, alert.ID)
	_, _, err := deploy.Fire("march", it, deploy.Input{Event: deploy.EvInstalled, At: at}, deploy.Limits{})
	fmt.Println(err)
	// Output:
	// downloading download_initiated march/web-1/DSA-5678-1/1
	// device "web-1" patch "DSA-5678-1": downloading -(installed)-> installed: not in the transition table: illegal state transition
}

// A window at 02:30 on the night Berlin springs forward opens at 03:00 CEST.
func ExampleWindow_NextOpening() {
	w := deploy.Window{Name: "sunday", Duration: patchcore.Duration(time.Hour),
		Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Sunday}, At: deploy.TimeOfDay{Hour: 2, Minute: 30}, Zone: "Europe/Berlin"}}
	loc, _ := w.Location("")
	o, _ := w.NextOpening(time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC), "")
	fmt.Println(o.Start.In(loc).Format("2006-01-02 15:04 MST"), "to", o.End.In(loc).Format("15:04 MST"))
	// Output: 2026-03-29 03:00 CEST to 04:00 CEST
}
