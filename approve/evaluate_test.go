package approve

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

var testNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func sev(l patchcore.SeverityLevel) patchcore.Severity { return patchcore.Severity{Level: l} }

// winPatch is a Windows patch released at rel.
func winPatch(id string, class patchcore.Classification, l patchcore.SeverityLevel, rel time.Time, cves ...string) patchcore.Patch {
	p := patchcore.Patch{ID: id, Source: "msrc", Vendor: "Microsoft", Title: id + " update",
		Products: []string{"Windows 11 Version 23H2 for x64-based Systems"}, Classification: class,
		Severity: sev(l), Released: rel,
		Fixes: []patchcore.Fix{{Distro: "windows", Ecosystem: patchcore.EcosystemWindows, KB: id,
			Product: "Windows 11 Version 23H2 for x64-based Systems", FixedBuild: "10.0.22631.3007"}}}
	for _, c := range cves {
		p.CVEs = append(p.CVEs, patchcore.CVE{ID: c, CVSSScore: 8.1})
	}
	return p
}

// debPatch is a Debian bookworm patch fixing pkg at version ver.
func debPatch(id string, class patchcore.Classification, l patchcore.SeverityLevel, rel time.Time, pkg, ver string, cves ...string) patchcore.Patch {
	p := patchcore.Patch{ID: id, Source: "debian-dsa", Vendor: "Debian", Title: id + " " + pkg,
		Products: []string{"Debian 12"}, Classification: class, Severity: sev(l), Released: rel,
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb,
			Package: pkg, PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: ver}}}
	for _, c := range cves {
		p.CVEs = append(p.CVEs, patchcore.CVE{ID: c, CVSSScore: 5.5})
	}
	return p
}

func mustEvaluate(t testing.TB, b *Baseline, patches []patchcore.Patch, now time.Time, opts ...Option) *Evaluation {
	t.Helper()
	e, err := Evaluate(b, patches, now, opts...)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return e
}

