// Package osv reads OSV JSON (https://ossf.github.io/osv-schema/) for any
// ecosystem: Ubuntu USNs, Rocky RLSAs, AlmaLinux ALSAs, Debian DSAs, Go,
// PyPI, npm and the rest. A document is one OSV entry or a JSON array of
// entries; either is streamed one entry at a time.
//
// Mapping: Patch.ID is the OSV id, Aliases are its aliases and upstream ids,
// CVEs are every CVE named in aliases, upstream or related (a USN's
// "UBUNTU-CVE-2021-3782" gives CVE-2021-3782). Each affected range gives a
// Fix: Introduced (empty for "0"), FixedVersion, or Status unfixed with the
// "last_affected" attribute when no fix is published. Distro and Release
// come from the ecosystem ("Ubuntu:22.04:LTS" is ubuntu/22.04, "Rocky
// Linux:8" rocky/8, "AlmaLinux:8" almalinux/8, "Debian:12" debian/12);
// SUSE's and openSUSE's product ecosystems are read through
// patchcore.CanonicalRelease ("SUSE:Linux Enterprise Server 15 SP4" is
// sles/15.4, "openSUSE:Leap 15.5" opensuse-leap/15.5, "openSUSE:Tumbleweed"
// opensuse-tumbleweed with no release). Ecosystem is deb, rpm, go, pypi,
// npm, ...; Scheme deb, rpm or semver; PackageKind source for Ubuntu and
// Debian (USN and DSA entries name source packages; the USN's binary
// packages are in Fix.Binaries) and for Rocky Linux (an RLSA names the
// source RPMs it rebuilt: RLSA-2021:3891 lists java-11-openjdk, not
// java-11-openjdk-headless, so detection matches binaries through the
// source RPM an inventory records), binary for the other RPM distributions
// (AlmaLinux's ALSAs list binary packages: ALSA-2023:4520 names
// python3-requests, built from python-requests).
package osv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Source is the Patch.Source of OSV patches.
const Source = "osv"

// Format is the feed.Format of OSV JSON.
type Format struct{}

var _ feed.Format = Format{}

// Name returns "osv".
func (Format) Name() string { return Source }

// Detect reports a JSON document that looks like an OSV entry (or array).
func (Format) Detect(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return false
	}
	return bytes.Contains(t, []byte(`"id"`)) &&
		(bytes.Contains(t, []byte(`"affected"`)) || bytes.Contains(t, []byte(`"modified"`)) || bytes.Contains(t, []byte(`"schema_version"`))) &&
		!bytes.Contains(t, []byte(`"csaf_version"`)) && !bytes.Contains(t, []byte(`"patchcore_feed"`))
}

// Entry is an OSV entry, as far as patchcore reads it.
type Entry struct {
	ID        string     `json:"id"`
	Summary   string     `json:"summary"`
	Details   string     `json:"details"`
	Aliases   []string   `json:"aliases"`
	Upstream  []string   `json:"upstream"`
	Related   []string   `json:"related"`
	Published string     `json:"published"`
	Modified  string     `json:"modified"`
	Withdrawn string     `json:"withdrawn"`
	Severity  []severity `json:"severity"`
	Affected  []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
			PURL      string `json:"purl"`
		} `json:"package"`
		Severity []severity `json:"severity"`
		Ranges   []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
		DatabaseSpecific  json.RawMessage `json:"database_specific"`
	} `json:"affected"`
	References []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Parse reads one OSV entry or an array of entries and emits a patch for
// each. Withdrawn entries are skipped.
func (Format) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	br := bufio.NewReaderSize(r, 4<<10)
	first := firstByte(br)
	dec := json.NewDecoder(br)
	one := func(field string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return stream.JSONError(dec, field, err)
		}
		if e.ID == "" {
			return stream.JSONError(dec, field+"id", fmt.Errorf("missing"))
		}
		p, err := Convert(&e)
		if err != nil {
			return stream.JSONError(dec, field+e.ID, err)
		}
		if e.Withdrawn != "" {
			return nil
		}
		return emit(p)
	}
	var err error
	if first == '[' {
		err = stream.Array(dec, "", func(i int) error { return one(fmt.Sprintf("[%d].", i)) })
	} else {
		err = one("")
	}
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return stream.JSONError(dec, "", fmt.Errorf("data after the document"))
	}
	return nil
}

// firstByte returns the first byte after white space (and a UTF-8 BOM),
// leaving it unread; 0 for an empty document.
func firstByte(br *bufio.Reader) byte {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0
		}
		switch c {
		case ' ', '\t', '\r', '\n', 0xef, 0xbb, 0xbf:
			continue
		}
		br.UnreadByte()
		return c
	}
}

var cveRE = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

