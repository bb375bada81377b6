package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/approve"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/dpkg"
)

// detectReport is what patchctl detect --json prints.
type detectReport struct {
	DeviceID string             `json:"device_id,omitempty"`
	Platform patchcore.Platform `json:"platform"`
	Feeds    []string           `json:"feeds"`
	Counts   detect.Counts      `json:"counts"`
	// CatalogPatches is the number of patches the feeds hold; Coverage
	// says how many of them concern the device and whether the catalog
	// covers it at all.
	CatalogPatches int             `json:"catalog_patches"`
	Coverage       detect.Coverage `json:"coverage"`
	// Compliance is the verdict against --baseline, when one was given.
	Compliance *complianceSummary  `json:"compliance,omitempty"`
	Findings   []patchcore.Finding `json:"findings"`
}

// complianceSummary is the device's compliance with a baseline, with the
// count of missing patches the baseline does not approve (yet) beside the
// verdict: compliance is measured against the baseline, so "compliant" is
// not "patched".
type complianceSummary struct {
	BaselineID string `json:"baseline_id"`
	Compliant  bool   `json:"compliant"`
	// UnapprovedMissing counts missing patches outside the baseline, and
	// UnapprovedSecurity the security patches among them.
	UnapprovedMissing  int                 `json:"unapproved_missing"`
	UnapprovedSecurity int                 `json:"unapproved_security"`
	NotCovered         string              `json:"not_covered,omitempty"`
	States             approve.StateCounts `json:"states"`
	Unknown            int                 `json:"unknown"`
}

// errNotCovered marks a detection with no answer: the catalog has no
// patches for the device's platform. patchctl exits 3 for it.
var errNotCovered = errors.New("not covered")

