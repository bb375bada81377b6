package detect

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// winIndex holds the Windows (MSRC) fixes by product.
type winIndex struct {
	// byProduct maps a lower-case MSRC product name to its fixes.
	byProduct map[string][]*cfix
	// onProduct maps the lower-case OS product of "X on <OS product>"
	// components (.NET Framework on Windows 11 ...) to their fixes.
	onProduct map[string][]*cfix
	// byPatch lists each Windows patch's fixes; patches is sorted by ID.
	byPatch map[*cpatch][]*cfix
	patches []*cpatch
}

func buildWinIndex(fixes []*cfix) *winIndex {
	w := &winIndex{byProduct: map[string][]*cfix{}, onProduct: map[string][]*cfix{}, byPatch: map[*cpatch][]*cfix{}}
	for _, cf := range fixes {
		name := strings.ToLower(cf.fix.Product)
		w.byProduct[name] = append(w.byProduct[name], cf)
		if i := strings.LastIndex(name, " on "); i >= 0 {
			os := name[i+len(" on "):]
			w.onProduct[os] = append(w.onProduct[os], cf)
		}
		if _, ok := w.byPatch[cf.cp]; !ok {
			w.patches = append(w.patches, cf.cp)
		}
		w.byPatch[cf.cp] = append(w.byPatch[cf.cp], cf)
	}
	slices.SortFunc(w.patches, func(a, b *cpatch) int { return cmp.Compare(a.p.ID, b.p.ID) })
	return w
}

// windowsRelease is what a build number says about a Windows release: the
// client and server MSRC product names ("%s" stands for the architecture
// words) and whether only a Server Core installation exists.
type windowsRelease struct {
	client, server string
	coreOnly       bool
}

// windowsBuilds maps the third part of the OS build to the release. The
// build is what the device reports reliably: ProductName says "Windows 10"
// on Windows 11, LTSC editions have no DisplayVersion (fleetdm/fleet#53615)
// and servers report a DisplayVersion that MSRC names omit (fleetdm/fleet#24041).
var windowsBuilds = map[int]windowsRelease{
	6003:  {server: "Windows Server 2008 for %s Service Pack 2"},
	7601:  {server: "Windows Server 2008 R2 for x64-based Systems Service Pack 1"},
	9200:  {server: "Windows Server 2012"},
	9600:  {server: "Windows Server 2012 R2"},
	10240: {client: "Windows 10 for %s"},
	14393: {client: "Windows 10 Version 1607 for %s", server: "Windows Server 2016"},
	15063: {client: "Windows 10 Version 1703 for %s"},
	16299: {client: "Windows 10 Version 1709 for %s"},
	17134: {client: "Windows 10 Version 1803 for %s"},
	17763: {client: "Windows 10 Version 1809 for %s", server: "Windows Server 2019"},
	18362: {client: "Windows 10 Version 1903 for %s"},
	18363: {client: "Windows 10 Version 1909 for %s"},
	19041: {client: "Windows 10 Version 2004 for %s"},
	19042: {client: "Windows 10 Version 20H2 for %s"},
	19043: {client: "Windows 10 Version 21H1 for %s"},
	19044: {client: "Windows 10 Version 21H2 for %s"},
	19045: {client: "Windows 10 Version 22H2 for %s"},
	20348: {server: "Windows Server 2022"},
	22000: {client: "Windows 11 version 21H2 for %s"},
	22621: {client: "Windows 11 Version 22H2 for %s"},
	22631: {client: "Windows 11 Version 23H2 for %s"},
	25398: {server: "Windows Server 2022, 23H2 Edition", coreOnly: true},
	26100: {client: "Windows 11 Version 24H2 for %s", server: "Windows Server 2025"},
	26200: {client: "Windows 11 Version 25H2 for %s"},
}

// windowsArch gives MSRC's architecture words for an OS architecture name.
func windowsArch(arch string) (string, bool) {
	switch strings.ToLower(arch) {
	case "amd64", "x86_64", "x64", "x86-64", "64-bit":
		return "x64-based Systems", true
	case "arm64", "aarch64":
		return "ARM64-based Systems", true
	case "x86", "386", "i386", "i686", "32-bit":
		return "32-bit Systems", true
	}
	return "", false
}