func TestRuleKinds(t *testing.T) {
	kb := winPatch("KB5034441", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20), "CVE-2024-20666")
	custom := winPatch("KB5000001", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 20))
	hi := sev(patchcore.SeverityHigh)
	custom.CustomSeverity = &hi
	custom.Rating = 4
	undated := winPatch("KB5000002", patchcore.ClassSecurity, patchcore.SeverityCritical, time.Time{})
	recent := winPatch("KB5000003", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 30))
	until := NewDate(2024, 5, 20)
	untilEarly := NewDate(2024, 5, 19)
	risk := RiskSignals{"CVE-2024-20666": {KEV: true, KEVAdded: day(2024, 5, 25), EPSS: 0.42}}

	tests := []struct {
		name       string
		rule       Rule
		patch      patchcore.Patch
		want       Status
		wantAt     time.Time
		wantLevel  ComplianceLevel
		wantReason string
		deadline   time.Time
	}{
		{name: "classification match", rule: Rule{Name: "r", Classifications: []patchcore.Classification{patchcore.ClassSecurity}},
			patch: kb, want: StatusApproved, wantAt: day(2024, 5, 20), wantReason: `approved by rule "r" (on release)`},
		{name: "classification miss", rule: Rule{Name: "r", Classifications: []patchcore.Classification{patchcore.ClassBugfix}},
			patch: kb, want: StatusPending, wantReason: "no rule, list or approval covers it"},
		{name: "effective severity uses custom", rule: Rule{Name: "r", Severities: []patchcore.SeverityLevel{patchcore.SeverityHigh}},
			patch: custom, want: StatusApproved},
		{name: "vendor severity ignores custom", rule: Rule{Name: "r", SeveritySource: SeverityVendor, Severities: []patchcore.SeverityLevel{patchcore.SeverityHigh}},
			patch: custom, want: StatusPending},
		{name: "vendor severity match", rule: Rule{Name: "r", SeveritySource: SeverityVendor, Severities: []patchcore.SeverityLevel{patchcore.SeverityLow}},
			patch: custom, want: StatusApproved},
		{name: "custom severity requires one", rule: Rule{Name: "r", SeveritySource: SeverityCustom, Severities: []patchcore.SeverityLevel{patchcore.SeverityCritical}},
			patch: kb, want: StatusPending},
		{name: "product pattern", rule: Rule{Name: "r", Products: []string{"windows 11*"}}, patch: kb, want: StatusApproved},
		{name: "product miss", rule: Rule{Name: "r", Products: []string{"Windows Server*"}}, patch: kb, want: StatusPending},
		{name: "platform family", rule: Rule{Name: "r", Platforms: []string{"windows"}}, patch: kb, want: StatusApproved},
		{name: "platform miss", rule: Rule{Name: "r", Platforms: []string{"debian"}}, patch: kb, want: StatusPending},
		{name: "CVE pattern", rule: Rule{Name: "r", CVEs: []string{"CVE-2024-*"}}, patch: kb, want: StatusApproved},
		{name: "CVE miss", rule: Rule{Name: "r", CVEs: []string{"CVE-2023-*"}}, patch: kb, want: StatusPending},
		{name: "min CVSS", rule: Rule{Name: "r", MinCVSS: 8}, patch: kb, want: StatusApproved},
		{name: "min CVSS miss", rule: Rule{Name: "r", MinCVSS: 9}, patch: kb, want: StatusPending},
		{name: "min rating", rule: Rule{Name: "r", MinRating: 4}, patch: custom, want: StatusApproved},
		{name: "min rating miss", rule: Rule{Name: "r", MinRating: 5}, patch: custom, want: StatusPending},
		{name: "KEV approves from the day it was added, deadline 72h",
			rule:  Rule{Name: "kev", KEV: true, Deadline: Duration(72 * time.Hour), ComplianceLevel: ComplianceCritical},
			patch: kb, want: StatusApproved, wantAt: day(2024, 5, 25), wantLevel: ComplianceCritical,
			deadline: day(2024, 5, 28), wantReason: `approved by rule "kev" (on release; in CISA KEV)`},
		{name: "KEV miss", rule: Rule{Name: "kev", KEV: true}, patch: custom, want: StatusPending},
		{name: "EPSS", rule: Rule{Name: "r", MinEPSS: 0.4}, patch: kb, want: StatusApproved},
		{name: "EPSS miss", rule: Rule{Name: "r", MinEPSS: 0.5}, patch: kb, want: StatusPending},
		{name: "after days passed", rule: Rule{Name: "r", ApproveAfterDays: 7}, patch: kb, want: StatusApproved, wantAt: day(2024, 5, 27),
			wantReason: `approved by rule "r" (7 days after release on 2024-05-20)`},
		{name: "after days not yet", rule: Rule{Name: "r", ApproveAfterDays: 7}, patch: recent, want: StatusScheduled, wantAt: day(2024, 6, 6),
			wantReason: `rule "r" approves it on 2024-06-06T00:00:00Z (7 days after release on 2024-05-30)`},
		{name: "after days without release date", rule: Rule{Name: "r", ApproveAfterDays: 7}, patch: undated, want: StatusPending,
			wantReason: `rule "r" cannot count 7 days from release: the patch has no release date`},
		{name: "zero days without release date", rule: Rule{Name: "r"}, patch: undated, want: StatusApproved},
		{name: "until date inclusive", rule: Rule{Name: "r", ApproveUntil: &until}, patch: kb, want: StatusApproved, wantAt: day(2024, 5, 20)},
		{name: "until date passed", rule: Rule{Name: "r", ApproveUntil: &untilEarly}, patch: kb, want: StatusPending},
		{name: "compliance level", rule: Rule{Name: "r", ComplianceLevel: ComplianceHigh}, patch: kb, want: StatusApproved, wantLevel: ComplianceHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBaseline("b1", "test")
			b.Rules = []Rule{tt.rule}
			e := mustEvaluate(t, b, []patchcore.Patch{tt.patch}, testNow, WithRisk(risk))
			d, ok := e.Decision(tt.patch.ID)
			if !ok {
				t.Fatalf("no decision for %s", tt.patch.ID)
			}
			if d.Status != tt.want {
				t.Fatalf("status = %s (%s), want %s", d.Status, d.Reason, tt.want)
			}
			if !tt.wantAt.IsZero() && !d.ApprovedAt.Equal(tt.wantAt) {
				t.Errorf("approved at %v, want %v", d.ApprovedAt, tt.wantAt)
			}
			if tt.wantLevel != "" && d.ComplianceLevel != tt.wantLevel {
				t.Errorf("compliance level %s, want %s", d.ComplianceLevel, tt.wantLevel)
			}
			if tt.wantReason != "" && d.Reason != tt.wantReason {
				t.Errorf("reason %q, want %q", d.Reason, tt.wantReason)
			}
			if !tt.deadline.IsZero() && !d.Deadline.Equal(tt.deadline) {
				t.Errorf("deadline %v, want %v", d.Deadline, tt.deadline)
			}
			if d.Status == StatusApproved && (d.Source != SourceRule || d.Rule != tt.rule.Name) {
				t.Errorf("source %s rule %q, want rule %q", d.Source, d.Rule, tt.rule.Name)
			}
		})
	}
}

