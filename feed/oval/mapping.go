package oval

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// platform is what a platform criterion says.
type platform struct {
	distro, release, product string
}

var (
	reRHEL      = regexp.MustCompile(`^Red Hat Enterprise Linux (\d+)(?:\.\d+)? is installed`)
	reOracle    = regexp.MustCompile(`^Oracle Linux (\d+)(?:\.\d+)? is installed`)
	reDebian    = regexp.MustCompile(`^Debian(?: GNU/Linux)? (\d+)(?:\.\d+)? is installed`)
	reEpoch     = regexp.MustCompile(`^\d+:`)
	reCVE       = regexp.MustCompile(`\bCVE-\d{4}-\d{4,}\b`)
	reSUSE      = regexp.MustCompile(`^(SUSE Linux Enterprise [A-Za-z ]*?|SUSE Manager [A-Za-z ]*?|openSUSE Leap(?: Micro)?|SUSE Linux Enterprise Micro) ?(\d+)(?:[ .-]SP(\d+)|\.(\d+))?(?:-[A-Z0-9-]+)? is installed`)
	reUbuntu    = regexp.MustCompile(`^Ubuntu [\d.]+(?: LTS)? \((\w+)\) is installed`)
	reUbuntuNS  = regexp.MustCompile(`^oval:com\.ubuntu\.(\w+):`)
	reSUSEPkg   = regexp.MustCompile(`^(.+)-([^-]+)-([^-]+) is installed$`)
	reNotAff    = regexp.MustCompile(`^(\S+) is not affected$`)
	reKernelRun = regexp.MustCompile(`^Is kernel (\S+) (?:currently )?running`)
	reRHEarlier = regexp.MustCompile(`^(\S+) is earlier than (\S+)$`)
)

// platformOf reads a platform criterion's comment.
func platformOf(comment string) (platform, bool) {
	if m := reRHEL.FindStringSubmatch(comment); m != nil {
		return platform{"rhel", m[1], strings.TrimSuffix(comment, " is installed")}, true
	}
	if m := reOracle.FindStringSubmatch(comment); m != nil {
		return platform{"ol", m[1], strings.TrimSuffix(comment, " is installed")}, true
	}
	if m := reDebian.FindStringSubmatch(comment); m != nil {
		return platform{"debian", m[1], strings.TrimSuffix(comment, " is installed")}, true
	}
	if m := reUbuntu.FindStringSubmatch(comment); m != nil {
		return platform{"ubuntu", m[1], strings.TrimSuffix(strings.TrimSuffix(comment, "."), " is installed")}, true
	}
	if m := reSUSE.FindStringSubmatch(comment); m != nil {
		name := strings.TrimSpace(m[1])
		release := m[2]
		if m[3] != "" {
			release += "." + m[3]
		} else if m[4] != "" {
			release += "." + m[4]
		}
		distro := "sles"
		switch {
		case strings.HasPrefix(name, "openSUSE Leap Micro"):
			distro = "opensuse-leap-micro"
		case strings.HasPrefix(name, "openSUSE Leap"):
			distro = "opensuse-leap"
		case strings.Contains(name, "Desktop"):
			distro = "sled"
		case strings.Contains(name, "for SAP"):
			distro = "sles_sap"
		case strings.Contains(name, "Micro"):
			distro = "sle-micro"
		}
		return platform{distro, release, strings.TrimSuffix(comment, " is installed")}, true
	}
	return platform{}, false
}

// pkgCriterion is a resolved package criterion.
type pkgCriterion struct {
	names         []string
	fixed, arch   string
	status        patchcore.FixStatus
	scheme        string
	kernelPattern string
}

