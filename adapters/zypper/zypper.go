// Package zypper is the patchcore adapter for SUSE Linux Enterprise and
// openSUSE: installed packages from rpm --queryformat, available updates
// and patches (ID, category, severity, CVEs, date) from one `zypper --xmlout
// list-updates --type package --type patch` together with the updateinfo
// zypper caches per repository, and locks from /etc/zypp/locks. zypper
// hides locked packages from list-updates; the adapter finds their newer
// versions with `zypper search` and reports them held.
//
// Commands run through the injected command.Runner with LC_ALL=C and
// --non-interactive; zypper's exit code 7 (another process holds the
// package manager) is patchcore.ErrPackageManagerLocked.
package zypper

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// exitLocked is zypper's ZYPPER_EXIT_ZYPP_LOCKED.
const exitLocked = 7

// Options configure an adapter.
type Options struct {
	// Runner runs zypper and rpm. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// ProcRoot is where the running kernel is read from; empty means /proc.
	ProcRoot string
}

// adapter is the zypper adapter. Create it with New.
type adapter struct {
	pm       pm.Runner
	log      hclog.Logger
	procRoot string
	// updateinfo keeps the parsed updateinfo files between ListUpdates calls.
	updateinfo *rpmmeta.UpdateInfoCache
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a zypper adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner("zypper", opts.Runner, opts.Logger), procRoot: opts.ProcRoot, updateinfo: &rpmmeta.UpdateInfoCache{}}
	a.log = a.pm.Log()
	if a.procRoot == "" {
		a.procRoot = "/proc"
	}
	return a
}

// Factory is the adapters.Factory for "zypper".
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name: "zypper", Version: adapterVersion,
		Platforms:     []string{"sles", "opensuse-leap", "opensuse-tumbleweed"},
		VersionScheme: "rpm",
		Capabilities:  []adapters.Capability{adapters.CapAlternateRoot, adapters.CapAdvisories},
	})
}

// target is a resolved request target.
type target = rpmmeta.Root

func resolveTarget(t adapters.Target) (target, error) {
	return rpmmeta.ResolveRoot("zypper", t.Root)
}

// zypper runs zypper with the global options for t; okCodes are exit codes
// that are not failures (100-103 say updates or patches are needed).
func (a *adapter) zypper(ctx context.Context, t target, what string, args ...string) (command.Result, error) {
	full := []string{"--non-interactive", "--no-color"}
	if !t.Host() {
		full = append(full, "--root", t.Dir)
	}
	full = append(full, args...)
	res, err := a.pm.Query(ctx, command.Command{Name: "zypper", Args: full})
	if err == nil {
		return res, nil
	}
	if errors.Is(err, patchcore.ErrUnsupported) {
		return res, err
	}
	out := string(res.Stdout) + string(res.Stderr)
	switch {
	case res.ExitCode == exitLocked || strings.Contains(out, "System management is locked"):
		return res, fmt.Errorf("zypper: %s: %w: %s", what, patchcore.ErrPackageManagerLocked, xmlMessage(out))
	case res.ExitCode >= 100 && res.ExitCode <= 106:
		return res, nil // ZYPPER_EXIT_INF_*: informational
	case strings.Contains(out, "Root privileges are required"):
		return res, fmt.Errorf("zypper: %s: %w: %s", what, patchcore.ErrPermission, xmlMessage(out))
	}
	return res, fmt.Errorf("zypper: %s: %w: %s", what, err, xmlMessage(out))
}

// xmlMessage extracts the first error message of zypper's XML output, or
// the first line of plain output.
func xmlMessage(out string) string {
	if i := strings.Index(out, `<message type="error">`); i >= 0 {
		msg := out[i+len(`<message type="error">`):]
		if j := strings.Index(msg, "</message>"); j >= 0 {
			msg = msg[:j]
		}
		return strings.Join(strings.Fields(msg), " ")
	}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// installed runs rpm -qa on the target; a target whose rpm database is
// empty is refused (patchcore.ErrUnsupported).
func (a *adapter) installed(ctx context.Context, t target) ([]rpmmeta.Installed, error) {
	return rpmmeta.ListInstalled(ctx, a.pm, t)
}

// locks reads the package names locked in /etc/zypp/locks of the target.
func (a *adapter) locks(t target) []string {
	b, err := os.ReadFile(t.Path("/etc/zypp/locks"))
	if err != nil {
		return nil
	}
	return parseLocks(b)
}

// parseLocks reads the solvable_name of every package lock in a
// /etc/zypp/locks file (stanzas of "key: value" lines separated by blank
// lines). Locks of other kinds (patterns, patches) are left out.
func parseLocks(b []byte) []string {
	var names []string
	for _, stanza := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		kind, name := "package", ""
		for _, line := range strings.Split(stanza, "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "type":
				kind = strings.TrimSpace(v)
			case "solvable_name":
				name = strings.TrimSpace(v)
			}
		}
		if kind == "package" && name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

func osRelease(t target) map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile(t.Path("/etc/os-release"))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			m[k] = strings.Trim(v, `"'`)
		}
	}
	return m
}

