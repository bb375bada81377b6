package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/internal/dpkg"
	"github.com/patchcore/sdk/patchcore"
)

// detectReport is what patchctl detect --json prints.
type detectReport struct {
	DeviceID string              `json:"device_id,omitempty"`
	Platform patchcore.Platform  `json:"platform"`
	Feeds    []string            `json:"feeds"`
	Counts   detect.Counts       `json:"counts"`
	Findings []patchcore.Finding `json:"findings"`
}

// runDetect implements patchctl detect --feed FILE... --inventory SPEC
// [--platform ID:RELEASE] [--json]: it parses the feeds into a catalog,
// reads the inventory and prints one finding per patch with its reason.
func runDetect(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "detect")
	var feeds []string
	fs.Func("feed", "a feed file (repeat for several); its format is recognised from its content", func(s string) error {
		feeds = append(feeds, s)
		return nil
	})
	invSpec := fs.String("inventory", "", "the device: dpkg-status=FILE, json=FILE (a patchcore.Inventory), root=DIR (through the adapter) or host")
	platform := fs.String("platform", "", "the platform as ID:RELEASE (debian:bookworm, ubuntu:22.04, rhel:9) when the inventory does not say")
	kernel := fs.String("kernel", "", "the running kernel release (uname -r) when the inventory does not say")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	actionable := fs.Bool("actionable", false, "show only missing, unknown and pending-reboot findings")
	all := fs.Bool("not-applicable", false, "also show patches of the platform that touch nothing installed")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: patchctl detect --feed FILE... --inventory SPEC [--platform ID:RELEASE] [--json]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if len(feeds) == 0 {
		return fmt.Errorf("%w: at least one --feed is required", errUsage)
	}
	if *invSpec == "" {
		return fmt.Errorf("%w: --inventory is required", errUsage)
	}
	inv, err := readInventory(ctx, e, *invSpec)
	if err != nil {
		return oneLine(err)
	}
	if *platform != "" {
		p, err := parsePlatform(*platform)
		if err != nil {
			return err
		}
		inv.Platform = mergePlatform(inv.Platform, p)
	}
	if *kernel != "" {
		inv.Platform.Kernel = *kernel
	}
	if inv.Platform.Distro == "" && len(inv.Packages) > 0 && inv.Packages[0].Ecosystem == patchcore.EcosystemDeb {
		// A dpkg status file does not say which distribution it is from;
		// only release-independent fixes (a debsecan file) apply then.
		inv.Platform.Family, inv.Platform.Distro = patchcore.FamilyLinux, "debian"
		fmt.Fprintln(e.stderr, "patchctl detect: no --platform: assuming debian with no release, so only release-independent fixes (debsecan) apply")
	}
	cat := feed.NewCatalog()
	for _, path := range feeds {
		if err := addFeedFile(ctx, e, cat, path); err != nil {
			return oneLine(err)
		}
	}
	var opts []detect.Option
	if *actionable {
		opts = append(opts, detect.ActionableOnly())
	}
	if *all {
		opts = append(opts, detect.WithNotApplicable())
	}
	res, err := detect.New(cat, opts...).Detect(ctx, inv)
	if err != nil {
		return oneLine(err)
	}
	rep := detectReport{DeviceID: res.DeviceID, Platform: res.Platform, Feeds: feeds, Counts: res.Counts, Findings: res.Findings}
	if rep.Findings == nil {
		rep.Findings = []patchcore.Finding{}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printDetectTable(e.stdout, rep)
}

