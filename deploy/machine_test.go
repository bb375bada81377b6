package deploy_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

// open guard inputs: every guard passes.
func passing(ev deploy.Event) deploy.Input {
	return deploy.Input{Event: ev, At: t0, LockHeld: true, WindowOpen: true, Reason: "why"}
}

var lim = deploy.Limits{Retries: 3, MaxDeferrals: 2, MaxReboots: 3}

// TestTransitionTable checks every (state, event) pair: the legal ones
// against the expected target state and alert, the rest for an error
// naming from, event and to.
func TestTransitionTable(t *testing.T) {
	P, DL, DD, W, I := patchcore.DeployPosted, patchcore.DeployDownloading, patchcore.DeployDownloaded, patchcore.DeployWaiting, patchcore.DeployInstalling
	IN, PR, F, R, FF := patchcore.DeployInstalled, patchcore.DeployInstalledPendingReboot, patchcore.DeployFailed, patchcore.DeployRetrying, patchcore.DeployFailedFinal
	AB, NA, BU, UN := patchcore.DeployAborted, patchcore.DeployNotApplicable, patchcore.DeployInstalledByUser, patchcore.DeployUnknown
	type key struct {
		from patchcore.DeploymentState
		ev   deploy.Event
	}
	type row struct {
		to    patchcore.DeploymentState
		alert deploy.AlertKind
	}
	legal := map[key]row{
		{P, deploy.EvDownload}:          {DL, deploy.AlertDownloadInitiated},
		{R, deploy.EvDownload}:          {DL, deploy.AlertDownloadInitiated},
		{DL, deploy.EvDownloaded}:       {DD, deploy.AlertDownloaded},
		{DL, deploy.EvDownloadFailed}:   {F, deploy.AlertDownloadFailed},
		{DD, deploy.EvWait}:             {W, deploy.AlertWaiting},
		{DD, deploy.EvBlock}:            {DD, deploy.AlertInstallBlocked},
		{W, deploy.EvBlock}:             {W, deploy.AlertInstallBlocked},
		{DD, deploy.EvDefer}:            {DD, deploy.AlertDeferred},
		{W, deploy.EvDefer}:             {W, deploy.AlertDeferred},
		{PR, deploy.EvDefer}:            {PR, deploy.AlertDeferred},
		{PR, deploy.EvBlock}:            {PR, deploy.AlertRebootBlocked},
		{DD, deploy.EvInstall}:          {I, deploy.AlertInstallStarted},
		{W, deploy.EvInstall}:           {I, deploy.AlertInstallStarted},
		{I, deploy.EvInstalled}:         {IN, deploy.AlertInstallComplete},
		{I, deploy.EvNeedsReboot}:       {PR, deploy.AlertPendingReboot},
		{I, deploy.EvInstallFailed}:     {F, deploy.AlertInstallFailed},
		{F, deploy.EvRetry}:             {R, deploy.AlertRetryScheduled},
		{F, deploy.EvGiveUp}:            {FF, deploy.AlertFailedFinal},
		{PR, deploy.EvReboot}:           {PR, deploy.AlertRebootInitiated},
		{PR, deploy.EvVerified}:         {IN, deploy.AlertInstallComplete},
		{PR, deploy.EvVerifyFailed}:     {UN, deploy.AlertVerificationFailed},
		{P, deploy.EvAbort}:             {AB, deploy.AlertAborted},
		{DL, deploy.EvAbort}:            {AB, deploy.AlertAborted},
		{DD, deploy.EvAbort}:            {AB, deploy.AlertAborted},
		{W, deploy.EvAbort}:             {AB, deploy.AlertAborted},
		{I, deploy.EvAbort}:             {AB, deploy.AlertAborted},
		{PR, deploy.EvAbort}:            {AB, deploy.AlertAborted},
		{F, deploy.EvAbort}:             {AB, deploy.AlertAborted},
		{R, deploy.EvAbort}:             {AB, deploy.AlertAborted},
		{P, deploy.EvNotApplicable}:     {NA, deploy.AlertNotApplicable},
		{DL, deploy.EvNotApplicable}:    {NA, deploy.AlertNotApplicable},
		{DD, deploy.EvNotApplicable}:    {NA, deploy.AlertNotApplicable},
		{W, deploy.EvNotApplicable}:     {NA, deploy.AlertNotApplicable},
		{I, deploy.EvNotApplicable}:     {NA, deploy.AlertNotApplicable},
		{F, deploy.EvNotApplicable}:     {NA, deploy.AlertNotApplicable},
		{R, deploy.EvNotApplicable}:     {NA, deploy.AlertNotApplicable},
		{P, deploy.EvAlreadyInstalled}:  {BU, deploy.AlertInstalledByUser},
		{DL, deploy.EvAlreadyInstalled}: {BU, deploy.AlertInstalledByUser},
		{DD, deploy.EvAlreadyInstalled}: {BU, deploy.AlertInstalledByUser},
		{W, deploy.EvAlreadyInstalled}:  {BU, deploy.AlertInstalledByUser},
		{F, deploy.EvAlreadyInstalled}:  {BU, deploy.AlertInstalledByUser},
		{R, deploy.EvAlreadyInstalled}:  {BU, deploy.AlertInstalledByUser},
	}
	if got := len(deploy.Transitions()); got != len(legal) {
		t.Errorf("Transitions() has %d rows, the test expects %d", got, len(legal))
	}
	for _, tr := range deploy.Transitions() {
		if w, ok := legal[key{tr.From, tr.Event}]; !ok || w.to != tr.To || w.alert != tr.Alert {
			t.Errorf("table row %+v not expected", tr)
		}
	}
	for _, from := range deploy.States() {
		for _, ev := range deploy.Events() {
			t.Run(string(from)+"/"+string(ev), func(t *testing.T) {
				// Failed items: a retryable one for EvRetry, a spent one for EvGiveUp.
				it := deploy.Item{Device: "d", Patch: "p", State: from, Attempt: 1, Version: 7}
				if ev == deploy.EvGiveUp {
					it.Attempt = 4
				}
				next, alert, err := deploy.Fire("dep", it, passing(ev), lim)
				w, ok := legal[key{from, ev}]
				if !ok {
					var te *deploy.TransitionError
					if !errors.Is(err, patchcore.ErrIllegalTransition) || !errors.As(err, &te) {
						t.Fatalf("Fire = %v, want a *TransitionError wrapping ErrIllegalTransition", err)
					}
					msg := err.Error()
					for _, part := range []string{string(from), string(ev), string(te.To), `device "d"`} {
						if !strings.Contains(msg, part) {
							t.Errorf("error %q does not name %q", msg, part)
						}
					}
					if next != it {
						t.Errorf("illegal transition changed the item: %+v", next)
					}
					if from.Terminal() && te.To == "" {
						t.Errorf("no target named")
					}
					return
				}
				if err != nil {
					t.Fatalf("Fire = %v, want %s", err, w.to)
				}
				if next.State != w.to || alert.Kind != w.alert || alert.From != from || alert.To != w.to || alert.Event != ev {
					t.Errorf("Fire = %s alert %+v, want %s with %s", next.State, alert, w.to, w.alert)
				}
				if next.Version != 8 || alert.ID != "dep/d/p/8" {
					t.Errorf("version %d alert ID %q, want 8 and dep/d/p/8", next.Version, alert.ID)
				}
				if from.Terminal() {
					t.Errorf("a transition leaves terminal state %s", from)
				}
			})
		}
	}
}

