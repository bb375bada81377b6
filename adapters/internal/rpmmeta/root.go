package rpmmeta

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
)

// Root is the system an rpm adapter acts on: the running system when Dir is
// empty, otherwise an absolute alternate root (dnf --installroot, zypper --root).
type Root struct{ Dir string }

// ResolveRoot checks a requested root for the named adapter ("dnf",
// "zypper"): "" and "/" mean the running system; anything else must be an
// existing directory, made absolute.
func ResolveRoot(adapter, dir string) (Root, error) {
	if dir == "" || dir == "/" {
		return Root{}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Root{}, fmt.Errorf("%s: root %q: %w: %v", adapter, dir, patchcore.ErrInvalidInput, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Root{}, fmt.Errorf("%s: root %s: %w: %w", adapter, abs, patchcore.ErrInvalidInput, err)
	}
	if !fi.IsDir() {
		return Root{}, fmt.Errorf("%s: root %s: %w: not a directory", adapter, abs, patchcore.ErrInvalidInput)
	}
	return Root{Dir: abs}, nil
}

// Host reports whether r is the running system.
func (r Root) Host() bool { return r.Dir == "" }

// Path is p inside the root.
func (r Root) Path(p string) string {
	if r.Host() {
		return p
	}
	return filepath.Join(r.Dir, p)
}

// ListInstalled runs rpm -qa on r through run and parses what it prints.
// An rpm database that holds no package at all (a Debian system, or a root
// that is no rpm-based system) is not one the rpm adapters serve: that is an
// error wrapping patchcore.ErrUnsupported, never an empty inventory.
func ListInstalled(ctx context.Context, run pm.Runner, r Root) ([]Installed, error) {
	var args []string
	if !r.Host() {
		args = append(args, "--root="+r.Dir)
	}
	args = append(args, "-qa", "--queryformat", QueryFormat)
	res, err := run.Query(ctx, command.Command{Name: "rpm", Args: args})
	if err != nil {
		return nil, fmt.Errorf("%s: listing installed packages with rpm -qa: %w", run.Adapter, err)
	}
	pkgs, err := ParseQuery(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", run.Adapter, err)
	}
	if len(pkgs) == 0 {
		return nil, r.NotServed(run.Adapter, "its rpm database holds no package")
	}
	return pkgs, nil
}

// Unserved is the error of an adapter that cannot answer for r: "<adapter>:
// root <dir> <problem>", wrapping patchcore.ErrUnsupported.
func (r Root) Unserved(adapter, problem string) error {
	what := "this machine"
	if !r.Host() {
		what = "root " + r.Dir
	}
	return fmt.Errorf("%s: %s %s: %w", adapter, what, problem, patchcore.ErrUnsupported)
}

// NotServed is the error of an adapter refusing r, for reason.
func (r Root) NotServed(adapter, reason string) error {
	return r.Unserved(adapter, "is not a system "+adapter+" serves ("+reason+")")
}
