package approve

import (
	"fmt"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// ScopeKind says how much of the organisation a manual approval covers.
// Kinds are ordered from broadest to narrowest; the narrowest scope that has
// a record for a device decides.
type ScopeKind int

// Scope kinds, broadest first.
const (
	ScopeGlobal ScopeKind = iota
	ScopePartner
	ScopeCustomer
	ScopeGroup
	ScopeDevice
)

var scopeNames = [...]string{"global", "partner", "customer", "group", "device"}

// String returns the kind's name ("customer").
func (k ScopeKind) String() string {
	if k < 0 || int(k) >= len(scopeNames) {
		return fmt.Sprintf("ScopeKind(%d)", int(k))
	}
	return scopeNames[k]
}

// MarshalText writes the kind's name.
func (k ScopeKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(scopeNames) {
		return nil, fmt.Errorf("scope kind %d: %w", int(k), patchcore.ErrInvalidInput)
	}
	return []byte(scopeNames[k]), nil
}

// UnmarshalText reads a kind's name.
func (k *ScopeKind) UnmarshalText(b []byte) error {
	for i, n := range scopeNames {
		if string(b) == n {
			*k = ScopeKind(i)
			return nil
		}
	}
	return fmt.Errorf("scope kind %q: want global, partner, customer, group or device: %w", b, patchcore.ErrInvalidInput)
}

// Scope is where a manual record applies: everywhere (global, ID empty), or
// to the partner, customer, group or device with the given ID, as named in
// patchcore.Device. The zero Scope is global: Scope{Kind: ScopeGlobal}.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	ID   string    `json:"id,omitempty"`
}

// String returns "global" or "kind:id".
func (s Scope) String() string {
	if s.Kind == ScopeGlobal {
		return "global"
	}
	return s.Kind.String() + ":" + s.ID
}

// covers reports whether the scope includes device d.
func (s Scope) covers(d *patchcore.Device) bool {
	switch s.Kind {
	case ScopeGlobal:
		return true
	case ScopePartner:
		return d.Partner != "" && d.Partner == s.ID
	case ScopeCustomer:
		return d.Customer != "" && d.Customer == s.ID
	case ScopeGroup:
		for _, g := range d.Groups {
			if g == s.ID {
				return true
			}
		}
	case ScopeDevice:
		return d.ID == s.ID
	}
	return false
}

// Action is what a manual record does to a patch.
type Action string

// Actions.
const (
	// ActionApprove approves the patch within the scope.
	ActionApprove Action = "approve"
	// ActionReject rejects the patch within the scope; it beats an approval
	// at the same scope.
	ActionReject Action = "reject"
	// ActionRate neither approves nor rejects: it only sets a custom severity
	// or rating (global scope only, so rules can filter on them).
	ActionRate Action = "rate"
)

// Approval is a manual approval, rejection or rating of one patch by a
// person: who, when, why, where, until when.
type Approval struct {
	// ID identifies the record (in the audit trail, for revoking).
	ID      string `json:"id,omitempty"`
	PatchID string `json:"patch_id"`
	Action  Action `json:"action"`
	Scope   Scope  `json:"scope"`
	// By is who decided; At is when the record takes effect (records dated
	// after the evaluation's now are not yet in force).
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
	// Expires, when set, is when the record stops applying.
	Expires time.Time `json:"expires,omitzero"`
	// ComplianceLevel is reported for the patch when this record approves it.
	ComplianceLevel ComplianceLevel `json:"compliance_level,omitempty"`
	// Deadline, when set, is when the approved patch must be installed.
	Deadline time.Time `json:"deadline,omitzero"`
	// CustomSeverity and Rating, set on a global record, replace the patch's
	// custom severity and rating before rules are evaluated.
	CustomSeverity *patchcore.Severity `json:"custom_severity,omitempty"`
	Rating         int                 `json:"rating,omitempty"`
}

// Validate checks the record's fields; errors wrap patchcore.ErrInvalidInput.
func (a *Approval) Validate() error {
	bad := func(field, why string) error {
		return fmt.Errorf("approval %q of %q: %s: %s: %w", a.ID, a.PatchID, field, why, patchcore.ErrInvalidInput)
	}
	switch {
	case a.PatchID == "":
		return bad("patch_id", "must not be empty")
	case a.Action != ActionApprove && a.Action != ActionReject && a.Action != ActionRate:
		return bad("action", fmt.Sprintf("%q is not approve, reject or rate", a.Action))
	case a.Scope.Kind < ScopeGlobal || a.Scope.Kind > ScopeDevice:
		return bad("scope.kind", fmt.Sprintf("unknown kind %d", int(a.Scope.Kind)))
	case a.Scope.Kind == ScopeGlobal && a.Scope.ID != "":
		return bad("scope.id", "a global scope has no ID")
	case a.Scope.Kind != ScopeGlobal && a.Scope.ID == "":
		return bad("scope.id", "must name the "+a.Scope.Kind.String())
	case a.Action == ActionRate && a.Scope.Kind != ScopeGlobal:
		return bad("scope", "ratings apply globally")
	case a.By == "":
		return bad("by", "must name who decided")
	case a.At.IsZero():
		return bad("at", "must be set")
	case !a.Expires.IsZero() && !a.Expires.After(a.At):
		return bad("expires", "must be after at")
	case !a.ComplianceLevel.Valid():
		return bad("compliance_level", fmt.Sprintf("unknown level %q", a.ComplianceLevel))
	case a.CustomSeverity != nil && (a.CustomSeverity.Level < patchcore.SeverityUnknown || a.CustomSeverity.Level > patchcore.SeverityCritical):
		return bad("custom_severity", fmt.Sprintf("unknown level %d", int(a.CustomSeverity.Level)))
	}
	return nil
}

// inForce reports whether the record applies at now.
func (a *Approval) inForce(now time.Time) bool {
	if a.At.After(now) {
		return false
	}
	return a.Expires.IsZero() || now.Before(a.Expires)
}
