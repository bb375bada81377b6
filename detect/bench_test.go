package detect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/cputime"
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

func benchDetect(b *testing.B, cat *feed.Catalog, inv patchcore.Inventory, cold bool, opts ...Option) {
	e := New(cat, opts...)
	ctx := context.Background()
	r, err := e.Detect(ctx, inv) // compile the catalog and platform index outside the timing
	if err != nil {
		b.Fatal(err)
	}
	evidence := 0
	all := r.AllFindings()
	for _, f := range all {
		evidence += len(f.Evidence)
	}
	b.Logf("per device: %+v, %d findings, %d pieces of evidence", r.Counts, len(all), evidence)
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		if cold {
			forget(e)
		}
		if _, err := e.Detect(ctx, inv); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCPU(b, cpu0, n)
}

// The heavy devices: one device, evaluated again and again (its verdicts
// memoised after the first call); cold/ forgets them before every call.
func heavyBenches(b *testing.B, cat *feed.Catalog, inv patchcore.Inventory) {
	b.Run("lazy", func(b *testing.B) { benchDetect(b, cat, inv, false, Lazy()) })
	b.Run("actionable", func(b *testing.B) { benchDetect(b, cat, inv, false, ActionableOnly()) })
	b.Run("snapshot", func(b *testing.B) { benchDetect(b, cat, inv, false) })
	b.Run("cold/lazy", func(b *testing.B) { benchDetect(b, cat, inv, true, Lazy()) })
	b.Run("cold/snapshot", func(b *testing.B) { benchDetect(b, cat, inv, true) })
}

func BenchmarkDetectRHEL(b *testing.B) {
	cat, inv := rhelShaped(30000, 10000, 1500)
	heavyBenches(b, cat, inv)
}

func BenchmarkDetectDebian(b *testing.B) {
	cat, inv := debianShaped(40000, 6000, 1500)
	heavyBenches(b, cat, inv)
}

// BenchmarkCompile is the one-off cost of a new catalog generation.
func BenchmarkCompile(b *testing.B) {
	cat, inv := rhelShaped(30000, 10000, 1500)
	for b.Loop() {
		c := compile(cat, 0, &options{missingEpoch: nil})
		c.platform(inv.Platform)
	}
}

// fleet is a generated fleet: a catalog and devices that share a few images.
type fleet struct {
	cat     *feed.Catalog
	devices []patchcore.Inventory
}