// resolve classifies a criterion: a platform, a package test, or neither.
func (d *Document) resolve(c Criterion) (plat *platform, pkg *pkgCriterion) {
	if c.Negate {
		return nil, nil
	}
	if p, ok := platformOf(c.Comment); ok {
		return &p, nil
	}
	t := d.tests[c.TestRef]
	if t == nil {
		return nil, commentPackage(c.Comment)
	}
	scheme := "rpm"
	switch {
	case strings.HasPrefix(t.kind, "dpkginfo"):
		scheme = "deb"
	case strings.HasPrefix(t.kind, "rpminfo"):
	case t.kind == "variable_test":
		return nil, d.kernelTest(t, c)
	default:
		return nil, nil // rpmverifyfile, textfilecontent, uname, family ...
	}
	o := d.objects[t.Object.Ref]
	if o == nil {
		return nil, commentPackage(c.Comment)
	}
	names := []string{strings.TrimSpace(o.Name.Value)}
	if o.Name.VarRef != "" {
		v := d.variables[o.Name.VarRef]
		if v == nil {
			return nil, nil
		}
		names = v.Values
	}
	if strings.HasSuffix(names[0], "-release") && len(names) == 1 && scheme == "rpm" {
		return nil, nil // sles-release, redhat-release: platform tests
	}
	pc := &pkgCriterion{names: names, scheme: scheme, status: patchcore.FixUnfixed}
	for _, ref := range t.States {
		s := d.states[ref.Ref]
		if s == nil {
			continue
		}
		if s.SignatureKeyID.Value != "" && s.EVR.Value == "" && s.Version.Value == "" {
			return nil, nil // "is signed with Red Hat key"
		}
		if s.EVR.Value != "" {
			switch strings.ToLower(s.EVR.Operation) {
			case "less than", "6": // SUSE writes the enumeration's index
				pc.fixed, pc.status = strings.TrimSpace(s.EVR.Value), patchcore.FixFixed
			default:
				return nil, nil
			}
		}
		if s.Version.Value != "" && s.EVR.Value == "" {
			if strings.TrimSpace(s.Version.Value) == "0" && reNotAff.MatchString(c.Comment) {
				pc.status = patchcore.FixNotAffected // SUSE: "version == 0" never holds
				continue
			}
			return nil, nil // version equals: a platform or product test
		}
		if a := strings.TrimSpace(s.Arch.Value); a != "" && strings.ToLower(s.Arch.Operation) != "pattern match" {
			pc.arch = a
		}
	}
	return nil, pc
}

// commentPackage reads a criterion whose test is missing from its comment
// (truncated SUSE files): "pkg-1.2-3.1 is installed" or "pkg is not affected".
func commentPackage(comment string) *pkgCriterion {
	if m := reSUSEPkg.FindStringSubmatch(comment); m != nil {
		return &pkgCriterion{names: []string{m[1]}, fixed: m[2] + "-" + m[3], status: patchcore.FixFixed, scheme: "rpm"}
	}
	if m := reNotAff.FindStringSubmatch(comment); m != nil {
		return &pkgCriterion{names: []string{m[1]}, status: patchcore.FixNotAffected, scheme: "rpm"}
	}
	if m := reRHEarlier.FindStringSubmatch(comment); m != nil {
		return &pkgCriterion{names: []string{m[1]}, fixed: m[2], status: patchcore.FixFixed, scheme: "rpm"}
	}
	return nil
}

// kernelTest reads Ubuntu's "Is kernel linux-gke running" test; the version
// comes from the sibling "kernel version comparison" test (see walk).
func (d *Document) kernelTest(t *test, c Criterion) *pkgCriterion {
	m := reKernelRun.FindStringSubmatch(t.Comment)
	if m == nil {
		m = reKernelRun.FindStringSubmatch(c.Comment)
	}
	if m == nil {
		return nil
	}
	pc := &pkgCriterion{names: []string{m[1]}, scheme: "deb", status: patchcore.FixUnfixed}
	for _, ref := range t.States {
		if s := d.states[ref.Ref]; s != nil && s.Value.Value != "" {
			pc.kernelPattern = s.Value.Value
		}
	}
	return pc
}

// kernelVersion reads a "kernel version comparison" variable test's bound.
func (d *Document) kernelVersion(c Criterion) (string, bool) {
	t := d.tests[c.TestRef]
	if t == nil || t.kind != "variable_test" || reKernelRun.MatchString(t.Comment) {
		return "", false
	}
	for _, ref := range t.States {
		if s := d.states[ref.Ref]; s != nil && strings.EqualFold(s.Value.Operation, "less than") {
			return strings.TrimSpace(s.Value.Value), true
		}
	}
	return "", false
}

