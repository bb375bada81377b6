package approve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// ComplianceLevel is the severity a baseline assigns to an approved patch for
// compliance reporting, as AWS Patch Manager names the levels. A device
// missing a CRITICAL patch is counted under CRITICAL whatever the vendor said.
type ComplianceLevel string

// Compliance levels. The empty value reads as ComplianceUnspecified.
const (
	ComplianceCritical      ComplianceLevel = "CRITICAL"
	ComplianceHigh          ComplianceLevel = "HIGH"
	ComplianceMedium        ComplianceLevel = "MEDIUM"
	ComplianceLow           ComplianceLevel = "LOW"
	ComplianceInformational ComplianceLevel = "INFORMATIONAL"
	ComplianceUnspecified   ComplianceLevel = "UNSPECIFIED"
)

// ComplianceLevels lists the levels from most to least severe.
func ComplianceLevels() []ComplianceLevel {
	return []ComplianceLevel{ComplianceCritical, ComplianceHigh, ComplianceMedium,
		ComplianceLow, ComplianceInformational, ComplianceUnspecified}
}

// Valid reports whether l is a defined level or empty.
func (l ComplianceLevel) Valid() bool {
	if l == "" {
		return true
	}
	for _, k := range ComplianceLevels() {
		if l == k {
			return true
		}
	}
	return false
}

// orDefault returns l, or ComplianceUnspecified when l is empty.
func (l ComplianceLevel) orDefault() ComplianceLevel {
	if l == "" {
		return ComplianceUnspecified
	}
	return l
}

// RejectedAction says what a baseline does with patches on its rejected
// list, with the semantics of AWS Patch Manager's RejectedPatchesAction.
type RejectedAction string

// Rejected-patch actions.
const (
	// AllowAsDependency (the default): a rejected patch is never installed for
	// its own sake, but may come in as a dependency of another package. When
	// it is installed the device stays compliant and the patch reports
	// INSTALLED_OTHER.
	AllowAsDependency RejectedAction = "ALLOW_AS_DEPENDENCY"
	// Block: a rejected patch, and anything that needs it, is never installed.
	// When it is installed anyway (before it was rejected, or outside patch
	// management) it reports INSTALLED_REJECTED and the device is non-compliant.
	Block RejectedAction = "BLOCK"
)

// SeveritySource says which severity a rule's severity filter looks at.
type SeveritySource string

// Severity sources.
const (
	// SeverityEffective (the default) is the custom severity when one is set,
	// otherwise the vendor's.
	SeverityEffective SeveritySource = ""
	// SeverityVendor is the vendor's severity, ignoring any custom one.
	SeverityVendor SeveritySource = "vendor"
	// SeverityCustom is the custom severity; patches without one never match.
	SeverityCustom SeveritySource = "custom"
)

// Date is a calendar day (UTC), written as "2006-01-02" in JSON.
type Date struct {
	time.Time
}

// NewDate returns the UTC day of year, month, day.
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// MarshalText writes the day as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) {
	return []byte(d.UTC().Format(time.DateOnly)), nil
}

// UnmarshalText reads a YYYY-MM-DD day.
func (d *Date) UnmarshalText(b []byte) error {
	t, err := time.Parse(time.DateOnly, string(b))
	if err != nil {
		return fmt.Errorf("date %q: want YYYY-MM-DD: %w", b, patchcore.ErrInvalidInput)
	}
	d.Time = t
	return nil
}

// MarshalJSON writes the day as a JSON string (time.Time's own method
// would write a full timestamp).
func (d Date) MarshalJSON() ([]byte, error) {
	b, _ := d.MarshalText()
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a "YYYY-MM-DD" JSON string.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date %s: want a \"YYYY-MM-DD\" string: %w", truncate(string(b), 40), patchcore.ErrInvalidInput)
	}
	return d.UnmarshalText([]byte(s))
}