// debianFleet builds a catalog shaped like Debian's security tracker for
// bookworm (cves CVE entries over sources source packages, 10% unfixed, 5%
// not affected, and kernelCVEs entries for the linux source) and devices
// built from images images: each image is a set of about installed binary
// packages (a common base of two thirds plus its own third), installed at
// one of four patch levels (0 to 3 updates behind the latest fix of some
// sources, as a host updated weekly or monthly is), running one of two
// kernel ABIs with the previous kernel still installed. A third of the
// devices drift from their image: 1-8 packages at another version (a
// partial upgrade) and 0-2 extra packages.
func debianFleet(cves, kernelCVEs, sources, installed, images, devices int) fleet {
	rng := rand.New(rand.NewPCG(5, 6))
	cat := feed.NewCatalog()
	rev := make([]int, sources)
	kernelRev := 0
	batch := make([]patchcore.Patch, 0, 1000)
	flush := func(force bool) {
		if len(batch) == cap(batch) || force && len(batch) > 0 {
			cat.Add(batch...)
			batch = batch[:0]
		}
	}
	for c := 0; c < cves+kernelCVEs; c++ {
		var f patchcore.Fix
		if c < kernelCVEs {
			kernelRev++
			f = patchcore.Fix{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb, Package: "linux",
				PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: fmt.Sprintf("6.1.%d-1", kernelRev/30)}
		} else {
			s := int(float64(sources) * rng.Float64() * rng.Float64())
			rev[s]++
			f = patchcore.Fix{Distro: "debian", Release: "bookworm", Ecosystem: patchcore.EcosystemDeb, Package: fmt.Sprintf("src%04d", s),
				PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: fmt.Sprintf("1.%d-%d+deb12u%d", s%9, s%4+1, rev[s])}
		}
		switch c % 20 {
		case 0, 1:
			f.Status, f.FixedVersion = patchcore.FixUnfixed, ""
		case 2:
			f.Status, f.FixedVersion = patchcore.FixNotAffected, ""
		}
		batch = append(batch, patchcore.Patch{ID: fmt.Sprintf("CVE-%d-%05d", 2015+c/5000, c), Source: "bench",
			Classification: patchcore.ClassSecurity, Fixes: []patchcore.Fix{f}})
		flush(false)
	}
	flush(true)
	srcVersion := func(s, lag int) string {
		r := rev[s] - lag
		if r < 0 {
			r = 0
		}
		return fmt.Sprintf("1.%d-%d+deb12u%d", s%9, s%4+1, r)
	}
	binaries := func(s int) int { return 1 + s%4 }
	pick := func(n int, from []int) []int {
		var out []int
		for len(out) < n {
			s := from[rng.IntN(len(from))]
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	all := make([]int, sources)
	for i := range all {
		all[i] = i
	}
	// A base set every image shares, then each image's own sources.
	perDevice := installed * 2 / 5 // sources per device (2.5 binaries each)
	base := pick(perDevice*2/3, all)
	type image struct {
		sources []int
		lag     map[int]int // per source: updates behind, per patch level
	}
	imgs := make([]image, images)
	for i := range imgs {
		imgs[i].sources = append(slices.Clone(base), pick(perDevice/3, all)...)
		imgs[i].lag = map[int]int{}
		for _, s := range imgs[i].sources {
			if rng.IntN(10) == 0 {
				imgs[i].lag[s] = 1 + rng.IntN(2)
			}
		}
	}
	lastKernel := kernelRev / 30
	fl := fleet{cat: cat}
	for d := 0; d < devices; d++ {
		im := &imgs[rng.IntN(images)]
		level := rng.IntN(4)
		abi := 18 + rng.IntN(2)
		kver := lastKernel - 2*(1-(abi-18)) - level
		inv := patchcore.Inventory{DeviceID: fmt.Sprintf("host%05d", d),
			Platform: patchcore.Platform{Family: "linux", Distro: "debian", Version: "12", Codename: "bookworm", Arch: "amd64",
				Kernel: fmt.Sprintf("6.1.0-%d-amd64", abi)}}
		for k := abi - 1; k <= abi; k++ {
			v := fmt.Sprintf("6.1.%d-1", kver-(abi-k)*2)
			inv.Packages = append(inv.Packages,
				patchcore.Package{Name: fmt.Sprintf("linux-image-6.1.0-%d-amd64", k), Version: v, Arch: "amd64", SourceName: "linux-signed-amd64", SourceVersion: v + "+1", Ecosystem: patchcore.EcosystemDeb},
				patchcore.Package{Name: fmt.Sprintf("linux-headers-6.1.0-%d-amd64", k), Version: v, Arch: "amd64", SourceName: "linux", SourceVersion: v, Ecosystem: patchcore.EcosystemDeb})
		}
		drift := map[int]int{}
		srcs := im.sources
		if rng.IntN(3) == 0 {
			for n := 1 + rng.IntN(8); n > 0; n-- {
				drift[srcs[rng.IntN(len(srcs))]] = rng.IntN(3)
			}
			srcs = append(slices.Clone(srcs), pick(rng.IntN(3), all)...)
		}
		for _, s := range srcs {
			lag := 0
			if l, ok := im.lag[s]; ok {
				lag = l + level
			} else if s%7 == 0 {
				lag = level
			}
			if l, ok := drift[s]; ok {
				lag = l
			}
			v := srcVersion(s, lag)
			for b := 0; b < binaries(s); b++ {
				inv.Packages = append(inv.Packages, patchcore.Package{Name: fmt.Sprintf("lib%04d-%d", s, b), Version: v, Arch: "amd64",
					SourceName: fmt.Sprintf("src%04d", s), SourceVersion: v, Ecosystem: patchcore.EcosystemDeb})
			}
		}
		slices.SortFunc(inv.Packages, func(a, b patchcore.Package) int { return strings.Compare(a.Name, b.Name) })
		fl.devices = append(fl.devices, asDecoded(inv))
	}
	return fl
}

// asDecoded gives every string of inv's packages its own memory, in
// package order, as decoding an agent's report does (no field shares
// another's memory, and a device's strings are not interleaved with the
// generator's).
func asDecoded(inv patchcore.Inventory) patchcore.Inventory {
	pkgs := make([]patchcore.Package, len(inv.Packages))
	for i, p := range inv.Packages {
		p.Name, p.Version, p.Arch = strings.Clone(p.Name), strings.Clone(p.Version), strings.Clone(p.Arch)
		p.SourceName, p.SourceVersion = strings.Clone(p.SourceName), strings.Clone(p.SourceVersion)
		p.Ecosystem = patchcore.Ecosystem(strings.Clone(string(p.Ecosystem)))
		pkgs[i] = p
	}
	inv.Packages = pkgs
	return inv
}

// rhelFleet builds a RHEL 9-shaped errata catalog (as rhelShaped) and
// devices from images images of about installed packages each, at one of
// four patch levels, a third of them drifting by a few packages.
func rhelFleet(advisories, universe, installed, images, devices int) fleet {
	rng := rand.New(rand.NewPCG(7, 8))
	cat := feed.NewCatalog()
	rel := make([]int, universe)
	batch := make([]patchcore.Patch, 0, 1000)
	for a := 0; a < advisories; a++ {
		p := patchcore.Patch{ID: fmt.Sprintf("RHSA-%d:%05d", 2019+a/4000, a), Source: "bench", Classification: patchcore.ClassSecurity,
			Severity: patchcore.ParseSeverity("important"), CVEs: []patchcore.CVE{{ID: fmt.Sprintf("CVE-2024-%05d", a)}}}
		for n := 2 + rng.IntN(5); n > 0; n-- {
			i := rng.IntN(universe)
			if a%3 == 2 {
				rel[i]++
			}
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
	perm := rng.Perm(universe)
	base := perm[:installed*2/3]
	rest := perm[installed*2/3:]
	imgs := make([][]int, images)
	for i := range imgs {
		imgs[i] = append(slices.Clone(base), rest[i*installed/3%len(rest):][:installed/3]...)
	}
	fl := fleet{cat: cat}
	for d := 0; d < devices; d++ {
		names := imgs[rng.IntN(images)]
		level := rng.IntN(4)
		drift := map[int]int{}
		if rng.IntN(3) == 0 {
			for n := 1 + rng.IntN(8); n > 0; n-- {
				drift[names[rng.IntN(len(names))]] = rng.IntN(3)
			}
		}
		inv := patchcore.Inventory{DeviceID: fmt.Sprintf("rhel%05d", d),
			Platform: patchcore.Platform{Family: "linux", Distro: "rhel", Version: "9.4", Arch: "x86_64", Kernel: "5.14.0-427.13.1.el9_4.x86_64"}}
		for _, i := range names {
			lag := 0
			if i%5 == 0 {
				lag = level
			}
			if l, ok := drift[i]; ok {
				lag = l
			}
			r := max(rel[i]-lag, 0)
			arch := "x86_64"
			if i%5 == 0 {
				arch = "noarch"
			}
			inv.Packages = append(inv.Packages, patchcore.Package{Name: fmt.Sprintf("pkg%04d-libs", i), Arch: arch, Ecosystem: patchcore.EcosystemRPM,
				Version: fmt.Sprintf("1:2.%d.%d-%d.el9_4", i%7, i%13, r), SourceName: fmt.Sprintf("pkg%04d", i)})
		}
		slices.SortFunc(inv.Packages, func(a, b patchcore.Package) int { return strings.Compare(a.Name, b.Name) })
		fl.devices = append(fl.devices, asDecoded(inv))
	}
	return fl
}

// benchFleet evaluates the fleet's devices in turn, as a re-evaluation of
// the fleet after a feed update does. The first pass over the first
// devices (outside the timing) compiles the catalog.
func benchFleet(b *testing.B, fl fleet, cold bool, opts ...Option) {
	e := New(fl.cat, opts...)
	ctx := context.Background()
	var total Counts
	findings := 0
	for _, inv := range fl.devices[:min(len(fl.devices), 20)] {
		r, err := e.Detect(ctx, inv)
		if err != nil {
			b.Fatal(err)
		}
		findings += len(r.Findings)
		c := r.Counts
		total.Missing += c.Missing
		total.Installed += c.Installed
		total.InstalledPendingReboot += c.InstalledPendingReboot
		total.Unknown += c.Unknown
		total.NotApplicable += c.NotApplicable
	}
	n := min(len(fl.devices), 20)
	b.Logf("per device (mean of %d): %d missing, %d installed, %d pending reboot, %d unknown, %d not applicable; %d findings built; %d packages",
		n, total.Missing/n, total.Installed/n, total.InstalledPendingReboot/n, total.Unknown/n, total.NotApplicable/n, findings/n, len(fl.devices[0].Packages))
	if !cold {
		// Steady state: every device has been seen once since the catalog
		// changed (the first pass is BenchmarkFleet*/firstpass).
		for _, inv := range fl.devices {
			if _, err := e.Detect(ctx, inv); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if cold {
			forget(e)
		}
		if _, err := e.Detect(ctx, fl.devices[i%len(fl.devices)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCPU(b, cpu0, i)
}

// cpuTime is the CPU time (user and system, every thread: GC included)
// the process has used. The machine the figures in BENCHMARKS.md come from is
// shared and oversubscribed, so wall time overstates the cost; CPU time
// per device is what devices/s/core is computed from.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

// reportCPU reports devices per second of wall time and per second of CPU
// time over n devices evaluated since cpu0.
func reportCPU(b *testing.B, cpu0 time.Duration, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "devices/s")
	if d := cpuTime() - cpu0; d > 0 && n > 0 {
		b.ReportMetric(float64(n)/d.Seconds(), "devices/cpu-s")
	}
}

// forget drops what the engine learnt from earlier devices (memoised
// verdicts and aggregates), so that the next device is evaluated as if no
// device had any of its packages: every device unique, a cold cache.
func forget(e *Engine) {
	c := e.current()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pl := range c.platforms {
		for _, s := range pl.slots {
			s.memo.Store(nil)
		}
		pl.chunkMu.Lock()
		clear(pl.chunks)
		clear(pl.next)
		pl.nchunks = 0
		pl.chunkMu.Unlock()
		pl.aggMu.Lock()
		clear(pl.aggs)
		pl.naggs = 0
		pl.aggMu.Unlock()
	}
}

// benchFirstPass evaluates the whole fleet right after the catalog
// changed (nothing memoised): one op is the whole fleet; devices/s counts
// devices.
func benchFirstPass(b *testing.B, fl fleet, opts ...Option) {
	e := New(fl.cat, opts...)
	ctx := context.Background()
	if _, err := e.Detect(ctx, fl.devices[0]); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		forget(e)
		for _, inv := range fl.devices {
			if _, err := e.Detect(ctx, inv); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	reportCPU(b, cpu0, n)
}

func fleetBenches(b *testing.B, fl fleet) {
	b.Run("firstpass/lazy", func(b *testing.B) { benchFirstPass(b, fl, Lazy()) })
	// 16 of the devices in turn: their inventories stay in the CPU caches,
	// as one just decoded from an agent's report is.
	b.Run("lazy/cached-inventories", func(b *testing.B) {
		benchFleet(b, fleet{cat: fl.cat, devices: fl.devices[:16]}, false, Lazy())
	})
	b.Run("lazy", func(b *testing.B) { benchFleet(b, fl, false, Lazy()) })
	b.Run("actionable", func(b *testing.B) { benchFleet(b, fl, false, ActionableOnly()) })
	b.Run("snapshot", func(b *testing.B) { benchFleet(b, fl, false) })
	b.Run("cold/lazy", func(b *testing.B) { benchFleet(b, fl, true, Lazy()) })
	b.Run("cold/snapshot", func(b *testing.B) { benchFleet(b, fl, true) })
}

func BenchmarkFleetDebian(b *testing.B) {
	fleetBenches(b, debianFleet(37000, 3000, 6000, 1500, 8, 2000))
}

func BenchmarkFleetRHEL(b *testing.B) {
	fleetBenches(b, rhelFleet(30000, 10000, 1500, 8, 2000))
}
