package approve

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Status is where a patch stands with a baseline.
type Status string

// Statuses.
const (
	// StatusApproved: the patch may be installed (and counts for compliance).
	StatusApproved Status = "approved"
	// StatusRejected: the patch must not be installed.
	StatusRejected Status = "rejected"
	// StatusPending: nothing approves or rejects the patch; it waits for a
	// person (this is the Patch Pending Approvals widget).
	StatusPending Status = "pending"
	// StatusScheduled: a rule or a rollout ring will approve the patch at
	// Decision.ApprovedAt; no person needs to act.
	StatusScheduled Status = "scheduled"
)

// Source names what made a decision.
type Source string

// Decision sources.
const (
	SourceNone         Source = ""
	SourceManual       Source = "manual"
	SourceRejectedList Source = "rejected_list"
	SourceApprovedList Source = "approved_list"
	SourceRule         Source = "rule"
)

// Decision is a baseline's verdict on one patch, with what made it.
type Decision struct {
	PatchID string `json:"patch_id"`
	Title   string `json:"title,omitempty"`
	Status  Status `json:"status"`
	Source  Source `json:"source,omitempty"`
	// Rule, Entry and ApprovalID name the rule, list entry or manual record
	// that decided; By is the person behind a manual record.
	Rule       string `json:"rule,omitempty"`
	Entry      string `json:"entry,omitempty"`
	ApprovalID string `json:"approval_id,omitempty"`
	By         string `json:"by,omitempty"`
	// Scope is where the deciding record applies (global for lists and rules).
	Scope Scope `json:"scope"`
	// Reason explains the decision in one line.
	Reason string `json:"reason"`
	// ApprovedAt is when the patch was approved, or, when Scheduled, will be.
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	// Deadline is when an approved patch must be installed, when a rule or
	// record set one.
	Deadline        time.Time                `json:"deadline,omitzero"`
	ComplianceLevel ComplianceLevel          `json:"compliance_level"`
	Severity        patchcore.Severity       `json:"severity"`
	Classification  patchcore.Classification `json:"classification"`
	Rating          int                      `json:"rating,omitempty"`
	// Platforms are the OS families the patch concerns ("windows", "linux").
	Platforms []string `json:"platforms,omitempty"`
	// Ring is the device's rollout ring, in decisions for one device.
	Ring string `json:"ring,omitempty"`
}