// Convert maps one OSV entry to a patch.
func Convert(e *Entry) (patchcore.Patch, error) {
	p := patchcore.Patch{
		ID:             e.ID,
		Source:         Source,
		Title:          strings.TrimSpace(e.Summary),
		Description:    strings.TrimSpace(e.Details),
		Classification: patchcore.ClassSecurity,
		Released:       parseTime(e.Published),
		Revised:        parseTime(e.Modified),
	}
	for _, a := range slices.Concat(e.Aliases, e.Upstream) {
		if a != "" && a != e.ID && !slices.Contains(p.Aliases, a) {
			p.Aliases = append(p.Aliases, a)
		}
	}
	for _, a := range slices.Concat(e.Aliases, e.Upstream, e.Related) {
		if id := cveRE.FindString(a); id != "" && !slices.ContainsFunc(p.CVEs, func(c patchcore.CVE) bool { return c.ID == id }) {
			p.CVEs = append(p.CVEs, patchcore.CVE{ID: id})
		}
	}
	if id := cveRE.FindString(e.ID); id != "" && len(p.CVEs) == 0 {
		p.CVEs = append(p.CVEs, patchcore.CVE{ID: id})
	}
	for _, r := range e.References {
		if r.URL != "" && !slices.Contains(p.References, r.URL) {
			p.References = append(p.References, r.URL)
		}
	}
	p.Severity = entrySeverity(e)
	setVectors(&p, e.Severity)
	for i, a := range e.Affected {
		eco := a.Package.Ecosystem
		distro, release, ecosystem, scheme, kind := ecosystemOf(eco)
		if p.Vendor == "" {
			p.Vendor = vendorOf(eco, e.ID)
		}
		bins, cves := affectedSpecific(a.EcosystemSpecific, a.DatabaseSpecific)
		for _, c := range cves {
			mergeCVE(&p, c)
			if s := patchcore.ParseSeverity(c.ubuntu); s.Compare(p.Severity) > 0 {
				p.Severity = s
			}
		}
		base := patchcore.Fix{
			Distro: distro, Release: release, Ecosystem: ecosystem, Scheme: scheme,
			Package: a.Package.Name, PackageKind: kind, Binaries: bins,
		}
		if len(a.Ranges) == 0 {
			// Explicit versions only (or nothing): affected, no fixed version stated.
			f := base
			f.Status = patchcore.FixUnfixed
			p.Fixes = append(p.Fixes, f)
			continue
		}
		for j, r := range a.Ranges {
			if r.Type == "GIT" {
				continue
			}
			if r.Type == "SEMVER" {
				base.Scheme = "semver"
			}
			fixes, err := rangeFixes(base, r.Events)
			if err != nil {
				return p, fmt.Errorf("affected[%d].ranges[%d]: %w", i, j, err)
			}
			p.Fixes = append(p.Fixes, fixes...)
		}
	}
	if p.Vendor == "" {
		p.Vendor = vendorOf("", e.ID)
	}
	return p, nil
}

var eventKeys = []string{"introduced", "fixed", "last_affected", "limit"}