// MapWindowsProduct returns the MSRC product name of a Windows device
// ("Windows 11 Version 23H2 for x64-based Systems", "Windows Server 2022
// (Server Core installation)"), decided by the build number, the
// architecture, whether ProductName names a server and whether Edition or
// ProductName names a Server Core installation. A build this table does not
// know is mapped from DisplayVersion when the device is a Windows 10 or 11
// client. It fails with an error wrapping patchcore.ErrUnknownProduct that
// says which fact is missing or unknown.
func MapWindowsProduct(p patchcore.Platform) (string, error) {
	parts := strings.Split(p.Build, ".")
	if len(parts) < 3 {
		return "", fmt.Errorf("windows build %q is not major.minor.build: %w", p.Build, patchcore.ErrUnknownProduct)
	}
	build, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", fmt.Errorf("windows build %q: build number %q is not a number: %w", p.Build, parts[2], patchcore.ErrUnknownProduct)
	}
	name := strings.ToLower(p.ProductName)
	server := strings.Contains(name, "server")
	core := strings.Contains(strings.ToLower(p.Edition), "core") || strings.Contains(name, "core")
	arch, archOK := windowsArch(p.Arch)
	rel, known := windowsBuilds[build]
	if !known {
		if server || p.DisplayVersion == "" || !archOK {
			return "", fmt.Errorf("windows build %d (%s %s) is not a release this version of patchcore knows: %w", build, p.ProductName, p.DisplayVersion, patchcore.ErrUnknownProduct)
		}
		family := "Windows 10"
		if build >= 22000 {
			family = "Windows 11"
		}
		return family + " Version " + p.DisplayVersion + " for " + arch, nil
	}
	tmpl := rel.client
	if server || tmpl == "" {
		tmpl = rel.server
		server = true
	}
	if tmpl == "" {
		return "", fmt.Errorf("windows build %d has no server release: %w", build, patchcore.ErrUnknownProduct)
	}
	if strings.Contains(tmpl, "%s") {
		if !archOK {
			return "", fmt.Errorf("windows architecture %q is not x64, ARM64 or 32-bit: %w", p.Arch, patchcore.ErrUnknownProduct)
		}
		if server && arch == "ARM64-based Systems" {
			return "", fmt.Errorf("windows server build %d on ARM64 has no MSRC product: %w", build, patchcore.ErrUnknownProduct)
		}
		tmpl = strings.Replace(tmpl, "%s", arch, 1)
	}
	if server && (core || rel.coreOnly) {
		tmpl += " (Server Core installation)"
	}
	return tmpl, nil
}

// winState is the evaluation of one Windows fix on the device.
type winState struct {
	state  patchcore.FindingState
	reason string
	fixed  string
	cf     *cfix
	// installed is the installed product version for a KB of a Microsoft
	// product beyond the OS; empty for OS KBs (the build is reported).
	installed string
}

