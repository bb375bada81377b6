package detect

import (
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// apps evaluates application packages (Chocolatey, winget, Microsoft
// products MSRC versions, and any package with a Windows installer
// ProductCode) against the catalog's
// latest version of each, and packages of other ecosystems (OSV: npm,
// PyPI, Go, ...) against their affected ranges. Their verdicts are the
// device's own (not memoised).
func (d *device) apps() {
	pkgs := d.inv.Packages
	for i := range pkgs {
		p := &pkgs[i]
		switch p.Ecosystem {
		case patchcore.EcosystemDeb, patchcore.EcosystemRPM, "":
			if p.ProductCode == "" {
				continue
			}
		}
		var list []*cfix
		switch p.Ecosystem {
		case patchcore.EcosystemChocolatey, patchcore.EcosystemWinget:
			list = d.c.apps[string(p.Ecosystem)+"\x00"+strings.ToLower(p.Name)]
		case patchcore.EcosystemMicrosoft:
			// MSRC product versions (Edge, Visual Studio, ...) are keyed
			// by the MSRC product name the installed product maps to.
			if name, err := MapMicrosoftProduct(*p); err == nil {
				list = d.c.apps[string(p.Ecosystem)+"\x00"+strings.ToLower(name)]
			}
		}
		if len(list) == 0 && p.ProductCode != "" {
			list = d.c.appsByCode[strings.ToLower(p.ProductCode)]
		}
		if len(list) > 0 {
			d.appLatest(p, list)
			continue
		}
		fixes := d.c.ecoFixes[string(p.Ecosystem)+"\x00"+p.Name]
		if len(fixes) == 0 {
			continue
		}
		ev := d.appEvaluator(p)
		for _, cf := range fixes {
			c := cev{pf: d.appFix(cf), installed: p.Version}
			v, err := ev.version(cf.scheme, p.Version, false)
			if err != nil {
				c.st, c.why, c.note = stUnknown, whyBadInstalled, err.Error()
			} else {
				c.st, c.why = compare(v, p.Version, cf)
			}
			ev.add(c)
		}
		d.appVs = append(d.appVs, ev.v)
	}
}

func (d *device) appEvaluator(p *patchcore.Package) *evaluator {
	e := &ventry{pkgID: idOf(p)}
	return &evaluator{e: e, v: &verdict{e: e}, running: true}
}

func (d *device) appFix(cf *cfix) *pfix { return &pfix{cf: cf, pn: d.pnOf(cf.cp)} }

// appLatest compares an installed application with the newest catalog
// version (list is sorted newest first) and marks the older versions
// superseded by it.
func (d *device) appLatest(p *patchcore.Package, list []*cfix) {
	latest := list[0]
	ev := d.appEvaluator(p)
	c := cev{pf: d.appFix(latest), installed: p.Version}
	switch v, err := ev.version(latest.scheme, p.Version, false); {
	case latest.err != nil:
		c.st, c.why = stUnknown, whyBadFix
	case latest.fixed == nil:
		c.st, c.why = stMissing, whyNoFixedVersion
	case err != nil:
		c.st, c.why, c.note = stUnknown, whyBadInstalled, err.Error()
	case v.Compare(latest.fixed) < 0:
		c.st, c.why = stMissing, whyAppLatest
	default:
		c.st, c.why = stInstalled, whyAppCurrent
	}
	ev.add(c)
	for _, cf := range list[1:] {
		if cf.cp == latest.cp {
			continue
		}
		old := cev{pf: d.appFix(cf), installed: p.Version, st: stSuperseded, why: whyAppOlder, note: latest.cp.p.ID, older: true}
		if cf.err != nil {
			old.st, old.why = stUnknown, whyBadFix
		}
		ev.add(old)
	}
	d.appVs = append(d.appVs, ev.v)
}