// readInventory reads the device named by spec.
func readInventory(ctx context.Context, e *env, spec string) (patchcore.Inventory, error) {
	kind, arg, _ := strings.Cut(spec, "=")
	switch kind {
	case "dpkg-status":
		f, _, err := e.open(arg)
		if err != nil {
			return patchcore.Inventory{}, fmt.Errorf("inventory: %w", err)
		}
		defer f.Close()
		pkgs, err := dpkg.Parse(bufio.NewReader(f))
		if err != nil {
			return patchcore.Inventory{}, fmt.Errorf("inventory %s: %w", arg, err)
		}
		return patchcore.Inventory{Packages: pkgs}, nil
	case "json":
		b, err := e.readFile(arg)
		if err != nil {
			return patchcore.Inventory{}, fmt.Errorf("inventory: %w", err)
		}
		var inv patchcore.Inventory
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&inv); err != nil {
			return patchcore.Inventory{}, fmt.Errorf("inventory %s: not a patchcore.Inventory: %w: %w", arg, patchcore.ErrInvalidInput, err)
		}
		return inv, nil
	case "root", "host":
		root := arg
		if kind == "host" {
			if arg != "" {
				return patchcore.Inventory{}, fmt.Errorf("%w: --inventory host takes no value", errUsage)
			}
		} else if root == "" {
			return patchcore.Inventory{}, fmt.Errorf("%w: --inventory root=DIR needs a directory", errUsage)
		}
		a, name, closeAdapter, err := openAdapter(ctx, e, "", root)
		if err != nil {
			return patchcore.Inventory{}, err
		}
		defer closeAdapter()
		resp, err := a.Inventory(ctx, adapters.InventoryRequest{Target: adapters.Target{Root: root}})
		if err != nil {
			return patchcore.Inventory{}, fmt.Errorf("reading the inventory through %s: %w", name, err)
		}
		return resp.Inventory, nil
	}
	return patchcore.Inventory{}, fmt.Errorf("%w: --inventory %q: want dpkg-status=FILE, json=FILE, root=DIR or host", errUsage, spec)
}

// parsePlatform reads ID:RELEASE ("debian:bookworm", "ubuntu:22.04",
// "rhel:9.4"). A release of digits and dots is a version, anything else a
// codename.
func parsePlatform(s string) (patchcore.Platform, error) {
	id, rel, _ := strings.Cut(s, ":")
	if id == "" {
		return patchcore.Platform{}, fmt.Errorf("%w: --platform %q: want ID:RELEASE (debian:bookworm)", errUsage, s)
	}
	p := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: strings.ToLower(id)}
	if p.Distro == "windows" {
		p.Family = patchcore.FamilyWindows
	}
	if strings.Trim(rel, "0123456789.") == "" {
		p.Version = rel
	} else {
		p.Codename = rel
	}
	return p, nil
}

// mergePlatform fills what the inventory's platform leaves empty from flag.
func mergePlatform(inv, flag patchcore.Platform) patchcore.Platform {
	if inv.Distro == "" {
		inv.Family, inv.Distro = flag.Family, flag.Distro
	}
	if flag.Version != "" {
		inv.Version = flag.Version
	}
	if flag.Codename != "" {
		inv.Codename = flag.Codename
	}
	return inv
}

// addFeedFile parses one feed file ("-": stdin) into cat; feed/formats
// undoes compression and recognises the format from the content.
func addFeedFile(ctx context.Context, e *env, cat *feed.Catalog, path string) error {
	_, err := parseInput(ctx, e, path, formats.Options{}, func(p patchcore.Patch) error {
		cat.Add(p)
		return nil
	})
	return err
}

// printDetectTable prints a summary line and one row per finding.
func printDetectTable(w io.Writer, rep detectReport) error {
	c := rep.Counts
	p := rep.Platform
	name := strings.TrimSuffix(p.ID(), ":")
	if p.Family == patchcore.FamilyWindows {
		name = strings.TrimSpace(p.ProductName + " " + p.DisplayVersion + " " + p.FullBuild())
	}
	fmt.Fprintf(w, "%s: %d missing, %d unknown, %d installed pending reboot, %d installed, %d superseded, %d not applicable\n",
		name, c.Missing, c.Unknown, c.InstalledPendingReboot, c.Installed, c.Superseded, c.NotApplicable)
	if len(rep.Findings) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tPATCH\tSEVERITY\tPACKAGE\tINSTALLED\tFIXED\tREASON")
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.State, f.PatchID, f.Severity, f.Package, f.InstalledVersion, f.FixedVersion, f.Reason)
	}
	return tw.Flush()
}
