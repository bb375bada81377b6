package approve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/patchcore/sdk/approve/audit"
)

// Auditor is the part of *audit.Log that approve writes to.
type Auditor interface {
	Append(ctx context.Context, e audit.Entry) (audit.Entry, error)
}

// RecordApproval writes a manual approval, rejection or rating of baseline
// baselineID to the audit trail, after validating it.
func RecordApproval(ctx context.Context, log Auditor, baselineID string, a Approval) (audit.Entry, error) {
	if err := a.Validate(); err != nil {
		return audit.Entry{}, fmt.Errorf("recording approval: %w", err)
	}
	d := map[string]string{
		"baseline": baselineID,
		"action":   string(a.Action),
		"scope":    a.Scope.String(),
		"at":       a.At.UTC().Format(time.RFC3339Nano),
	}
	put := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	put("approval_id", a.ID)
	put("reason", a.Reason)
	put("compliance_level", string(a.ComplianceLevel))
	if !a.Expires.IsZero() {
		d["expires"] = a.Expires.UTC().Format(time.RFC3339Nano)
	}
	if !a.Deadline.IsZero() {
		d["deadline"] = a.Deadline.UTC().Format(time.RFC3339Nano)
	}
	if a.CustomSeverity != nil {
		d["custom_severity"] = a.CustomSeverity.Level.String()
		put("custom_severity_raw", a.CustomSeverity.Raw)
	}
	if a.Rating != 0 {
		d["rating"] = strconv.Itoa(a.Rating)
	}
	e, err := log.Append(ctx, audit.Entry{Actor: a.By, Kind: audit.KindApproval, Subject: "patch:" + a.PatchID,
		Summary: fmt.Sprintf("%s %s for %s in baseline %s", a.Action, a.PatchID, a.Scope, baselineID), Details: d})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("recording %s of %s: %w", a.Action, a.PatchID, err)
	}
	return e, nil
}

// RecordBaselineChange writes a change from old to new (either may be nil:
// created, deleted) to the audit trail. Details hold, for every top-level
// field that changed, its old and new JSON ("old.rules", "new.rules"). A
// change that changes nothing is not recorded (ok false).
func RecordBaselineChange(ctx context.Context, log Auditor, actor, reason string, old, new *Baseline) (e audit.Entry, ok bool, err error) {
	id := ""
	switch {
	case new != nil:
		id = new.ID
	case old != nil:
		id = old.ID
	default:
		return audit.Entry{}, false, nil
	}
	before, err := fieldsOf(old)
	if err != nil {
		return audit.Entry{}, false, err
	}
	after, err := fieldsOf(new)
	if err != nil {
		return audit.Entry{}, false, err
	}
	d := map[string]string{}
	var changed []string
	for k, v := range after {
		if w, ok := before[k]; !ok || !bytes.Equal(v, w) {
			changed = append(changed, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			changed = append(changed, k)
		}
	}
	if len(changed) == 0 {
		return audit.Entry{}, false, nil
	}
	slices.Sort(changed)
	for _, k := range changed {
		if v, ok := before[k]; ok {
			d["old."+k] = string(v)
		}
		if v, ok := after[k]; ok {
			d["new."+k] = string(v)
		}
	}
	if reason != "" {
		d["reason"] = reason
	}
	verb := "changed"
	switch {
	case old == nil:
		verb = "created"
	case new == nil:
		verb = "deleted"
	}
	e, err = log.Append(ctx, audit.Entry{Actor: actor, Kind: audit.KindBaselineChange, Subject: "baseline:" + id,
		Summary: fmt.Sprintf("baseline %s %s: %v", id, verb, changed), Details: d})
	if err != nil {
		return audit.Entry{}, false, fmt.Errorf("recording change of baseline %s: %w", id, err)
	}
	return e, true, nil
}

func fieldsOf(b *Baseline) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if b == nil {
		return out, nil
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding baseline %s for the audit trail: %w", b.ID, err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("encoding baseline %s for the audit trail: %w", b.ID, err)
	}
	return out, nil
}

// RecordDecisionChanges writes to the audit trail every global decision of
// cur that differs in status from prev (nil: all of cur's approvals and
// rejections), as done by actor (a service name for automatic rules). It
// returns how many entries it wrote.
func RecordDecisionChanges(ctx context.Context, log Auditor, actor string, prev, cur *Evaluation) (int, error) {
	n := 0
	for i := range cur.decisions {
		d := &cur.decisions[i]
		was := Status("")
		if prev != nil {
			if old, ok := prev.Decision(d.PatchID); ok {
				was = old.Status
			}
		}
		if was == d.Status || (was == "" && d.Status == StatusPending) {
			continue
		}
		det := map[string]string{"baseline": cur.BaselineID, "baseline_version": strconv.Itoa(cur.BaselineVersion),
			"status": string(d.Status), "reason": d.Reason, "evaluated_at": cur.At.UTC().Format(time.RFC3339Nano)}
		if was != "" {
			det["previous_status"] = string(was)
		}
		for k, v := range map[string]string{"source": string(d.Source), "rule": d.Rule, "entry": d.Entry, "approval_id": d.ApprovalID} {
			if v != "" {
				det[k] = v
			}
		}
		if !d.ApprovedAt.IsZero() {
			det["approved_at"] = d.ApprovedAt.UTC().Format(time.RFC3339Nano)
		}
		if _, err := log.Append(ctx, audit.Entry{Actor: actor, Kind: audit.KindDecision, Subject: "patch:" + d.PatchID,
			Summary: fmt.Sprintf("%s is %s in baseline %s", d.PatchID, d.Status, cur.BaselineID), Details: det}); err != nil {
			return n, fmt.Errorf("recording decision on %s: %w", d.PatchID, err)
		}
		n++
	}
	return n, nil
}
