// Package commandtest is a test double for command.Runner: it replays
// command results recorded in golden files, matching on the command line,
// so adapter tests run without the package manager and parse the exact
// output a real system produced.
//
// # Recording files
//
// A recording file holds any number of commands, each introduced by a
// marker line and followed by optional sections, in the style of txtar:
//
//	# Lines before the first marker are comments.
//	-- cmd dpkg-query -W "-f=${Package}\t${Version}\n" --
//	-- exit 0 --
//	-- stdout --
//	bash	5.2.15-2+b2
//	-- stderr --
//	-- cmd apt-get -s upgrade --
//	-- exit 100 --
//	-- stderr --
//	E: Could not get lock /var/lib/dpkg/lock-frontend
//
// The command line after "cmd" is the program name and its arguments as Line
// renders them: separated by single spaces, an argument that is empty or
// holds spaces, quotes, backslashes or control characters written as a Go
// quoted string. "exit N" sets the exit status (default 0): a non-zero
// status makes Run return a *command.ExitError with the Result, as
// command.OS does. A "hang" section makes the command block until its
// context ends, for cancellation tests. Section contents run up to the next
// marker; a file's final newline is part of the last section.
//
// # Exit statuses
//
// Unix exit statuses are 0 to 255, but a Windows process exits with any
// 32-bit value: 3010 (a restart is required), 1603 (MSI fatal error), or an
// HRESULT such as winget's 0x8A15002B. N is therefore any int32 or uint32
// value, written in decimal (3010, -1 or -1978335189) or as 0x followed by
// up to eight hex digits (0x8A15002B, either case). The value is kept as
// written, not reinterpreted: "exit 0x8A15002B" and "exit 2316632107" both
// give ExitCode 2316632107, which is what os/exec reports for that code on
// 64-bit Windows, while "exit -1978335189" (the same bits read as an int32)
// gives -1978335189; adapters for Windows read either through uint32.
// Format writes statuses of 0x80000000 and above in hex, the rest in
// decimal.
//
// When a command line was recorded several times, successive runs get the
// recordings in order and the last one repeats. A command that was not
// recorded fails the test (through testing.TB) and returns an error wrapping
// ErrUnrecorded that lists what was recorded.
//
// # Recording real output
//
// Recorder wraps a real runner (command.OS{}) and writes what ran in this
// format; run a test once with it (behind an -update flag) on a real system
// to capture golden files.
package commandtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/patchcore/sdk/adapters/command"
)

// ErrUnrecorded is wrapped by the error Run returns for a command line that
// no recording matches.
var ErrUnrecorded = errors.New("command not recorded")

// Recording is one recorded command and what it produced.
type Recording struct {
	// Line is the command line as Line renders it.
	Line     string
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	// Hang makes the command block until its context ends.
	Hang bool
}

// Runner replays recordings. It implements command.Runner and is safe for
// concurrent use. Create it with New, Load or Parse.
type Runner struct {
	tb testing.TB

	mu    sync.Mutex
	recs  map[string][]Recording
	used  map[string]int
	calls []command.Command
}

var _ command.Runner = (*Runner)(nil)

// New returns a Runner replaying recs. tb, when not nil, is failed for a
// command that was not recorded.
func New(tb testing.TB, recs ...Recording) *Runner {
	r := &Runner{tb: tb, recs: map[string][]Recording{}, used: map[string]int{}}
	for _, rec := range recs {
		r.Add(rec)
	}
	return r
}

// Load reads the recording file at path (typically under testdata/) and
// returns a Runner that fails tb for unrecorded commands. A malformed file
// fails the test at once.
func Load(tb testing.TB, path string) *Runner {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("commandtest: %v", err)
	}
	recs, err := Parse(data)
	if err != nil {
		tb.Fatalf("commandtest: %s: %v", path, err)
	}
	return New(tb, recs...)
}

// Add appends a recording.
func (r *Runner) Add(rec Recording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs[rec.Line] = append(r.recs[rec.Line], rec)
}

// Calls returns the commands run so far, in order.
func (r *Runner) Calls() []command.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Lines returns the command lines run so far, in order.
func (r *Runner) Lines() []string {
	calls := r.Calls()
	lines := make([]string, len(calls))
	for i, c := range calls {
		lines[i] = Line(c)
	}
	return lines
}