// endOfDay is the last instant of the day: patches released "on or before"
// the date include the whole day.
func (d Date) endOfDay() time.Time {
	return d.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// Duration is patchcore.Duration: JSON writes it as Go writes durations
// ("72h0m0s"); on input it also accepts a whole number of days ("3d").
type Duration = patchcore.Duration

// Rule is an approval rule: the filters a patch must all pass (an empty
// filter passes everything) and when a matching patch is approved. It follows
// AWS Patch Manager's PatchRule, plus filters on risk signals.
type Rule struct {
	// Name identifies the rule in decisions and the audit trail.
	Name string `json:"name"`
	// Classifications the patch must have one of.
	Classifications []patchcore.Classification `json:"classifications,omitempty"`
	// Severities the patch's severity (chosen by SeveritySource) must be one of.
	Severities     []patchcore.SeverityLevel `json:"severities,omitempty"`
	SeveritySource SeveritySource            `json:"severity_source,omitempty"`
	// Products are name patterns ("*" matches any run of characters, case is
	// ignored) matched against the patch's products and its fixes' products.
	Products []string `json:"products,omitempty"`
	// Platforms are OS families ("windows", "linux", "darwin") or distros
	// ("debian", "rhel") the patch must concern one of.
	Platforms []string `json:"platforms,omitempty"`
	// CVEs are CVE ID patterns; the patch must address one of them.
	CVEs []string `json:"cves,omitempty"`
	// KEV requires one of the patch's CVEs to be in CISA's Known Exploited
	// Vulnerabilities catalog (see Risk).
	KEV bool `json:"kev,omitempty"`
	// MinEPSS requires the highest EPSS score of the patch's CVEs to be at least this (0-1).
	MinEPSS float64 `json:"min_epss,omitempty"`
	// MinCVSS requires the highest CVSS base score of the patch's CVEs to be at least this (0-10).
	MinCVSS float64 `json:"min_cvss,omitempty"`
	// MinRating requires the patch's rating to be at least this.
	MinRating int `json:"min_rating,omitempty"`

	// ApproveAfterDays approves a matching patch this many days after its
	// release (UTC); 0 approves on release. A patch without a release date
	// is approved only when this is 0.
	ApproveAfterDays int `json:"approve_after_days,omitempty"`
	// ApproveUntil, instead of ApproveAfterDays, approves matching patches
	// released on or before this day, and never later ones.
	ApproveUntil *Date `json:"approve_until,omitempty"`
	// ComplianceLevel is reported for patches this rule approves.
	ComplianceLevel ComplianceLevel `json:"compliance_level,omitempty"`
	// Deadline, when set, is how long after approval the patch must be
	// installed; deploy uses Decision.Deadline to schedule it.
	Deadline Duration `json:"deadline,omitempty"`
}

// AutoApproval says for which platforms rules may approve patches without a
// person. A rule match on another platform leaves the patch pending approval.
type AutoApproval struct {
	// Platforms are OS families or distros ("windows", "linux", "debian"),
	// or "*" for all. NewBaseline and ParseBaseline start from
	// DefaultAutoApprovePlatforms; an empty list disables auto-approval.
	Platforms []string `json:"platforms"`
}

// DefaultAutoApprovePlatforms returns the platforms that may auto-approve
// unless a baseline says otherwise: Windows only. Windows updates arrive on
// a fixed monthly cycle, staged by the vendor; Linux repositories publish
// continuously and an upgrade can restart the services using a package, so
// auto-approving those is a choice a baseline makes explicitly.
func DefaultAutoApprovePlatforms() []string { return []string{patchcore.FamilyWindows} }

// Ring is a rollout ring. Rings are ordered: the first receives a patch when
// it is approved; each later ring receives it After the previous one did,
// and only once the previous ring's success rate reached MinSuccessRate.
type Ring struct {
	// Name is the ring devices name in patchcore.Device.Ring ("test", "production").
	Name string `json:"name"`
	// After is the wait since the previous ring received the patch.
	After Duration `json:"after,omitempty"`
	// MinSuccessRate (0-1) is the share of the previous ring's installs of the
	// patch that must have succeeded.
	MinSuccessRate float64 `json:"min_success_rate,omitempty"`
	// MinSamples is how many finished installs in the previous ring the rate
	// needs before it counts; 0 means 1.
	MinSamples int `json:"min_samples,omitempty"`
}

// Baseline decides which patches are approved for which devices.
//
// Precedence, from strongest to weakest: a manual record at the narrowest
// scope that has one (device, group, customer, partner); then global scope,
// where rejections (manual, or the rejected list) beat approvals (manual, or
// the approved list), which beat rules. Within one scope a rejection beats an
// approval. See Evaluate.
type Baseline struct {
	// ID and Name identify the baseline; Version counts its changes.
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Version     int    `json:"version,omitempty"`

	// Rules auto-approve patches (see AutoApproval).
	Rules []Rule `json:"rules,omitempty"`
	// ApprovedPatches and RejectedPatches are list entries: patch IDs, CVE
	// IDs or package patterns (see ParseListEntry).
	ApprovedPatches []string `json:"approved_patches,omitempty"`
	// ApprovedComplianceLevel is reported for patches on the approved list.
	ApprovedComplianceLevel ComplianceLevel `json:"approved_compliance_level,omitempty"`
	RejectedPatches         []string        `json:"rejected_patches,omitempty"`
	// RejectedAction is AllowAsDependency when empty.
	RejectedAction RejectedAction `json:"rejected_action,omitempty"`
	// UnapprovedSecurityNonCompliant makes a device non-compliant while a
	// security patch it is missing waits for approval (AWS's
	// AvailableSecurityUpdatesComplianceStatus = NON_COMPLIANT).
	UnapprovedSecurityNonCompliant bool `json:"unapproved_security_noncompliant,omitempty"`

	AutoApproval AutoApproval `json:"auto_approval"`
	Rings        []Ring       `json:"rings,omitempty"`
	// Approvals are the manual approvals and rejections.
	Approvals []Approval `json:"approvals,omitempty"`
}

// NewBaseline returns an empty baseline with the default auto-approval
// platforms (Windows only) and rejected action (allow as dependency).
func NewBaseline(id, name string) *Baseline {
	return &Baseline{ID: id, Name: name, RejectedAction: AllowAsDependency,
		AutoApproval: AutoApproval{Platforms: DefaultAutoApprovePlatforms()}}
}

// MaxBaselineSize bounds the JSON ParseBaseline accepts.
const MaxBaselineSize = 16 << 20

// ParseBaseline reads a baseline from JSON, rejecting unknown fields, and
// validates it. Fields the document leaves out keep NewBaseline's defaults.
func ParseBaseline(data []byte) (*Baseline, error) {
	if len(data) > MaxBaselineSize {
		return nil, fmt.Errorf("parsing baseline: %d bytes, limit %d: %w", len(data), MaxBaselineSize, patchcore.ErrTooLarge)
	}
	b := NewBaseline("", "")
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(b); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("parsing baseline: offset %d: %v: %w", se.Offset, err, patchcore.ErrInvalidInput)
		case errors.As(err, &te):
			return nil, fmt.Errorf("parsing baseline: field %s (offset %d): %v: %w", te.Field, te.Offset, err, patchcore.ErrInvalidInput)
		}
		return nil, fmt.Errorf("parsing baseline: %w", errors.Join(err, patchcore.ErrInvalidInput))
	}
	if dec.More() {
		return nil, fmt.Errorf("parsing baseline: offset %d: data after the baseline object: %w", dec.InputOffset(), patchcore.ErrInvalidInput)
	}
	if b.RejectedAction == "" {
		b.RejectedAction = AllowAsDependency
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return b, nil
}

