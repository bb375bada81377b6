package debian

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Debsecan reads debsecan feed files
// (https://security-tracker.debian.org/tracker/debsecan/release/1/SUITE).
// The zero value, Debsecan{}, is ready to use; set Release to name the suite
// in the fixes.
//
// It reads the feed debsecan downloads for one suite: zlib-compressed
// text (plain text is accepted too) in three sections separated by empty
// lines, after the header line "VERSION 1":
//
//	CVE-2005-3184,,Buffer overflow vulnerability in ...      vulnerability: name, flags, description
//	ethereal,67,SMRF,0.10.13-1,0.10.10-2sarge4 ...          package line: package, vulnerability index,
//	                                                         flags, unstable version, other versions
//	ethereal,ethereal ethereal-common tethereal              source package, its binary packages
//
// The four package-line flags are: 'B' binary or 'S' source package; urgency
// 'L', 'M', 'H' or ' '; remote '?', 'R' or ' '; 'F' when a fix is available
// for the suite.
//
// Each vulnerability with package lines becomes one patchcore.Patch (ID the
// vulnerability name, Source "debsecan", Title and Description the
// description), with one Fix per package line in file order: Distro
// "debian", Release the Debsecan's Release, Package the line's package and
// PackageKind from the B/S flag, FixedVersion the unstable version (kept as
// published, "0" included), ExcludedVersions the other versions, Binaries
// the source package's binaries (nil when the file has no line for it).
// Status is FixNotAffected for the version "0", FixFixed with the F flag,
// FixUnfixed otherwise; FixedVersion is set even without the F flag (fixed
// in unstable only). Severity comes from the urgency; Attributes carry
// "urgency", "remote", "fix_available" and the raw "flags"; fixes with the
// same flags share one Attributes map, which callers must not modify.
//
// debsecan decides as follows, and detection that wants its answers must do
// the same: a binary-package line whose package is the installed binary is
// vulnerable when there is no unstable version or the binary version sorts
// before it; otherwise a line whose package is the installed package's
// source is vulnerable when (there is no unstable version or the source
// version sorts before it) and the source version is not one of the other
// versions. Installed packages are looked up under their source name first,
// then their binary name. A line is "obsolete" for an installed binary when
// Binaries is non-nil and does not contain it. ReadDebsecan gives the
// typed records.
type Debsecan struct {
	// File names the document in errors; by default the reader's Name().
	File string
	// Release is the Debian codename the file is for ("sid", "bookworm"),
	// copied to every Fix; empty when unknown (the GENERIC file).
	Release string
}

// Name returns "debsecan".
func (Debsecan) Name() string { return "debsecan" }

// Detect reports whether head is a debsecan file: the "VERSION 1" header, or
// zlib data (debsecan files are the only zlib-wrapped feed).
func (Debsecan) Detect(head []byte) bool {
	if bytes.HasPrefix(head, []byte("VERSION 1\n")) {
		return true
	}
	return len(head) >= 2 && head[0] == 0x78 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0
}

// DebsecanVuln is one vulnerability of the first section.
type DebsecanVuln struct {
	// Name is the vulnerability name (CVE-2005-3184, TEMP-..., DSA-...).
	Name string
	// Flags is the (currently unused) flags field.
	Flags string
	// Description is the short description.
	Description string
}

// DebsecanEntry is one package line of the second section.
type DebsecanEntry struct {
	// Line is the line number in the decompressed text.
	Line int
	// Package is the binary or source package name.
	Package string
	// Vuln indexes DebsecanFeed.Vulns.
	Vuln int
	// Binary is true for the 'B' flag (Package is a binary package).
	Binary bool
	// Urgency is "low", "medium", "high" or "".
	Urgency string
	// Remote is nil when unknown ('?'), otherwise whether the vulnerability
	// is remotely exploitable.
	Remote *bool
	// FixAvailable is the 'F' flag: a fix exists for the suite.
	FixAvailable bool
	// Flags is the raw four-character flags field.
	Flags string
	// UnstableVersion is the version fixed in unstable, "" when none.
	UnstableVersion string
	// OtherVersions are exact versions that are not vulnerable.
	OtherVersions []string
	// Binaries are the binary packages of a source-package entry, from the
	// third section; nil when the file does not list the source package.
	Binaries []string
}

// DebsecanFeed is a whole debsecan file.
type DebsecanFeed struct {
	Vulns   []DebsecanVuln
	Entries []DebsecanEntry
	// SourceBinaries maps a source package to its binary packages.
	SourceBinaries map[string][]string
}

