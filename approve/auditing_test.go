package approve

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchcore/sdk/approve/audit"
	"github.com/patchcore/sdk/patchcore"
)

func TestRecordBaselineChangeAndDecisions(t *testing.T) {
	ctx := context.Background()
	store := audit.NewMemoryStore()
	log := audit.NewLog(store, func() time.Time { return testNow })

	old := NewBaseline("b", "servers")
	e, ok, err := RecordBaselineChange(ctx, log, "alice", "initial", nil, old)
	if err != nil || !ok || e.Kind != audit.KindBaselineChange || e.Details["new.id"] != `"b"` {
		t.Fatalf("create: %+v %v %v", e, ok, err)
	}
	next := old.Clone()
	next.Version++
	next.Rules = append(next.Rules, Rule{Name: "security", Classifications: []patchcore.Classification{patchcore.ClassSecurity}})
	e, ok, err = RecordBaselineChange(ctx, log, "alice", "CAB-7", old, next)
	if err != nil || !ok {
		t.Fatalf("change: %v %v", ok, err)
	}
	if _, has := e.Details["new.rules"]; !has || e.Details["old.version"] != "" || e.Details["new.version"] != "1" || e.Details["reason"] != "CAB-7" {
		t.Errorf("change details %v", e.Details)
	}
	if len(old.Rules) != 0 {
		t.Fatal("Clone shares rules with the original")
	}
	if _, ok, _ := RecordBaselineChange(ctx, log, "alice", "", next, next.Clone()); ok {
		t.Error("a no-op change was recorded")
	}

	patches := []patchcore.Patch{winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
		winPatch("KB2", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 1))}
	e1 := mustEvaluate(t, old, patches, testNow)
	e2 := mustEvaluate(t, next, patches, testNow)
	if n, err := RecordDecisionChanges(ctx, log, "approve-service", nil, e1); err != nil || n != 0 {
		t.Fatalf("nothing approved yet: %d %v", n, err)
	}
	n, err := RecordDecisionChanges(ctx, log, "approve-service", e1, e2)
	if err != nil || n != 1 {
		t.Fatalf("KB1 became approved: %d %v", n, err)
	}
	last, _, _ := store.Last(ctx)
	if last.Subject != "patch:KB1" || last.Details["previous_status"] != "pending" || last.Details["rule"] != "security" {
		t.Errorf("decision entry %+v", last)
	}
	a := Approval{PatchID: "KB2", Action: ActionReject, Scope: Scope{ScopeGroup, "web"}, By: "bob", At: testNow, Reason: "breaks IIS"}
	if _, err := RecordApproval(ctx, log, "b", a); err != nil {
		t.Fatal(err)
	}
	a.By = ""
	if _, err := RecordApproval(ctx, log, "b", a); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("invalid approval recorded: %v", err)
	}
	if err := log.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if last, _, _ := store.Last(ctx); last.Seq != 4 {
		t.Errorf("%d entries, want 4", last.Seq)
	}
}

func TestParseBaseline(t *testing.T) {
	b, err := ParseBaseline([]byte(`{"id":"b","rules":[{"name":"kev","kev":true,"deadline":"3d","approve_until":"2024-12-31","severities":["critical","high"]}],
		"rings":[{"name":"test"},{"name":"prod","after":"168h","min_success_rate":0.95}],
		"approvals":[{"patch_id":"KB1","action":"reject","scope":{"kind":"device","id":"d1"},"by":"a","at":"2024-05-01T00:00:00Z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.AutoApproval.Platforms) != 1 || b.AutoApproval.Platforms[0] != "windows" {
		t.Errorf("default auto-approval platforms lost: %v", b.AutoApproval.Platforms)
	}
	r := b.Rules[0]
	if time.Duration(r.Deadline) != 72*time.Hour || !r.ApproveUntil.Equal(day(2024, 12, 31)) || len(r.Severities) != 2 {
		t.Errorf("rule %+v", r)
	}
	if b.Approvals[0].Scope != (Scope{ScopeDevice, "d1"}) || time.Duration(b.Rings[1].After) != 7*24*time.Hour {
		t.Errorf("approvals %+v rings %+v", b.Approvals, b.Rings)
	}
	b, err = ParseBaseline([]byte(`{"id":"b","auto_approval":{"platforms":[]}}`))
	if err != nil || len(b.AutoApproval.Platforms) != 0 {
		t.Errorf("explicit empty platforms: %v %v", b, err)
	}
	for _, bad := range []string{
		`{"id":"b","nope":1}`, `{"id":"b"} {}`, `{"id":`, `{"id":"b","rules":[{"name":"r","deadline":"soon"}]}`,
		`{"id":"b","rules":[{"name":"r","approve_until":"31/12/2024"}]}`, `{"id":"b","rejected_action":"DROP"}`,
		`{"id":"b","approvals":[{"patch_id":"KB1","action":"approve","scope":{"kind":"planet"},"by":"a","at":"2024-05-01T00:00:00Z"}]}`,
		`{"id":"b","approvals":[{"patch_id":"KB1","action":"approve","scope":{"kind":"group"},"by":"a","at":"2024-05-01T00:00:00Z"}]}`,
		`{"id":"b","rules":[{"name":"r","min_epss":2}]}`, `{"id":"b","rings":[{"name":"a"},{"name":"a"}]}`,
		`{"id":"b","rules":[{"name":"r","severities":["urgent"]}]}`, `{"id":5}`,
	} {
		if _, err := ParseBaseline([]byte(bad)); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("ParseBaseline(%s) = %v, want ErrInvalidInput", bad, err)
		}
	}
}