// Validate checks the baseline and reports every problem, each naming its
// field ("rules[2].approve_until: ..."), joined; each wraps
// patchcore.ErrInvalidInput.
func (b *Baseline) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("baseline %q: %s: %s: %w", b.ID, field, fmt.Sprintf(format, args...), patchcore.ErrInvalidInput))
	}
	if b.ID == "" {
		bad("id", "must not be empty")
	}
	if !b.ApprovedComplianceLevel.Valid() {
		bad("approved_compliance_level", "unknown level %q", b.ApprovedComplianceLevel)
	}
	switch b.RejectedAction {
	case "", AllowAsDependency, Block:
	default:
		bad("rejected_action", "%q is neither %s nor %s", b.RejectedAction, AllowAsDependency, Block)
	}
	names := map[string]bool{}
	for i, r := range b.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			bad(f+".name", "must not be empty")
		} else if names[r.Name] {
			bad(f+".name", "%q used by an earlier rule", r.Name)
		}
		names[r.Name] = true
		for j, c := range r.Classifications {
			if !c.Valid() {
				bad(fmt.Sprintf("%s.classifications[%d]", f, j), "unknown classification %q", c)
			}
		}
		for j, s := range r.Severities {
			if s < patchcore.SeverityUnknown || s > patchcore.SeverityCritical {
				bad(fmt.Sprintf("%s.severities[%d]", f, j), "unknown severity level %d", int(s))
			}
		}
		switch r.SeveritySource {
		case SeverityEffective, SeverityVendor, SeverityCustom:
		default:
			bad(f+".severity_source", "%q is not vendor, custom or empty", r.SeveritySource)
		}
		if r.ApproveAfterDays < 0 || r.ApproveAfterDays > 360 {
			bad(f+".approve_after_days", "%d is outside 0-360", r.ApproveAfterDays)
		}
		if r.ApproveUntil != nil && r.ApproveAfterDays != 0 {
			bad(f, "approve_after_days and approve_until are exclusive")
		}
		if r.MinEPSS < 0 || r.MinEPSS > 1 {
			bad(f+".min_epss", "%v is outside 0-1", r.MinEPSS)
		}
		if r.MinCVSS < 0 || r.MinCVSS > 10 {
			bad(f+".min_cvss", "%v is outside 0-10", r.MinCVSS)
		}
		if !r.ComplianceLevel.Valid() {
			bad(f+".compliance_level", "unknown level %q", r.ComplianceLevel)
		}
		if r.Deadline < 0 {
			bad(f+".deadline", "must not be negative")
		}
		for j, p := range r.Products {
			if p == "" {
				bad(fmt.Sprintf("%s.products[%d]", f, j), "empty pattern")
			}
		}
		for j, p := range r.CVEs {
			if p == "" {
				bad(fmt.Sprintf("%s.cves[%d]", f, j), "empty pattern")
			}
		}
	}
	for i, s := range b.ApprovedPatches {
		if _, err := ParseListEntry(s); err != nil {
			errs = append(errs, fmt.Errorf("baseline %q: approved_patches[%d]: %w", b.ID, i, err))
		}
	}
	for i, s := range b.RejectedPatches {
		if _, err := ParseListEntry(s); err != nil {
			errs = append(errs, fmt.Errorf("baseline %q: rejected_patches[%d]: %w", b.ID, i, err))
		}
	}
	for i, p := range b.AutoApproval.Platforms {
		if p == "" {
			bad(fmt.Sprintf("auto_approval.platforms[%d]", i), "empty platform")
		}
	}
	rings := map[string]bool{}
	for i, r := range b.Rings {
		f := fmt.Sprintf("rings[%d]", i)
		if r.Name == "" {
			bad(f+".name", "must not be empty")
		} else if rings[r.Name] {
			bad(f+".name", "%q used by an earlier ring", r.Name)
		}
		rings[r.Name] = true
		if r.After < 0 {
			bad(f+".after", "must not be negative")
		}
		if r.MinSuccessRate < 0 || r.MinSuccessRate > 1 {
			bad(f+".min_success_rate", "%v is outside 0-1", r.MinSuccessRate)
		}
		if r.MinSamples < 0 {
			bad(f+".min_samples", "must not be negative")
		}
	}
	for i := range b.Approvals {
		if err := b.Approvals[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("baseline %q: approvals[%d]: %w", b.ID, i, err))
		}
	}
	return errors.Join(errs...)
}

