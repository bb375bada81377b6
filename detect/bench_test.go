package detect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// rhelShaped builds a catalog shaped like Red Hat's errata for RHEL 7, 8
// and 9: advisories advisories (a third per release), each fixing 2-6
// binary packages (x86_64 and noarch) out of a universe of names, with
// rising versions per package; and a RHEL 9 device with installed packages
// from that universe, half of them current.
func rhelShaped(advisories, universe, installed int) (*feed.Catalog, patchcore.Inventory) {
	rng := rand.New(rand.NewPCG(1, 2))
	cat := feed.NewCatalog()
	rel := make([]int, universe)
	batch := make([]patchcore.Patch, 0, 1000)
	for a := 0; a < advisories; a++ {
		p := patchcore.Patch{ID: fmt.Sprintf("RHSA-%d:%05d", 2019+a/4000, a), Source: "bench", Classification: patchcore.ClassSecurity,
			Severity: patchcore.ParseSeverity("important"), CVEs: []patchcore.CVE{{ID: fmt.Sprintf("CVE-2024-%05d", a)}}}
		for n := 2 + rng.IntN(5); n > 0; n-- {
			i := rng.IntN(universe)
			rel[i]++
			arch := "x86_64"
			if i%5 == 0 {
				arch = "noarch"
			}
			p.Fixes = append(p.Fixes, patchcore.Fix{Distro: "rhel", Release: fmt.Sprint(7 + a%3), Ecosystem: patchcore.EcosystemRPM, Package: fmt.Sprintf("pkg%04d-libs", i),
				PackageKind: patchcore.PackageBinary, Arch: arch, Scheme: "rpm", FixedVersion: fmt.Sprintf("1:2.%d.%d-%d.el9_4", i%7, i%13, rel[i])})
		}
		batch = append(batch, p)
		if len(batch) == cap(batch) {
			cat.Add(batch...)
			batch = batch[:0]
		}
	}
	cat.Add(batch...)
	inv := patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "rhel", Version: "9.4", Arch: "x86_64"}}
	for _, i := range rng.Perm(universe)[:installed] {
		r := rel[i]
		if i%2 == 0 && r > 0 {
			r = rng.IntN(r)
		}
		arch := "x86_64"
		if i%5 == 0 {
			arch = "noarch"
		}
		inv.Packages = append(inv.Packages, patchcore.Package{Name: fmt.Sprintf("pkg%04d-libs", i), Arch: arch, Ecosystem: patchcore.EcosystemRPM,
			Version: fmt.Sprintf("1:2.%d.%d-%d.el9_4", i%7, i%13, r)})
	}
	return cat, inv
}

// debianShaped builds a catalog shaped like Debian's security tracker: one
// patch per CVE with a source-package fix for bookworm (10% unfixed, 5%
// not affected), and a device whose binaries are built from those sources
// (about 2.5 binaries per source).
func debianShaped(cves, sources, installed int) (*feed.Catalog, patchcore.Inventory) {
	rng := rand.New(rand.NewPCG(3, 4))
	cat := feed.NewCatalog()
	rev := make([]int, sources)
	batch := make([]patchcore.Patch, 0, 1000)
	for c := 0; c < cves; c++ {
		s := int(float64(sources) * rng.Float64() * rng.Float64()) // popular sources get more CVEs
		rev[s]++
		f := patchcore.Fix{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb, Package: fmt.Sprintf("src%04d", s),
			PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: fmt.Sprintf("1.%d-%d+deb12u%d", s%9, s%4+1, rev[s])}
		switch c % 20 {
		case 0, 1:
			f.Status, f.FixedVersion = patchcore.FixUnfixed, ""
		case 2:
			f.Status, f.FixedVersion = patchcore.FixNotAffected, ""
		}
		batch = append(batch, patchcore.Patch{ID: fmt.Sprintf("CVE-%d-%05d", 2015+c/5000, c), Source: "bench",
			Classification: patchcore.ClassSecurity, Fixes: []patchcore.Fix{f}})
		if len(batch) == cap(batch) {
			cat.Add(batch...)
			batch = batch[:0]
		}
	}
	cat.Add(batch...)
	inv := patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "debian", Version: "12", Codename: "bookworm", Arch: "amd64", Kernel: "6.1.0-18-amd64"}}
	for len(inv.Packages) < installed {
		s := rng.IntN(sources)
		v := fmt.Sprintf("1.%d-%d+deb12u%d", s%9, s%4+1, rng.IntN(rev[s]+1))
		for b := 0; b < 1+rng.IntN(4) && len(inv.Packages) < installed; b++ {
			inv.Packages = append(inv.Packages, patchcore.Package{Name: fmt.Sprintf("lib%04d-%d", s, b), Version: v, Arch: "amd64",
				SourceName: fmt.Sprintf("src%04d", s), SourceVersion: v, Ecosystem: patchcore.EcosystemDeb})
		}
	}
	return cat, inv
}

func benchDetect(b *testing.B, cat *feed.Catalog, inv patchcore.Inventory, opts ...Option) {
	e := New(cat, opts...)
	ctx := context.Background()
	r, err := e.Detect(ctx, inv) // compile the catalog and platform index outside the timing
	if err != nil {
		b.Fatal(err)
	}
	evidence := 0
	for _, f := range r.Findings {
		evidence += len(f.Evidence)
	}
	b.Logf("per device: %+v, %d findings, %d pieces of evidence", r.Counts, len(r.Findings), evidence)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Detect(ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "devices/s")
}

func BenchmarkDetectRHEL(b *testing.B) {
	cat, inv := rhelShaped(30000, 10000, 1500)
	b.Run("snapshot", func(b *testing.B) { benchDetect(b, cat, inv) })
	b.Run("actionable", func(b *testing.B) { benchDetect(b, cat, inv, ActionableOnly()) })
}

func BenchmarkDetectDebian(b *testing.B) {
	cat, inv := debianShaped(40000, 6000, 1500)
	b.Run("snapshot", func(b *testing.B) { benchDetect(b, cat, inv) })
	b.Run("actionable", func(b *testing.B) { benchDetect(b, cat, inv, ActionableOnly()) })
}

// BenchmarkCompile is the one-off cost of a new catalog generation.
func BenchmarkCompile(b *testing.B) {
	cat, inv := rhelShaped(30000, 10000, 1500)
	for b.Loop() {
		c := compile(cat, 0, &options{missingEpoch: nil})
		c.platform(inv.Platform)
	}
}