// runDetect implements patchctl detect --feed FILE... --inventory SPEC
// [--platform ID:RELEASE] [--baseline FILE] [--json]: it parses the feeds
// into a catalog, reads the inventory and prints how many catalog patches
// concern the device, then one finding per patch with its reason. A device
// the catalog does not cover is no answer: the report is printed and the
// command fails with errNotCovered, naming what the catalog does cover.
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
	baseline := fs.String("baseline", "", "a baseline (approve.Baseline JSON): also print the device's compliance with it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: patchctl detect --feed FILE... --inventory SPEC [--platform ID:RELEASE] [--baseline FILE] [--json]")
		fmt.Fprintln(fs.Output(), "exit status: 0 answered, 1 error, 2 usage, 3 the feeds do not cover the device (no answer)")
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
	var flagPlatform patchcore.Platform
	if *platform != "" {
		p, err := parsePlatform(*platform)
		if err != nil {
			return err
		}
		flagPlatform = p
	}
	var base *approve.Baseline
	if *baseline != "" {
		b, err := os.ReadFile(*baseline)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		if base, err = approve.ParseBaseline(b); err != nil {
			return oneLine(fmt.Errorf("baseline %s: %w", *baseline, err))
		}
	}
	inv, err := readInventory(ctx, e, *invSpec)
	if err != nil {
		return oneLine(err)
	}
	if *platform != "" {
		inv.Platform = mergePlatform(inv.Platform, flagPlatform)
	}
	if *kernel != "" {
		inv.Platform.Kernel = *kernel
	}
	assumed := false
	if inv.Platform.Distro == "" && len(inv.Packages) > 0 && inv.Packages[0].Ecosystem == patchcore.EcosystemDeb {
		// A dpkg status file does not say which distribution it is from;
		// only release-independent fixes (a debsecan file) apply then.
		inv.Platform.Family, inv.Platform.Distro = patchcore.FamilyLinux, "debian"
		assumed = true
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
	rep := detectReport{DeviceID: res.DeviceID, Platform: res.Platform, Feeds: feeds, Counts: res.Counts,
		CatalogPatches: cat.Len(), Coverage: res.Coverage, Findings: res.Findings}
	if rep.Findings == nil {
		rep.Findings = []patchcore.Finding{}
	}
	if base != nil {
		cs, err := compliance(base, cat, &inv, &res)
		if err != nil {
			return oneLine(err)
		}
		rep.Compliance = &cs
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := printDetectTable(e.stdout, rep); err != nil {
		return err
	}
	if c := res.Coverage; !c.Covered {
		hint := ""
		if assumed {
			hint = " (no --platform: debian with no release was assumed; give --platform debian:CODENAME)"
		}
		return oneLine(fmt.Errorf("%w: %s; the feeds cover %s%s", errNotCovered, c.Reason, coveredSummary(c.Catalog), hint))
	}
	if assumed {
		fmt.Fprintln(e.stderr, "patchctl detect: no --platform: assumed debian with no release, so only release-independent fixes (debsecan) apply")
	}
	return nil
}

// compliance evaluates the device's detection result against base.
func compliance(base *approve.Baseline, cat *feed.Catalog, inv *patchcore.Inventory, res *detect.Result) (complianceSummary, error) {
	ev, err := approve.Evaluate(base, cat.All(), time.Now())
	if err != nil {
		return complianceSummary{}, fmt.Errorf("baseline %s: %w", base.ID, err)
	}
	dr := approve.DeviceResult{Device: patchcore.Device{ID: inv.DeviceID, Platform: inv.Platform},
		Findings: res.AllFindings(), PendingReboot: inv.PendingReboot}
	if !res.Coverage.Covered {
		dr.NotCovered = res.Coverage.Reason
	}
	c := ev.Compliance(&dr)
	return complianceSummary{BaselineID: c.BaselineID, Compliant: c.Compliant, UnapprovedMissing: c.UnapprovedMissing,
		UnapprovedSecurity: c.UnapprovedSecurity, NotCovered: c.NotCovered, States: c.States, Unknown: c.Unknown}, nil
}

// coveredSummary names what a catalog covers on one line: Linux releases
// in full with their patch counts, Windows products counted, ecosystems
// named ("rocky 9 (3 patches), 4 Windows products, npm (2 patches)").
func coveredSummary(scopes []detect.Scope) string {
	var parts, products []string
	for _, s := range scopes {
		if s.Product != "" {
			products = append(products, s.Product)
			continue
		}
		n := strconv.Itoa(s.Patches) + " patches"
		if s.Patches == 1 {
			n = "1 patch"
		}
		parts = append(parts, s.String()+" ("+n+")")
	}
	switch {
	case len(products) == 1:
		parts = append(parts, products[0])
	case len(products) > 1:
		parts = append(parts, strconv.Itoa(len(products))+" Windows products")
	}
	if len(parts) == 0 {
		return "nothing (no patches)"
	}
	return strings.Join(parts, ", ")
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
		st, err := dpkg.ParseStatus(bufio.NewReader(f))
		if err != nil {
			return patchcore.Inventory{}, fmt.Errorf("inventory %s: %w", arg, err)
		}
		for _, r := range st.Recoveries {
			fmt.Fprintf(e.stderr, "patchctl: %s:%d: %s: recovered: %s\n", arg, r.Line, r.Field, r.Message)
		}
		if len(st.Packages) == 0 {
			return patchcore.Inventory{}, fmt.Errorf("inventory %s: no installed packages in this dpkg status file: %w", arg, patchcore.ErrInvalidInput)
		}
		return patchcore.Inventory{Packages: st.Packages}, nil
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
		if len(inv.Packages) == 0 && len(inv.KBs) == 0 && inv.Platform == (patchcore.Platform{}) {
			return patchcore.Inventory{}, fmt.Errorf("inventory %s: empty: no platform, packages or KBs: %w", arg, patchcore.ErrInvalidInput)
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
		if err := checkInventory(name, root, &resp.Inventory); err != nil {
			return patchcore.Inventory{}, err
		}
		return resp.Inventory, nil
	}
	return patchcore.Inventory{}, fmt.Errorf("%w: --inventory %q: want dpkg-status=FILE, json=FILE, root=DIR or host", errUsage, spec)
}

// parsePlatform reads ID:RELEASE ("debian:bookworm", "ubuntu:22.04",
// "rhel:9.4"). A release of digits and dots is a version, anything else a
// codename. Both parts are required: "bookworm" alone would be read as a
// distribution no feed covers.
func parsePlatform(s string) (patchcore.Platform, error) {
	id, rel, ok := strings.Cut(s, ":")
	if !ok || id == "" || rel == "" {
		what := "the ID and the RELEASE"
		switch {
		case !ok:
			what = "no colon"
		case id == "":
			what = "no ID"
		case rel == "":
			what = "no RELEASE"
		}
		return patchcore.Platform{}, fmt.Errorf("%w: --platform %q has %s: want ID:RELEASE, e.g. debian:bookworm, ubuntu:22.04, rhel:9", errUsage, s, what)
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

// printDetectTable prints a summary line with the coverage, the
// compliance verdict when there is one, and one row per finding.
func printDetectTable(w io.Writer, rep detectReport) error {
	c := rep.Counts
	p := rep.Platform
	name := strings.TrimSuffix(p.ID(), ":")
	if p.Family == patchcore.FamilyWindows {
		name = strings.TrimSpace(p.ProductName + " " + p.DisplayVersion + " " + p.FullBuild())
	}
	if !rep.Coverage.Covered {
		fmt.Fprintf(w, "%s: NOT COVERED: %s; no answer\n", name, rep.Coverage.Reason)
	} else {
		fmt.Fprintf(w, "%s: %d missing, %d unknown, %d installed pending reboot, %d installed, %d superseded, %d not applicable; %d of the catalog's %d patches are for this device\n",
			name, c.Missing, c.Unknown, c.InstalledPendingReboot, c.Installed, c.Superseded, c.NotApplicable, rep.Coverage.Patches, rep.CatalogPatches)
	}
	if cs := rep.Compliance; cs != nil {
		verdict := "compliant"
		switch {
		case cs.NotCovered != "":
			verdict = "NOT compliant: the feeds do not cover the device"
		case !cs.Compliant:
			verdict = fmt.Sprintf("NOT compliant: %d approved patches missing, %d failed, %d installed pending reboot, %d installed but rejected, %d unknown",
				cs.States.Missing, cs.States.Failed, cs.States.InstalledPendingReboot, cs.States.InstalledRejected, cs.Unknown)
		}
		fmt.Fprintf(w, "baseline %s: %s; %d missing patches not approved by the baseline (%d security)\n",
			cs.BaselineID, verdict, cs.UnapprovedMissing, cs.UnapprovedSecurity)
	}
	if len(rep.Findings) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tPATCH\tSEVERITY\tVENDOR SEVERITY\tPACKAGE\tINSTALLED\tFIXED\tREASON")
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.State, f.PatchID, f.Severity.Level, dash(f.Severity.Raw),
			f.Package, f.InstalledVersion, f.FixedVersion, f.Reason)
	}
	return tw.Flush()
}