// walk collects fixes under c for the platforms that hold on the path.
func (d *Document) walk(c *Criteria, plats []platform, out func(platform, *pkgCriterion)) {
	and := !strings.EqualFold(c.Operator, "OR") // AND is the default
	if c.Negate {
		return
	}
	here := plats
	var pkgs []*pkgCriterion
	kernelFixed := ""
	for _, cr := range c.Criterions {
		p, pc := d.resolve(cr)
		switch {
		case p != nil && and:
			here = append(slices.Clip(here), *p)
		case pc != nil:
			pkgs = append(pkgs, pc)
		default:
			if v, ok := d.kernelVersion(cr); ok {
				kernelFixed = v
			}
		}
	}
	if and {
		// An OR child made of platform criteria only names alternative platforms.
		for i := range c.Criteria {
			if ps, ok := d.platformsOnly(&c.Criteria[i]); ok {
				here = append(slices.Clip(here), ps...)
			}
		}
	}
	for _, pc := range pkgs {
		if pc.kernelPattern != "" && kernelFixed != "" {
			pc.fixed, pc.status = kernelFixed, patchcore.FixFixed
		}
		if len(here) == 0 {
			out(platform{}, pc)
			continue
		}
		for _, p := range here {
			if len(plats) > 0 && len(here) > len(plats) && slices.Contains(plats, p) {
				continue // a more specific platform was named on this path
			}
			out(p, pc)
		}
	}
	for i := range c.Criteria {
		if _, ok := d.platformsOnly(&c.Criteria[i]); ok && and {
			continue
		}
		d.walk(&c.Criteria[i], here, out)
	}
}

// platformsOnly reports the platforms of an OR node whose children are all
// platform criteria.
func (d *Document) platformsOnly(c *Criteria) ([]platform, bool) {
	if !strings.EqualFold(c.Operator, "OR") || len(c.Criteria) > 0 || len(c.Criterions) == 0 {
		return nil, false
	}
	var ps []platform
	for _, cr := range c.Criterions {
		p, _ := d.resolve(cr)
		if p == nil {
			return nil, false
		}
		ps = append(ps, *p)
	}
	return ps, true
}

