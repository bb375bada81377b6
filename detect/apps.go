package detect

import (
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// apps evaluates application packages (Chocolatey, winget, and any
// package with a Windows installer ProductCode) against the catalog's
// latest version of each, and packages of other ecosystems (OSV: npm,
// PyPI, Go, ...) against their affected ranges.
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
		if p.Ecosystem == patchcore.EcosystemChocolatey || p.Ecosystem == patchcore.EcosystemWinget {
			list = d.c.apps[string(p.Ecosystem)+"\x00"+strings.ToLower(p.Name)]
		}
		if len(list) == 0 && p.ProductCode != "" {
			list = d.c.appsByCode[strings.ToLower(p.ProductCode)]
		}
		if len(list) > 0 {
			d.appLatest(i, p, list)
			continue
		}
		for _, cf := range d.c.ecoFixes[string(p.Ecosystem)+"\x00"+p.Name] {
			ev := evidence{pkg: p, installed: p.Version, cf: cf}
			v, err := d.version(i, cf.scheme, p.Version, false)
			if err != nil {
				ev.state, ev.why, ev.note = patchcore.FindingUnknown, whyBadInstalled, err.Error()
			} else {
				ev.state, ev.why = compare(v, p.Version, cf)
			}
			d.add(cf.cp, ev)
		}
	}
}

// appLatest compares an installed application with the newest catalog
// version (list is sorted newest first) and marks the older versions
// superseded by it.
func (d *device) appLatest(i int, p *patchcore.Package, list []*cfix) {
	latest := list[0]
	ev := evidence{pkg: p, installed: p.Version, cf: latest}
	switch v, err := d.version(i, latest.scheme, p.Version, false); {
	case latest.err != nil:
		ev.state, ev.why = patchcore.FindingUnknown, whyBadFix
	case latest.fixed == nil:
		ev.state, ev.why = patchcore.FindingMissing, whyNoFixedVersion
	case err != nil:
		ev.state, ev.why, ev.note = patchcore.FindingUnknown, whyBadInstalled, err.Error()
	case v.Compare(latest.fixed) < 0:
		ev.state, ev.why = patchcore.FindingMissing, whyAppLatest
	default:
		ev.state, ev.why = patchcore.FindingInstalled, whyAppCurrent
	}
	d.add(latest.cp, ev)
	for _, cf := range list[1:] {
		if cf.cp == latest.cp {
			continue
		}
		old := evidence{pkg: p, installed: p.Version, cf: cf, state: patchcore.FindingSuperseded, why: whyAppOlder, note: latest.cp.p.ID}
		if cf.err != nil {
			old.state, old.why = patchcore.FindingUnknown, whyBadFix
		}
		d.add(cf.cp, old)
		if a := &d.accs[d.accIdx[cf.cp]]; a.state == patchcore.FindingSuperseded {
			a.supBy = latest.cp.p.ID
		}
	}
}