// RingOutcome counts finished installs of one patch in one ring.
type RingOutcome struct {
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// RingOutcomes reports the install outcomes of a patch in a ring; deploy
// knows them. It must be safe to call from Evaluate's goroutine.
type RingOutcomes func(patchID, ring string) RingOutcome

// Option configures Evaluate.
type Option func(*options)

type options struct {
	risk    RiskSignals
	rings   RingOutcomes
	compare VersionCompare
}

// WithRisk gives rules the KEV and EPSS signals of CVEs.
func WithRisk(r RiskSignals) Option { return func(o *options) { o.risk = r } }

// WithRingOutcomes gives ring promotion the install outcomes per ring.
// Without it no ring after the first ever receives a patch that needs a
// success rate.
func WithRingOutcomes(f RingOutcomes) Option { return func(o *options) { o.rings = f } }

// WithVersionCompare lets package list entries use version ranges.
func WithVersionCompare(c VersionCompare) Option { return func(o *options) { o.compare = c } }

// verdict is a decision for one device, reduced to what compliance needs.
type verdict struct {
	status Status
	level  ComplianceLevel
	reason string
}

// scoped is a manual record narrower than global, in force at the
// evaluation's now.
type scoped struct {
	rec     *Approval
	verdict verdict
}

// patchEval is what compliance needs about one patch; the full Decision is
// kept apart.
type patchEval struct {
	sev   patchcore.SeverityLevel
	class patchcore.Classification
	// scoped records, narrowest scope first, rejections first within a
	// scope kind.
	scoped []scoped
	// global is the verdict for devices no scoped record covers, per ring
	// (one entry when the baseline has no rings).
	global []verdict
	// inline holds global when there are no scoped records and at most two
	// rings (inlined is then true): the verdict then sits beside the rest of
	// the patch instead of behind a pointer, which compliance, reading one
	// patch per finding, measured 1.2x faster (BENCHMARKS.md).
	inlined bool
	inline  [2]verdict
}

// resolve returns the verdict on the patch for device d in ring: the first
// scoped record that covers d decides (records are sorted narrowest first
// and rejections first within a scope kind), and rec is that record;
// otherwise the global verdict for the ring decides and rec is nil.
func (pe *patchEval) resolve(d *patchcore.Device, ring int) (v verdict, rec *Approval) {
	if pe.inlined { // small enough to be inlined into the compliance loop
		return pe.inline[ring], nil
	}
	return pe.resolveScoped(d, ring)
}

func (pe *patchEval) resolveScoped(d *patchcore.Device, ring int) (verdict, *Approval) {
	for i := range pe.scoped {
		if s := &pe.scoped[i]; s.rec.Scope.covers(d) {
			return s.verdict, s.rec
		}
	}
	return pe.global[ring], nil
}

// Evaluation is the result of Evaluate: one baseline's decisions on a set of
// patches at one instant. It is immutable and safe for concurrent use.
type Evaluation struct {
	BaselineID      string
	BaselineVersion int
	// At is the now Evaluate was given.
	At time.Time
	// Warnings lists problems that did not stop the evaluation (duplicate
	// patch IDs, list entries that could not be checked).
	Warnings []string

	rejectedAction  RejectedAction
	unapprovedSecNC bool
	patches         []patchEval
	decisions       []Decision
	index           idTable // patch ID -> index in patches and decisions
	ringIndex       map[string]int
	ringNames       []string
}

// Evaluate decides every patch against baseline b at now. patches is
// typically what feed.Catalog.All returns (customer overlays applied);
// Evaluate does not keep or change it.
//
// At global scope the order is: a manual global rejection; the rejected
// list; a manual global approval; the approved list; the rules (the rule
// approving earliest wins; a rule match on a platform that may not
// auto-approve leaves the patch pending); otherwise pending. Manual records
// at partner, customer, group or device scope override the global decision
// for the devices they cover (see DecisionFor). Records not yet in force or
// expired at now are ignored. Global ratings (custom severity, rating) are
// applied before rules run.
//
// Evaluate returns an error only for an invalid baseline.
func Evaluate(b *Baseline, patches []patchcore.Patch, now time.Time, opts ...Option) (*Evaluation, error) {
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("evaluating baseline %q: %w", b.ID, err)
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	approved := mustEntries(b.ApprovedPatches)
	rejected := mustEntries(b.RejectedPatches)
	e := &Evaluation{
		BaselineID:      b.ID,
		BaselineVersion: b.Version,
		At:              now,
		rejectedAction:  b.RejectedAction,
		unapprovedSecNC: b.UnapprovedSecurityNonCompliant,
		index:           newIDTable(len(patches)),
		ringIndex:       make(map[string]int, len(b.Rings)),
	}
	if e.rejectedAction == "" {
		e.rejectedAction = AllowAsDependency
	}
	for i, r := range b.Rings {
		e.ringIndex[r.Name] = i
		e.ringNames = append(e.ringNames, r.Name)
	}
	// Manual records in force, by patch.
	records := map[string][]*Approval{}
	for i := range b.Approvals {
		a := &b.Approvals[i]
		if a.inForce(now) {
			records[a.PatchID] = append(records[a.PatchID], a)
		}
	}
	e.patches = make([]patchEval, 0, len(patches))
	e.decisions = make([]Decision, 0, len(patches))
	for i := range patches {
		p := &patches[i]
		if _, dup := e.index.find(p.ID, -1); dup {
			e.Warnings = append(e.Warnings, fmt.Sprintf("patch %q appears more than once; the first is used", p.ID))
			continue
		}
		var pe patchEval
		var d Decision
		e.decide(&pe, &d, b, p, records[p.ID], approved, rejected, &o)
		pe.sev, pe.class = d.Severity.Level, d.Classification
		if len(pe.scoped) == 0 && len(pe.global) <= len(pe.inline) {
			pe.inlined = true
			copy(pe.inline[:], pe.global)
		}
		e.index.add(p.ID)
		e.patches = append(e.patches, pe)
		e.decisions = append(e.decisions, d)
	}
	return e, nil
}

func mustEntries(ss []string) []ListEntry {
	out := make([]ListEntry, 0, len(ss))
	for _, s := range ss {
		if e, err := ParseListEntry(s); err == nil { // Validate already checked
			out = append(out, e)
		}
	}
	return out
}

// decide fills pe for patch p.
func (e *Evaluation) decide(pe *patchEval, d *Decision, b *Baseline, src *patchcore.Patch, recs []*Approval, approved, rejected []ListEntry, o *options) {
	p := *src // a shallow copy: ratings below replace fields, never mutate the caller's patch
	// Global ratings, latest first.
	var lastSev, lastRating time.Time
	for _, a := range recs {
		if a.Scope.Kind != ScopeGlobal {
			continue
		}
		if a.CustomSeverity != nil && !a.At.Before(lastSev) {
			s := *a.CustomSeverity
			p.CustomSeverity, lastSev = &s, a.At
		}
		if a.Rating != 0 && !a.At.Before(lastRating) {
			p.Rating, lastRating = a.Rating, a.At
		}
	}
	d.PatchID = p.ID
	d.Title = p.Title
	d.Severity = p.EffectiveSeverity()
	d.Classification = p.Classification
	d.Rating = p.Rating
	d.Scope = Scope{Kind: ScopeGlobal}
	d.ComplianceLevel = ComplianceUnspecified
	pairs := patchPlatforms(&p)
	for _, pp := range pairs {
		if !slices.Contains(d.Platforms, pp.family) {
			d.Platforms = append(d.Platforms, pp.family)
		}
	}

	// Sort manual records: global ones decide here, narrower ones later.
	var gApprove, gReject *Approval
	for _, a := range recs {
		switch {
		case a.Action == ActionRate:
		case a.Scope.Kind == ScopeGlobal && a.Action == ActionReject:
			if gReject == nil || a.At.After(gReject.At) {
				gReject = a
			}
		case a.Scope.Kind == ScopeGlobal && a.Action == ActionApprove:
			if gApprove == nil || a.At.After(gApprove.At) {
				gApprove = a
			}
		default:
			pe.scoped = append(pe.scoped, scoped{rec: a, verdict: manualVerdict(a)})
		}
	}
	sort.SliceStable(pe.scoped, func(i, j int) bool {
		ki, kj := pe.scoped[i].rec.Scope.Kind, pe.scoped[j].rec.Scope.Kind
		if ki != kj {
			return ki > kj // narrowest first
		}
		// Rejections first within one scope.
		return pe.scoped[i].rec.Action == ActionReject && pe.scoped[j].rec.Action != ActionReject
	})

	switch {
	case gReject != nil:
		setManual(d, gReject)
	case e.rejectedByList(d, &p, rejected, o):
	case gApprove != nil:
		setManual(d, gApprove)
	case e.approvedByList(d, &p, b, approved, o):
	default:
		e.applyRules(d, &p, b, pairs, o)
	}
	e.ringVerdicts(pe, d, b, o)
}

func manualVerdict(a *Approval) verdict {
	v := verdict{status: StatusApproved, level: a.ComplianceLevel.orDefault()}
	verb := "approved"
	if a.Action == ActionReject {
		v.status, v.level, verb = StatusRejected, ComplianceUnspecified, "rejected"
	}
	v.reason = fmt.Sprintf("%s for %s by %s on %s", verb, a.Scope, a.By, a.At.UTC().Format(time.DateOnly))
	if a.Reason != "" {
		v.reason += ": " + a.Reason
	}
	if !a.Expires.IsZero() {
		v.reason += " (until " + a.Expires.UTC().Format(time.RFC3339) + ")"
	}
	return v
}

func setManual(d *Decision, a *Approval) {
	v := manualVerdict(a)
	d.Status, d.Source, d.ApprovalID, d.By, d.Scope = v.status, SourceManual, a.ID, a.By, a.Scope
	d.Reason, d.ComplianceLevel = v.reason, v.level
	if v.status == StatusApproved {
		d.ApprovedAt, d.Deadline = a.At, a.Deadline
	}
}

func (e *Evaluation) rejectedByList(d *Decision, p *patchcore.Patch, rejected []ListEntry, o *options) bool {
	for i := range rejected {
		ok, err := rejected[i].matchPatch(p, o.compare)
		if err != nil {
			// Fail safe: a patch that may be rejected is never approved.
			e.Warnings = append(e.Warnings, fmt.Sprintf("patch %q: rejected list: %v", p.ID, err))
			d.Status, d.Source, d.Entry = StatusPending, SourceRejectedList, rejected[i].Raw
			d.Reason = fmt.Sprintf("rejected list entry %q could not be checked (%v); waiting for a manual decision", rejected[i].Raw, err)
			return true
		}
		if ok {
			d.Status, d.Source, d.Entry = StatusRejected, SourceRejectedList, rejected[i].Raw
			d.Reason = fmt.Sprintf("on the rejected list (entry %q)", rejected[i].Raw)
			return true
		}
	}
	return false
}

func (e *Evaluation) approvedByList(d *Decision, p *patchcore.Patch, b *Baseline, approved []ListEntry, o *options) bool {
	for i := range approved {
		ok, err := approved[i].matchPatch(p, o.compare)
		if err != nil {
			e.Warnings = append(e.Warnings, fmt.Sprintf("patch %q: approved list: %v", p.ID, err))
			continue
		}
		if ok {
			d.Status, d.Source, d.Entry = StatusApproved, SourceApprovedList, approved[i].Raw
			d.Reason = fmt.Sprintf("on the approved list (entry %q)", approved[i].Raw)
			d.ApprovedAt = p.Released
			d.ComplianceLevel = b.ApprovedComplianceLevel.orDefault()
			return true
		}
	}
	return false
}

// applyRules decides p by the rules; the rule that approves earliest wins.
func (e *Evaluation) applyRules(d *Decision, p *patchcore.Patch, b *Baseline, pairs []platformPair, o *options) {
	var best *Rule
	var bestAt time.Time
	var bestWhy string
	var noDate []string
	for i := range b.Rules {
		r := &b.Rules[i]
		if !ruleMatches(r, p, pairs, o.risk) {
			continue
		}
		at, why, ok := ruleApprovesAt(r, p, o.risk)
		if !ok {
			if why != "" {
				noDate = append(noDate, fmt.Sprintf("rule %q %s", r.Name, why))
			}
			continue
		}
		if best == nil || at.Before(bestAt) {
			best, bestAt, bestWhy = r, at, why
		}
	}
	if best == nil {
		d.Status = StatusPending
		d.Reason = "no rule, list or approval covers it"
		if len(noDate) > 0 {
			d.Reason = strings.Join(noDate, "; ")
		}
		return
	}
	d.Source, d.Rule = SourceRule, best.Name
	if !autoApprovable(b.AutoApproval.Platforms, pairs) {
		d.Status = StatusPending
		d.Reason = fmt.Sprintf("rule %q matches, but auto-approval is not enabled for %s; waiting for a manual approval",
			best.Name, platformWords(d.Platforms))
		return
	}
	d.ApprovedAt = bestAt
	d.ComplianceLevel = best.ComplianceLevel.orDefault()
	if best.Deadline > 0 {
		d.Deadline = bestAt.Add(time.Duration(best.Deadline))
	}
	if bestAt.After(e.At) {
		d.Status = StatusScheduled
		d.Reason = fmt.Sprintf("rule %q approves it on %s (%s)", best.Name, bestAt.UTC().Format(time.RFC3339), bestWhy)
		return
	}
	d.Status = StatusApproved
	d.Reason = fmt.Sprintf("approved by rule %q (%s)", best.Name, bestWhy)
}

func platformWords(fams []string) string {
	if len(fams) == 0 {
		return "an unknown platform"
	}
	return strings.Join(fams, ", ")
}

func ruleMatches(r *Rule, p *patchcore.Patch, pairs []platformPair, risk RiskSignals) bool {
	if len(r.Classifications) > 0 && !slices.Contains(r.Classifications, p.Classification) {
		return false
	}
	if len(r.Severities) > 0 {
		var lvl patchcore.SeverityLevel
		switch r.SeveritySource {
		case SeverityVendor:
			lvl = p.Severity.Level
		case SeverityCustom:
			if p.CustomSeverity == nil {
				return false
			}
			lvl = p.CustomSeverity.Level
		default:
			lvl = p.EffectiveSeverity().Level
		}
		if !slices.Contains(r.Severities, lvl) {
			return false
		}
	}
	if len(r.Products) > 0 && !productMatches(r.Products, p) {
		return false
	}
	if len(r.Platforms) > 0 && !platformMatches(r.Platforms, pairs) {
		return false
	}
	if len(r.CVEs) > 0 {
		found := false
		for _, c := range p.CVEs {
			for _, pat := range r.CVEs {
				if globMatch(pat, c.ID) {
					found = true
				}
			}
		}
		if !found {
			return false
		}
	}
	if r.MinCVSS > 0 {
		maxScore := 0.0
		for _, c := range p.CVEs {
			maxScore = max(maxScore, c.CVSSScore)
		}
		if maxScore < r.MinCVSS {
			return false
		}
	}
	if r.KEV || r.MinEPSS > 0 {
		kev, epss := false, 0.0
		for _, c := range p.CVEs {
			if s, ok := risk.lookup(c.ID); ok {
				kev = kev || s.KEV
				epss = max(epss, s.EPSS)
			}
		}
		if r.KEV && !kev {
			return false
		}
		if r.MinEPSS > 0 && epss < r.MinEPSS {
			return false
		}
	}
	if r.MinRating > 0 && p.Rating < r.MinRating {
		return false
	}
	return true
}

// ruleApprovesAt says when rule r approves p, with the words for it. ok is
// false when it never does; why then says why, if worth telling.
func ruleApprovesAt(r *Rule, p *patchcore.Patch, risk RiskSignals) (at time.Time, why string, ok bool) {
	rel := p.Released.UTC()
	switch {
	case r.ApproveUntil != nil:
		if p.Released.IsZero() {
			return time.Time{}, "cannot apply approve_until: the patch has no release date", false
		}
		if p.Released.After(r.ApproveUntil.endOfDay()) {
			return time.Time{}, "", false
		}
		at, why = rel, "released on or before "+r.ApproveUntil.UTC().Format(time.DateOnly)
	case r.ApproveAfterDays == 0:
		at, why = rel, "on release"
	default:
		if p.Released.IsZero() {
			return time.Time{}, fmt.Sprintf("cannot count %d days from release: the patch has no release date", r.ApproveAfterDays), false
		}
		at = rel.Add(time.Duration(r.ApproveAfterDays) * 24 * time.Hour)
		why = fmt.Sprintf("%d days after release on %s", r.ApproveAfterDays, rel.Format(time.DateOnly))
	}
	if r.KEV {
		// Approve from the moment the CVE is known exploited.
		var added time.Time
		for _, c := range p.CVEs {
			if s, ok := risk.lookup(c.ID); ok && s.KEV && !s.KEVAdded.IsZero() && (added.IsZero() || s.KEVAdded.Before(added)) {
				added = s.KEVAdded
			}
		}
		if added.After(at) {
			at = added.UTC()
		}
		why += "; in CISA KEV"
	}
	return at, why, true
}

func productMatches(patterns []string, p *patchcore.Patch) bool {
	for _, pat := range patterns {
		for _, prod := range p.Products {
			if globMatch(pat, prod) {
				return true
			}
		}
		for i := range p.Fixes {
			if f := &p.Fixes[i]; f.Product != "" && globMatch(pat, f.Product) {
				return true
			}
		}
	}
	return false
}

// platformPair is an OS family and distro a patch concerns.
type platformPair struct{ family, distro string }

// patchPlatforms derives the platforms a patch concerns from its fixes.
func patchPlatforms(p *patchcore.Patch) []platformPair {
	var out []platformPair
	for i := range p.Fixes {
		f := &p.Fixes[i]
		var pp platformPair
		switch f.Ecosystem {
		case patchcore.EcosystemWindows, patchcore.EcosystemChocolatey, patchcore.EcosystemWinget:
			pp = platformPair{patchcore.FamilyWindows, "windows"}
		case patchcore.EcosystemMacOS, patchcore.EcosystemHomebrew:
			pp = platformPair{patchcore.FamilyDarwin, "macos"}
		case patchcore.EcosystemDeb, patchcore.EcosystemRPM:
			pp = platformPair{patchcore.FamilyLinux, strings.ToLower(f.Distro)}
		default:
			switch d := strings.ToLower(f.Distro); d {
			case "":
				continue
			case "windows":
				pp = platformPair{patchcore.FamilyWindows, d}
			case "macos", "darwin":
				pp = platformPair{patchcore.FamilyDarwin, d}
			default:
				pp = platformPair{patchcore.FamilyLinux, d}
			}
		}
		if !slices.Contains(out, pp) {
			out = append(out, pp)
		}
	}
	return out
}

func platformMatches(list []string, pairs []platformPair) bool {
	for _, pp := range pairs {
		for _, l := range list {
			if l == "*" || strings.EqualFold(l, pp.family) || (pp.distro != "" && strings.EqualFold(l, pp.distro)) {
				return true
			}
		}
	}
	return false
}

// autoApprovable reports whether every platform of the patch may auto-approve.
func autoApprovable(list []string, pairs []platformPair) bool {
	if slices.Contains(list, "*") {
		return true
	}
	if len(pairs) == 0 {
		return false
	}
	for _, pp := range pairs {
		if !platformMatches(list, []platformPair{pp}) {
			return false
		}
	}
	return true
}

// ringVerdicts fills pe.global, one verdict per ring (one without rings):
// the global decision, and for a globally approved patch when each ring
// receives it.
func (e *Evaluation) ringVerdicts(pe *patchEval, d *Decision, b *Baseline, o *options) {
	base := verdict{status: d.Status, level: d.ComplianceLevel, reason: d.Reason}
	pe.global = make([]verdict, max(1, len(b.Rings)))
	if d.Status != StatusApproved || len(b.Rings) == 0 {
		for i := range pe.global {
			pe.global[i] = base
		}
		return
	}
	open := d.ApprovedAt // zero when unknown: time gates then pass, rates still apply
	blocked := ""
	for i, r := range b.Rings {
		if i == 0 {
			pe.global[0] = verdict{StatusApproved, base.level, base.reason + "; ring " + r.Name + " receives it first"}
			continue
		}
		prev := b.Rings[i-1].Name
		if blocked == "" && r.MinSuccessRate > 0 {
			var out RingOutcome
			if o.rings != nil {
				out = o.rings(d.PatchID, prev)
			}
			n := out.Succeeded + out.Failed
			need := max(r.MinSamples, 1)
			switch {
			case n < need:
				blocked = fmt.Sprintf("ring %s waits for ring %s: %d of %d finished installs needed", r.Name, prev, n, need)
			case float64(out.Succeeded) < r.MinSuccessRate*float64(n):
				blocked = fmt.Sprintf("ring %s waits for ring %s: success rate %.1f%% (%d/%d) is below %.1f%%",
					r.Name, prev, 100*float64(out.Succeeded)/float64(n), out.Succeeded, n, 100*r.MinSuccessRate)
			}
		}
		if blocked != "" {
			pe.global[i] = verdict{StatusPending, base.level, base.reason + "; " + blocked}
			continue
		}
		if !open.IsZero() {
			open = open.Add(time.Duration(r.After))
		}
		if open.After(e.At) {
			pe.global[i] = verdict{StatusScheduled, base.level,
				fmt.Sprintf("%s; ring %s receives it on %s (%s after ring %s)", base.reason, r.Name, open.UTC().Format(time.RFC3339), time.Duration(r.After), prev)}
			continue
		}
		pe.global[i] = verdict{StatusApproved, base.level, base.reason + "; promoted to ring " + r.Name}
	}
}

// ringOf returns the ring index of a device: its named ring, or the last
// ring when it names none or an unknown one.
func (e *Evaluation) ringOf(d *patchcore.Device) int {
	if len(e.ringNames) == 0 {
		return 0
	}
	if i, ok := e.ringIndex[d.Ring]; ok {
		return i
	}
	return len(e.ringNames) - 1
}

// Decision returns the global decision on a patch (for devices no scoped
// record covers, before rings).
func (e *Evaluation) Decision(patchID string) (Decision, bool) {
	i, ok := e.index.find(patchID, -1)
	if !ok {
		return Decision{}, false
	}
	return e.decisions[i], true
}

// DecisionFor returns the decision on a patch for one device: scoped
// manual records and the device's rollout ring applied. A patch the
// evaluation does not know is pending.
func (e *Evaluation) DecisionFor(d patchcore.Device, patchID string) Decision {
	i, ok := e.index.find(patchID, -1)
	if !ok {
		return Decision{PatchID: patchID, Status: StatusPending, Scope: Scope{Kind: ScopeGlobal}, ComplianceLevel: ComplianceUnspecified,
			Reason: "not among the evaluated patches"}
	}
	out := e.decisions[i]
	ring := e.ringOf(&d)
	if len(e.ringNames) > 0 {
		out.Ring = e.ringNames[ring]
	}
	v, rec := e.patches[i].resolve(&d, ring)
	if rec != nil {
		setManual(&out, rec)
		return out
	}
	out.Status, out.Reason = v.status, v.reason
	return out
}

// Decisions returns every global decision, in the order the patches were given.
func (e *Evaluation) Decisions() []Decision {
	return slices.Clone(e.decisions)
}

func (e *Evaluation) filter(s Status) []Decision {
	var out []Decision
	for i := range e.decisions {
		if e.decisions[i].Status == s {
			out = append(out, e.decisions[i])
		}
	}
	return out
}

// Approved returns the globally approved patches with the reason for each.
func (e *Evaluation) Approved() []Decision { return e.filter(StatusApproved) }

// Pending returns the patches waiting for a manual approval.
func (e *Evaluation) Pending() []Decision { return e.filter(StatusPending) }

// Scheduled returns the patches a rule will approve later.
func (e *Evaluation) Scheduled() []Decision { return e.filter(StatusScheduled) }

// Rejected returns the globally rejected patches.
func (e *Evaluation) Rejected() []Decision { return e.filter(StatusRejected) }

// RejectedAction is the baseline's action for rejected patches.
func (e *Evaluation) RejectedAction() RejectedAction { return e.rejectedAction }