// windows evaluates every Windows patch of the catalog.
func (d *device) windows() {
	w := d.c.win
	if len(w.patches) == 0 {
		return
	}
	pl := d.inv.Platform
	product, err := MapWindowsProduct(pl)
	if err == nil {
		if _, ok := w.byProduct[strings.ToLower(product)]; !ok {
			err = fmt.Errorf("%s (build %s) maps to %q, which no patch in the catalog names: %w", describeWindows(pl), pl.FullBuild(), product, patchcore.ErrUnknownProduct)
		}
	}
	if err != nil {
		for _, cp := range w.patches {
			f := findingHeader(cp, patchcore.FindingUnknown, "cannot map the device to an MSRC product: "+err.Error())
			f.InstalledVersion = pl.FullBuild()
			d.winFindings = append(d.winFindings, f)
		}
		return
	}
	lp := strings.ToLower(product)
	dev, devErr := version.DottedScheme().Parse(pl.FullBuild())
	products := d.microsoftProducts()
	// evaluate decides one patch without looking at supersedence.
	memo := map[*cpatch]*winState{}
	evaluate := func(cp *cpatch) *winState {
		if s, ok := memo[cp]; ok {
			return s
		}
		var direct, on *cfix
		for _, cf := range w.byPatch[cp] {
			name := strings.ToLower(cf.fix.Product)
			if name == lp && direct == nil {
				direct = cf
			} else if on == nil && strings.HasSuffix(name, " on "+lp) {
				on = cf
			}
		}
		pick, name := direct, product
		if pick == nil && on != nil {
			pick, name = on, on.fix.Product
		}
		var s *winState
		var app *patchcore.Package
		if pick == nil {
			// A KB of a Microsoft product the device reports installed
			// (.NET 8.0, SQL Server, Office MSI).
			for _, cf := range w.byPatch[cp] {
				if p := products[strings.ToLower(cf.fix.Product)]; p != nil {
					pick, name, app = cf, cf.fix.Product, p
					break
				}
			}
		}
		switch {
		case app != nil:
			s = d.winProductFix(pick, app)
		case pick == nil:
			s = &winState{state: patchcore.FindingNotApplicable, reason: cp.p.ID + " has no fix for " + product}
		case pick.fix.Hotpatch && !pl.Hotpatch:
			s = &winState{state: patchcore.FindingNotApplicable, reason: hotpatchNA(cp.p.ID, name, pick.fix)}
		default:
			s = d.winFix(pick, name, dev, devErr)
		}
		memo[cp] = s
		return s
	}
	for _, cp := range w.patches {
		s := evaluate(cp)
		if s.state == patchcore.FindingNotApplicable {
			if d.e.opts.notApplicable {
				d.winFindings = append(d.winFindings, findingHeader(cp, s.state, s.reason))
			} else {
				d.winNA++
			}
			continue
		}
		f := findingHeader(cp, s.state, s.reason)
		f.Package = product
		f.InstalledVersion = pl.FullBuild()
		if s.installed != "" {
			f.InstalledVersion = s.installed
		}
		if s.cf != nil {
			f.Package = s.cf.fix.Product
			f.FixedVersion = s.fixed
			f.Fix = s.cf.fix
		}
		if s.state == patchcore.FindingMissing && s.cf != nil {
			if by, byState := d.equivalentInstalled(s.cf, evaluate); by != nil {
				f.State = patchcore.FindingSuperseded
				f.SupersededBy = by.p.ID
				f.Reason = s.reason + "; covered by installed " + by.p.ID + ", its equivalent for the same month (" + byState.reason + ")"
			}
		}
		if f.State == patchcore.FindingMissing || f.State == patchcore.FindingInstalled {
			if by, byState := d.supersededBy(cp, evaluate); by != nil {
				f.State = patchcore.FindingSuperseded
				f.SupersededBy = by.p.ID
				f.Reason = s.reason + "; superseded by installed " + by.p.ID + " (" + byState.reason + ")"
			}
		}
		d.winFindings = append(d.winFindings, f)
	}
}

// microsoftProducts maps the lower-case MSRC product names of the
// device's Microsoft packages (ecosystem microsoft) to the package.
func (d *device) microsoftProducts() map[string]*patchcore.Package {
	m := map[string]*patchcore.Package{}
	for i := range d.inv.Packages {
		p := &d.inv.Packages[i]
		if p.Ecosystem != patchcore.EcosystemMicrosoft {
			continue
		}
		if name, ok := d.sqlServerProduct(p); ok {
			m[strings.ToLower(name)] = p
			continue
		}
		if name, err := MapMicrosoftProduct(*p); err == nil {
			m[strings.ToLower(name)] = p
		}
	}
	return m
}

// sqlServer matches SQL Server 2019 and 2022 as their Uninstall entries
// name them ("Microsoft SQL Server 2022 (64-bit)", "SQL Server 2022
// Database Engine Services").
var sqlServer = regexp.MustCompile(`^(?:Microsoft )?SQL Server (2019|2022)\b`)

// sqlServerProduct maps an installed SQL Server 2019 or 2022 to the MSRC
// product of its servicing branch: a GDR build (third part below 4000,
// "16.0.1105.1") to "... for x64-based Systems (GDR)", a cumulative-update
// build ("16.0.4095.4") to the newest "(CU n)" product the catalog names,
// which is the one MSRC's security update for CU installs need.
func (d *device) sqlServerProduct(p *patchcore.Package) (string, bool) {
	m := sqlServer.FindStringSubmatch(p.Name)
	if m == nil {
		return "", false
	}
	parts := strings.Split(p.Version, ".")
	if len(parts) < 3 {
		return "", false
	}
	build, err := strconv.Atoi(parts[2])
	if err != nil {
		return "", false
	}
	prefix := "Microsoft SQL Server " + m[1] + " for x64-based Systems ("
	if build < 4000 {
		return prefix + "GDR)", true
	}
	best, bestCU := "", -1
	for name, fixes := range d.c.win.byProduct {
		rest, ok := strings.CutPrefix(name, strings.ToLower(prefix)+"cu ")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, ")")); err == nil && n > bestCU && len(fixes) > 0 {
			best, bestCU = fixes[0].fix.Product, n
		}
	}
	return best, best != ""
}

