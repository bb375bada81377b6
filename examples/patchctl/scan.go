package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/patchcore"
)

// scanReport is what patchctl scan --json prints.
type scanReport struct {
	Adapter  string             `json:"adapter"`
	Root     string             `json:"root,omitempty"`
	Platform patchcore.Platform `json:"platform"`
	// Installed is how many packages are installed.
	Installed int `json:"installed"`
	// PendingReboot reports that an installed update waits for a restart.
	PendingReboot bool `json:"pending_reboot"`
	// Missing lists the updates available and not installed, sorted by ID.
	Missing []missingPatch `json:"missing"`
}

// missingPatch is one available update the device does not have.
type missingPatch struct {
	ID               string                   `json:"id"`
	Package          string                   `json:"package"`
	Arch             string                   `json:"arch,omitempty"`
	InstalledVersion string                   `json:"installed_version"`
	CandidateVersion string                   `json:"candidate_version"`
	Classification   patchcore.Classification `json:"classification"`
	// Severity is the normalised level (critical, high, medium, low, none,
	// unknown); VendorSeverity the package manager's own word ("Important"),
	// empty when it rates none (apt never does).
	Severity       string   `json:"severity"`
	VendorSeverity string   `json:"vendor_severity,omitempty"`
	Origin         string   `json:"origin"`
	Advisories     []string `json:"advisories,omitempty"`
	CVEs           []string `json:"cves,omitempty"`
	// Held is true for a package the package manager will not upgrade
	// (apt-mark hold, dnf versionlock, zypper lock).
	Held bool `json:"held"`
}

// runScan implements patchctl scan [--adapter NAME] [--root DIR] [--json]:
// it reads the inventory and the available updates through an adapter
// running as a plugin subprocess and prints the missing ones. It never
// installs anything. An adapter that refuses the root or host, or reads
// no installed packages from it, is an error, never "0 updates missing".
func runScan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "scan")
	name := fs.String("adapter", "", "adapter to use (apt, dnf, zypper, or a plugin binary ./PATH); default: the one that serves this machine or --root")
	sum := fs.String("sha256", "", "with --adapter ./PATH: refuse to start the plugin unless its SHA-256 is this (hex)")
	root := fs.String("root", "", "scan this root directory (a chroot or mounted image) instead of the running system")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	refresh := fs.Bool("refresh", false, "refresh the package manager's metadata first (apt-get update, dnf makecache)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: patchctl scan [--adapter NAME|./PLUGIN [--sha256 HEX]] [--root DIR] [--json] [--refresh]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	a, adapterName, closeAdapter, err := openAdapterFlag(ctx, e, *name, *sum, *root)
	if err != nil {
		return err
	}
	defer closeAdapter()
	*name = adapterName

	tgt := adapters.Target{Root: *root}
	inv, err := a.Inventory(ctx, adapters.InventoryRequest{Target: tgt})
	if err != nil {
		return oneLine(fmt.Errorf("reading the inventory: %w", err))
	}
	if err := checkInventory(*name, *root, &inv.Inventory); err != nil {
		return err
	}
	ups, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt, Refresh: *refresh})
	if err != nil {
		return oneLine(fmt.Errorf("listing updates: %w", err))
	}
	rep := scanReport{
		Adapter:       *name,
		Root:          *root,
		Platform:      inv.Inventory.Platform,
		Installed:     len(inv.Inventory.Packages),
		PendingReboot: inv.Inventory.PendingReboot,
		Missing:       make([]missingPatch, 0, len(ups.Updates)),
	}
	for _, u := range ups.Updates {
		rep.Missing = append(rep.Missing, missingPatch{
			ID: u.ID, Package: u.Package, Arch: u.Arch,
			InstalledVersion: u.InstalledVersion, CandidateVersion: u.AvailableVersion,
			Classification: u.Classification, Severity: u.Severity.Level.String(), VendorSeverity: u.Severity.Raw, Origin: u.Origin,
			Advisories: u.Advisories, CVEs: u.CVEs, Held: u.Held,
		})
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printScanTable(e.stdout, rep)
}

// printScanTable prints a summary line and one row per missing update.
func printScanTable(w io.Writer, rep scanReport) error {
	security, held := 0, 0
	for _, m := range rep.Missing {
		if m.Classification == patchcore.ClassSecurity {
			security++
		}
		if m.Held {
			held++
		}
	}
	where := "this machine"
	if rep.Root != "" {
		where = rep.Root
	}
	p := rep.Platform
	fmt.Fprintf(w, "%s (%s %s", where, p.Distro, p.Version)
	if p.Codename != "" {
		fmt.Fprintf(w, " %s", p.Codename)
	}
	fmt.Fprintf(w, ", adapter %s): %d packages installed, %d updates missing (%d security, %d held)",
		rep.Adapter, rep.Installed, len(rep.Missing), security, held)
	if rep.PendingReboot {
		fmt.Fprint(w, ", reboot pending")
	}
	fmt.Fprintln(w)
	if len(rep.Missing) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tINSTALLED\tCANDIDATE\tCLASSIFICATION\tSEVERITY\tVENDOR SEVERITY\tHELD\tORIGIN")
	for _, m := range rep.Missing {
		heldMark := "-"
		if m.Held {
			heldMark = "held"
		}
		origin := m.Origin
		if len(m.Advisories) > 0 {
			origin += " [" + strings.Join(m.Advisories, ",") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.InstalledVersion, m.CandidateVersion,
			m.Classification, m.Severity, dash(m.VendorSeverity), heldMark, origin)
	}
	return tw.Flush()
}