// Patch maps one definition (see the package documentation).
func (d *Document) Patch(def *Definition, defDistro, defRelease string) (patchcore.Patch, error) {
	p := patchcore.Patch{
		Source:         "oval",
		Title:          strings.TrimSpace(def.Title),
		Description:    strings.TrimSpace(def.Description),
		Classification: patchcore.ClassSecurity,
	}
	switch {
	case strings.HasPrefix(def.ID, "oval:com.redhat"):
		p.Vendor = "Red Hat"
	case strings.HasPrefix(def.ID, "oval:org.opensuse"), strings.HasPrefix(def.ID, "oval:com.suse"):
		p.Vendor = "SUSE"
	case strings.HasPrefix(def.ID, "oval:com.oracle"):
		p.Vendor = "Oracle"
	case strings.HasPrefix(def.ID, "oval:org.debian"):
		p.Vendor = "Debian"
	case strings.HasPrefix(def.ID, "oval:com.ubuntu"):
		p.Vendor = "Canonical"
		if m := reUbuntuNS.FindStringSubmatch(def.ID); m != nil && defRelease == "" {
			defDistro, defRelease = "ubuntu", m[1]
		}
	}
	var advisory, cve string
	for _, r := range def.References {
		switch strings.ToUpper(r.Source) {
		case "RHSA", "USN", "SUSE-SU", "ELSA", "ALAS", "DSA":
			if advisory == "" {
				advisory = r.RefID
			}
		case "CVE":
			id := strings.TrimPrefix(r.RefID, "Mitre ")
			if cve == "" {
				cve = id
			}
			addCVE(&p, patchcore.CVE{ID: id})
		}
		if r.RefURL != "" && !slices.Contains(p.References, r.RefURL) {
			p.References = append(p.References, r.RefURL)
		}
	}
	for _, c := range def.Advisory.CVEs {
		x := patchcore.CVE{ID: strings.TrimSpace(c.ID)}
		if score, vector, ok := strings.Cut(c.CVSS3, "/"); ok {
			x.CVSSScore, _ = strconv.ParseFloat(score, 64)
			x.CVSSVector = vector
		} else if c.CVSSScore != "" {
			x.CVSSScore, _ = strconv.ParseFloat(c.CVSSScore, 64)
			x.CVSSVector = c.CVSSVector
		}
		if x.ID != "" {
			addCVE(&p, x)
		}
	}
	if cve == "" && p.Vendor == "Debian" {
		// Debian names the CVE only in the title ("CVE-2001-1593").
		if id := reCVE.FindString(p.Title); id != "" {
			cve = id
			addCVE(&p, patchcore.CVE{ID: id})
		}
	}
	switch {
	case def.Class == "patch" && advisory != "":
		p.ID = advisory
	case cve != "":
		p.ID = cve
	case advisory != "":
		p.ID = advisory
	default:
		p.ID = def.ID
	}
	if p.ID != def.ID {
		p.Aliases = []string{def.ID}
	}
	if def.Advisory.Severity != "" {
		p.Severity = patchcore.ParseSeverity(def.Advisory.Severity)
	}
	var err error
	if p.Released, err = parseDate(def.Advisory.Issued.Date); err != nil {
		return p, err
	}
	if p.Released.IsZero() {
		if p.Released, err = parseDate(def.Advisory.PublicDate); err != nil {
			return p, err
		}
	}
	if p.Revised, err = parseDate(def.Advisory.Updated.Date); err != nil {
		return p, err
	}
	wontFix := map[string]bool{}
	for _, a := range def.Advisory.Affected {
		for _, r := range a.Resolutions {
			if s := strings.ToLower(r.State); s == "will not fix" || s == "out of support scope" {
				for _, comp := range r.Components {
					wontFix[strings.TrimSpace(comp)] = true
				}
			}
		}
	}
	// Red Hat's "unaffected" definitions list the components Red Hat
	// determined NOT to be affected; their tests only say "is installed".
	unaffected := strings.HasPrefix(def.ID, "oval:com.redhat.unaffected:")
	seen := map[string]bool{}
	d.walk(&def.Criteria, nil, func(pl platform, pc *pkgCriterion) {
		distro, release := pl.distro, pl.release
		if distro == "" {
			distro, release = defDistro, defRelease
		}
		for _, name := range pc.names {
			f := patchcore.Fix{
				Distro:       distro,
				Release:      release,
				Product:      pl.product,
				Package:      name,
				PackageKind:  patchcore.PackageBinary,
				Arch:         pc.arch,
				Scheme:       pc.scheme,
				Status:       pc.status,
				FixedVersion: pc.fixed,
			}
			f.Ecosystem = patchcore.EcosystemRPM
			if pc.scheme == "deb" {
				f.Ecosystem = patchcore.EcosystemDeb
			}
			switch {
			case unaffected:
				f.Status, f.FixedVersion = patchcore.FixNotAffected, ""
			case f.Status == patchcore.FixUnfixed && wontFix[name]:
				f.Status = patchcore.FixWontFix
			}
			if p.Vendor == "Debian" && pc.scheme == "deb" {
				// Debian's OVAL names source packages, and prefixes
				// "0:" to versions that carry their own epoch
				// ("0:1:4.14-1.1+deb7u1").
				f.PackageKind = patchcore.PackageSource
				if rest, ok := strings.CutPrefix(f.FixedVersion, "0:"); ok && reEpoch.MatchString(rest) {
					f.FixedVersion = rest
				}
			}
			if pc.kernelPattern != "" {
				f.PackageKind = patchcore.PackageSource
				f.Attributes = map[string]string{"kernel": "running", "kernel_pattern": pc.kernelPattern}
			}
			k := strings.Join([]string{f.Distro, f.Release, f.Product, f.Package, f.Arch, f.FixedVersion, string(f.Status)}, "\x00")
			if seen[k] {
				continue
			}
			seen[k] = true
			p.Fixes = append(p.Fixes, f)
		}
	})
	return p, nil
}

func addCVE(p *patchcore.Patch, c patchcore.CVE) {
	for i := range p.CVEs {
		if p.CVEs[i].ID == c.ID {
			if p.CVEs[i].CVSSScore == 0 {
				p.CVEs[i] = c
			}
			return
		}
	}
	p.CVEs = append(p.CVEs, c)
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{"2006-01-02", "2006-01-02 15:04:05", time.RFC3339, "2006-01-02 15:04:05 MST", "20060102"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, stream.Malformedf("unrecognised date %q", s)
}
