package patchcore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

func TestParseSeverityKeepsWordAndOrders(t *testing.T) {
	tests := []struct {
		raw  string
		want patchcore.SeverityLevel
	}{
		{"Critical", patchcore.SeverityCritical},
		{"Important", patchcore.SeverityHigh},
		{"high", patchcore.SeverityHigh},
		{"Moderate", patchcore.SeverityMedium},
		{"medium", patchcore.SeverityMedium},
		{"Low", patchcore.SeverityLow},
		{"unimportant", patchcore.SeverityLow},
		{"None", patchcore.SeverityNone},
		{"not yet assigned", patchcore.SeverityUnknown},
		{"", patchcore.SeverityUnknown},
	}
	for _, tt := range tests {
		got := patchcore.ParseSeverity(tt.raw)
		if got.Level != tt.want || got.Raw != tt.raw {
			t.Errorf("ParseSeverity(%q) = %+v, want level %v with the raw word kept", tt.raw, got, tt.want)
		}
	}
	order := []string{"not yet assigned", "none", "Low", "Moderate", "Important", "Critical"}
	for i := 1; i < len(order); i++ {
		a, b := patchcore.ParseSeverity(order[i-1]), patchcore.ParseSeverity(order[i])
		if a.Compare(b) != -1 || b.Compare(a) != 1 || b.Compare(b) != 0 {
			t.Errorf("%q should rank below %q", order[i-1], order[i])
		}
	}
}

func TestSeverityLevelText(t *testing.T) {
	for l := patchcore.SeverityUnknown; l <= patchcore.SeverityCritical; l++ {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back patchcore.SeverityLevel
		if err := back.UnmarshalText(b); err != nil || back != l {
			t.Errorf("round trip of %v gave %v, %v", l, back, err)
		}
	}
	var l patchcore.SeverityLevel
	if err := l.UnmarshalText([]byte("severe")); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("UnmarshalText(severe) error = %v, want ErrInvalidInput", err)
	}
	if _, err := patchcore.SeverityLevel(42).MarshalText(); err == nil {
		t.Error("MarshalText of an undefined level should fail")
	}
}

// The JSON form is a stable contract: products store and exchange it.
func TestPatchJSONFieldNames(t *testing.T) {
	p := patchcore.Patch{
		ID: "DSA-5678-1", Source: "debian-dsa", Classification: patchcore.ClassSecurity,
		Severity: patchcore.ParseSeverity("high"),
		CVEs:     []patchcore.CVE{{ID: "CVE-2024-1234", CVSSScore: 7.5}},
		Released: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Package: "unzip",
			PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: "6.0-28+deb12u1"}},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"DSA-5678-1","source":"debian-dsa","classification":"security","severity":{"level":"high","raw":"high"},"cves":[{"id":"CVE-2024-1234","cvss_score":7.5}],"released":"2024-05-01T00:00:00Z","fixes":[{"distro":"debian","release":"bookworm","package":"unzip","package_kind":"source","scheme":"deb","fixed_version":"6.0-28+deb12u1"}]}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
	var back patchcore.Patch
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Severity.Level != patchcore.SeverityHigh || back.Fixes[0].FixedVersion != "6.0-28+deb12u1" || !back.Released.Equal(p.Released) {
		t.Errorf("round trip lost data: %+v", back)
	}
}

func TestEffectiveSeverityPrefersCustom(t *testing.T) {
	p := patchcore.Patch{Severity: patchcore.ParseSeverity("Low")}
	if got := p.EffectiveSeverity().Level; got != patchcore.SeverityLow {
		t.Errorf("without custom: %v", got)
	}
	c := patchcore.ParseSeverity("Critical")
	p.CustomSeverity = &c
	if got := p.EffectiveSeverity().Level; got != patchcore.SeverityCritical {
		t.Errorf("with custom: %v", got)
	}
	if p.Severity.Level != patchcore.SeverityLow {
		t.Error("the vendor's severity must not change")
	}
}

func TestPlatformIdentifiers(t *testing.T) {
	deb := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "debian", Version: "12", Codename: "bookworm"}
	if deb.ID() != "debian:bookworm" {
		t.Errorf("ID = %q", deb.ID())
	}
	rhel := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: "rhel", Version: "9"}
	if rhel.ID() != "rhel:9" {
		t.Errorf("ID = %q", rhel.ID())
	}
	win := patchcore.Platform{Family: patchcore.FamilyWindows, Build: "10.0.22631", UBR: 3007}
	if win.FullBuild() != "10.0.22631.3007" {
		t.Errorf("FullBuild = %q", win.FullBuild())
	}
	if (patchcore.Platform{Build: "10.0.22631.3085", UBR: 3007}).FullBuild() != "10.0.22631.3085" {
		t.Error("a build that already has four parts must be kept")
	}
}

func TestClassificationsAreValidAndDistinct(t *testing.T) {
	all := patchcore.Classifications()
	if len(all) != 11 {
		t.Fatalf("got %d classifications, the vocabulary has 11", len(all))
	}
	for _, c := range all {
		if !c.Valid() || strings.ToLower(string(c)) != string(c) {
			t.Errorf("%q should be a valid snake_case classification", c)
		}
	}
	if patchcore.Classification("hotfix").Valid() {
		t.Error("hotfix is not a classification")
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(all) {
		t.Error("duplicate classification")
	}
}

func TestTerminalDeploymentStates(t *testing.T) {
	terminal := map[patchcore.DeploymentState]bool{
		patchcore.DeployInstalled: true, patchcore.DeployFailedFinal: true, patchcore.DeployAborted: true,
		patchcore.DeployNotApplicable: true, patchcore.DeployInstalledByUser: true, patchcore.DeployUnknown: true,
	}
	for _, s := range []patchcore.DeploymentState{patchcore.DeployPosted, patchcore.DeployDownloading,
		patchcore.DeployDownloaded, patchcore.DeployWaiting, patchcore.DeployInstalling,
		patchcore.DeployInstalled, patchcore.DeployInstalledPendingReboot, patchcore.DeployFailed,
		patchcore.DeployRetrying, patchcore.DeployFailedFinal, patchcore.DeployAborted,
		patchcore.DeployNotApplicable, patchcore.DeployInstalledByUser, patchcore.DeployUnknown} {
		if s.Terminal() != terminal[s] {
			t.Errorf("%s.Terminal() = %v", s, s.Terminal())
		}
	}
}

func ExampleParseSeverity() {
	s := patchcore.ParseSeverity("Important")
	fmt.Println(s.Level, s.Raw, s)
	// Output: high Important Important
}
