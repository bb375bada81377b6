package adapters

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestStderrLog(t *testing.T) {
	var out bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Name: "apt", Output: &out, Level: hclog.Trace})
	s := newStderrLog(logger, 3)
	input := `{"@level":"info","@message":"running apt-get","@timestamp":"2026-01-01T00:00:00Z","cmd":"apt-get -s upgrade"}
{"@level":"debug","@message":"noise","@module":"go-plugin"}
plain line
{"@level":"error","@message":"dpkg was interrupted","code":2}
panic: runtime error: index out of range
goroutine 1 [running]:
`
	// Written in awkward pieces, as a pipe delivers it.
	for i := 0; i < len(input); i += 7 {
		s.Write([]byte(input[i:min(i+7, len(input))]))
	}
	got := s.Lines()
	want := []string{"[ERROR] dpkg was interrupted code=2", "panic: runtime error: index out of range", "goroutine 1 [running]:"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Lines = %q, want %q", got, want)
	}
	logs := out.String()
	for _, w := range []string{"[INFO]  apt: running apt-get: cmd=\"apt-get -s upgrade\"", "[ERROR] apt: dpkg was interrupted: code=2",
		"[DEBUG] apt: plain line", "[ERROR] apt: goroutine 1 [running]:"} {
		if !strings.Contains(logs, w) {
			t.Errorf("re-emitted logs lack %q:\n%s", w, logs)
		}
	}
	if strings.Contains(strings.Join(got, "\n"), "noise") {
		t.Error("debug lines must not crowd out the lines that explain a crash")
	}
}

func FuzzStderrLog(f *testing.F) {
	f.Add([]byte(`{"@level":"warn","@message":"x","k":[1,2]}` + "\n"))
	f.Add([]byte("{\"@message\":1}\n{\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStderrLog(hclog.NewNullLogger(), 5)
		s.Write(data)
		s.Write([]byte("\n"))
		if n := len(s.Lines()); n > 5 {
			t.Fatalf("%d lines kept, max 5", n)
		}
	})
}
