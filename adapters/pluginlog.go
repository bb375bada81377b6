package adapters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// stderrLog receives a plugin's stderr line by line: it re-emits hclog JSON
// lines through the host's logger under the adapter's name, logs other lines
// at debug (errors for a panic), and keeps the last lines for error messages.
type stderrLog struct {
	logger hclog.Logger
	max    int

	mu      sync.Mutex
	partial []byte
	last    []string
	inPanic bool
}

func newStderrLog(logger hclog.Logger, max int) *stderrLog {
	return &stderrLog{logger: logger, max: max}
}

// Write implements io.Writer; it never fails.
func (s *stderrLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(s.partial[:i], "\r"))
		s.partial = s.partial[i+1:]
		if line != "" {
			s.line(line)
		}
	}
	if len(s.partial) > 64<<10 { // a line with no end: flush what we have
		s.line(string(s.partial))
		s.partial = s.partial[:0]
	}
	return len(p), nil
}

func (s *stderrLog) line(line string) {
	text := line
	if entry, ok := parseLogLine(line); ok {
		s.logger.Log(entry.level, entry.msg, entry.args...)
		if entry.level < hclog.Info {
			return // debug chatter does not explain a crash; keep the tail for what does
		}
		text = entry.String()
	} else {
		switch {
		case strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: "):
			s.inPanic = true
			s.logger.Error(line)
		case s.inPanic:
			s.logger.Error(line)
		default:
			s.logger.Debug(line)
		}
	}
	s.last = append(s.last, text)
	if len(s.last) > s.max {
		s.last = slices.Delete(s.last, 0, len(s.last)-s.max)
	}
}

// Lines returns the last lines received, oldest first.
func (s *stderrLog) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.last)
}

type logEntry struct {
	level hclog.Level
	msg   string
	args  []any
}

func (e logEntry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(e.level.String()), e.msg)
	for i := 0; i+1 < len(e.args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", e.args[i], e.args[i+1])
	}
	return b.String()
}

// parseLogLine decodes one hclog JSON line.
func parseLogLine(line string) (logEntry, bool) {
	if !strings.HasPrefix(line, "{") {
		return logEntry{}, false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return logEntry{}, false
	}
	msg, ok := m["@message"].(string)
	if !ok {
		return logEntry{}, false
	}
	lvl, _ := m["@level"].(string)
	e := logEntry{level: hclog.LevelFromString(lvl), msg: msg}
	if e.level == hclog.NoLevel {
		e.level = hclog.Info
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k == "@message" || k == "@level" || k == "@timestamp" || k == "@caller" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.args = append(e.args, strings.TrimPrefix(k, "@"), m[k])
	}
	return e, true
}

// stdoutLog receives what a plugin wrote to os.Stdout after the handshake
// (go-plugin forwards it) and logs it as the contract violation it is.
type stdoutLog struct {
	logger hclog.Logger
	mu     sync.Mutex
}

func (s *stdoutLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logger.Warn("adapter wrote to stdout (adapters must log to stderr through hclog); output ignored",
		"output", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// quietNamed wraps go-plugin's logger so that its own re-emission of the
// plugin's stderr (through Named) is silenced: stderrLog does that instead,
// under the adapter's name rather than the binary's.
type quietNamed struct{ hclog.Logger }

func (q quietNamed) Named(string) hclog.Logger { return hclog.NewNullLogger() }
