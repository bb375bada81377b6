// Package rpmmeta reads what the rpm-based adapters (dnf/yum, zypper)
// share: the installed packages as rpm --queryformat prints them, the
// updateinfo.xml advisories that repositories publish and package managers
// cache, and dnf/yum versionlock lists.
package rpmmeta

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/patchcore/sdk/patchcore"
)

// QueryFormat is the rpm -qa --queryformat template ParseQuery reads: one
// tab-separated line per package.
const QueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{INSTALLTIME}\t%{MODULARITYLABEL}\n`

// Installed is an installed rpm with its install time.
type Installed struct {
	patchcore.Package
	InstallTime time.Time
}

// EVR renders epoch, version and release the way dnf and zypper print
// them: "1.1-1", or "2:1.1-1" when the epoch is not zero.
func EVR(epoch, version, release string) string {
	s := version
	if release != "" {
		s += "-" + release
	}
	if epoch != "" && epoch != "0" && epoch != "(none)" {
		s = epoch + ":" + s
	}
	return s
}

// ParseQuery parses rpm -qa --queryformat QueryFormat output, sorted by
// name then arch. gpg-pubkey pseudo-packages are left out. The source
// package comes from SOURCERPM ("bash-5.1.8-9.el9.src.rpm" -> bash,
// 5.1.8-9.el9); the module stream from MODULARITYLABEL ("nodejs:18:..." ->
// "nodejs:18"). A malformed line is an error naming its line number and
// wrapping patchcore.ErrInvalidInput.
func ParseQuery(out []byte) ([]Installed, error) {
	var pkgs []Installed
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
		if len(f) != 8 {
			return nil, fmt.Errorf("rpm query line %d: %w: want 8 tab-separated fields, got %d", line, patchcore.ErrInvalidInput, len(f))
		}
		name, epoch, ver, rel, arch := f[0], f[1], f[2], f[3], f[4]
		if name == "" || ver == "" {
			return nil, fmt.Errorf("rpm query line %d: %w: package without name or version", line, patchcore.ErrInvalidInput)
		}
		if name == "gpg-pubkey" {
			continue
		}
		if epoch != "(none)" {
			if _, err := strconv.ParseUint(epoch, 10, 32); err != nil {
				return nil, fmt.Errorf("rpm query line %d: field EPOCH: %w: %q is not a number", line, patchcore.ErrInvalidInput, epoch)
			}
		}
		p := Installed{Package: patchcore.Package{
			Name: name, Version: EVR(epoch, ver, rel), Arch: arch, Ecosystem: patchcore.EcosystemRPM,
		}}
		if src := f[5]; src != "(none)" && src != "" {
			if n, v, ok := SplitSourceRPM(src); ok {
				p.SourceName, p.SourceVersion = n, EVR(epoch, v, "")
			}
		}
		if ml := f[7]; ml != "(none)" && ml != "" {
			parts := strings.SplitN(ml, ":", 3)
			if len(parts) >= 2 {
				p.ModuleStream = parts[0] + ":" + parts[1]
			}
		}
		if ts, err := strconv.ParseInt(f[6], 10, 64); err == nil && ts > 0 {
			p.InstallTime = time.Unix(ts, 0).UTC()
		}
		pkgs = append(pkgs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("rpm query line %d: %w: %w", line+1, patchcore.ErrTooLarge, err)
	}
	slices.SortStableFunc(pkgs, func(x, y Installed) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Arch, y.Arch)
	})
	return pkgs, nil
}

// SplitSourceRPM splits "name-version-release.src.rpm" into the name and
// "version-release".
func SplitSourceRPM(s string) (name, vr string, ok bool) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".rpm"), ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return "", "", false
	}
	return s[:j], s[j+1:], true
}

// SplitNEVRA splits "name-[epoch:]version-release.arch" into its parts.
func SplitNEVRA(s string) (name, evr, arch string, ok bool) {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 {
		return "", "", "", false
	}
	arch = s[dot+1:]
	n, vr, ok := SplitSourceRPM(s[:dot])
	if !ok || arch == "" {
		return "", "", "", false
	}
	return n, vr, arch, true
}

// Advisory is one <update> of an updateinfo.xml.
type Advisory struct {
	ID       string
	Type     string // "security", "bugfix", "enhancement", "newpackage"
	Severity string // the vendor's word ("Important"), empty when none
	Title    string
	Issued   time.Time
	Updated  time.Time
	CVEs     []string
	// Packages are the NEVRAs the advisory ships, "name-evr.arch" with the
	// epoch left out when it is 0.
	Packages []string
}

// Classification maps the advisory type onto patchcore's classifications.
func (a Advisory) Classification() patchcore.Classification {
	switch strings.ToLower(a.Type) {
	case "security":
		return patchcore.ClassSecurity
	case "bugfix", "recommended":
		return patchcore.ClassBugfix
	case "enhancement", "feature", "optional", "newpackage":
		return patchcore.ClassEnhancement
	}
	return patchcore.ClassOther
}

type xmlUpdate struct {
	Type     string `xml:"type,attr"`
	ID       string `xml:"id"`
	Title    string `xml:"title"`
	Severity string `xml:"severity"`
	Issued   struct {
		Date string `xml:"date,attr"`
	} `xml:"issued"`
	Updated struct {
		Date string `xml:"date,attr"`
	} `xml:"updated"`
	References []struct {
		ID   string `xml:"id,attr"`
		Type string `xml:"type,attr"`
	} `xml:"references>reference"`
	Packages []struct {
		Name    string `xml:"name,attr"`
		Epoch   string `xml:"epoch,attr"`
		Version string `xml:"version,attr"`
		Release string `xml:"release,attr"`
		Arch    string `xml:"arch,attr"`
	} `xml:"pkglist>collection>package"`
}

// ParseUpdateInfo reads an updateinfo.xml document, one <update> at a time.
// An <update> without an <id> or with an unreadable date is an error naming
// the byte offset; the document's order is kept.
func ParseUpdateInfo(r io.Reader) ([]Advisory, error) {
	dec := xml.NewDecoder(r)
	var out []Advisory
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("updateinfo: offset %d: %w: %w", dec.InputOffset(), patchcore.ErrInvalidInput, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "update" {
			continue
		}
		off := dec.InputOffset()
		var u xmlUpdate
		if err := dec.DecodeElement(&u, &se); err != nil {
			return nil, fmt.Errorf("updateinfo: offset %d: %w: %w", off, patchcore.ErrInvalidInput, err)
		}
		a := Advisory{ID: strings.TrimSpace(u.ID), Type: u.Type, Severity: strings.TrimSpace(u.Severity), Title: strings.TrimSpace(u.Title)}
		if a.ID == "" {
			return nil, fmt.Errorf("updateinfo: offset %d: %w: <update> without <id>", off, patchcore.ErrInvalidInput)
		}
		if a.Issued, err = parseDate(u.Issued.Date); err != nil {
			return nil, fmt.Errorf("updateinfo: offset %d: advisory %s: issued date: %w", off, a.ID, err)
		}
		if a.Updated, err = parseDate(u.Updated.Date); err != nil {
			return nil, fmt.Errorf("updateinfo: offset %d: advisory %s: updated date: %w", off, a.ID, err)
		}
		for _, ref := range u.References {
			if ref.Type == "cve" && ref.ID != "" && !slices.Contains(a.CVEs, ref.ID) {
				a.CVEs = append(a.CVEs, ref.ID)
			}
		}
		for _, p := range u.Packages {
			a.Packages = append(a.Packages, p.Name+"-"+EVR(p.Epoch, p.Version, p.Release)+"."+p.Arch)
		}
		out = append(out, a)
	}
}

// parseDate reads the date forms updateinfo files use: "2024-05-01
// 12:00:00", "2024-05-01", or seconds since the epoch.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02", time.RFC3339, "2006-01-02 15:04:05 UTC"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: unrecognised date %q", patchcore.ErrInvalidInput, s)
}

// maxUpdateInfo bounds a decompressed updateinfo file.
const maxUpdateInfo = 1 << 30

// ReadUpdateInfoFile reads a cached updateinfo file, compressed with gzip,
// bzip2, xz or zstd (recognised by content) or plain.
func ReadUpdateInfoFile(path string) ([]Advisory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(6)
	var r io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, patchcore.ErrInvalidInput, err)
		}
		r = zr
	case bytes.HasPrefix(head, []byte("BZh")):
		r = bzip2.NewReader(br)
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, patchcore.ErrInvalidInput, err)
		}
		r = xr
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", path, patchcore.ErrInvalidInput, err)
		}
		defer zr.Close()
		r = zr
	}
	advs, err := ParseUpdateInfo(io.LimitReader(r, maxUpdateInfo))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return advs, nil
}

// Index maps package NEVRAs to the advisories that ship them.
type Index map[string][]*Advisory

// NewIndex indexes advisories by the NEVRAs of their packages.
func NewIndex(advs []Advisory) Index {
	idx := Index{}
	for i := range advs {
		for _, p := range advs[i].Packages {
			if !slices.Contains(idx[p], &advs[i]) {
				idx[p] = append(idx[p], &advs[i])
			}
		}
	}
	return idx
}

// Lookup returns the advisories shipping name-evr.arch.
func (idx Index) Lookup(name, evr, arch string) []*Advisory {
	return idx[name+"-"+evr+"."+arch]
}

// Lock is one entry of a dnf/yum versionlock list: name-[epoch:]version-release.arch,
// possibly with glob characters; Exclude entries (a leading "!") hide
// versions instead of pinning one.
type Lock struct {
	Pattern string
	Name    string
	Exclude bool
}

// ParseVersionlock reads a versionlock.list. Comments and blank lines are
// skipped; an entry whose name cannot be split from its version is kept
// with the whole pattern as the name.
func ParseVersionlock(b []byte) []Lock {
	var locks []Lock
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		l := Lock{Pattern: line}
		if strings.HasPrefix(line, "!") {
			l.Exclude, l.Pattern = true, line[1:]
		}
		l.Name = l.Pattern
		if n, _, _, ok := SplitNEVRA(l.Pattern); ok {
			l.Name = n
		} else if n, _, ok := SplitSourceRPM(l.Pattern); ok {
			l.Name = n
		}
		// "name-1:1.0-1.*": the epoch sits in the version part; drop it from the name.
		if i := strings.LastIndexByte(l.Name, '-'); i > 0 && strings.Contains(l.Name[i:], ":") {
			l.Name = l.Name[:i]
		}
		locks = append(locks, l)
	}
	return locks
}

// Locked reports whether the versionlock list pins name (to a version other
// than candidate, or excludes candidate).
func Locked(locks []Lock, name, candidateNEVRA string) bool {
	for _, l := range locks {
		if l.Name != name {
			continue
		}
		if l.Exclude {
			if globMatch(l.Pattern, candidateNEVRA) {
				return true
			}
			continue
		}
		if !globMatch(l.Pattern, candidateNEVRA) {
			return true
		}
	}
	return false
}

// globMatch matches s against a glob pattern ("*", "?", "[...]"). A
// pattern with an explicit "0:" epoch also matches s written without it.
func globMatch(pattern, s string) bool {
	if match(pattern, s) {
		return true
	}
	return match(strings.Replace(pattern, "-0:", "-", 1), s)
}

func match(p, s string) bool {
	ok, err := path.Match(p, s)
	return err == nil && ok
}