func TestGuards(t *testing.T) {
	now := t0
	tests := []struct {
		name  string
		it    deploy.Item
		in    deploy.Input
		lim   deploy.Limits
		guard string // empty: allowed
	}{
		{"install needs the device lock", deploy.Item{State: patchcore.DeployDownloaded}, deploy.Input{Event: deploy.EvInstall, WindowOpen: true}, lim, "another deployment holds the device"},
		{"install needs an open window", deploy.Item{State: patchcore.DeployWaiting}, deploy.Input{Event: deploy.EvInstall, LockHeld: true}, lim, "no maintenance window"},
		{"install waits for a deferral", deploy.Item{State: patchcore.DeployDownloaded, NotBefore: now.Add(time.Minute)}, deploy.Input{Event: deploy.EvInstall, LockHeld: true, WindowOpen: true}, lim, "deferred until"},
		{"install allowed", deploy.Item{State: patchcore.DeployDownloaded}, deploy.Input{Event: deploy.EvInstall, LockHeld: true, WindowOpen: true}, lim, ""},
		{"retry download waits for backoff", deploy.Item{State: patchcore.DeployRetrying, NotBefore: now.Add(time.Second)}, deploy.Input{Event: deploy.EvDownload}, lim, "backing off"},
		{"retry download after backoff", deploy.Item{State: patchcore.DeployRetrying, NotBefore: now}, deploy.Input{Event: deploy.EvDownload}, lim, ""},
		{"retry with retries left", deploy.Item{State: patchcore.DeployFailed, Attempt: 3}, deploy.Input{Event: deploy.EvRetry}, lim, ""},
		{"no retry after 1+3 attempts", deploy.Item{State: patchcore.DeployFailed, Attempt: 4}, deploy.Input{Event: deploy.EvRetry}, lim, "used the 3 retries"},
		{"no retry of a permanent failure", deploy.Item{State: patchcore.DeployFailed, Attempt: 1, Permanent: true}, deploy.Input{Event: deploy.EvRetry}, lim, "permanent"},
		{"no give up with retries left", deploy.Item{State: patchcore.DeployFailed, Attempt: 2}, deploy.Input{Event: deploy.EvGiveUp}, lim, "retries remain"},
		{"give up a permanent failure", deploy.Item{State: patchcore.DeployFailed, Attempt: 1, Permanent: true}, deploy.Input{Event: deploy.EvGiveUp}, lim, ""},
		{"defer within count", deploy.Item{State: patchcore.DeployDownloaded, Deferrals: 1}, deploy.Input{Event: deploy.EvDefer}, lim, ""},
		{"defer count used", deploy.Item{State: patchcore.DeployDownloaded, Deferrals: 2}, deploy.Input{Event: deploy.EvDefer}, lim, "2 of 2 deferrals"},
		{"defer deadline passed", deploy.Item{State: patchcore.DeployDownloaded}, deploy.Input{Event: deploy.EvDefer},
			deploy.Limits{MaxDeferrals: 5, DeferralDeadline: now}, "deadline"},
		{"reboot loop guard", deploy.Item{State: patchcore.DeployInstalledPendingReboot, Reboots: 3}, deploy.Input{Event: deploy.EvReboot}, lim, "reboot-loop guard"},
		{"block once per reason", deploy.Item{State: patchcore.DeployDownloaded, Reason: "r", Blocked: true}, deploy.Input{Event: deploy.EvBlock, Reason: "r"}, lim, "same reason"},
		{"block an unblocked item with its reason", deploy.Item{State: patchcore.DeployDownloaded, Reason: "r"}, deploy.Input{Event: deploy.EvBlock, Reason: "r"}, lim, ""},
		{"block a restart once per reason", deploy.Item{State: patchcore.DeployInstalledPendingReboot, Reason: "r", Blocked: true}, deploy.Input{Event: deploy.EvBlock, Reason: "r"}, lim, "same reason"},
		{"block with a new reason", deploy.Item{State: patchcore.DeployDownloaded, Reason: "r"}, deploy.Input{Event: deploy.EvBlock, Reason: "s"}, lim, ""},
		{"reboot allowed", deploy.Item{State: patchcore.DeployInstalledPendingReboot, Reboots: 2}, deploy.Input{Event: deploy.EvReboot}, lim, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.At = now
			_, _, err := deploy.Fire("dep", tc.it, tc.in, tc.lim)
			if tc.guard == "" {
				if err != nil {
					t.Fatalf("Fire = %v, want allowed", err)
				}
				return
			}
			var te *deploy.TransitionError
			if !errors.As(err, &te) || !errors.Is(err, patchcore.ErrIllegalTransition) || !strings.Contains(te.Guard, tc.guard) {
				t.Fatalf("Fire = %v, want guard %q", err, tc.guard)
			}
		})
	}
}