// ReadDebsecan reads a debsecan file (zlib-compressed or plain) into its
// typed records. file names it in errors.
func ReadDebsecan(ctx context.Context, r io.Reader, file string) (*DebsecanFeed, error) {
	file = stream.FileName(r, file)
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(2)
	var text io.Reader = br
	if len(head) == 0 {
		return nil, lineError(file, 1, "header", stream.Malformedf("empty document, want \"VERSION 1\""))
	}
	if !bytes.HasPrefix(head, []byte("VE")) {
		zr, err := zlib.NewReader(br)
		if err != nil {
			return nil, lineError(file, 0, "zlib header", fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err))
		}
		defer zr.Close()
		text = &capReader{r: zr, left: maxDecompressed}
	}
	sc := bufio.NewScanner(text)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	line := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		line++
		return sc.Text(), true
	}
	if h, ok := next(); !ok || h != "VERSION 1" {
		if err := scanErr(sc); err != nil {
			return nil, lineError(file, line+1, "header", err)
		}
		return nil, lineError(file, max(line, 1), "header", stream.Malformedf("want \"VERSION 1\", got %q", truncate(h)))
	}
	fd := &DebsecanFeed{SourceBinaries: map[string][]string{}}
	section := 0
	for {
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s, ok := next()
		if !ok {
			break
		}
		if s == "" {
			section++
			if section > 2 {
				break
			}
			continue
		}
		switch section {
		case 0:
			name, rest, ok1 := strings.Cut(s, ",")
			flags, desc, ok2 := strings.Cut(rest, ",")
			if !ok1 || !ok2 || name == "" {
				return nil, lineError(file, line, "vulnerability", stream.Malformedf("want NAME,FLAGS,DESCRIPTION, got %q", truncate(s)))
			}
			fd.Vulns = append(fd.Vulns, DebsecanVuln{Name: name, Flags: flags, Description: desc})
		case 1:
			e, field, err := parseDebsecanEntry(s, len(fd.Vulns))
			if err != nil {
				return nil, lineError(file, line, field, err)
			}
			e.Line = line
			fd.Entries = append(fd.Entries, e)
		case 2:
			src, bins, ok := strings.Cut(s, ",")
			if !ok || src == "" || strings.Contains(bins, ",") {
				return nil, lineError(file, line, "source package", stream.Malformedf("want SOURCE,BINARIES, got %q", truncate(s)))
			}
			list := []string{}
			if bins != "" {
				list = strings.Split(bins, " ")
			}
			fd.SourceBinaries[src] = list
		}
	}
	if err := scanErr(sc); err != nil {
		return nil, lineError(file, line+1, "", err)
	}
	for i := range fd.Entries {
		e := &fd.Entries[i]
		if !e.Binary {
			e.Binaries = fd.SourceBinaries[e.Package]
		}
	}
	return fd, nil
}

func parseDebsecanEntry(s string, nvulns int) (DebsecanEntry, string, error) {
	parts := strings.SplitN(s, ",", 5)
	if len(parts) != 5 {
		return DebsecanEntry{}, "package line", stream.Malformedf("want PACKAGE,INDEX,FLAGS,VERSION,OTHER-VERSIONS, got %q", truncate(s))
	}
	e := DebsecanEntry{Package: parts[0], Flags: parts[2], UnstableVersion: parts[3]}
	if e.Package == "" {
		return e, "package line: package", stream.Malformedf("empty package name")
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 || n >= nvulns {
		return e, "package line: vulnerability index", stream.Malformedf("index %q is not one of the %d vulnerabilities", truncate(parts[1]), nvulns)
	}
	e.Vuln = n
	f := parts[2]
	if len(f) != 4 {
		return e, "package line: flags", stream.Malformedf("want 4 flag characters, got %q", truncate(f))
	}
	switch f[0] {
	case 'B':
		e.Binary = true
	case 'S':
	default:
		return e, "package line: flags", stream.Malformedf("package kind %q is neither B nor S", f[0])
	}
	switch f[1] {
	case ' ':
	case 'L':
		e.Urgency = "low"
	case 'M':
		e.Urgency = "medium"
	case 'H':
		e.Urgency = "high"
	default:
		return e, "package line: flags", stream.Malformedf("urgency %q is not L, M, H or space", f[1])
	}
	switch f[2] {
	case '?':
	case 'R', ' ':
		b := f[2] == 'R'
		e.Remote = &b
	default:
		return e, "package line: flags", stream.Malformedf("remote flag %q is not ?, R or space", f[2])
	}
	switch f[3] {
	case 'F':
		e.FixAvailable = true
	case ' ':
	default:
		return e, "package line: flags", stream.Malformedf("fix flag %q is not F or space", f[3])
	}
	if parts[4] != "" {
		e.OtherVersions = strings.Split(parts[4], " ")
	}
	return e, "", nil
}

// Parse reads a debsecan file and emits a patch per vulnerability that has
// package lines, in the order of the vulnerability section.
func (d Debsecan) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	fd, err := ReadDebsecan(ctx, r, d.File)
	if err != nil {
		return err
	}
	return fd.Patches(d.Release, emit)
}

