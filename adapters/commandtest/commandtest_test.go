package commandtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters/command"
)

var dpkgQuery = command.Command{Name: "dpkg-query", Args: []string{"-W", "-f=${Package}\t${Version}\n"}}

func TestLoadAndRun(t *testing.T) {
	ctx := context.Background()
	r := Load(t, "testdata/dpkg.cmds")

	res, err := r.Run(ctx, dpkgQuery)
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	if want := "bash\t5.2.15-2+b2\nopenssl\t3.0.11-1~deb12u2\n"; string(res.Stdout) != want {
		t.Errorf("stdout = %q, want %q", res.Stdout, want)
	}

	res, err = r.Run(ctx, command.Command{Name: "apt-get", Args: []string{"-s", "upgrade"}})
	var ee *command.ExitError
	if !errors.As(err, &ee) || ee.ExitCode != 100 || res.ExitCode != 100 {
		t.Fatalf("apt-get: %v (result exit %d), want *command.ExitError with status 100", err, res.ExitCode)
	}
	if !strings.Contains(ee.Stderr, "Could not get lock") || !strings.Contains(string(res.Stderr), "frontend lock") {
		t.Errorf("ExitError.Stderr = %q", ee.Stderr)
	}

	// Repeated command lines replay in order, then the last one repeats.
	uname := command.Command{Name: "uname", Args: []string{"-r"}}
	for _, want := range []string{"6.1.0-18-amd64\n", "6.1.0-21-amd64\n", "6.1.0-21-amd64\n"} {
		res, err := r.Run(ctx, uname)
		if err != nil || string(res.Stdout) != want {
			t.Errorf("uname -r = %q, %v; want %q", res.Stdout, err, want)
		}
	}
	if got, want := r.Unused(), []string{"apt-get update"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Unused = %q, want %q", got, want)
	}
	if got := len(r.Lines()); got != 5 {
		t.Errorf("Lines = %q, want 5", r.Lines())
	}
}

func TestHangHonoursContext(t *testing.T) {
	r := Load(t, "testdata/dpkg.cmds")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Run(ctx, command.Command{Name: "apt-get", Args: []string{"update"}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("hang: %v after %s", err, time.Since(start))
	}
	// A context that is already done stops any command.
	if _, err := r.Run(ctx, dpkgQuery); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("done context: %v", err)
	}
}

// recordingTB captures Errorf calls so the test can check that an
// unrecorded command fails the test that ran it.
type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Helper() {}

func TestUnrecordedFailsTheTest(t *testing.T) {
	tb := &recordingTB{TB: t}
	r := New(tb, Recording{Line: "true"})
	_, err := r.Run(context.Background(), command.Command{Name: "rm", Args: []string{"-rf", "/"}})
	if !errors.Is(err, ErrUnrecorded) || !strings.Contains(err.Error(), "rm -rf /") || !strings.Contains(err.Error(), "recorded: true") {
		t.Errorf("err = %v", err)
	}
	if len(tb.errors) != 1 {
		t.Errorf("test failures = %q, want 1", tb.errors)
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		cmd  command.Command
		want string
	}{
		{command.Command{Name: "apt-get"}, "apt-get"},
		{command.Command{Name: "apt-get", Args: []string{"-s", "-o", "Debug::NoLocking=1", "upgrade"}}, "apt-get -s -o Debug::NoLocking=1 upgrade"},
		{dpkgQuery, `dpkg-query -W "-f=${Package}\t${Version}\n"`},
		{command.Command{Name: "sh", Args: []string{"", "a b", `q"`}}, `sh "" "a b" "q\""`},
	}
	for _, tt := range tests {
		if got := Line(tt.cmd); got != tt.want {
			t.Errorf("Line(%#v) = %s, want %s", tt.cmd, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"marker before cmd", "-- stdout --\nx\n", "line 1: \"stdout\" marker before the first cmd marker"},
		{"empty cmd", "-- cmd  --\n", "line 1: cmd marker without a command line"},
		{"bad exit", "-- cmd true --\n-- exit x --\n", "line 2: exit status \"x\" is not a number"},
		{"exit above uint32", "-- cmd true --\n-- exit 4294967296 --\n", `line 2: exit status "4294967296" is out of range`},
		{"exit below int32", "-- cmd true --\n-- exit -2147483649 --\n", `line 2: exit status "-2147483649" is out of range`},
		{"hex above uint32", "-- cmd true --\n-- exit 0x100000000 --\n", `line 2: exit status "0x100000000" is not 0x followed by 1 to 8 hex digits`},
		{"empty hex", "-- cmd true --\n-- exit 0x --\n", "is not 0x followed by"},
		{"signed hex", "-- cmd true --\n-- exit -0x1 --\n", "is not a number"},
		{"plus sign", "-- cmd true --\n-- exit +1 --\n", "is not a number"},
		{"hex without 0x", "-- cmd true --\n-- exit 8A15002B --\n", "is not a number"},
		{"empty exit", "-- cmd true --\n-- exit --\n", "is not a number"},
		{"unknown marker", "-- cmd true --\n-- stdin --\n", "line 2: unknown marker \"stdin\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want a *ParseError containing %q", err, tt.want)
			}
		})
	}
}