func TestEarliestRuleWins(t *testing.T) {
	b := NewBaseline("b", "")
	b.Rules = []Rule{
		{Name: "slow", ApproveAfterDays: 10, ComplianceLevel: ComplianceLow},
		{Name: "fast", ApproveAfterDays: 2, ComplianceLevel: ComplianceCritical},
	}
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1))
	d, _ := mustEvaluate(t, b, []patchcore.Patch{p}, testNow).Decision("KB1")
	if d.Rule != "fast" || d.ComplianceLevel != ComplianceCritical || !d.ApprovedAt.Equal(day(2024, 5, 3)) {
		t.Fatalf("got rule %q level %s at %v, want fast CRITICAL 2024-05-03", d.Rule, d.ComplianceLevel, d.ApprovedAt)
	}
}

func TestListEntries(t *testing.T) {
	kb := winPatch("KB5034441", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20), "CVE-2024-20666")
	ssl := debPatch("DSA-5678-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 28), "openssl", "3.0.13-1~deb12u1", "CVE-2024-0727")
	ssl.Aliases = []string{"DLA-1234-1"}
	cmp := func(scheme, a, b string) (int, error) {
		if scheme != "deb" {
			return 0, errors.New("unexpected scheme " + scheme)
		}
		return strings.Compare(a, b), nil // good enough for these fixtures
	}
	tests := []struct {
		entry string
		patch patchcore.Patch
		cmp   VersionCompare
		want  bool
		err   bool
	}{
		{"KB5034441", kb, nil, true, false},
		{"kb5034441", kb, nil, true, false},
		{"KB50*", kb, nil, true, false},
		{"KB5034442", kb, nil, false, false},
		{"DLA-1234-1", ssl, nil, true, false},
		{"CVE-2024-20666", kb, nil, true, false},
		{"cve-2024-*", kb, nil, true, false},
		{"CVE-2023-1", kb, nil, false, false},
		{"package:openssl", ssl, nil, true, false},
		{"package:OpenSSL", ssl, nil, true, false},
		{"package:open*", ssl, nil, true, false},
		{"package:openssh", ssl, nil, false, false},
		{"package:openssl=3.0.13-1~deb12u1", ssl, nil, true, false},
		{"package:openssl=3.0.13*", ssl, nil, true, false},
		{"package:openssl=3.0.11-1~deb12u2", ssl, nil, false, false},
		{"package:openssl>=3.0.13-1~deb12u1", ssl, cmp, true, false},
		{"package:openssl<3.0.13", ssl, cmp, false, false},
		{"package:openssl>3.0.0", ssl, cmp, true, false},
		{"package:openssl<=3.0.0", ssl, cmp, false, false},
		{"package:openssl>3.0.0", ssl, nil, false, true},
		{"package:openssl", kb, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			e, err := ParseListEntry(tt.entry)
			if err != nil {
				t.Fatalf("ParseListEntry: %v", err)
			}
			got, err := e.matchPatch(&tt.patch, tt.cmp)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err != nil && !errors.Is(err, patchcore.ErrUnsupported) {
				t.Errorf("err %v does not wrap ErrUnsupported", err)
			}
			if got != tt.want {
				t.Errorf("match %s against %s = %v, want %v", tt.entry, tt.patch.ID, got, tt.want)
			}
		})
	}
}

