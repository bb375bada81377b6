package detect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// recount counts the states of a full snapshot (built WithNotApplicable).
func recount(fs []patchcore.Finding) Counts {
	var c Counts
	for _, f := range fs {
		c.addState(f.State)
	}
	return c
}

// TestSharedEvaluations checks that what the engine shares between devices
// (memoised package verdicts, chunks, aggregates) changes nothing: each
// device's result equals the result of a fresh engine that saw no other
// device, eager and Lazy results agree, and the counts are those of the
// findings.
func TestSharedEvaluations(t *testing.T) {
	fleets := map[string]fleet{
		"debian": debianFleet(3000, 300, 500, 300, 4, 24),
		"rhel":   rhelFleet(3000, 1000, 300, 4, 24),
	}
	ctx := context.Background()
	for name, fl := range fleets {
		t.Run(name, func(t *testing.T) {
			shared := New(fl.cat, WithNotApplicable())
			lazy := New(fl.cat, WithNotApplicable(), Lazy())
			act := New(fl.cat, ActionableOnly(), Lazy())
			wants := make([]Result, len(fl.devices))
			fresh := New(fl.cat, WithNotApplicable())
			for i, inv := range fl.devices {
				forget(fresh) // as if no other device had been seen
				r, err := fresh.Detect(ctx, inv)
				if err != nil {
					t.Fatal(err)
				}
				wants[i] = r
			}
			// Twice over the fleet: the second pass is served from the memo.
			for pass := 0; pass < 2; pass++ {
				for i, inv := range fl.devices {
					want := wants[i]
					got, _ := shared.Detect(ctx, inv)
					if !reflect.DeepEqual(got.Findings, want.Findings) || got.Counts != want.Counts {
						t.Fatalf("pass %d device %d: shared engine differs from a fresh one", pass, i)
					}
					if c := recount(want.Findings); c != want.Counts {
						t.Fatalf("device %d: counts %+v, findings say %+v", i, want.Counts, c)
					}
					lr, _ := lazy.Detect(ctx, inv)
					if lr.Findings != nil || lr.Counts != want.Counts {
						t.Fatalf("device %d: lazy result has findings or counts %+v, want %+v", i, lr.Counts, want.Counts)
					}
					if !reflect.DeepEqual(lr.AllFindings(), want.Findings) {
						t.Fatalf("device %d: lazy findings differ", i)
					}
					if d := lr.Diff(want); !d.Empty() {
						t.Fatalf("device %d: diff between equal results: %+v", i, d)
					}
					ar, _ := act.Detect(ctx, inv)
					var wantAct []patchcore.Finding
					for _, f := range want.Findings {
						if isActionable(f.State) {
							wantAct = append(wantAct, f)
						}
					}
					if got := ar.ActionableFindings(); len(got) != len(wantAct) || len(got) > 0 && !reflect.DeepEqual(got, wantAct) {
						t.Fatalf("device %d: %d actionable findings, want %d", i, len(got), len(wantAct))
					}
					if got := want.ActionableFindings(); len(got) != len(wantAct) {
						t.Fatalf("device %d: eager ActionableFindings %d, want %d", i, len(got), len(wantAct))
					}
				}
			}
		})
	}
}

