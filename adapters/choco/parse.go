package choco

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// maxLine bounds one line of choco output (a corrupted or hostile output
// must not make the scanner grow without end).
const maxLine = 1 << 20

// localPkg is one line of `choco list --limit-output` (or `choco pin list
// --limit-output`): "name|version".
type localPkg struct {
	Name    string
	Version string
}

// outdatedPkg is one line of `choco outdated --limit-output`:
// "name|current|available|pinned".
type outdatedPkg struct {
	Name      string
	Current   string
	Available string
	Pinned    bool
}

// parseError reports a line of choco output that does not have its
// documented form.
type parseError struct {
	Command string
	Line    int // 1-based
	Text    string
	Reason  string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("choco %s: line %d: %s: %q", e.Command, e.Line, e.Reason, e.Text)
}

// Unwrap makes a parseError match patchcore.ErrInvalidInput.
func (e *parseError) Unwrap() error { return patchcore.ErrInvalidInput }

// lines yields the non-empty, trimmed lines of out with their numbers.
func lines(out []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("choco output: %w: %w", patchcore.ErrTooLarge, err)
	}
	return nil
}

// isNotice reports lines choco writes even with --limit-output: warnings
// about elevation or a pending reboot, and "Chocolatey vX" banners some
// versions print to stdout.
func isNotice(line string) bool {
	return strings.HasPrefix(line, "Chocolatey v") || strings.HasPrefix(line, "WARNING:") ||
		strings.HasPrefix(line, "Chocolatey detected") || strings.HasPrefix(line, "Warning:")
}

// parseList reads `choco list --limit-output` (Chocolatey 2: local
// packages only; 1.x needs --local-only) and `choco pin list
// --limit-output`: one "name|version" per line.
func parseList(out []byte) ([]localPkg, error) {
	var pkgs []localPkg
	err := lines(out, func(n int, line string) error {
		if isNotice(line) {
			return nil
		}
		f := strings.Split(line, "|")
		if len(f) != 2 || f[0] == "" || f[1] == "" {
			return &parseError{Command: "list", Line: n, Text: line, Reason: "want name|version"}
		}
		pkgs = append(pkgs, localPkg{Name: f[0], Version: f[1]})
		return nil
	})
	return pkgs, err
}

// parseOutdated reads `choco outdated --limit-output`: one
// "name|current|available|pinned" per line, pinned being "true" or "false".
func parseOutdated(out []byte) ([]outdatedPkg, error) {
	var pkgs []outdatedPkg
	err := lines(out, func(n int, line string) error {
		if isNotice(line) {
			return nil
		}
		f := strings.Split(line, "|")
		if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" {
			return &parseError{Command: "outdated", Line: n, Text: line, Reason: "want name|current|available|pinned"}
		}
		var pinned bool
		switch strings.ToLower(f[3]) {
		case "true":
			pinned = true
		case "false":
		default:
			return &parseError{Command: "outdated", Line: n, Text: line, Reason: "pinned is neither true nor false"}
		}
		pkgs = append(pkgs, outdatedPkg{Name: f[0], Current: f[1], Available: f[2], Pinned: pinned})
		return nil
	})
	return pkgs, err
}

// upgradeReport is what `choco upgrade` printed about its packages.
type upgradeReport struct {
	// Upgraded and Total come from "Chocolatey upgraded 1/2 packages."; Total is -1 when absent.
	Upgraded, Total int
	// Latest maps packages already at the latest version to it ("git v2.44.0
	// is the latest version available based on your source(s).").
	Latest map[string]string
	// Succeeded lists packages "The upgrade of X was successful.".
	Succeeded []string
	// Failures maps a failed package to choco's line about it
	// ("git (exited 1603) - Error while running ...").
	Failures map[string]string
	// NotFound lists packages choco could not find in its sources.
	NotFound []string
	// Reboot maps packages listed under "Packages requiring reboot:" to their line.
	Reboot map[string]string
	// Locked reports that choco could not take its lock file.
	Locked bool
	// AccessDenied reports a failure to write Chocolatey's folders (not elevated).
	AccessDenied bool
}

// parseUpgrade reads the human output of `choco upgrade` (Chocolatey 1.x
// and 2.x, LC_ALL=C). It never fails: lines it does not know are ignored.
func parseUpgrade(out []byte) upgradeReport {
	r := upgradeReport{Total: -1, Latest: map[string]string{}, Failures: map[string]string{}, Reboot: map[string]string{}}
	section := ""
	_ = lines(out, func(_ int, line string) error {
		switch {
		case line == "Failures":
			section = "failures"
			return nil
		case strings.HasPrefix(line, "Packages requiring reboot:"):
			section = "reboot"
			return nil
		case strings.HasPrefix(line, "Warnings:"):
			section = "warnings"
			return nil
		}
		if item, ok := strings.CutPrefix(line, "- "); ok {
			name, _, _ := strings.Cut(item, " ")
			switch section {
			case "failures":
				r.Failures[name] = item
			case "reboot":
				r.Reboot[name] = item
			}
			return nil
		}
		section = ""
		switch {
		case strings.HasPrefix(line, "Chocolatey upgraded "):
			var up, total int
			if _, err := fmt.Sscanf(line, "Chocolatey upgraded %d/%d packages", &up, &total); err == nil {
				r.Upgraded, r.Total = up, total
			}
		case strings.Contains(line, " is the latest version available based on your source"):
			name, rest, _ := strings.Cut(line, " ")
			ver, _, _ := strings.Cut(rest, " ")
			r.Latest[name] = strings.TrimPrefix(ver, "v")
		case strings.HasPrefix(line, "The upgrade of ") && strings.HasSuffix(line, " was successful."):
			r.Succeeded = append(r.Succeeded, strings.TrimSuffix(strings.TrimPrefix(line, "The upgrade of "), " was successful."))
		case strings.Contains(line, " not installed. The package was not found with the source(s) listed."):
			name, _, _ := strings.Cut(line, " ")
			r.NotFound = append(r.NotFound, name)
		case strings.Contains(line, "Unable to obtain lock file access"),
			strings.Contains(line, "another instance of Chocolatey"), strings.Contains(line, "Another Chocolatey operation"):
			r.Locked = true
		case strings.Contains(line, "Access to the path") && strings.Contains(line, "is denied"):
			r.AccessDenied = true
		}
		return nil
	})
	return r
}
