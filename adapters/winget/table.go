package winget

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/text/width"

	"github.com/patchcore/sdk/patchcore"
)

// maxLine bounds one line of winget output.
const maxLine = 1 << 20

// ellipsis is what winget ends a cell with when it truncated it to fit the
// console width.
const ellipsis = "…"

// wgTable is one table winget printed: a header line, a rule of dashes, rows,
// and the lines that followed up to the next table ("2 upgrades available.").
type wgTable struct {
	Header []string
	Rows   [][]string
	// Notes are the non-row lines after the rows.
	Notes []string
}

// Column returns the index of the first header cell equal (case-insensitive)
// to one of names, or -1.
func (t wgTable) Column(names ...string) int {
	for i, h := range t.Header {
		for _, n := range names {
			if strings.EqualFold(h, n) {
				return i
			}
		}
	}
	return -1
}

// cleanLines splits winget's output into lines as a console would show
// them: progress spinners and bars rewritten with '\r' and '\b' keep their
// final text, ANSI escape sequences (VT colours, cursor hiding) go away.
func cleanLines(out []byte) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		line := overstrike(stripANSI(strings.TrimRight(sc.Text(), "\r")))
		lines = append(lines, strings.TrimRight(line, " \t"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("winget output: %w: %w", patchcore.ErrTooLarge, err)
	}
	return lines, nil
}

// overstrike renders a line as a console shows it: '\r' returns to the
// first column and '\b' moves one column back, later text overwriting
// earlier text (winget's spinner and progress bars).
func overstrike(line string) string {
	if !strings.ContainsAny(line, "\r\b") {
		return line
	}
	var buf []rune
	cur := 0
	for _, r := range line {
		switch r {
		case '\r':
			cur = 0
		case '\b':
			if cur > 0 {
				cur--
			}
		default:
			if cur < len(buf) {
				buf[cur] = r
			} else {
				buf = append(buf, r)
			}
			cur++
		}
	}
	return string(buf)
}

// stripANSI removes CSI escape sequences ("\x1b[0m", "\x1b[?25l").
func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// runeWidth is the number of console cells r takes: 2 for East Asian wide
// and full-width characters, 0 for combining marks, 1 otherwise.
func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	if r < ' ' || (r >= 0x300 && r <= 0x36f) || r == 0x200b {
		return 0
	}
	return 1
}

// cells splits s at console-cell offsets: cut(from, to) returns the text
// between cells from and to, trimmed.
type cells struct {
	runes []rune
	pos   []int // pos[i] is the cell where runes[i] starts
	width int
}

func newCells(s string) cells {
	c := cells{runes: []rune(s)}
	c.pos = make([]int, len(c.runes))
	for i, r := range c.runes {
		c.pos[i] = c.width
		c.width += runeWidth(r)
	}
	return c
}

func (c cells) cut(from, to int) string {
	var b strings.Builder
	for i, r := range c.runes {
		if c.pos[i] >= from && (to < 0 || c.pos[i] < to) {
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// at returns the rune that starts at cell p, or ' ' when none does.
func (c cells) at(p int) rune {
	for i, q := range c.pos {
		if q == p {
			return c.runes[i]
		}
		if q > p {
			break
		}
	}
	return ' '
}

// isRule reports a line of dashes (winget's separator under the header).
func isRule(line string) bool {
	t := strings.TrimSpace(line)
	return len(t) >= 3 && strings.Trim(t, "-") == ""
}

// parseTables finds every table in winget's output. Columns come from the
// header's word positions, measured in console cells, so they work whatever
// the display language: a header gap of one space is a column break only
// when no row has text across it ("Pin type" stays one column). Rows run
// until an empty line, the next table, or a line with nothing in the
// second column (winget's "3 upgrades available." footer).
func parseTables(out []byte) ([]wgTable, error) {
	lines, err := cleanLines(out)
	if err != nil {
		return nil, err
	}
	var tables []wgTable
	for i := 1; i < len(lines); i++ {
		if !isRule(lines[i]) || strings.TrimSpace(lines[i-1]) == "" {
			continue
		}
		header := newCells(lines[i-1])
		// Candidate rows, up to an empty line or the next header+rule.
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "" && !(end+1 < len(lines) && isRule(lines[end+1])) {
			end++
		}
		rows := make([]cells, 0, end-i-1)
		for _, l := range lines[i+1 : end] {
			rows = append(rows, newCells(l))
		}
		starts := columnStarts(header, rows)
		t := wgTable{}
		for k, s := range starts {
			t.Header = append(t.Header, header.cut(s, next(starts, k)))
		}
		inRows := true
		for _, row := range rows {
			vals := make([]string, len(starts))
			for k, s := range starts {
				vals[k] = row.cut(s, next(starts, k))
			}
			if inRows && len(vals) > 1 && vals[1] != "" && (starts[1] == 0 || row.at(starts[1]-1) == ' ') {
				t.Rows = append(t.Rows, vals)
				continue
			}
			inRows = false
			t.Notes = append(t.Notes, strings.TrimSpace(string(row.runes)))
		}
		// Lines after an empty line up to the next table are notes too.
		for j := end; j < len(lines) && !(j+1 < len(lines) && isRule(lines[j+1])); j++ {
			if s := strings.TrimSpace(lines[j]); s != "" {
				t.Notes = append(t.Notes, s)
			}
		}
		tables = append(tables, t)
		i = end - 1
	}
	return tables, nil
}

func next(starts []int, k int) int {
	if k+1 < len(starts) {
		return starts[k+1]
	}
	return -1
}

// columnStarts returns the cells where the header's columns start.
func columnStarts(header cells, rows []cells) []int {
	starts := []int{0}
	for i := 1; i < len(header.runes); i++ {
		if header.runes[i] == ' ' || header.runes[i-1] != ' ' {
			continue
		}
		p := header.pos[i]
		// A single space in the header may be inside a label: keep it as a
		// break only if every row has a space (or nothing) before it.
		if i >= 2 && header.runes[i-2] != ' ' {
			crossed := false
			for _, r := range rows {
				if r.width > p && r.at(p-1) != ' ' && r.at(p-1) != 0 {
					crossed = true
					break
				}
			}
			if crossed {
				continue
			}
		}
		starts = append(starts, p)
	}
	return starts
}
