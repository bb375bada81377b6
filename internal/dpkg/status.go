// Package dpkg reads dpkg's status database (/var/lib/dpkg/status) into
// installed packages. Detection reads status files given on the command
// line and the apt adapter reads the one under a target root, so both share
// this parser.
package dpkg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// MaxLineLength bounds one line of a status file. dpkg itself has no limit,
// but real descriptions stay far below it; longer lines are rejected with an
// error wrapping patchcore.ErrTooLarge rather than buffered without end.
const MaxLineLength = 1 << 20

// ParseError says where a status file is malformed. It wraps
// patchcore.ErrInvalidInput (patchcore.ErrTooLarge for an over-long line).
type ParseError struct {
	// Line is the 1-based line number of the problem.
	Line int
	// Field is the field concerned ("Source"), empty when the line has none.
	Field string
	// Err is the underlying problem.
	Err error
}

func (e *ParseError) Error() string {
	s := fmt.Sprintf("dpkg status: line %d", e.Line)
	if e.Field != "" {
		s += ": field " + e.Field
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a dpkg status file and returns the packages dpkg considers
// installed, in file order.
//
// A package is installed when the third word of its Status field is
// "installed" ("install ok installed", "hold ok installed", "deinstall ok
// installed"); packages only half-installed, unpacked, triggers-pending,
// config-files or not-installed are left out. "hold" sets Package.Held.
//
// SourceName and SourceVersion come from the Source field, which is either
// "name" (the source version is the binary's) or "name (version)" (they
// differ, as for binNMUs and packages like libreoffice); without a Source
// field the source is the binary itself. Ecosystem is deb.
//
// Malformed input (a line that is neither "Field: value" nor a
// continuation, an installed package without Package or Version, a bad
// Status or Source) gives a *ParseError with the line number.
func Parse(r io.Reader) ([]patchcore.Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), MaxLineLength)
	var (
		out  []patchcore.Package
		st   stanza
		line int
	)
	flush := func() error {
		if !st.started {
			return nil
		}
		p, ok, err := st.finish()
		st = stanza{}
		if err != nil {
			return err
		}
		if ok {
			out = append(out, p)
		}
		return nil
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		// A line of white space inside a field continues it, as dpkg
		// reads it (debsecan's test case 012 has one in a Description).
		if len(bytes.TrimSpace(b)) == 0 && (len(b) == 0 || !st.started || st.last == "") {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if !st.started || st.last == "" {
				return nil, &ParseError{Line: line, Err: fmt.Errorf("continuation line outside a field: %w", patchcore.ErrInvalidInput)}
			}
			// Continuation of a multi-line field (Description,
			// Conffiles): none of the fields we read span lines.
			continue
		}
		if b[0] == '#' {
			// dpkg-parse accepts comment lines in control files.
			continue
		}
		colon := bytes.IndexByte(b, ':')
		if colon <= 0 {
			return nil, &ParseError{Line: line, Err: fmt.Errorf("line %q is not \"Field: value\": %w", truncate(b), patchcore.ErrInvalidInput)}
		}
		name := string(bytes.TrimSpace(b[:colon]))
		if strings.ContainsAny(name, " \t") {
			return nil, &ParseError{Line: line, Err: fmt.Errorf("field name %q contains white space: %w", name, patchcore.ErrInvalidInput)}
		}
		value := string(bytes.TrimSpace(b[colon+1:]))
		if !st.started {
			st = stanza{started: true, startLine: line}
		}
		st.last = name
		st.set(name, value, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Line: line + 1, Err: fmt.Errorf("line longer than %d bytes: %w", MaxLineLength, patchcore.ErrTooLarge)}
		}
		return nil, fmt.Errorf("dpkg status: reading after line %d: %w", line, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// stanza collects the fields of one paragraph that Parse needs.
type stanza struct {
	started   bool
	startLine int
	last      string

	pkg, version, arch, status, source string
	statusLine, sourceLine             int
	hasStatus                          bool
}

func (s *stanza) set(name, value string, line int) {
	// Field names are case-insensitive in deb822.
	switch strings.ToLower(name) {
	case "package":
		s.pkg = value
	case "version":
		s.version = value
	case "architecture":
		s.arch = value
	case "status":
		s.status, s.statusLine, s.hasStatus = value, line, true
	case "source":
		s.source, s.sourceLine = value, line
	}
}

// finish validates the stanza and returns its package, and whether it is
// installed.
func (s *stanza) finish() (patchcore.Package, bool, error) {
	if !s.hasStatus {
		// A status file entry always has Status; an available/Packages
		// style paragraph without it describes nothing installed.
		return patchcore.Package{}, false, &ParseError{Line: s.startLine, Field: "Status", Err: fmt.Errorf("package %q has no Status field: %w", s.pkg, patchcore.ErrInvalidInput)}
	}
	words := strings.Fields(s.status)
	if len(words) != 3 {
		return patchcore.Package{}, false, &ParseError{Line: s.statusLine, Field: "Status", Err: fmt.Errorf("%q is not \"want flag status\": %w", s.status, patchcore.ErrInvalidInput)}
	}
	want, state := words[0], words[2]
	switch want {
	case "unknown", "install", "hold", "deinstall", "purge":
	default:
		return patchcore.Package{}, false, &ParseError{Line: s.statusLine, Field: "Status", Err: fmt.Errorf("unknown selection %q: %w", want, patchcore.ErrInvalidInput)}
	}
	switch state {
	case "installed":
	case "not-installed", "config-files", "half-installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending":
		return patchcore.Package{}, false, nil
	default:
		return patchcore.Package{}, false, &ParseError{Line: s.statusLine, Field: "Status", Err: fmt.Errorf("unknown package state %q: %w", state, patchcore.ErrInvalidInput)}
	}
	if s.pkg == "" {
		return patchcore.Package{}, false, &ParseError{Line: s.startLine, Field: "Package", Err: fmt.Errorf("installed package without a name: %w", patchcore.ErrInvalidInput)}
	}
	if s.version == "" {
		return patchcore.Package{}, false, &ParseError{Line: s.startLine, Field: "Version", Err: fmt.Errorf("installed package %q has no version: %w", s.pkg, patchcore.ErrInvalidInput)}
	}
	p := patchcore.Package{
		Name:          s.pkg,
		Version:       s.version,
		Arch:          s.arch,
		SourceName:    s.pkg,
		SourceVersion: s.version,
		Ecosystem:     patchcore.EcosystemDeb,
		Held:          want == "hold",
	}
	if s.source != "" {
		name, ver, err := ParseSource(s.source)
		if err != nil {
			return patchcore.Package{}, false, &ParseError{Line: s.sourceLine, Field: "Source", Err: err}
		}
		p.SourceName = name
		if ver != "" {
			p.SourceVersion = ver
		}
	}
	return p, true, nil
}

// ParseSource splits a Source field, "name" or "name (version)", into the
// source package name and version; version is empty when the field has
// none. Anything else is an error wrapping patchcore.ErrInvalidInput.
func ParseSource(field string) (name, version string, err error) {
	field = strings.TrimSpace(field)
	name, rest, hasVersion := strings.Cut(field, " ")
	if name == "" || strings.ContainsAny(name, "()\t") {
		return "", "", fmt.Errorf("source %q: bad package name: %w", field, patchcore.ErrInvalidInput)
	}
	if !hasVersion {
		return name, "", nil
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 3 || rest[0] != '(' || rest[len(rest)-1] != ')' {
		return "", "", fmt.Errorf("source %q: want \"name (version)\": %w", field, patchcore.ErrInvalidInput)
	}
	version = strings.TrimSpace(rest[1 : len(rest)-1])
	if version == "" || strings.ContainsAny(version, " ()\t") {
		return "", "", fmt.Errorf("source %q: bad version %q: %w", field, version, patchcore.ErrInvalidInput)
	}
	return name, version, nil
}

func truncate(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

// Is makes every ParseError match patchcore.ErrInvalidInput, including those
// whose cause is an over-long line.
func (e *ParseError) Is(target error) bool { return target == patchcore.ErrInvalidInput }
