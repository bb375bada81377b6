package softwareupdate

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/patchcore/sdk/patchcore"
)

const maxLine = 1 << 20

// swItem is one update `softwareupdate --list` offers.
type swItem struct {
	// Label is what --install and --download take ("macOS Sonoma 14.4.1-23E224").
	Label   string
	Title   string
	Version string
	// Size is in bytes (softwareupdate prints KiB).
	Size        int64
	Recommended bool
	// Action is "restart", "shut down" or empty.
	Action   string
	Deferred bool
}

// parseError reports softwareupdate output that does not have its documented form.
type parseError struct {
	Command string
	Line    int
	Text    string
	Reason  string
}

func (e *parseError) Error() string {
	return fmt.Sprintf("softwareupdate %s: line %d: %s: %q", e.Command, e.Line, e.Reason, e.Text)
}

// Unwrap makes a parseError match patchcore.ErrInvalidInput.
func (e *parseError) Unwrap() error { return patchcore.ErrInvalidInput }

func scanLines(out []byte, fn func(n int, raw string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for n := 1; sc.Scan(); n++ {
		if err := fn(n, strings.TrimRight(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("softwareupdate output: %w: %w", patchcore.ErrTooLarge, err)
	}
	return nil
}

// parseList reads `softwareupdate --list` in the format of macOS 10.15 and
// later ("* Label: X" then a tab-indented "Title: ..., Version: ..., Size:
// ...KiB, Recommended: YES, Action: restart,") and the older one of 10.14
// ("   * X" then "\tTitle (version), 123K [recommended] [restart]").
// Output without updates ("No new software available.") gives no items.
func parseList(out []byte) ([]swItem, error) {
	var items []swItem
	var cur *swItem
	err := scanLines(out, func(n int, raw string) error {
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
			return nil
		case strings.HasPrefix(line, "* "):
			label := strings.TrimSpace(strings.TrimPrefix(line, "* "))
			label = strings.TrimSpace(strings.TrimPrefix(label, "Label:"))
			if label == "" {
				return &parseError{Command: "--list", Line: n, Text: raw, Reason: "update without a label"}
			}
			items = append(items, swItem{Label: label})
			cur = &items[len(items)-1]
		case cur != nil && strings.HasPrefix(raw, "\t") || cur != nil && strings.HasPrefix(line, "Title:"):
			if err := parseDetail(cur, line); err != nil {
				return &parseError{Command: "--list", Line: n, Text: raw, Reason: err.Error()}
			}
			cur = nil
		default:
			cur = nil // banners: "Software Update Tool", "Finding available software", ...
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		if it.Title == "" {
			return nil, fmt.Errorf("softwareupdate --list: update %q: %w: no detail line", items[i].Label, patchcore.ErrInvalidInput)
		}
	}
	return items, nil
}

// parseDetail fills it from its detail line.
func parseDetail(it *swItem, line string) error {
	if strings.HasPrefix(line, "Title:") {
		for _, field := range strings.Split(line, ", ") {
			k, v, ok := strings.Cut(strings.TrimSuffix(strings.TrimSpace(field), ","), ":")
			if !ok {
				// A title with ", " in it: append to the title.
				if it.Version == "" && it.Size == 0 {
					it.Title += ", " + strings.TrimSpace(field)
				}
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "Title":
				it.Title = v
			case "Version":
				it.Version = v
			case "Size":
				size, err := parseSize(v)
				if err != nil {
					return err
				}
				it.Size = size
			case "Recommended":
				it.Recommended = strings.EqualFold(v, "YES")
			case "Action":
				it.Action = strings.ToLower(v)
			case "Deferred":
				it.Deferred = strings.EqualFold(v, "YES")
			}
		}
		if it.Title == "" {
			return fmt.Errorf("empty title")
		}
		return nil
	}
	// 10.14: "macOS 10.14.1 Update (10.14.1), 199140K [recommended] [restart]"
	rest := line
	for {
		rest = strings.TrimSuffix(strings.TrimSpace(rest), ",")
		i := strings.LastIndex(rest, " [")
		if i < 0 || !strings.HasSuffix(rest, "]") {
			break
		}
		switch strings.ToLower(rest[i+2 : len(rest)-1]) {
		case "recommended":
			it.Recommended = true
		case "restart":
			it.Action = "restart"
		case "shut down":
			it.Action = "shut down"
		}
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, ", "); i >= 0 {
		size, err := parseSize(rest[i+2:])
		if err != nil {
			return err
		}
		it.Size, rest = size, rest[:i]
	}
	if strings.HasSuffix(rest, ")") {
		if i := strings.LastIndex(rest, " ("); i >= 0 {
			it.Version, rest = rest[i+2:len(rest)-1], rest[:i]
		}
	}
	it.Title = strings.TrimSpace(rest)
	if it.Title == "" {
		return fmt.Errorf("empty title")
	}
	return nil
}

// parseSize reads "707501KiB", "199140K" or "1.2GB" as bytes.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f > 1<<50 {
		return 0, fmt.Errorf("size %q is not a number of bytes", s)
	}
	mult := map[string]float64{"": 1, "B": 1, "K": 1024, "KB": 1000, "KIB": 1024, "M": 1 << 20, "MB": 1e6, "MIB": 1 << 20, "G": 1 << 30, "GB": 1e9, "GIB": 1 << 30}
	m, ok := mult[unit]
	if !ok {
		return 0, fmt.Errorf("size %q has an unknown unit", s)
	}
	return int64(f * m), nil
}

// historyEntry is one row of `softwareupdate --history`.
type historyEntry struct {
	Name    string
	Version string
	Date    string
}

// parseHistory reads the table `softwareupdate --history` prints: a header
// ("Display Name  Version  Date"), a rule of dashes and one row per
// installed update, columns found from the header's positions.
func parseHistory(out []byte) ([]historyEntry, error) {
	var entries []historyEntry
	var cols []int // start offsets (in runes) of Version and Date
	err := scanLines(out, func(n int, raw string) error {
		if strings.TrimSpace(raw) == "" {
			return nil
		}
		if cols == nil {
			v, d := strings.Index(raw, "Version"), strings.Index(raw, "Date")
			if strings.HasPrefix(raw, "Display Name") && v > 0 && d > v {
				cols = []int{utf8.RuneCountInString(raw[:v]), utf8.RuneCountInString(raw[:d])}
			}
			return nil
		}
		if strings.Trim(raw, "- ") == "" {
			return nil
		}
		r := []rune(raw)
		cut := func(from, to int) string {
			from, to = min(from, len(r)), min(to, len(r))
			return strings.TrimSpace(string(r[from:to]))
		}
		e := historyEntry{Name: cut(0, cols[0]), Version: cut(cols[0], cols[1]), Date: cut(cols[1], len(r))}
		if e.Name == "" {
			return &parseError{Command: "--history", Line: n, Text: raw, Reason: "row without a display name"}
		}
		entries = append(entries, e)
		return nil
	})
	return entries, err
}

// installReport is what `softwareupdate --install` printed.
type installReport struct {
	// Done lists the titles of "Done with X" lines.
	Done []string
	// Restart reports the "requires that you restart" notice.
	Restart bool
	// NoSuchUpdate reports "X: No such update".
	NoSuchUpdate bool
	// Failed holds the first error line, if any.
	Failed string
	// NeedsAuth reports that the update needs credentials (Apple silicon:
	// --user and --stdinpass) or a signed-in volume owner.
	NeedsAuth bool
}

// parseInstall reads the output of `softwareupdate --install` and
// `--download`. It never fails.
func parseInstall(out []byte) installReport {
	var r installReport
	_ = scanLines(out, func(_ int, raw string) error {
		line := strings.TrimSpace(raw)
		low := strings.ToLower(line)
		switch {
		case strings.HasPrefix(line, "Done with "):
			r.Done = append(r.Done, strings.TrimPrefix(line, "Done with "))
		case strings.Contains(low, "restart your computer") || strings.Contains(low, "require a restart") ||
			strings.Contains(low, "requires a restart") || strings.HasPrefix(low, "restart required"):
			r.Restart = true
		case strings.HasSuffix(low, "no such update"):
			r.NoSuchUpdate = true
		case strings.Contains(low, "--stdinpass") || strings.Contains(low, "authorization") && strings.Contains(low, "required") ||
			strings.Contains(low, "not authorized") || strings.Contains(low, "must be run as root"):
			r.NeedsAuth = true
			if r.Failed == "" {
				r.Failed = line
			}
		case r.Failed == "" && (strings.HasPrefix(low, "error") || strings.HasPrefix(low, "failed") || strings.Contains(low, "failed to")):
			r.Failed = line
		}
		return nil
	})
	return r
}