// Patches emits the feed's patches (see Debsecan) with Release in every Fix.
func (fd *DebsecanFeed) Patches(release string, emit func(patchcore.Patch) error) error {
	attrs := map[string]map[string]string{}
	byVuln := make([][]int, len(fd.Vulns))
	for i, e := range fd.Entries {
		byVuln[e.Vuln] = append(byVuln[e.Vuln], i)
	}
	for vi, idx := range byVuln {
		if len(idx) == 0 {
			continue
		}
		v := fd.Vulns[vi]
		p := patchcore.Patch{
			ID:             v.Name,
			Source:         "debsecan",
			Vendor:         "Debian",
			Title:          v.Description,
			Description:    v.Description,
			Classification: patchcore.ClassSecurity,
			References:     []string{"https://security-tracker.debian.org/tracker/" + v.Name},
			Fixes:          make([]patchcore.Fix, 0, len(idx)),
		}
		if strings.HasPrefix(v.Name, "CVE-") {
			p.CVEs = []patchcore.CVE{{ID: v.Name}}
		}
		for _, i := range idx {
			e := &fd.Entries[i]
			// The attributes derive from the flags alone: share one map per
			// flags value (there are a few dozen) instead of one per fix.
			m, ok := attrs[e.Flags]
			if !ok {
				m = e.attributes()
				attrs[e.Flags] = m
			}
			f := e.fix(release, m)
			if f.Severity.Compare(p.Severity) > 0 {
				p.Severity = f.Severity
			}
			p.Fixes = append(p.Fixes, f)
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

// Fix maps the entry to a patchcore.Fix for release (see Debsecan).
func (e *DebsecanEntry) Fix(release string) patchcore.Fix {
	return e.fix(release, e.attributes())
}

func (e *DebsecanEntry) attributes() map[string]string {
	m := map[string]string{
		"urgency":       e.Urgency,
		"remote":        "unknown",
		"flags":         e.Flags,
		"fix_available": "no",
	}
	if e.Remote != nil {
		m["remote"] = map[bool]string{true: "yes", false: "no"}[*e.Remote]
	}
	if e.FixAvailable {
		m["fix_available"] = "yes"
	}
	return m
}

func (e *DebsecanEntry) fix(release string, attrs map[string]string) patchcore.Fix {
	f := patchcore.Fix{
		Distro:           "debian",
		Release:          release,
		Ecosystem:        patchcore.EcosystemDeb,
		Package:          e.Package,
		PackageKind:      patchcore.PackageSource,
		Scheme:           "deb",
		FixedVersion:     e.UnstableVersion,
		ExcludedVersions: e.OtherVersions,
		Binaries:         e.Binaries,
		Attributes:       attrs,
	}
	if e.Binary {
		f.PackageKind = patchcore.PackageBinary
	}
	if e.Urgency != "" {
		f.Severity = patchcore.ParseSeverity(e.Urgency)
	}
	switch {
	case e.UnstableVersion == "0":
		f.Status = patchcore.FixNotAffected
	case e.FixAvailable:
		f.Status = patchcore.FixFixed
	default:
		f.Status = patchcore.FixUnfixed
	}
	return f
}

// maxDecompressed bounds the decompressed size of a debsecan file (the real
// files are a few tens of megabytes); more is a compression bomb.
const maxDecompressed = 1 << 30

// errTooLarge reports decompressed data beyond maxDecompressed.
var errTooLarge = fmt.Errorf("decompressed data beyond %d bytes: %w", maxDecompressed, patchcore.ErrTooLarge)

// capReader fails once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// scanErr classifies a bufio.Scanner error.
func scanErr(sc *bufio.Scanner) error {
	err := sc.Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bufio.ErrTooLong):
		return fmt.Errorf("line longer than %d bytes: %w", maxLine, patchcore.ErrTooLarge)
	case errors.Is(err, patchcore.ErrTooLarge):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated compressed data: %w: %w", patchcore.ErrMalformedFeed, err)
	default:
		return fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err)
	}
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