// walk feeds events (and guard inputs) drawn from next to a fresh item and
// checks the machine's invariants. It returns the final item.
func walk(t testing.TB, next func() (deploy.Event, bool, bool), steps int) deploy.Item {
	legal := map[[2]string]patchcore.DeploymentState{}
	for _, tr := range deploy.Transitions() {
		legal[[2]string{string(tr.From), string(tr.Event)}] = tr.To
	}
	it := deploy.Item{Device: "d", Patch: "p", State: patchcore.DeployPosted}
	now := t0
	taken := 0
	// Bound on legal transitions: every cycle consumes an attempt, a
	// deferral or a reboot, so no walk can be longer.
	bound := (lim.Retries+1)*10 + lim.MaxDeferrals + lim.MaxReboots + 4
	for range steps {
		if it.State.Terminal() {
			break
		}
		ev, lock, window := next()
		now = now.Add(time.Hour)
		in := deploy.Input{Event: ev, At: now, LockHeld: lock, WindowOpen: window, NotBefore: now.Add(30 * time.Minute), Reason: "r"}
		n, a, err := deploy.Fire("dep", it, in, lim)
		to, inTable := legal[[2]string{string(it.State), string(ev)}]
		switch {
		case err != nil:
			if !errors.Is(err, patchcore.ErrIllegalTransition) {
				t.Fatalf("error %v does not wrap ErrIllegalTransition", err)
			}
			if n != it {
				t.Fatalf("rejected event %s changed the item", ev)
			}
		case !inTable || n.State != to:
			t.Fatalf("took %s -(%s)-> %s, not in the table", it.State, ev, n.State)
		default:
			if a.From != it.State || a.To != n.State || a.ID == "" {
				t.Fatalf("alert %+v does not describe %s -> %s", a, it.State, n.State)
			}
			taken++
			if taken > bound {
				t.Fatalf("more than %d legal transitions without reaching a terminal state (at %s)", bound, n.State)
			}
			it = n
		}
	}
	// Whatever state the walk stopped in, a terminal one is one event away.
	if !it.State.Terminal() {
		n, _, err := deploy.Fire("dep", it, deploy.Input{Event: deploy.EvAbort, At: now}, lim)
		if err != nil || !n.State.Terminal() {
			t.Fatalf("cannot end open state %s: %v", it.State, err)
		}
	}
	return it
}