func TestParseListEntryErrors(t *testing.T) {
	for _, s := range []string{"", "*", "**", "package:", "package:*", "package:a=", "package:a<1<2",
		"package:a>1*", "KB1=2", "CVE-", "has space", "tab\there", strings.Repeat("x", MaxListEntryLen+1), "bad\xffutf8"} {
		if _, err := ParseListEntry(s); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("ParseListEntry(%q) = %v, want ErrInvalidInput", s, err)
		}
	}
	e, err := ParseListEntry("package:linux-image-*<=6.1.90-1")
	if err != nil {
		t.Fatal(err)
	}
	want := ListEntry{Raw: "package:linux-image-*<=6.1.90-1", Kind: EntryPackage, Pattern: "linux-image-*", Op: OpLessEqual, Version: "6.1.90-1"}
	if e != want {
		t.Errorf("got %+v, want %+v", e, want)
	}
}

func TestListsAndRulePrecedence(t *testing.T) {
	kb := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20), "CVE-2024-1")
	b := NewBaseline("b", "")
	b.Rules = []Rule{{Name: "all"}}
	b.ApprovedPatches = []string{"KB1"}
	b.ApprovedComplianceLevel = ComplianceMedium
	b.RejectedPatches = []string{"CVE-2024-1"}

	d, _ := mustEvaluate(t, b, []patchcore.Patch{kb}, testNow).Decision("KB1")
	if d.Status != StatusRejected || d.Source != SourceRejectedList || d.Entry != "CVE-2024-1" {
		t.Fatalf("rejected list must beat approved list and rules: %+v", d)
	}
	b.RejectedPatches = nil
	d, _ = mustEvaluate(t, b, []patchcore.Patch{kb}, testNow).Decision("KB1")
	if d.Status != StatusApproved || d.Source != SourceApprovedList || d.ComplianceLevel != ComplianceMedium {
		t.Fatalf("approved list must beat rules: %+v", d)
	}
	// A global manual rejection beats the approved list; a global manual
	// approval loses to the rejected list (same scope: rejection wins).
	b.Approvals = []Approval{{ID: "a1", PatchID: "KB1", Action: ActionReject, Scope: Scope{Kind: ScopeGlobal}, By: "alice", At: day(2024, 5, 21), Reason: "breaks printing"}}
	d, _ = mustEvaluate(t, b, []patchcore.Patch{kb}, testNow).Decision("KB1")
	if d.Status != StatusRejected || d.Source != SourceManual || d.ApprovalID != "a1" || d.By != "alice" {
		t.Fatalf("manual global rejection: %+v", d)
	}
	if want := "rejected for global by alice on 2024-05-21: breaks printing"; d.Reason != want {
		t.Errorf("reason %q, want %q", d.Reason, want)
	}
	b.Approvals[0].Action = ActionApprove
	b.RejectedPatches = []string{"KB1"}
	d, _ = mustEvaluate(t, b, []patchcore.Patch{kb}, testNow).Decision("KB1")
	if d.Status != StatusRejected || d.Source != SourceRejectedList {
		t.Fatalf("rejected list vs global approval: %+v", d)
	}
}

func TestRejectedListUncheckableIsPending(t *testing.T) {
	ssl := debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 28), "openssl", "3.0.13-1")
	b := NewBaseline("b", "")
	b.AutoApproval.Platforms = []string{"*"}
	b.Rules = []Rule{{Name: "all"}}
	b.RejectedPatches = []string{"package:openssl<3.1"}
	e := mustEvaluate(t, b, []patchcore.Patch{ssl}, testNow)
	d, _ := e.Decision("DSA-1")
	if d.Status != StatusPending || len(e.Warnings) != 1 {
		t.Fatalf("a rejected entry that cannot be checked must leave the patch pending, got %s (%s), warnings %q", d.Status, d.Reason, e.Warnings)
	}
}