// rangeFixes turns the events of one range into fixes, one per introduced
// version.
func rangeFixes(base patchcore.Fix, events []map[string]string) ([]patchcore.Fix, error) {
	var out []patchcore.Fix
	var cur *patchcore.Fix
	for k, ev := range events {
		for key := range ev {
			if !slices.Contains(eventKeys, key) {
				return nil, fmt.Errorf("events[%d]: unknown event %q", k, key)
			}
		}
		for _, key := range eventKeys {
			v, ok := ev[key]
			if !ok {
				continue
			}
			switch key {
			case "introduced":
				if cur != nil {
					cur.Status = patchcore.FixUnfixed
					out = append(out, *cur)
				}
				f := base
				if v != "0" {
					f.Introduced = v
				}
				cur = &f
			case "fixed", "last_affected", "limit":
				if cur == nil {
					f := base
					cur = &f
				}
				switch key {
				case "fixed":
					cur.FixedVersion = v
				case "last_affected":
					cur.Status = patchcore.FixUnfixed
					cur.Attributes = map[string]string{"last_affected": v}
				case "limit":
					cur.Status = patchcore.FixUnfixed
					cur.Attributes = map[string]string{"limit": v}
				}
				out = append(out, *cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		cur.Status = patchcore.FixUnfixed
		out = append(out, *cur)
	}
	return out, nil
}

// ecosystemOf maps an OSV ecosystem to distro, release, package ecosystem,
// version scheme and package kind.
func ecosystemOf(eco string) (distro, release string, ecosystem patchcore.Ecosystem, scheme string, kind patchcore.PackageKind) {
	parts := strings.Split(eco, ":")
	name := parts[0]
	rel := ""
	if len(parts) > 1 {
		rel = parts[1]
		if rel == "Pro" && len(parts) > 2 { // "Ubuntu:Pro:18.04:LTS"
			rel = parts[2]
		}
	}
	switch strings.ToLower(name) {
	case "ubuntu":
		return "ubuntu", rel, patchcore.EcosystemDeb, "deb", patchcore.PackageSource
	case "debian":
		return "debian", rel, patchcore.EcosystemDeb, "deb", patchcore.PackageSource
	case "rocky linux":
		return "rocky", rel, patchcore.EcosystemRPM, "rpm", patchcore.PackageSource
	case "almalinux":
		return "almalinux", rel, patchcore.EcosystemRPM, "rpm", patchcore.PackageBinary
	case "red hat":
		return "rhel", rel, patchcore.EcosystemRPM, "rpm", patchcore.PackageBinary
	case "suse", "opensuse":
		d, r := patchcore.CanonicalRelease(name, strings.Join(parts[1:], ":"))
		return d, r, patchcore.EcosystemRPM, "rpm", patchcore.PackageBinary
	case "alpine":
		return "alpine", strings.TrimPrefix(rel, "v"), "apk", "apk", patchcore.PackageBinary
	case "go":
		return "", "", patchcore.EcosystemGo, "semver", ""
	case "pypi":
		return "", "", patchcore.EcosystemPyPI, "semver", ""
	case "npm":
		return "", "", patchcore.EcosystemNPM, "semver", ""
	}
	return "", "", patchcore.Ecosystem(strings.ToLower(name)), "semver", ""
}

func vendorOf(eco, id string) string {
	switch strings.ToLower(strings.Split(eco, ":")[0]) {
	case "ubuntu":
		return "Canonical"
	case "debian":
		return "Debian"
	case "rocky linux":
		return "Rocky Enterprise Software Foundation"
	case "almalinux":
		return "AlmaLinux OS Foundation"
	case "red hat":
		return "Red Hat"
	case "go":
		return "Go"
	case "pypi":
		return "PyPA"
	}
	if i := strings.IndexAny(id, "-:"); i > 0 {
		return id[:i]
	}
	return ""
}

type ubuntuCVE struct {
	patchcore.CVE
	ubuntu string
}

// affectedSpecific reads the USN binaries and the per-CVE severities OSV
// publishers put in ecosystem_specific and database_specific.
func affectedSpecific(eco, db json.RawMessage) ([]string, []ubuntuCVE) {
	var bins []string
	if len(eco) > 0 {
		var es struct {
			Binaries []struct {
				Name string `json:"binary_name"`
			} `json:"binaries"`
		}
		if json.Unmarshal(eco, &es) == nil {
			for _, b := range es.Binaries {
				if b.Name != "" {
					bins = append(bins, b.Name)
				}
			}
		}
	}
	var cves []ubuntuCVE
	if len(db) > 0 {
		var ds struct {
			CVEsMap struct {
				CVEs []struct {
					ID       string     `json:"id"`
					Severity []severity `json:"severity"`
				} `json:"cves"`
			} `json:"cves_map"`
		}
		if json.Unmarshal(db, &ds) == nil {
			for _, c := range ds.CVEsMap.CVEs {
				u := ubuntuCVE{CVE: patchcore.CVE{ID: c.ID}}
				for _, s := range c.Severity {
					switch {
					case strings.HasPrefix(s.Type, "CVSS_V3") && u.CVSSVector == "":
						u.CVSSVector = s.Score
					case s.Type == "Ubuntu":
						u.ubuntu = s.Score
					}
				}
				cves = append(cves, u)
			}
		}
	}
	return bins, cves
}

func mergeCVE(p *patchcore.Patch, c ubuntuCVE) {
	for i := range p.CVEs {
		if p.CVEs[i].ID == c.ID {
			if p.CVEs[i].CVSSVector == "" {
				p.CVEs[i].CVSSVector = c.CVSSVector
			}
			return
		}
	}
	if c.ID != "" {
		p.CVEs = append(p.CVEs, c.CVE)
	}
}

// entrySeverity reads a severity word from database_specific (GitHub's
// "severity": "HIGH", AlmaLinux/Rocky "severity": "Important").
func entrySeverity(e *Entry) patchcore.Severity {
	if len(e.DatabaseSpecific) == 0 {
		return patchcore.Severity{}
	}
	var ds struct {
		Severity any `json:"severity"`
	}
	if json.Unmarshal(e.DatabaseSpecific, &ds) != nil {
		return patchcore.Severity{}
	}
	if s, ok := ds.Severity.(string); ok {
		return patchcore.ParseSeverity(s)
	}
	return patchcore.Severity{}
}

// setVectors attaches top-level CVSS vectors to the CVEs when the entry has exactly one.
func setVectors(p *patchcore.Patch, sev []severity) {
	for _, s := range sev {
		if strings.HasPrefix(s.Type, "CVSS_V3") || strings.HasPrefix(s.Type, "CVSS_V4") {
			if len(p.CVEs) == 1 && p.CVEs[0].CVSSVector == "" {
				p.CVEs[0].CVSSVector = s.Score
			}
		}
	}
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}