// Windows exit codes are 32-bit: installer codes above 255 and HRESULTs.
func TestExitStatuses(t *testing.T) {
	tests := []struct {
		in        string
		want      int
		formatted string // how Format writes it back
	}{
		{"0", 0, ""}, // Format leaves out exit 0
		{"100", 100, "100"},
		{"256", 256, "256"},
		{"1603", 1603, "1603"},
		{"3010", 3010, "3010"},
		{"0x8A15002B", 0x8A15002B, "0x8A15002B"},
		{"0x8a15002b", 0x8A15002B, "0x8A15002B"},
		{"0X8A15002B", 0x8A15002B, "0x8A15002B"},
		{"2316632107", 0x8A15002B, "0x8A15002B"},
		{"-1978335189", -1978335189, "-1978335189"}, // 0x8A15002B read as an int32, kept as written
		{"0xBC2", 3010, "3010"},
		{"0x7FFFFFFF", 1<<31 - 1, "2147483647"},
		{"0xFFFFFFFF", 1<<32 - 1, "0xFFFFFFFF"},
		{"4294967295", 1<<32 - 1, "0xFFFFFFFF"},
		{"-2147483648", -1 << 31, "-2147483648"},
		{"-1", -1, "-1"},
		{"007", 7, "7"}, // decimal, not octal
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			recs, err := Parse([]byte("-- cmd winget upgrade --\n-- exit " + tt.in + " --\n"))
			if err != nil {
				t.Fatal(err)
			}
			if recs[0].ExitCode != tt.want {
				t.Fatalf("ExitCode = %d, want %d", recs[0].ExitCode, tt.want)
			}
			wantText := "-- cmd winget upgrade --\n"
			if tt.formatted != "" {
				wantText += "-- exit " + tt.formatted + " --\n"
			}
			if got := string(Format(recs)); got != wantText {
				t.Errorf("Format = %q, want %q", got, wantText)
			}
			res, err := New(t, recs...).Run(context.Background(), command.Command{Name: "winget", Args: []string{"upgrade"}})
			var ee *command.ExitError
			if tt.want == 0 {
				if err != nil {
					t.Errorf("Run: %v, want success", err)
				}
				return
			}
			if !errors.As(err, &ee) || ee.ExitCode != tt.want || res.ExitCode != tt.want {
				t.Errorf("Run = %d, %v; want a *command.ExitError with status %d", res.ExitCode, err, tt.want)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	recs := []Recording{
		{Line: "a", Stdout: []byte("out\n"), Stderr: []byte("err\n"), ExitCode: 3},
		{Line: "d", ExitCode: 0x8A150101},
		{Line: "e", ExitCode: -1073741819}, // STATUS_ACCESS_VIOLATION as an int32
		{Line: `b "x y"`, Hang: true},
		{Line: "c", Stdout: []byte("line1\r\nline2\n")},
	}
	got, err := Parse(Format(recs))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, recs)
	}
	// A section without a final newline gains one rather than eating the next marker.
	got, err = Parse(Format([]Recording{{Line: "a", Stdout: []byte("no newline")}, {Line: "b"}}))
	if err != nil || len(got) != 2 || string(got[0].Stdout) != "no newline\n" {
		t.Errorf("no-newline section: %+v, %v", got, err)
	}
}

// echoRunner answers every command with its own line, standing in for a real system.
type echoRunner struct{}

func (echoRunner) Run(_ context.Context, c command.Command) (command.Result, error) {
	if c.Name == "false" {
		return command.Result{ExitCode: 1, Stderr: []byte("failed\n")}, &command.ExitError{Command: c.String(), ExitCode: 1}
	}
	return command.Result{Stdout: []byte(c.String() + "\n")}, nil
}

func TestRecorderReplays(t *testing.T) {
	ctx := context.Background()
	rec := &Recorder{Runner: echoRunner{}}
	cmds := []command.Command{{Name: "uname", Args: []string{"-r"}}, {Name: "false"}}
	for _, c := range cmds {
		_, _ = rec.Run(ctx, c)
	}
	path := t.TempDir() + "/rec.cmds"
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	r := Load(t, path)
	for _, c := range cmds {
		want, wantErr := echoRunner{}.Run(ctx, c)
		got, err := r.Run(ctx, c)
		if !bytes.Equal(got.Stdout, want.Stdout) || got.ExitCode != want.ExitCode || (err == nil) != (wantErr == nil) {
			t.Errorf("%s: replay %+v, %v; recorded %+v, %v", c, got, err, want, wantErr)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("-- cmd true --\n-- stdout --\nx\n"))
	f.Add([]byte("-- cmd a --\n-- exit 1 --\n-- hang --\n-- stderr --\ne"))
	f.Add([]byte("# c\n-- x --\n"))
	f.Add([]byte("-- cmd a --\n-- exit 0x8A15002B --\n-- cmd b --\n-- exit -2147483648 --\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses formats and parses again to the same command lines.
		again, err := Parse(Format(recs))
		if err != nil {
			t.Fatalf("Parse(Format(...)): %v", err)
		}
		if len(again) != len(recs) {
			t.Fatalf("round trip: %d recordings, want %d", len(again), len(recs))
		}
		for i := range recs {
			if again[i].ExitCode != recs[i].ExitCode {
				t.Fatalf("round trip: recording %d exit %d, want %d", i, again[i].ExitCode, recs[i].ExitCode)
			}
		}
	})
}

// Example shows an adapter test replaying recorded output.
func Example() {
	r := New(nil, Recording{Line: "uname -r", Stdout: []byte("6.1.0-18-amd64\n")})
	res, err := r.Run(context.Background(), command.Command{Name: "uname", Args: []string{"-r"}})
	fmt.Printf("%q %v\n", res.Stdout, err)
	// Output: "6.1.0-18-amd64\n" <nil>
}
