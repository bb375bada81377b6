// Package wuatest is a recorded fake of the Windows Update Agent for tests
// of adapters/wua: a Fake session answers searches, downloads, installs,
// the history and the reboot flag from values (typically loaded from a
// JSON recording under testdata/), so the adapter's logic runs on any OS.
package wuatest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/internal/parse"
)

// Recording is what a Fake answers, in the JSON form of the wua types.
type Recording struct {
	// Updates are every update the agent knows, installed or not.
	Updates []wua.UpdateInfo `json:"updates"`
	// Downloads and Installs map an UpdateID to its operation's result;
	// an UpdateID without one succeeds.
	Downloads map[string]wua.OperationResult `json:"downloads,omitempty"`
	Installs  map[string]wua.OperationResult `json:"installs,omitempty"`
	History   []wua.HistoryEntry             `json:"history,omitempty"`
	Reboot    bool                           `json:"reboot_required,omitempty"`
	// QuickFixes are the Win32_QuickFixEngineering rows WMI returns.
	QuickFixes []wua.QuickFix `json:"quick_fixes,omitempty"`
	// QuickFixError, when set, makes the QFE query fail with this message
	// (a machine whose WMI is broken).
	QuickFixError string `json:"quick_fix_error,omitempty"`
	// HistoryError, when set, makes History fail with this message.
	HistoryError string `json:"history_error,omitempty"`
	// OS is what the registry's CurrentVersion holds.
	OS wua.CurrentVersion `json:"os"`
	// Software is what the registry's Uninstall and Click-to-Run keys hold.
	Software wua.Software `json:"software"`
}

// Load reads a JSON recording.
func Load(path string) (Recording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Recording{}, fmt.Errorf("wuatest: %w", err)
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		return Recording{}, fmt.Errorf("wuatest: %s: %w", path, err)
	}
	return r, nil
}

// Fake is a wua.Session, wua.OSInfo and wua.SoftwareReader answering from a Recording. It is
// safe for concurrent use and records the calls made.
type Fake struct {
	mu    sync.Mutex
	rec   Recording
	calls []string
}

// New returns a Fake answering from rec.
func New(rec Recording) *Fake { return &Fake{rec: rec} }

// Opener returns a wua.Opener handing out f.
func (f *Fake) Opener() wua.Opener {
	return func(ctx context.Context) (wua.Session, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return f, nil
	}
}

// Calls returns the calls made so far ("search IsInstalled=0 ...",
// "install <id>", "history", "quickfixes").
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) note(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

// Search implements wua.Session. It understands the criteria the adapter
// sends: "UpdateID='...'" and the IsInstalled/IsHidden/Type conditions.
func (f *Fake) Search(ctx context.Context, q wua.Query) ([]wua.UpdateInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.note("search " + q.Criteria)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wua.UpdateInfo
	for _, u := range f.rec.Updates {
		if id, ok := strings.CutPrefix(q.Criteria, "UpdateID='"); ok {
			if strings.EqualFold(strings.TrimSuffix(id, "'"), u.UpdateID) {
				out = append(out, u)
			}
			continue
		}
		if strings.Contains(q.Criteria, "IsInstalled=0") && u.IsInstalled ||
			strings.Contains(q.Criteria, "IsHidden=0") && u.IsHidden ||
			strings.Contains(q.Criteria, "Type='Software'") && u.Type == 2 {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

func (f *Fake) operate(ctx context.Context, op, id string, results map[string]wua.OperationResult) (wua.OperationResult, error) {
	if err := ctx.Err(); err != nil {
		return wua.OperationResult{}, err
	}
	f.note(op + " " + id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := results[id]; ok {
		return r, nil
	}
	return wua.OperationResult{ResultCode: parse.ResultSucceeded}, nil
}

// Download implements wua.Session.
func (f *Fake) Download(ctx context.Context, id string, _ wua.Query) (wua.OperationResult, error) {
	return f.operate(ctx, "download", id, f.rec.Downloads)
}

// Install implements wua.Session.
func (f *Fake) Install(ctx context.Context, id string, _ wua.Query) (wua.OperationResult, error) {
	return f.operate(ctx, "install", id, f.rec.Installs)
}

// History implements wua.Session.
func (f *Fake) History(ctx context.Context) ([]wua.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.note("history")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec.HistoryError != "" {
		return nil, errors.New(f.rec.HistoryError)
	}
	return append([]wua.HistoryEntry(nil), f.rec.History...), nil
}

// QuickFixes implements wua.Session.
func (f *Fake) QuickFixes(ctx context.Context) ([]wua.QuickFix, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.note("quickfixes")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec.QuickFixError != "" {
		return nil, errors.New(f.rec.QuickFixError)
	}
	return append([]wua.QuickFix(nil), f.rec.QuickFixes...), nil
}

// RebootRequired implements wua.Session.
func (f *Fake) RebootRequired(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec.Reboot, nil
}

// Close implements wua.Session.
func (f *Fake) Close() error { return nil }

// CurrentVersion implements wua.OSInfo.
func (f *Fake) CurrentVersion(ctx context.Context) (wua.CurrentVersion, error) {
	if err := ctx.Err(); err != nil {
		return wua.CurrentVersion{}, err
	}
	return f.rec.OS, nil
}

// Software implements wua.SoftwareReader.
func (f *Fake) Software(ctx context.Context) (wua.Software, error) {
	if err := ctx.Err(); err != nil {
		return wua.Software{}, err
	}
	return f.rec.Software, nil
}
