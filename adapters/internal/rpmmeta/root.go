package rpmmeta

import (
	"fmt"
	"os"
	"path/filepath"

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