// checkInventory fails when the adapter read nothing: no installed
// packages, no KBs and no Windows build. That is an adapter that does not
// serve the root or host (zypper on a Debian machine reads an empty rpm
// database), and listing its updates would print "0 updates missing".
func checkInventory(adapter, root string, inv *patchcore.Inventory) error {
	if len(inv.Packages) > 0 || len(inv.KBs) > 0 || inv.Platform.Build != "" {
		return nil
	}
	where := "this machine"
	if root != "" {
		where = root
	}
	hint := "name the adapter that serves it with --adapter"
	if n, err := detectAdapter(root); err == nil && n != adapter {
		hint = "try --adapter " + n
	}
	return fmt.Errorf("adapter %s found no installed packages on %s: it does not serve it (%s)", adapter, where, hint)
}

// checkRoot fails with one clear line when dir is not a readable directory.
func checkRoot(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("root %s: %w", dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("root %s: not a directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("root %s: %w", dir, errors.Unwrap(err))
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("root %s: cannot read it: %w", dir, err)
	}
	return nil
}

// detectAdapter picks the adapter that serves root (or this machine): apt
// where dpkg keeps a database, zypper or dnf where rpm does.
func detectAdapter(root string) (string, error) {
	at := func(p string) bool {
		_, err := os.Stat(filepath.Join(root+"/", p))
		return err == nil
	}
	switch {
	case root == "" && runtime.GOOS == "windows":
		return "wua", nil
	case root == "" && runtime.GOOS == "darwin":
		return "softwareupdate", nil
	case at("var/lib/dpkg/status"):
		return "apt", nil
	case at("usr/bin/zypper"):
		return "zypper", nil
	case at("usr/bin/dnf"), at("usr/bin/yum"), at("usr/bin/dnf-3"):
		return "dnf", nil
	}
	where := "this machine"
	if root != "" {
		where = root
	}
	return "", fmt.Errorf("no supported package manager found on %s (looked for dpkg, zypper, dnf, yum); name one with --adapter", where)
}

// oneLine keeps an error message on one line for the CLI.
func oneLine(err error) error {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	if msg == err.Error() {
		return err
	}
	return &oneLineError{msg: msg, err: err}
}

type oneLineError struct {
	msg string
	err error
}

func (e *oneLineError) Error() string { return e.msg }
func (e *oneLineError) Unwrap() error { return e.err }

// openAdapter checks root (when set), picks the adapter that serves it when
// name is empty, and starts that adapter as a plugin subprocess. It returns
// the adapter, its name and the function that stops it.
func openAdapter(ctx context.Context, e *env, name, root string) (adapters.Adapter, string, func(), error) {
	if root != "" {
		if err := checkRoot(root); err != nil {
			return nil, "", nil, err
		}
	}
	if name == "" {
		n, err := detectAdapter(root)
		if err != nil {
			return nil, "", nil, err
		}
		name = n
	}
	a, stop, err := startAdapter(ctx, e, name)
	return a, name, stop, err
}

// startAdapter starts the named built-in adapter as a plugin subprocess
// (patchctl re-executes itself to serve it) and returns it with a function
// that stops it. PATCHCTL_LOG_LEVEL (debug, info, warn, error) turns on the
// host's and the adapter's logs on stderr; they are off by default so that
// an error is one line.
func startAdapter(ctx context.Context, e *env, name string) (adapters.Adapter, func(), error) {
	reg := builtinAdapters()
	if _, ok := reg[name]; !ok {
		return nil, nil, fmt.Errorf("%w: unknown adapter %q (built in: %s)", errUsage, name, strings.Join(reg.Names(), ", "))
	}
	level := hclog.LevelFromString(os.Getenv("PATCHCTL_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Off
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "patchctl", Output: e.stderr, Level: level})
	h := adapters.NewHost(adapters.Builtin(name), adapters.WithLogger(logger))
	if err := h.Start(ctx); err != nil {
		_ = h.Close(context.WithoutCancel(ctx))
		return nil, nil, oneLine(fmt.Errorf("starting adapter %s: %w", name, err))
	}
	return h, func() { _ = h.Close(context.WithoutCancel(ctx)) }, nil
}
