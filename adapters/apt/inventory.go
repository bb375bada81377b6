package apt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

// dpkgQueryFormat is the dpkg-query -f template Inventory reads: one line
// per package, tab-separated, so no field needs scraping.
const dpkgQueryFormat = `${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n`

// Inventory lists the installed packages (with source package name and
// version, and the hold flag), the platform from os-release, the running
// kernel (for the running system only) and whether a reboot is pending.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	start := time.Now()
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	pkgs, err := a.installed(ctx, t)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	plat, err := a.platform(ctx, t, pkgs)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	reboot, _, err := rebootRequired(t)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	return adapters.InventoryResponse{Inventory: patchcore.Inventory{
		Platform:      plat,
		Packages:      pkgs,
		PendingReboot: reboot,
		CollectedAt:   start.UTC(),
		Duration:      time.Since(start),
	}}, nil
}

// installed runs dpkg-query on the target and parses its output.
func (a *adapter) installed(ctx context.Context, t target) ([]patchcore.Package, error) {
	args := append(t.dpkgOptions(), "-W", "-f="+dpkgQueryFormat)
	res, err := a.runCmd(ctx, command.Command{Name: "dpkg-query", Args: args})
	if err != nil {
		return nil, classifyAptError("listing installed packages with dpkg-query", res, err)
	}
	pkgs, err := parseDpkgQuery(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("apt: reading dpkg-query output: %w", err)
	}
	return pkgs, nil
}

// parseDpkgQuery parses the output of dpkg-query -W with the adapter's
// format template (Package, Version, Architecture, source:Package,
// source:Version, db:Status-Abbrev, tab-separated) into the installed
// packages, sorted by name then architecture.
//
// Packages whose status is not-installed or config-files are left out; a
// package whose selection is "hold" (the first letter of db:Status-Abbrev is
// h) has Held set. A malformed line is an error naming its line number and
// wrapping patchcore.ErrInvalidInput.
func parseDpkgQuery(out []byte) ([]patchcore.Package, error) {
	var pkgs []patchcore.Package
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: %w: want 6 tab-separated fields, got %d", line, patchcore.ErrInvalidInput, len(f))
		}
		status := f[5]
		if len(status) < 2 {
			return nil, fmt.Errorf("line %d: field db:Status-Abbrev: %w: %q is too short", line, patchcore.ErrInvalidInput, status)
		}
		switch status[1] {
		case 'n', 'c':
			continue // not installed, or only its configuration files remain
		case 'i', 'U', 'F', 'H', 'W', 't':
		default:
			return nil, fmt.Errorf("line %d: field db:Status-Abbrev: %w: unknown status letter %q", line, patchcore.ErrInvalidInput, status[1])
		}
		if f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("line %d: %w: installed package without name or version", line, patchcore.ErrInvalidInput)
		}
		p := patchcore.Package{
			Name:          f[0],
			Version:       f[1],
			Arch:          f[2],
			SourceName:    f[3],
			SourceVersion: f[4],
			Ecosystem:     patchcore.EcosystemDeb,
			Held:          status[0] == 'h',
		}
		if p.SourceName == "" {
			p.SourceName = p.Name
		}
		if p.SourceVersion == "" {
			p.SourceVersion = p.Version
		}
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w: %w", line+1, patchcore.ErrTooLarge, err)
	}
	slices.SortStableFunc(pkgs, func(x, y patchcore.Package) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Arch, y.Arch)
	})
	return pkgs, nil
}

// platform reads os-release and the dpkg architecture of the target (from
// pkgs, its installed packages, when it can), and the running kernel when
// the target is the running system.
func (a *adapter) platform(ctx context.Context, t target, pkgs []patchcore.Package) (patchcore.Platform, error) {
	p := patchcore.Platform{Family: patchcore.FamilyLinux}
	osr, err := readOSRelease(t)
	if err != nil {
		return p, err
	}
	p.Distro = osr["ID"]
	p.Version = osr["VERSION_ID"]
	p.Codename = osr["VERSION_CODENAME"]
	arch, err := a.nativeArch(ctx, t, pkgs)
	if err != nil {
		return p, err
	}
	p.Arch = arch
	if t.host() {
		b, err := os.ReadFile(filepath.Join(a.procRoot, "sys/kernel/osrelease"))
		if err != nil {
			return p, fmt.Errorf("apt: reading the running kernel release: %w", err)
		}
		p.Kernel = strings.TrimSpace(string(b))
	}
	return p, nil
}