// TestConcurrentDetect runs devices of one image on one engine from several
// goroutines (run with -race).
func TestConcurrentDetect(t *testing.T) {
	fl := debianFleet(2000, 200, 300, 200, 2, 16)
	e := New(fl.cat, Lazy())
	want := make([]Result, len(fl.devices))
	fresh := New(fl.cat)
	for i, inv := range fl.devices {
		forget(fresh)
		r, err := fresh.Detect(context.Background(), inv)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, inv := range fl.devices {
				r, err := e.Detect(context.Background(), inv)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Counts != want[i].Counts || !reflect.DeepEqual(r.AllFindings(), want[i].Findings) {
					t.Errorf("device %d differs under concurrency", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestMemoKeys checks that the memo and the chunks tell packages apart by
// every field, including fields that look like separators and long ones,
// and that what they keep is a copy of the inventory's strings.
func TestMemoKeys(t *testing.T) {
	long := strings.Repeat("x", 300)
	pkgs := []patchcore.Package{
		{Name: "a", Version: "1\x00b"},
		{Name: "1\x00b", Version: "a"},
		{Name: "a\x00", Version: "1"},
		{Name: "a", Version: "1"},
		{Name: "a", Version: "1", Arch: "amd64"},
		{Name: "a", Version: "1", SourceName: "a"},
		{Name: "a", Version: "1", SourceVersion: "1"},
		{Name: "a", Version: "1", ModuleStream: "s:1"},
		{Name: "a", Version: "1", Ecosystem: patchcore.EcosystemDeb},
		{Name: long, Version: "1"},
		{Name: long + "x", Version: "1"},
		{Name: "a", Version: "1", SourceName: long},
		{Name: "a", Version: "1", SourceName: long, Ecosystem: patchcore.EcosystemRPM},
		{Name: "a", Version: "1", SourceName: "b", SourceVersion: "2", Arch: "x", ModuleStream: "m", Ecosystem: patchcore.EcosystemRPM},
	}
	// One slot holds them all (more than memoList share a version).
	var s slot
	entries := make([]*ventry, len(pkgs))
	for i := range pkgs {
		e := newEntry(&pkgs[i])
		if got := s.store(e); got != e {
			t.Fatalf("storing %+v returned the entry of %+v", pkgs[i], got.pkgID)
		}
		entries[i] = e
	}
	for i := range pkgs {
		p := &pkgs[i]
		e := entries[i]
		if e.name != p.Name || e.version != p.Version || e.srcName != p.SourceName || e.srcVersion != p.SourceVersion ||
			e.arch != p.Arch || e.stream != p.ModuleStream || e.eco != p.Ecosystem {
			t.Errorf("entry of %+v: %+v", *p, e.pkgID)
		}
		if p.Name != "" && unsafe.StringData(e.name) == unsafe.StringData(p.Name) {
			t.Errorf("entry of %+v shares the inventory's memory", *p)
		}
		if got := s.lookup(p); got != e {
			t.Errorf("lookup of %+v found %+v", *p, got)
		}
		if q := *p; s.store(newEntry(&q)) != e {
			t.Errorf("storing %+v again did not return its entry", *p)
		}
		for j := range pkgs {
			// A chunk of two packages matches them in order only.
			two := []patchcore.Package{pkgs[i], pkgs[j]}
			k1 := chunkKey(&two[0])
			key := chunkKey(&two[0], &two[1])
			if !chunkMatches(key, two) {
				t.Errorf("chunk of %+v, %+v does not match them", pkgs[i], pkgs[j])
			}
			if i != j && chunkMatches(key, []patchcore.Package{pkgs[j], pkgs[i]}) {
				t.Errorf("chunk of %+v, %+v matches them swapped", pkgs[i], pkgs[j])
			}
			if chunkMatches(k1, two) || chunkMatches(key, two[:1]) {
				t.Errorf("chunk of %+v, %+v matches a prefix or an extension", pkgs[i], pkgs[j])
			}
			c := &chunk{key: key}
			if n, ok := c.matchAt(append(two, pkgs[i])); !ok || n != 2 {
				t.Errorf("chunk of %+v, %+v at the start of three packages: %d, %v", pkgs[i], pkgs[j], n, ok)
			}
		}
	}
}

// TestCatalogGenerationDropsMemo: a catalog change is seen by devices
// whose packages were memoised before it.
func TestCatalogGenerationDropsMemo(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "openssl", "3.0.11-1~deb12u2", "")))
	inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("libssl3", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1")}}
	e := New(cat, Lazy())
	r, _ := e.Detect(context.Background(), inv)
	if r.Counts.Missing != 1 {
		t.Fatalf("counts %+v, want one missing", r.Counts)
	}
	cat.Add(patch("DSA-2", nil, debFix("bookworm", "openssl", "3.0.13-1~deb12u1", "")))
	r2, _ := e.Detect(context.Background(), inv)
	if r2.Counts.Missing != 2 {
		t.Fatalf("after the catalog changed: counts %+v, want two missing", r2.Counts)
	}
	if d := r2.Diff(r); len(d.Added) != 1 || d.Added[0].PatchID != "DSA-2" {
		t.Errorf("diff %+v, want DSA-2 added", d)
	}
	// The earlier result still builds its findings from its own generation.
	if fs := r.AllFindings(); len(fs) != 1 || fs[0].PatchID != "DSA-1" {
		t.Errorf("earlier result's findings %+v", fs)
	}
}

// TestRankedFixes checks that placing an installed version among a fix
// list's ranked fixed versions decides as comparing with each fix does,
// with equal versions spelt differently, epochs, unfixed fixes that name
// a version, introduced versions and fixes that do not parse.
func TestRankedFixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vers := []string{"1.0-1", "1.0-1+deb12u1", "1.0-01", "1:0.9-1", "1.0-1~bpo1", "1.1-1", "1.0-1+deb12u2", "2.0-1", "0.9-1", "1.0-1+b1", "01.0-1"}
	cat := feed.NewCatalog()
	for i := 0; i < 40; i++ {
		f := debFix("bookworm", "libx", vers[rng.IntN(len(vers))], "")
		switch i % 7 {
		case 1:
			f.Status = patchcore.FixUnfixed
		case 2:
			f.Introduced = vers[rng.IntN(len(vers))]
		case 3:
			f.ExcludedVersions = []string{vers[rng.IntN(len(vers))]}
		}
		if i == 5 {
			f.FixedVersion = "1.0-1:bad version!"
		}
		cat.Add(patch(fmt.Sprintf("CVE-2024-%04d", i), nil, f))
	}
	e := New(cat, Lazy())
	for _, installed := range append(vers, "1.0-1+deb12u1.1", "3.0-1") {
		inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("libx1", installed, "libx", installed)}}
		r, err := e.Detect(context.Background(), inv)
		if err != nil {
			t.Fatal(err)
		}
		v, err := version.DebScheme().Parse(installed)
		if err != nil {
			t.Fatal(err)
		}
		c := e.current()
		if n := len(r.AllFindings()); n != 40 {
			t.Fatalf("installed %s: %d findings, want 40", installed, n)
		}
		for _, f := range r.AllFindings() {
			var want st
			for _, x := range c.byDistro["debian"] {
				if x.cp.p.ID == f.PatchID {
					want, _ = compare(v, installed, x)
				}
			}
			if f.State != want.state() {
				t.Errorf("%s installed %s: %s (%s), want %s", f.PatchID, installed, f.State, f.Reason, want.state())
			}
		}
	}
}

