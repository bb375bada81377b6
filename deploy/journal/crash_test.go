//go:build unix

package journal_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/deploy/journal"
	"github.com/patchcore/sdk/patchcore"
)

// The crash test re-executes this test binary as a child that runs one
// deployment against a journal store and a fake installer whose effects
// are recorded durably in a file. The child SIGKILLs itself right after
// its Nth persisted step (a journal record synced, an installer effect
// recorded, alerts published before their acknowledgement); the parent restarts it without a crash and checks the result.
// Pre- and post-steps are installer effects too: every device must run
// each step exactly once, post-steps after its last install or restart,
// whatever step the crash struck.

const (
	envChild   = "DEPLOY_CRASH_CHILD"
	envDir     = "DEPLOY_CRASH_DIR"
	envCrashAt = "DEPLOY_CRASH_AT"
	envEvery   = "DEPLOY_CRASH_EVERY"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var failing = deploy.OpResult{Outcome: deploy.OutcomeFailed, Reason: "dpkg: error processing package"}

// crashBehaviors and crashWant are the scripted devices and the states
// they must end in.
var crashBehaviors = map[string]deploytest.Behavior{
	"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}},
	"d2/P1": {Install: []deploy.OpResult{failing, failing, {Outcome: deploy.OutcomeInstalled}}},
	"d2/P2": {Scan: patchcore.FindingInstalled},
	"d3/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Reason: "disk full", Permanent: true}}},
	"d3/P2": {Scan: patchcore.FindingNotApplicable},
	"d4/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}, AfterReboot: patchcore.FindingMissing},
}

// crashFailSteps fail on every device: a post-step failure is an alert
// and must not change the items' results.
var crashFailSteps = map[string]bool{"report": true}

// crashDevices are the devices of crashSpec; every one reaches its
// install phase, so every one runs the pre- and post-steps.
var crashDevices = []string{"d0", "d1", "d2", "d3", "d4"}

// loggedEffect is an installer effect as the child records it, with the
// persisted step it was.
type loggedEffect struct {
	deploytest.Effect
	Step int `json:"step"`
}

var crashWant = map[string]patchcore.DeploymentState{
	"d0/P1": patchcore.DeployInstalled, "d0/P2": patchcore.DeployInstalled,
	"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled,
	"d2/P1": patchcore.DeployInstalled, "d2/P2": patchcore.DeployInstalledByUser,
	"d3/P1": patchcore.DeployFailedFinal, "d3/P2": patchcore.DeployNotApplicable,
	"d4/P1": patchcore.DeployUnknown, "d4/P2": patchcore.DeployInstalled,
}

// crasher counts persisted steps and kills the process at the chosen one.
type crasher struct {
	n, at, every int
}

func (c *crasher) step() {
	c.n++
	if (c.at > 0 && c.n == c.at) || (c.every > 0 && c.n%c.every == 0) {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// appendSynced appends one JSON line to path and fsyncs it.
func appendSynced(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readLines decodes every complete JSON line of path into T.
func readLines[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// fileSink publishes alerts to a durable file.
type fileSink struct {
	path string
	c    *crasher
}

func (s fileSink) Publish(_ context.Context, alerts []deploy.Alert) error {
	for _, a := range alerts {
		if err := appendSynced(s.path, a); err != nil {
			return err
		}
	}
	s.c.step() // published, not yet acknowledged
	return nil
}

func crashSpec() deploy.Spec {
	return deploy.Spec{
		ID:      "dep",
		Patches: []string{"P1", "P2"},
		Targets: []deploy.Target{{Device: "d0"}, {Device: "d1"}, {Device: "d2"}, {Device: "d3"}, {Device: "d4"}},
		Policy: deploy.Policy{
			Retry:        deploy.RetryPolicy{Backoff: patchcore.Duration(time.Millisecond), MaxBackoff: patchcore.Duration(time.Millisecond)},
			Reboot:       deploy.RebootPolicy{Grace: patchcore.Duration(time.Millisecond)},
			PollInterval: patchcore.Duration(time.Millisecond),
			PreSteps:     []deploy.Step{{Name: "snapshot"}},
			PostSteps:    []deploy.Step{{Name: "healthcheck"}, {Name: "report"}},
		},
	}
}

func child() error {
	ctx := context.Background()
	dir := os.Getenv(envDir)
	at, _ := strconv.Atoi(os.Getenv(envCrashAt))
	every, _ := strconv.Atoi(os.Getenv(envEvery))
	c := &crasher{at: at, every: every}

	js, err := journal.Open(filepath.Join(dir, "journal"), journal.WithAfterSync(func(deploy.Change) { c.step() }))
	if err != nil {
		return err
	}
	store := js
	effectsPath := filepath.Join(dir, "effects.jsonl")
	effects, err := readLines[deploytest.Effect](effectsPath)
	if err != nil {
		return err
	}
	inst := deploytest.NewExecutor(crashBehaviors)
	inst.FailSteps = crashFailSteps
	inst.Restore(effects)
	inst.OnEffect = func(e deploytest.Effect) error {
		if err := appendSynced(effectsPath, loggedEffect{Effect: e, Step: c.n + 1}); err != nil {
			return err
		}
		c.step()
		return nil
	}
	sink := fileSink{path: filepath.Join(dir, "delivered.jsonl"), c: c}
	r := deploy.NewRunner(store, inst, deploy.WithParallelism(1))
	ids, err := store.List(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, "dep") {
		if _, err := r.Create(ctx, crashSpec()); err != nil {
			return err
		}
	}
	deliver := func() error {
		for {
			n, err := r.Deliver(ctx, sink, 7)
			if err != nil || n == 0 {
				return err
			}
		}
	}
	for range 10000 {
		res, err := r.Tick(ctx, "dep")
		if err != nil {
			return err
		}
		if err := deliver(); err != nil {
			return err
		}
		if res.Done {
			fmt.Printf("steps=%d\n", c.n)
			return js.Close()
		}
		time.Sleep(time.Until(res.Next))
	}
	return errors.New("not done after 10000 ticks")
}

// crashDir returns a fresh directory for one run, in memory (/dev/shm)
// when the machine has it: SIGKILL does not drop the page cache, so the
// crash semantics are the same and each fsync costs nothing.
func crashDir(t *testing.T) string {
	t.Helper()
	if d, err := os.MkdirTemp("/dev/shm", "deploy-crash-"); err == nil {
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return t.TempDir()
}

// runChild runs the child in dir; it reports whether SIGKILL ended it.
func runChild(t *testing.T, dir string, env ...string) (killed bool, stdout string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The race detector sleeps a second at exit unless told otherwise;
	// the children exit hundreds of times.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), append([]string{envChild + "=1", envDir + "=" + dir, "GORACE=" + gorace}, env...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, out.String()
		}
	}
	if err != nil {
		t.Fatalf("child in %s: %v\nstderr: %s", dir, err, errb.String())
	}
	return false, out.String()
}

// outcome is what a finished run left behind.
type outcome struct {
	states    map[string]patchcore.DeploymentState
	finalIDs  map[string]string // device/patch -> ID of its last transition's alert
	delivered map[string]bool
	installs  map[string]int // device/patch -> successful install effects
	opIDs     map[string]int
	outbox    int
	// steps: device -> its step record; stepRuns: "device/phase" -> op
	// IDs run, in order; lastEffect: device -> index of its last install
	// or restart effect, firstPost of its first post-step.
	steps      map[string]deploy.StepRecord
	stepRuns   map[string][]string
	lastEffect map[string]int
	firstPost  map[string]int
	// window: device -> the persisted steps from its last install or
	// restart to its last post-step (a crash there must not lose the
	// post-steps).
	window map[string][2]int
}

func inspect(t *testing.T, dir string) outcome {
	t.Helper()
	js, err := journal.Open(filepath.Join(dir, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer js.Close()
	ctx := context.Background()
	items, err := js.Items(ctx, "dep", "")
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{states: map[string]patchcore.DeploymentState{}, finalIDs: map[string]string{}, delivered: map[string]bool{},
		installs: map[string]int{}, opIDs: map[string]int{}}
	for _, it := range items {
		k := it.Device + "/" + it.Patch
		o.states[k] = it.State
		o.finalIDs[k] = fmt.Sprintf("dep/%s/%d", k, it.Version)
	}
	for d := range 5 {
		if err := js.Acquire(ctx, fmt.Sprintf("d%d", d), "probe"); err != nil {
			t.Errorf("%s: device lock not released: %v", dir, err)
		}
	}
	left, err := js.Outbox(ctx, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	o.outbox = len(left)
	alerts, err := readLines[deploy.Alert](filepath.Join(dir, "delivered.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		o.delivered[a.ID] = true
	}
	recs, err := js.Steps(ctx, "dep", "")
	if err != nil {
		t.Fatal(err)
	}
	o.steps, o.stepRuns = map[string]deploy.StepRecord{}, map[string][]string{}
	o.lastEffect, o.firstPost, o.window = map[string]int{}, map[string]int{}, map[string][2]int{}
	for _, r := range recs {
		o.steps[r.Device] = r
	}
	effects, err := readLines[loggedEffect](filepath.Join(dir, "effects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range effects {
		dev := e.Op.Device
		switch e.Kind {
		case "install", "reboot":
			o.lastEffect[dev] = i
			o.window[dev] = [2]int{e.Step, e.Step}
		case "pre", "post":
			o.stepRuns[dev+"/"+e.Kind] = append(o.stepRuns[dev+"/"+e.Kind], e.Op.ID)
			if _, ok := o.firstPost[dev]; !ok && e.Kind == "post" {
				o.firstPost[dev] = i
			}
			if e.Kind == "post" {
				o.window[dev] = [2]int{o.window[dev][0], e.Step}
			}
		}
		o.opIDs[e.Op.ID]++
		if e.Kind == "install" && (e.Result.Outcome == deploy.OutcomeInstalled || e.Result.Outcome == deploy.OutcomeRebootRequired) {
			o.installs[e.Op.Device+"/"+e.Op.Patch]++
		}
	}
	return o
}

func check(t *testing.T, label string, got, base outcome) {
	t.Helper()
	for k, want := range crashWant {
		if got.states[k] != want {
			t.Errorf("%s: %s = %s, want %s", label, k, got.states[k], want)
		}
	}
	for k, n := range got.installs {
		if n > 1 {
			t.Errorf("%s: %s installed %d times", label, k, n)
		}
	}
	for k, n := range base.installs {
		if got.installs[k] != n {
			t.Errorf("%s: %s installed %d times, want %d", label, k, got.installs[k], n)
		}
	}
	for id, n := range got.opIDs {
		if n > 1 {
			t.Errorf("%s: operation %s performed %d times", label, id, n)
		}
	}
	for k, id := range got.finalIDs {
		if !got.delivered[id] {
			t.Errorf("%s: result of %s (alert %s) was never delivered", label, k, id)
		}
	}
	for id := range base.delivered {
		if !got.delivered[id] {
			t.Errorf("%s: alert %s lost", label, id)
		}
	}
	if got.outbox != 0 {
		t.Errorf("%s: %d alerts left in the outbox", label, got.outbox)
	}
	for _, d := range crashDevices {
		wantPre := []string{"dep/" + d + "/pre/snapshot/1"}
		if pre := got.stepRuns[d+"/pre"]; !slices.Equal(pre, wantPre) {
			t.Errorf("%s: %s ran pre-steps %v, want %v", label, d, pre, wantPre)
		}
		wantPost := []string{"dep/" + d + "/post/healthcheck", "dep/" + d + "/post/report"}
		if post := got.stepRuns[d+"/post"]; !slices.Equal(post, wantPost) {
			t.Errorf("%s: %s ran post-steps %v, want each once: %v", label, d, post, wantPost)
		}
		if fp, ok := got.firstPost[d]; ok && fp < got.lastEffect[d] {
			t.Errorf("%s: %s ran a post-step (effect %d) before its last install or restart (effect %d)", label, d, fp, got.lastEffect[d])
		}
		if r := got.steps[d]; r.PreDone != 1 || !r.PostDue || r.PostDone != 2 {
			t.Errorf("%s: %s step record %+v, want the pre-step and both post-steps done", label, d, r)
		}
		if id := "dep/" + d + "/post/report"; !got.delivered[id] {
			t.Errorf("%s: %s: the failure of post-step report (alert %s) was never delivered", label, d, id)
		}
	}
}

// TestCrashAndResume kills the child with SIGKILL after each persisted
// step of an install cycle in turn and checks that the restarted child
// ends every device in the right state, installs nothing twice and loses
// no result.
func TestCrashAndResume(t *testing.T) {
	baseDir := crashDir(t)
	killed, out := runChild(t, baseDir)
	if killed {
		t.Fatal("the clean run was killed")
	}
	steps, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "steps=")))
	if err != nil || steps < 20 {
		t.Fatalf("clean run printed %q", out)
	}
	base := inspect(t, baseDir)
	check(t, "clean run", base, base)
	if len(base.installs) != 7 {
		t.Fatalf("clean run installed %v, want 7 patches", base.installs)
	}
	t.Logf("%d persisted steps in an install cycle", steps)
	// Every step; under -race or -short every 7th plus the first and last
	// few (the full run takes ~3 s without the race detector; CI runs it
	// so once), and always every step between a device's last install or
	// restart and its last post-step.
	stride := 1
	if raceEnabled || testing.Short() {
		stride = 7
	}
	must := map[int]bool{}
	for _, d := range crashDevices {
		w, ok := base.window[d]
		if !ok || w[1] <= w[0] {
			t.Fatalf("clean run: %s has no post-steps after its last install (%v)", d, w)
		}
		for at := w[0]; at <= w[1]+1; at++ {
			must[at] = true
		}
	}
	taken := 0
	for at := 1; at <= steps; at++ {
		if stride > 1 && at > 3 && at < steps-3 && at%stride != 0 && !must[at] {
			continue
		}
		taken++
		dir := crashDir(t)
		if killed, _ := runChild(t, dir, envCrashAt+"="+strconv.Itoa(at)); !killed {
			t.Fatalf("step %d: the child was not killed", at)
		}
		if killed, _ := runChild(t, dir); killed {
			t.Fatalf("step %d: the restarted child was killed", at)
		}
		check(t, fmt.Sprintf("killed at step %d", at), inspect(t, dir), base)
	}
	// CI runs this test once without the race detector and requires this
	// line, so that every crash point is taken at least once.
	if taken == steps {
		t.Logf("took all %d crash points", steps)
	} else {
		t.Logf("took %d of %d crash points (sampled: race detector or -short)", taken, steps)
	}
}

// TestRepeatedCrashes kills every run after a few steps until a run
// finishes: progress survives many crashes in a row.
func TestRepeatedCrashes(t *testing.T) {
	baseDir := crashDir(t)
	runChild(t, baseDir)
	base := inspect(t, baseDir)
	everies := []int{2, 3, 5}
	if raceEnabled || testing.Short() {
		everies = []int{5}
	}
	for _, every := range everies {
		dir := crashDir(t)
		crashes := 0
		for {
			killed, _ := runChild(t, dir, envEvery+"="+strconv.Itoa(every))
			if !killed {
				break
			}
			crashes++
			if crashes > 500 {
				t.Fatalf("every %d: no progress after 500 crashes", every)
			}
		}
		if crashes < 5 {
			t.Errorf("every %d: only %d crashes", every, crashes)
		}
		check(t, fmt.Sprintf("crash every %d steps (%d crashes)", every, crashes), inspect(t, dir), base)
	}
}