// Unused returns the recorded command lines that never ran, sorted; tests
// that expect every recording to be used assert it is empty.
func (r *Runner) Unused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for line := range r.recs {
		if r.used[line] == 0 {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

// Run implements command.Runner.
func (r *Runner) Run(ctx context.Context, c command.Command) (command.Result, error) {
	line := Line(c)
	r.mu.Lock()
	r.calls = append(r.calls, c)
	recs, ok := r.recs[line]
	var rec Recording
	if ok {
		rec = recs[min(r.used[line], len(recs)-1)]
		r.used[line]++
	}
	known := make([]string, 0, len(r.recs))
	if !ok {
		for l := range r.recs {
			known = append(known, l)
		}
		slices.Sort(known)
	}
	r.mu.Unlock()

	if !ok {
		err := fmt.Errorf("commandtest: %w: %s (recorded: %s)", ErrUnrecorded, line, strings.Join(known, "; "))
		if r.tb != nil {
			r.tb.Errorf("%v", err)
		}
		return command.Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return command.Result{}, fmt.Errorf("running %s: %w", c, err)
	}
	start := time.Now()
	if rec.Hang {
		<-ctx.Done()
		return command.Result{Duration: time.Since(start)}, fmt.Errorf("running %s: %w", c, ctx.Err())
	}
	res := command.Result{Stdout: slices.Clone(rec.Stdout), Stderr: slices.Clone(rec.Stderr), ExitCode: rec.ExitCode, Duration: time.Since(start)}
	if rec.ExitCode != 0 {
		return res, &command.ExitError{Command: c.String(), ExitCode: rec.ExitCode, Stderr: lastLines(rec.Stderr, 5)}
	}
	return res, nil
}

// lastLines matches command.OS: the last n lines of b joined by "; ".
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// Line renders a command as recording files write it: the name and the
// arguments separated by single spaces, with any argument that is empty or
// holds spaces, quotes, backslashes or control characters Go-quoted. Env,
// Dir and Stdin are not part of the line.
func Line(c command.Command) string {
	var b strings.Builder
	b.WriteString(quoteArg(c.Name))
	for _, a := range c.Args {
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

func quoteArg(a string) string {
	if a == "" || strings.IndexFunc(a, func(r rune) bool {
		return unicode.IsSpace(r) || r == '"' || r == '\\' || r == '\'' || unicode.IsControl(r) || r == unicode.ReplacementChar
	}) >= 0 {
		return strconv.Quote(a)
	}
	return a
}

// ParseError reports a malformed recording file.
type ParseError struct {
	Line   int // 1-based line number
	Reason string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Parse reads a recording file.
func Parse(data []byte) ([]Recording, error) {
	var (
		recs    []Recording
		cur     *Recording
		section *[]byte
	)
	flush := func() {
		if cur != nil {
			recs = append(recs, *cur)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	sc.Split(scanLinesKeepNewline)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		text := strings.TrimRight(raw, "\r\n")
		marker, isMarker := strings.CutPrefix(text, "-- ")
		if isMarker {
			marker, isMarker = strings.CutSuffix(marker, " --")
		}
		if !isMarker {
			if section != nil {
				*section = append(*section, raw...)
			}
			continue
		}
		key, arg, _ := strings.Cut(marker, " ")
		switch key {
		case "cmd":
			if strings.TrimSpace(arg) == "" {
				return nil, &ParseError{Line: n, Reason: "cmd marker without a command line"}
			}
			flush()
			cur, section = &Recording{Line: strings.TrimSpace(arg)}, nil
			continue
		}
		if cur == nil {
			return nil, &ParseError{Line: n, Reason: fmt.Sprintf("%q marker before the first cmd marker", key)}
		}
		switch key {
		case "stdout":
			section = &cur.Stdout
		case "stderr":
			section = &cur.Stderr
		case "exit":
			code, err := parseExit(strings.TrimSpace(arg))
			if err != nil {
				return nil, &ParseError{Line: n, Reason: fmt.Sprintf("exit status %q %s", arg, err)}
			}
			cur.ExitCode, section = code, nil
		case "hang":
			cur.Hang, section = true, nil
		default:
			return nil, &ParseError{Line: n, Reason: fmt.Sprintf("unknown marker %q (want cmd, exit, stdout, stderr or hang)", key)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Line: 0, Reason: err.Error()}
	}
	flush()
	return recs, nil
}

// Exit statuses span int32 and uint32: -2^31 to 2^32-1.
const (
	minExit = math.MinInt32
	maxExit = math.MaxUint32
)

// parseExit reads an exit status: decimal, optionally negative, or 0x and
// one to eight hex digits, in the range of int32 or uint32. The error says
// what is wrong, for a ParseError reason.
func parseExit(s string) (int, error) {
	if hex, ok := strings.CutPrefix(s, "0x"); ok || strings.HasPrefix(s, "0X") {
		if !ok {
			hex = s[2:]
		}
		n, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return 0, errors.New("is not 0x followed by 1 to 8 hex digits")
		}
		return int(n), nil
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, errors.New("is not a number (decimal, or hex with 0x)")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < minExit || n > maxExit {
		return 0, fmt.Errorf("is out of range: exit statuses are 32-bit, from %d to %d (0x%X)", minExit, uint64(maxExit), uint64(maxExit))
	}
	return int(n), nil
}

// formatExit writes an exit status as parseExit reads it: in hex from
// 0x80000000 (HRESULTs and NTSTATUS codes), in decimal otherwise.
func formatExit(code int) string {
	if c := int64(code); c >= 0x80000000 && c <= maxExit {
		return fmt.Sprintf("0x%08X", code)
	}
	return strconv.Itoa(code)
}

// scanLinesKeepNewline splits like bufio.ScanLines but keeps line endings,
// so section contents are reproduced byte for byte.
func scanLinesKeepNewline(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i+1], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Format renders recordings in the recording-file format. A section whose
// content does not end with a newline gets one, since the next marker must
// start a line; Parse(Format(r)) gives r back otherwise, as long as every
// ExitCode is a 32-bit exit status (see Exit statuses), as real ones are.
func Format(recs []Recording) []byte {
	var b bytes.Buffer
	for _, rec := range recs {
		fmt.Fprintf(&b, "-- cmd %s --\n", rec.Line)
		if rec.ExitCode != 0 {
			fmt.Fprintf(&b, "-- exit %s --\n", formatExit(rec.ExitCode))
		}
		if rec.Hang {
			b.WriteString("-- hang --\n")
		}
		writeSection(&b, "stdout", rec.Stdout)
		writeSection(&b, "stderr", rec.Stderr)
	}
	return b.Bytes()
}

func writeSection(b *bytes.Buffer, name string, content []byte) {
	if len(content) == 0 {
		return
	}
	fmt.Fprintf(b, "-- %s --\n", name)
	b.Write(content)
	if content[len(content)-1] != '\n' {
		b.WriteByte('\n')
	}
}

// Recorder runs commands through a real runner and keeps what they
// produced, to be written as a golden file with Save.
type Recorder struct {
	// Runner runs the commands; usually command.OS{}.
	Runner command.Runner

	mu   sync.Mutex
	recs []Recording
}

var _ command.Runner = (*Recorder)(nil)

// Run implements command.Runner.
func (r *Recorder) Run(ctx context.Context, c command.Command) (command.Result, error) {
	res, err := r.Runner.Run(ctx, c)
	var ee *command.ExitError
	if err == nil || errors.As(err, &ee) {
		r.mu.Lock()
		r.recs = append(r.recs, Recording{Line: Line(c), Stdout: slices.Clone(res.Stdout), Stderr: slices.Clone(res.Stderr), ExitCode: res.ExitCode})
		r.mu.Unlock()
	}
	return res, err
}

// Recordings returns what was recorded, in order.
func (r *Recorder) Recordings() []Recording {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

// Save writes the recordings to path in the recording-file format.
func (r *Recorder) Save(path string) error {
	if err := os.WriteFile(path, Format(r.Recordings()), 0o644); err != nil {
		return fmt.Errorf("commandtest: saving recordings: %w", err)
	}
	return nil
}