// Clone returns a deep copy of b, so a caller can edit it and record the
// change (see ChangeSummary) without touching the original.
func (b *Baseline) Clone() *Baseline {
	c := *b
	c.Rules = make([]Rule, len(b.Rules))
	for i, r := range b.Rules {
		r.Classifications = cloneSlice(r.Classifications)
		r.Severities = cloneSlice(r.Severities)
		r.Products = cloneSlice(r.Products)
		r.Platforms = cloneSlice(r.Platforms)
		r.CVEs = cloneSlice(r.CVEs)
		if r.ApproveUntil != nil {
			d := *r.ApproveUntil
			r.ApproveUntil = &d
		}
		c.Rules[i] = r
	}
	if b.Rules == nil {
		c.Rules = nil
	}
	c.ApprovedPatches = cloneSlice(b.ApprovedPatches)
	c.RejectedPatches = cloneSlice(b.RejectedPatches)
	c.AutoApproval.Platforms = cloneSlice(b.AutoApproval.Platforms)
	c.Rings = cloneSlice(b.Rings)
	c.Approvals = make([]Approval, len(b.Approvals))
	for i, a := range b.Approvals {
		if a.CustomSeverity != nil {
			s := *a.CustomSeverity
			a.CustomSeverity = &s
		}
		c.Approvals[i] = a
	}
	if b.Approvals == nil {
		c.Approvals = nil
	}
	return &c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}