func TestAutoApprovalPerPlatform(t *testing.T) {
	kb := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20))
	dsa := debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20), "openssl", "3.0.13-1")
	rhsa := debPatch("RHSA-2024:1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20), "openssl", "3.0.7-27.el9")
	rhsa.Fixes[0].Distro, rhsa.Fixes[0].Ecosystem = "rhel", patchcore.EcosystemRPM
	brew := patchcore.Patch{ID: "brew-1", Classification: patchcore.ClassSecurity, Released: day(2024, 5, 20),
		Fixes: []patchcore.Fix{{Ecosystem: patchcore.EcosystemHomebrew, Package: "git"}}}
	nofix := patchcore.Patch{ID: "X-1", Classification: patchcore.ClassSecurity, Released: day(2024, 5, 20)}
	all := []patchcore.Patch{kb, dsa, rhsa, brew, nofix}

	tests := []struct {
		name      string
		platforms []string // nil: the default
		approved  []string
	}{
		{"default is windows only", nil, []string{"KB1"}},
		{"linux family", []string{"linux"}, []string{"DSA-1", "RHSA-2024:1"}},
		{"one distro", []string{"debian"}, []string{"DSA-1"}},
		{"windows and darwin", []string{"windows", "darwin"}, []string{"KB1", "brew-1"}},
		{"everything", []string{"*"}, []string{"KB1", "DSA-1", "RHSA-2024:1", "brew-1", "X-1"}},
		{"nothing", []string{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBaseline("b", "")
			if tt.platforms != nil {
				b.AutoApproval.Platforms = tt.platforms
			}
			b.Rules = []Rule{{Name: "security", Classifications: []patchcore.Classification{patchcore.ClassSecurity}}}
			e := mustEvaluate(t, b, all, testNow)
			var got []string
			for _, d := range e.Approved() {
				got = append(got, d.PatchID)
			}
			if strings.Join(got, ",") != strings.Join(tt.approved, ",") {
				t.Fatalf("approved %v, want %v", got, tt.approved)
			}
			pending := e.Pending()
			if len(pending)+len(got) != len(all) {
				t.Fatalf("%d pending + %d approved != %d patches", len(pending), len(got), len(all))
			}
			for _, d := range pending {
				if d.Rule != "security" || !strings.Contains(d.Reason, "auto-approval is not enabled") {
					t.Errorf("pending %s: rule %q reason %q", d.PatchID, d.Rule, d.Reason)
				}
			}
		})
	}
}

// TestPrecedenceMatrix checks every pair of scopes and actions: the
// narrower scope wins; at the same scope a rejection wins.
func TestPrecedenceMatrix(t *testing.T) {
	dev := patchcore.Device{ID: "d1", Partner: "p1", Customer: "c1", Groups: []string{"g1", "g2"}}
	other := patchcore.Device{ID: "d2", Partner: "p2", Customer: "c2", Groups: []string{"g3"}}
	scopes := []Scope{{ScopeGlobal, ""}, {ScopePartner, "p1"}, {ScopeCustomer, "c1"}, {ScopeGroup, "g1"}, {ScopeDevice, "d1"}}
	actions := []Action{ActionApprove, ActionReject}
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20))
	statusOf := map[Action]Status{ActionApprove: StatusApproved, ActionReject: StatusRejected}

	for _, s1 := range scopes {
		for _, a1 := range actions {
			for _, s2 := range scopes {
				for _, a2 := range actions {
					name := a1.name() + "@" + s1.String() + "+" + a2.name() + "@" + s2.String()
					t.Run(name, func(t *testing.T) {
						b := NewBaseline("b", "")
						b.Approvals = []Approval{
							{ID: "r1", PatchID: "KB1", Action: a1, Scope: s1, By: "u", At: day(2024, 5, 21)},
							{ID: "r2", PatchID: "KB1", Action: a2, Scope: s2, By: "u", At: day(2024, 5, 22)},
						}
						e := mustEvaluate(t, b, []patchcore.Patch{p}, testNow)
						var want Status
						switch {
						case s1.Kind > s2.Kind:
							want = statusOf[a1]
						case s2.Kind > s1.Kind:
							want = statusOf[a2]
						case a1 == ActionReject || a2 == ActionReject:
							want = StatusRejected
						default:
							want = StatusApproved
						}
						got := e.DecisionFor(dev, "KB1")
						if got.Status != want {
							t.Fatalf("status %s (%s), want %s", got.Status, got.Reason, want)
						}
						wantScope := s1
						if s2.Kind > s1.Kind || (s2.Kind == s1.Kind && statusOf[a2] == want) {
							wantScope = s2
						}
						if got.Scope.Kind != wantScope.Kind || got.Source != SourceManual {
							t.Errorf("decided at %s by %s, want %s by manual", got.Scope, got.Source, wantScope)
						}
						// The same answer through compliance.
						c := e.Compliance(&DeviceResult{Device: dev, Findings: []patchcore.Finding{{PatchID: "KB1", State: patchcore.FindingMissing}}})
						gotMissing := c.States.Missing == 1
						if gotMissing != (want == StatusApproved) {
							t.Errorf("compliance: missing=%v for status %s", gotMissing, want)
						}
						// A device outside every narrower scope sees only global records.
						o := e.DecisionFor(other, "KB1")
						var wantOther Status = StatusPending
						switch {
						case s1.Kind == ScopeGlobal && s2.Kind == ScopeGlobal:
							wantOther = want
						case s1.Kind == ScopeGlobal:
							wantOther = statusOf[a1]
						case s2.Kind == ScopeGlobal:
							wantOther = statusOf[a2]
						}
						if o.Status != wantOther {
							t.Errorf("other device: %s (%s), want %s", o.Status, o.Reason, wantOther)
						}
					})
				}
			}
		}
	}
}