// Inventory lists the installed rpms (locked ones Held), the platform and
// the running kernel.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	start := time.Now()
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	locks := a.locks(t)
	osr := osRelease(t)
	inv := patchcore.Inventory{
		Platform:    patchcore.Platform{Family: patchcore.FamilyLinux, Distro: osr["ID"], Version: osr["VERSION_ID"]},
		CollectedAt: start.UTC(),
	}
	if t.Host() {
		if b, err := os.ReadFile(filepath.Join(a.procRoot, "sys/kernel/osrelease")); err == nil {
			inv.Platform.Kernel = strings.TrimSpace(string(b))
		}
	}
	for _, p := range inst {
		pk := p.Package
		pk.Held = slices.Contains(locks, pk.Name)
		inv.Packages = append(inv.Packages, pk)
	}
	//lint:ignore S1016 the request types only happen to match today; a conversion would break when either grows
	rr, err := a.RebootRequired(ctx, adapters.RebootRequiredRequest{Target: req.Target})
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inv.PendingReboot = rr.Required
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// RebootRequired reports the reboot-needed flag zypper and its patches
// leave in /run/reboot-needed (/var/run/reboot-needed on older releases).
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	for _, p := range []string{"/run/reboot-needed", "/var/run/reboot-needed"} {
		if fi, err := os.Lstat(t.Path(p)); err == nil && fi.Mode().IsRegular() {
			return adapters.RebootRequiredResponse{Required: true, Reasons: []string{p + " exists"}}, nil
		}
	}
	return adapters.RebootRequiredResponse{}, nil
}

// xmlStream is zypper's --xmlout document.
type xmlStream struct {
	Messages []struct {
		Type string `xml:"type,attr"`
		Text string `xml:",chardata"`
	} `xml:"message"`
	Updates []xmlUpdate `xml:"update-status>update-list>update"`
	Found   []struct {
		Status     string `xml:"status,attr"`
		Name       string `xml:"name,attr"`
		Kind       string `xml:"kind,attr"`
		Edition    string `xml:"edition,attr"`
		Arch       string `xml:"arch,attr"`
		Repository string `xml:"repository,attr"`
	} `xml:"search-result>solvable-list>solvable"`
}

type xmlUpdate struct {
	Kind       string `xml:"kind,attr"`
	Name       string `xml:"name,attr"`
	Edition    string `xml:"edition,attr"`
	Arch       string `xml:"arch,attr"`
	EditionOld string `xml:"edition-old,attr"`
	Status     string `xml:"status,attr"`
	Category   string `xml:"category,attr"`
	Severity   string `xml:"severity,attr"`
	Restart    string `xml:"restart,attr"`
	Summary    string `xml:"summary"`
	Source     struct {
		Alias string `xml:"alias,attr"`
	} `xml:"source"`
	IssueDate struct {
		TimeT int64 `xml:"time_t,attr"`
	} `xml:"issue-date"`
	Issues []struct {
		Type string `xml:"type,attr"`
		ID   string `xml:"id,attr"`
	} `xml:"issue-list>issue"`
}

// parseXML reads a zypper --xmlout document. A document that is not XML
// is an error wrapping patchcore.ErrInvalidInput, with the byte offset.
func parseXML(b []byte) (xmlStream, error) {
	var s xmlStream
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("zypper xml: offset %d: %w: %w", dec.InputOffset(), patchcore.ErrInvalidInput, err)
	}
	return s, nil
}

var rpmScheme = version.RPMScheme()