// chunkKey is the key of a chunk of pkgs.
func chunkKey(pkgs ...*patchcore.Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		writeKey(&b, p)
	}
	return b.String()
}

// FuzzPackageKey: a chunk key of one package matches it and nothing with
// a field changed; truncated keys match nothing and do not panic.
func FuzzPackageKey(f *testing.F) {
	f.Add("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2", "amd64", "", "deb", "x")
	f.Add("a", "1\x00b", "", "", "", "s:1", "", strings.Repeat("y", 300))
	f.Fuzz(func(t *testing.T, name, ver, src, srcVer, arch, stream, eco, other string) {
		p := patchcore.Package{Name: name, Version: ver, SourceName: src, SourceVersion: srcVer, Arch: arch, ModuleStream: stream, Ecosystem: patchcore.Ecosystem(eco)}
		key := chunkKey(&p)
		if rest, ok := cutKey(key, &p); !ok || rest != "" {
			t.Fatalf("key of %+v does not match it: %q, %v", p, rest, ok)
		}
		if rest, ok := cutKey(key+key, &p); !ok || rest != key {
			t.Fatalf("key of %+v twice: %q, %v", p, rest, ok)
		}
		id := idOf(&p)
		for i, x := range id.fields() {
			q := id
			*q.fields()[i] = *x + other
			if other != "" && q == id {
				t.Fatal("a changed field compares equal")
			}
			qp := patchcore.Package{Name: q.name, Version: q.version, SourceName: q.srcName, SourceVersion: q.srcVersion, Arch: q.arch, ModuleStream: q.stream, Ecosystem: q.eco}
			if _, ok := cutKey(key, &qp); ok != (other == "") {
				t.Fatalf("key of %+v matches %+v: %v", p, qp, ok)
			}
		}
		for i := 0; i < len(key); i += 1 + len(key)/16 {
			if _, ok := cutKey(key[:i], &p); ok {
				t.Fatalf("truncated key %q matches %+v", key[:i], p)
			}
		}
	})
}