func (a Action) name() string { return string(a) }

func TestManualRecordsExpiryAndFuture(t *testing.T) {
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20))
	dev := patchcore.Device{ID: "d1"}
	tests := []struct {
		name string
		rec  Approval
		want Status
	}{
		{"in force", Approval{At: day(2024, 5, 1), Expires: day(2024, 7, 1)}, StatusApproved},
		{"expired", Approval{At: day(2024, 5, 1), Expires: day(2024, 6, 1)}, StatusPending},
		{"not yet in force", Approval{At: day(2024, 6, 2)}, StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBaseline("b", "")
			r := tt.rec
			r.PatchID, r.Action, r.Scope, r.By = "KB1", ActionApprove, Scope{ScopeDevice, "d1"}, "bob"
			b.Approvals = []Approval{r}
			if got := mustEvaluate(t, b, []patchcore.Patch{p}, testNow).DecisionFor(dev, "KB1").Status; got != tt.want {
				t.Fatalf("status %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRatingsFeedRules(t *testing.T) {
	p := winPatch("KB1", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 20))
	b := NewBaseline("b", "")
	b.Rules = []Rule{{Name: "custom-critical", SeveritySource: SeverityCustom, Severities: []patchcore.SeverityLevel{patchcore.SeverityCritical}, MinRating: 3}}
	crit := patchcore.Severity{Level: patchcore.SeverityCritical, Raw: "ours: critical"}
	b.Approvals = []Approval{{PatchID: "KB1", Action: ActionRate, Scope: Scope{Kind: ScopeGlobal}, By: "carol", At: day(2024, 5, 21), CustomSeverity: &crit, Rating: 5}}
	d, _ := mustEvaluate(t, b, []patchcore.Patch{p}, testNow).Decision("KB1")
	if d.Status != StatusApproved || d.Severity.Level != patchcore.SeverityCritical || d.Rating != 5 {
		t.Fatalf("rating must set custom severity and rating before rules: %+v", d)
	}
	if p.CustomSeverity != nil || p.Rating != 0 {
		t.Fatal("Evaluate modified the caller's patch")
	}
}

func TestRingPromotion(t *testing.T) {
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20))
	rings := []Ring{{Name: "test"}, {Name: "production", After: Duration(7 * 24 * time.Hour), MinSuccessRate: 0.95, MinSamples: 10}}
	test := patchcore.Device{ID: "t1", Ring: "test"}
	prod := patchcore.Device{ID: "p1", Ring: "production"}
	noRing := patchcore.Device{ID: "n1"}
	tests := []struct {
		name     string
		approved time.Time // rule approves on release + 0
		outcome  RingOutcome
		wantProd Status
		reason   string
	}{
		{"too early", day(2024, 5, 28), RingOutcome{Succeeded: 100}, StatusScheduled, "ring production receives it on 2024-06-04T00:00:00Z"},
		{"rate reached after wait", day(2024, 5, 20), RingOutcome{Succeeded: 96, Failed: 4}, StatusApproved, "promoted to ring production"},
		{"exactly the rate", day(2024, 5, 20), RingOutcome{Succeeded: 19, Failed: 1}, StatusApproved, ""},
		{"rate too low", day(2024, 5, 20), RingOutcome{Succeeded: 90, Failed: 10}, StatusPending, "success rate 90.0% (90/100) is below 95.0%"},
		{"too few samples", day(2024, 5, 20), RingOutcome{Succeeded: 9}, StatusPending, "9 of 10 finished installs needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBaseline("b", "")
			b.Rings = rings
			b.Rules = []Rule{{Name: "all"}}
			pp := p
			pp.Released = tt.approved
			var asked []string
			outcomes := func(patchID, ring string) RingOutcome {
				asked = append(asked, patchID+"@"+ring)
				return tt.outcome
			}
			e := mustEvaluate(t, b, []patchcore.Patch{pp}, testNow, WithRingOutcomes(outcomes))
			if got := e.DecisionFor(test, "KB1"); got.Status != StatusApproved || got.Ring != "test" {
				t.Fatalf("test ring: %s ring %q (%s)", got.Status, got.Ring, got.Reason)
			}
			got := e.DecisionFor(prod, "KB1")
			if got.Status != tt.wantProd || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("production: %s (%s), want %s containing %q", got.Status, got.Reason, tt.wantProd, tt.reason)
			}
			if nr := e.DecisionFor(noRing, "KB1"); nr.Status != got.Status || nr.Ring != "production" {
				t.Errorf("a device without a ring must follow the last ring: %s %q", nr.Status, nr.Ring)
			}
			if strings.Join(asked, ",") != "KB1@test" {
				t.Errorf("ring outcomes asked for %v, want KB1@test", asked)
			}
			// Compliance follows the ring: missing in production only once promoted.
			c := e.Compliance(&DeviceResult{Device: prod, Findings: []patchcore.Finding{{PatchID: "KB1", State: patchcore.FindingMissing}}})
			if (c.States.Missing == 1) != (tt.wantProd == StatusApproved) || c.Compliant == (tt.wantProd == StatusApproved) {
				t.Errorf("production compliance: missing %d compliant %v", c.States.Missing, c.Compliant)
			}
		})
	}
}

