package apt

import (
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

func TestDpkgArch(t *testing.T) {
	tests := []struct {
		name     string
		pkgs     []patchcore.Package
		want     string
		wantOkay bool
	}{
		{"dpkg amd64", []patchcore.Package{{Name: "bash", Arch: "amd64"}, {Name: "dpkg", Arch: "amd64"}}, "amd64", true},
		{"arm64 image", []patchcore.Package{{Name: "dpkg", Arch: "arm64"}, {Name: "libc6", Arch: "amd64"}}, "arm64", true},
		{"no dpkg", []patchcore.Package{{Name: "bash", Arch: "amd64"}}, "", false},
		{"dpkg without a concrete arch", []patchcore.Package{{Name: "dpkg", Arch: "all"}, {Name: "dpkg", Arch: ""}}, "", false},
		{"arch with a space", []patchcore.Package{{Name: "dpkg", Arch: "amd 64"}}, "", false},
		{"empty", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := dpkgArch(tt.pkgs)
			if got != tt.want || ok != tt.wantOkay {
				t.Errorf("dpkgArch = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOkay)
			}
		})
	}
}

// TestArchWithoutSecondCommand checks that Inventory and ListUpdates take
// the native architecture from the installed dpkg package (one command
// fewer), and fall back to dpkg --print-architecture when dpkg-query does
// not list dpkg.
func TestArchWithoutSecondCommand(t *testing.T) {
	withoutDpkg := func(t *testing.T) []byte {
		var kept []string
		for _, l := range strings.SplitAfter(string(readTestdata(t, "debian12/dpkg-query.txt")), "\n") {
			if !strings.HasPrefix(l, "dpkg\t") {
				kept = append(kept, l)
			}
		}
		return []byte(strings.Join(kept, ""))
	}
	for _, tt := range []struct {
		name      string
		dpkgQuery func(*testing.T) []byte
		wantDpkg  bool
	}{
		{"dpkg installed", func(t *testing.T) []byte { return readTestdata(t, "debian12/dpkg-query.txt") }, false},
		{"dpkg not listed", withoutDpkg, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.dpkgQuery(t)
			base := debian12(t, nil)
			r := &recorded{answer: func(c command.Command) (command.Result, error) {
				if c.Name == "dpkg-query" {
					return command.Result{Stdout: q}, nil
				}
				return base.answer(c)
			}}
			a := New(Options{Runner: r})
			tgt := adapters.Target{Root: testRoot(t)}
			inv, err := a.Inventory(t.Context(), adapters.InventoryRequest{Target: tgt})
			if err != nil {
				t.Fatal(err)
			}
			if inv.Inventory.Platform.Arch != "amd64" {
				t.Errorf("platform arch = %q, want amd64", inv.Inventory.Platform.Arch)
			}
			ups, err := a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: tgt})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range ups.Updates {
				if strings.Contains(u.ID, ":") {
					t.Errorf("update %s of the native architecture has an :arch ID", u.ID)
				}
			}
			ranDpkg := slices.ContainsFunc(r.commands(), func(c string) bool { return strings.HasPrefix(c, "dpkg --") })
			if ranDpkg != tt.wantDpkg {
				t.Errorf("ran dpkg --print-architecture = %v, want %v (commands: %q)", ranDpkg, tt.wantDpkg, r.commands())
			}
		})
	}
}