// officeMSIProduct matches the MSRC names of Office MSI products
// ("Microsoft Office 2016 (64-bit edition)", "Microsoft Excel 2013 (32-bit
// edition)") and SharePoint Server, whose installed version stays at the
// release build while their updates are registered by KB.
var officeMSIProduct = regexp.MustCompile(`^Microsoft (?:(?:Office|Word|Excel|PowerPoint|Outlook|Access|Publisher|OneNote|Visio|Project) 20(?:10|13|16) \((?:32|64)-bit edition\)|SharePoint (?:Enterprise )?Server (?:2013|2016|2019|Subscription Edition)$)`)

// officeByKB reports products whose MSRC KBs are decided by the installed
// updates list alone.
func officeByKB(product string) bool { return officeMSIProduct.MatchString(product) }

// winProductFix evaluates a KB of a Microsoft product beyond the OS
// against the installed product's version.
func (d *device) winProductFix(cf *cfix, p *patchcore.Package) *winState {
	f := cf.fix
	kb := cf.cp.p.ID
	listed := d.hasKB(kb) || f.KB != "" && d.hasKB(f.KB)
	s := &winState{cf: cf, fixed: f.FixedBuild, installed: p.Version}
	what := f.Product + " " + p.Version
	if officeByKB(f.Product) {
		// The suite's DisplayVersion stays at its release build and
		// FixedBuild is the build of a patched file: only the KB says.
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list ("+f.Product+" is updated by KB)"
		} else {
			s.state, s.reason = patchcore.FindingMissing, kb+" for "+f.Product+" is not in the installed updates list (Office MSI products are updated by KB; FixedBuild "+f.FixedBuild+" is a file's build)"
		}
		return s
	}
	if f.FixedBuild == "" {
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list; it names no FixedBuild for "+f.Product
		} else {
			s.state, s.reason = patchcore.FindingUnknown, kb+" names no FixedBuild for "+what+" and is not in the installed updates list"
		}
		return s
	}
	sc := version.DottedScheme()
	fixed, ferr := sc.Parse(f.FixedBuild)
	inst, ierr := sc.Parse(p.Version)
	switch {
	case ferr != nil || ierr != nil:
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list (cannot compare "+what+" with "+f.FixedBuild+")"
		} else {
			s.state, s.reason = patchcore.FindingUnknown, "cannot compare "+what+" with FixedBuild "+f.FixedBuild+" of "+kb
		}
	case inst.Compare(fixed) >= 0:
		s.state, s.reason = patchcore.FindingInstalled, what+" >= "+f.FixedBuild+" (dotted) from "+kb
	default:
		s.state, s.reason = patchcore.FindingMissing, what+" < "+f.FixedBuild+" (dotted) from "+kb
	}
	return s
}

// hotpatchNA is the reason a hotpatch does not apply to a device that is
// not enrolled in hotpatching.
func hotpatchNA(kb, product string, f *patchcore.Fix) string {
	r := kb + " is a hotpatch for " + product + "; hotpatches apply only to devices enrolled in hotpatching (Windows Server Azure Edition with Hotpatch), and this device does not report hotpatch enrolment"
	if len(f.Equivalents) > 0 {
		r += "; the month's cumulative update for it is " + strings.Join(f.Equivalents, ", ")
	}
	return r
}

// equivalentInstalled returns a patch named in the fix's Equivalents (the
// same month's hotpatch for a cumulative update, or the other way round)
// that is installed on the device.
func (d *device) equivalentInstalled(cf *cfix, evaluate func(*cpatch) *winState) (*cpatch, *winState) {
	for _, id := range cf.fix.Equivalents {
		other := d.c.lookup(id)
		if other == nil || other == cf.cp {
			continue
		}
		if s := evaluate(other); s.state == patchcore.FindingInstalled {
			return other, s
		}
	}
	return nil, nil
}

// supersededBy walks the supersedence graph from cp and returns an
// installed patch that replaces it, directly or through a chain: one the
// device lists as installed when there is one, otherwise the nearest.
func (d *device) supersededBy(cp *cpatch, evaluate func(*cpatch) *winState) (*cpatch, *winState) {
	seen := map[*cpatch]bool{cp: true}
	queue := slices.Clone(cp.supersededBy)
	var first *cpatch
	var firstState *winState
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		if seen[next] {
			continue
		}
		seen[next] = true
		if s := evaluate(next); s.state == patchcore.FindingInstalled {
			if d.hasKB(next.p.ID) {
				return next, s
			}
			if first == nil {
				first, firstState = next, s
			}
		}
		queue = append(queue, next.supersededBy...)
	}
	return first, firstState
}