func TestDeviceScopeBypassesRings(t *testing.T) {
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 31))
	b := NewBaseline("b", "")
	b.Rings = []Ring{{Name: "test"}, {Name: "production", After: Duration(30 * 24 * time.Hour)}}
	b.Rules = []Rule{{Name: "all"}}
	b.Approvals = []Approval{{PatchID: "KB1", Action: ActionApprove, Scope: Scope{ScopeDevice, "p1"}, By: "ops", At: day(2024, 6, 1)}}
	e := mustEvaluate(t, b, []patchcore.Patch{p}, testNow)
	if got := e.DecisionFor(patchcore.Device{ID: "p1", Ring: "production"}, "KB1"); got.Status != StatusApproved {
		t.Fatalf("device-scoped approval: %s (%s)", got.Status, got.Reason)
	}
	if got := e.DecisionFor(patchcore.Device{ID: "p2", Ring: "production"}, "KB1"); got.Status != StatusScheduled {
		t.Fatalf("other production device: %s (%s)", got.Status, got.Reason)
	}
}

func TestEvaluateInvalidBaseline(t *testing.T) {
	b := NewBaseline("", "")
	b.Rules = []Rule{{Name: "x", ApproveAfterDays: -1}, {Name: "x"}}
	b.RejectedPatches = []string{"*"}
	_, err := Evaluate(b, nil, testNow)
	if !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Fatalf("err = %v, want ErrInvalidInput", err)
	}
	for _, want := range []string{"id: must not be empty", "rules[0].approve_after_days", "rules[1].name", "rejected_patches[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestUnknownPatchAndDuplicates(t *testing.T) {
	p := winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 20))
	b := NewBaseline("b", "")
	e := mustEvaluate(t, b, []patchcore.Patch{p, p}, testNow)
	if len(e.Warnings) != 1 || len(e.Decisions()) != 1 {
		t.Fatalf("warnings %q decisions %d", e.Warnings, len(e.Decisions()))
	}
	if d := e.DecisionFor(patchcore.Device{}, "nope"); d.Status != StatusPending {
		t.Fatalf("unknown patch: %s", d.Status)
	}
}