// nativeArch is dpkg's native architecture ("amd64"): the architecture of
// the installed dpkg package among pkgs, else what dpkg --print-architecture
// prints.
func (a *adapter) nativeArch(ctx context.Context, t target, pkgs []patchcore.Package) (string, error) {
	if arch, ok := dpkgArch(pkgs); ok {
		return arch, nil
	}
	args := append(t.dpkgOptions(), "--print-architecture")
	res, err := a.runCmd(ctx, command.Command{Name: "dpkg", Args: args})
	if err != nil {
		return "", classifyAptError("reading dpkg's architecture", res, err)
	}
	arch := strings.TrimSpace(string(res.Stdout))
	if arch == "" || strings.ContainsAny(arch, " \t\n") {
		return "", fmt.Errorf("apt: dpkg --print-architecture: %w: unexpected output %q", patchcore.ErrInvalidInput, arch)
	}
	return arch, nil
}

// dpkgArch returns the architecture of the installed dpkg package in pkgs.
// dpkg's native architecture is the one its own package was built for, so
// this is what dpkg --print-architecture prints, read from the target's
// database without running a second command, and it is the target's even
// when the target is an image of another architecture than this machine.
// ok is false when pkgs hold no dpkg of a concrete architecture.
func dpkgArch(pkgs []patchcore.Package) (arch string, ok bool) {
	for _, p := range pkgs {
		if p.Name == "dpkg" && p.Arch != "" && p.Arch != "all" && p.Arch != "any" && !strings.ContainsAny(p.Arch, " \t\n") {
			return p.Arch, true
		}
	}
	return "", false
}

// readOSRelease reads /etc/os-release (or /usr/lib/os-release) of the
// target. Symbolic links are followed only inside the target root.
func readOSRelease(t target) (map[string]string, error) {
	var lastErr error
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		b, err := readInTarget(t, p)
		if err == nil {
			m, err := parseOSRelease(b)
			if err != nil {
				return nil, fmt.Errorf("apt: reading %s: %w", t.path("/"+p), err)
			}
			return m, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("apt: reading os-release: %w", lastErr)
}

// readInTarget reads the file at rel (relative to /) on the target; for an
// alternate root, symbolic links may not lead outside it.
func readInTarget(t target, rel string) ([]byte, error) {
	if t.host() {
		return os.ReadFile("/" + rel)
	}
	r, err := os.OpenRoot(t.root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.ReadFile(rel)
}

// parseOSRelease parses an os-release file (KEY=value lines, values
// optionally quoted with shell quoting) into a map. Comments and blank
// lines are skipped; a line without "=" is an error naming its number.
func parseOSRelease(b []byte) (map[string]string, error) {
	m := make(map[string]string)
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("os-release line %d: %w: want KEY=value, got %q", i+1, patchcore.ErrInvalidInput, truncate(line))
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			if v[0] == '"' {
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				} else {
					v = v[1 : len(v)-1]
				}
			} else {
				v = v[1 : len(v)-1]
			}
		}
		m[k] = v
	}
	return m, nil
}

// RebootRequired reports whether the target asks for a restart: Debian and
// Ubuntu packages create /run/reboot-required (and list themselves in
// /run/reboot-required.pkgs) when they need one.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	req2, reasons, err := rebootRequired(t)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	return adapters.RebootRequiredResponse{Required: req2, Reasons: reasons}, nil
}

// rebootRequired checks /run/reboot-required and /var/run/reboot-required
// on the target; the reasons are the packages of reboot-required.pkgs, or
// the file itself when that list is absent.
func rebootRequired(t target) (bool, []string, error) {
	for _, dir := range []string{"run", "var/run"} {
		_, err := readInTarget(t, dir+"/reboot-required")
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || isEscapeError(err) {
				continue
			}
			return false, nil, fmt.Errorf("apt: reading %s: %w", t.path("/"+dir+"/reboot-required"), err)
		}
		var reasons []string
		if b, err := readInTarget(t, dir+"/reboot-required.pkgs"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); l != "" && !slices.Contains(reasons, l) {
					reasons = append(reasons, l)
				}
			}
			slices.Sort(reasons)
		}
		if len(reasons) == 0 {
			reasons = []string{"/" + dir + "/reboot-required exists"}
		}
		return true, reasons, nil
	}
	return false, nil, nil
}

// isEscapeError reports an os.Root refusal to follow a link out of the
// root (such as /var/run -> /run in an image): the other path is checked
// as well, so it is not a failure.
func isEscapeError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