// TestMachineProperty: random event sequences (seeded) never take a
// transition outside the table, reject illegal ones without change, stay
// within the bound that rules out endless cycles, and, when the events a
// healthy runner sends are offered, always reach a terminal state.
func TestMachineProperty(t *testing.T) {
	events := deploy.Events()
	rng := rand.New(rand.NewPCG(2026, 8))
	terminal := map[patchcore.DeploymentState]int{}
	for range 2000 {
		// Skew away from Abort so that walks get deep.
		it := walk(t, func() (deploy.Event, bool, bool) {
			ev := events[rng.IntN(len(events))]
			switch ev {
			case deploy.EvAbort, deploy.EvNotApplicable, deploy.EvAlreadyInstalled:
				if rng.IntN(20) > 0 {
					ev = deploy.EvInstall
				}
			}
			return ev, rng.IntN(4) > 0, rng.IntN(4) > 0
		}, 5000)
		terminal[it.State]++
	}
	// Every walk of 5000 random events reached a terminal state, and the
	// walks reached all six of them.
	for _, s := range deploy.States() {
		if s.Terminal() && terminal[s] == 0 {
			t.Errorf("no walk ended in %s (%v)", s, terminal)
		}
		if !s.Terminal() && terminal[s] > 0 {
			t.Errorf("%d walks stuck in %s", terminal[s], s)
		}
	}
}

// FuzzMachine drives the machine with events chosen by the fuzzer.
func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 1, 6, 7})
	f.Add([]byte{0, 2, 10, 0, 1, 6, 8, 12, 13})
	f.Add([]byte{0, 1, 3, 6, 9, 10, 0, 1, 6, 9, 11})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		events := deploy.Events()
		i := 0
		walk(t, func() (deploy.Event, bool, bool) {
			b := data[i%len(data)]
			i++
			return events[int(b)%len(events)], b&0x40 == 0, b&0x80 == 0
		}, max(len(data), 1)*4)
	})
}