func describeWindows(p patchcore.Platform) string {
	s := strings.TrimSpace(p.ProductName + " " + p.DisplayVersion)
	if p.Edition != "" {
		s += " (" + p.Edition + ")"
	}
	if p.Arch != "" {
		s += " " + p.Arch
	}
	return s
}

// winFix evaluates one KB fix for product on the device build.
func (d *device) winFix(cf *cfix, product string, dev version.Version, devErr error) *winState {
	f := cf.fix
	kb := cf.cp.p.ID
	listed := d.hasKB(kb) || f.KB != "" && d.hasKB(f.KB)
	s := &winState{cf: cf}
	full := d.inv.Platform.FullBuild()
	fixedStr, fixed := onBuildLine(f.FixedBuild, full)
	s.fixed = f.FixedBuild
	if fixedStr != "" {
		s.fixed = fixedStr
	}
	switch {
	case f.FixedBuild == "":
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list; it names no FixedBuild for "+product
		} else {
			s.state, s.reason = patchcore.FindingUnknown, kb+" names no FixedBuild for "+product+" and is not in the installed updates list"
		}
	case fixed == nil:
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list (its FixedBuild "+f.FixedBuild+" for "+product+" is not an OS build of line "+buildLine(full)+")"
		} else {
			s.state, s.reason = patchcore.FindingUnknown, "cannot compare: FixedBuild "+f.FixedBuild+" of "+kb+" for "+product+" is not on the device's build line "+buildLine(full)+", and "+kb+" is not in the installed updates list"
		}
	case devErr != nil:
		s.state, s.reason = patchcore.FindingUnknown, "cannot compare: device build does not parse: "+devErr.Error()
	case d.inv.Platform.UBR == 0 && strings.Count(d.inv.Platform.Build, ".") < 3:
		if listed {
			s.state, s.reason = patchcore.FindingInstalled, kb+" is in the installed updates list (device UBR unknown)"
		} else {
			s.state, s.reason = patchcore.FindingUnknown, "cannot compare: the device's update build revision (UBR) is unknown; "+kb+" needs "+fixedStr
		}
	case dev.Compare(fixed) >= 0:
		s.state, s.reason = patchcore.FindingInstalled, "build "+full+" >= "+fixedStr+" (dotted) from "+kb+" for "+product
	case listed && d.inv.PendingReboot:
		s.state, s.reason = patchcore.FindingInstalledPendingReboot, kb+" is installed and waits for a restart: build "+full+" < "+fixedStr+" from "+kb+" for "+product
	case listed:
		s.state, s.reason = patchcore.FindingUnknown, kb+" is in the installed updates list but build "+full+" < "+fixedStr+" from "+kb+" for "+product+" and no restart is pending"
	default:
		s.state, s.reason = patchcore.FindingMissing, "build "+full+" < "+fixedStr+" (dotted) from "+kb+" for "+product
	}
	return s
}

// onBuildLine picks, among the FixedBuild values (a feed may list several,
// separated by commas, semicolons or spaces), the one on the device's
// build line (same major.minor.build) and parses it.
func onBuildLine(fixedBuilds, device string) (string, version.Version) {
	line := buildLine(device)
	for _, fb := range strings.FieldsFunc(fixedBuilds, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if buildLine(fb) != line || line == "" {
			continue
		}
		v, err := version.DottedScheme().Parse(fb)
		if err != nil {
			return "", nil
		}
		return fb, v
	}
	return "", nil
}

// buildLine is "major.minor.build" of a Windows build.
func buildLine(b string) string {
	parts := strings.SplitN(b, ".", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[0] + "." + parts[1] + "." + parts[2]
}

// hasKB reports whether the inventory lists kb as installed, both
// compared in patchcore.NormalizeKB's form ("KB5034441", "5034441",
// "kb 5034441").
func (d *device) hasKB(kb string) bool {
	want, ok := patchcore.NormalizeKB(kb)
	if !ok {
		return false
	}
	for _, k := range d.inv.KBs {
		if got, ok := patchcore.NormalizeKB(k); ok && got == want {
			return true
		}
	}
	return false
}
