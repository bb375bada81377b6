package wua_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/internal/parse"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/adapters/wua/wuatest"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

// hangingQFE is a session whose WMI query never answers (a damaged WMI
// repository), until its context ends.
type hangingQFE struct{ *wuatest.Fake }

func (hangingQFE) QuickFixes(ctx context.Context) ([]wua.QuickFix, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestInventoryQuickFixes(t *testing.T) {
	history := []string{"KB2267602", "KB5034123"} // what the recording's history alone gives
	tests := []struct {
		name    string
		edit    func(*wuatest.Recording)
		hang    bool
		want    []string
		wantErr string   // the inventory fails with this
		logs    []string // the log holds these
		noLogs  []string // and not these
		calls   []string // the session calls, in order
	}{
		{
			name: "union and de-duplication",
			edit: func(r *wuatest.Recording) {
				r.QuickFixes = []wua.QuickFix{
					{HotFixID: "kb5034123", Description: "Security Update"}, // in the history too
					{HotFixID: " KB5034441 ", Description: "Security Update"},
					{HotFixID: "KB5034441", Description: "Security Update"},
					{HotFixID: "KB2267602", Description: "Update"},
					{HotFixID: "5031356", Description: "Update"},
				}
			},
			want:   []string{"KB2267602", "KB5031356", "KB5034123", "KB5034441"},
			noLogs: []string{"[WARN]", "ignoring"},
			calls:  []string{"history", "quickfixes"},
		},
		{
			name: "QFE-only KBs without any history",
			edit: func(r *wuatest.Recording) {
				r.History = nil
				r.QuickFixes = []wua.QuickFix{
					{HotFixID: "KB5034441", Description: "Security Update", InstalledOn: "1/16/2024"},
					{HotFixID: "KB5027397", Description: "Update", InstalledOn: "11/14/2023"},
				}
			},
			want: []string{"KB5027397", "KB5034441"},
		},
		{
			name: "QFE lists an update the history shows uninstalled",
			edit: func(r *wuatest.Recording) {
				r.QuickFixes = []wua.QuickFix{{HotFixID: "KB5033375", Description: "Security Update"}}
			},
			want: []string{"KB2267602", "KB5033375", "KB5034123"},
		},
		{
			name: "malformed HotFixIDs are ignored with a debug log",
			edit: func(r *wuatest.Recording) {
				r.QuickFixes = []wua.QuickFix{
					{HotFixID: "File 1", Description: "Update"},
					{HotFixID: ""},
					{HotFixID: "   "},
					{HotFixID: "Q147222", Description: "Hotfix"},
					{HotFixID: "KB12"},
					{HotFixID: "KB5034441x"},
					{HotFixID: "KB 5034441"}, // the form MSRC's feed accepts too
					{HotFixID: "KB5034765", Description: "Security Update"},
				}
			},
			want:   []string{"KB2267602", "KB5034123", "KB5034441", "KB5034765"},
			logs:   []string{"[DEBUG]", `hotfix_id="File 1"`, "hotfix_id=Q147222", "hotfix_id=KB12", "hotfix_id=KB5034441x"},
			noLogs: []string{"[WARN]", "hotfix_id=KB5034765"},
		},
		{
			name: "QFE failure keeps the history's KBs and warns",
			edit: func(r *wuatest.Recording) {
				r.QuickFixes = []wua.QuickFix{{HotFixID: "KB5034441"}}
				r.QuickFixError = "SWbemServices.ExecQuery: 0x80041010"
			},
			want: history,
			logs: []string{"[WARN]", "Win32_QuickFixEngineering", "0x80041010", "history only"},
		},
		{
			name: "QFE timeout keeps the history's KBs and warns",
			hang: true,
			want: history,
			logs: []string{"[WARN]", "Win32_QuickFixEngineering", "no answer within 20ms"},
		},
		{
			name: "history failure fails the inventory as before",
			edit: func(r *wuatest.Recording) {
				r.HistoryError = "QueryHistory: 0x8024001E"
			},
			wantErr: "wua: reading the update history: QueryHistory: 0x8024001E",
			calls:   []string{"history"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := wuatest.Load(filepath.Join("testdata", "win11-23h2.json"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(&rec)
			}
			f := wuatest.New(rec)
			open := f.Opener()
			if tt.hang {
				open = func(context.Context) (wua.Session, error) { return hangingQFE{f}, nil }
			}
			var buf bytes.Buffer
			log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Debug})
			a := wua.New(wua.Options{Open: open, OSInfo: f, Software: f, Registry: winreboot.Fake{}, Arch: "amd64",
				Logger: log, QuickFixTimeout: 20 * time.Millisecond})
			resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !slices.Equal(resp.Inventory.KBs, tt.want) {
				t.Errorf("KBs = %q, want %q", resp.Inventory.KBs, tt.want)
			}
			out := buf.String()
			for _, s := range tt.logs {
				if !strings.Contains(out, s) {
					t.Errorf("log lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.noLogs {
				if strings.Contains(out, s) {
					t.Errorf("log holds %q:\n%s", s, out)
				}
			}
			if tt.calls != nil && !slices.Equal(f.Calls(), tt.calls) {
				t.Errorf("calls = %q, want %q", f.Calls(), tt.calls)
			}
		})
	}
}

func TestQuickFixKBs(t *testing.T) {
	kbs, ignored := parse.QuickFixKBs(nil)
	if kbs == nil || len(kbs) != 0 || ignored != nil {
		t.Errorf("QuickFixKBs(nil) = %q, %v; want an empty list and nothing ignored", kbs, ignored)
	}
	kbs, ignored = parse.QuickFixKBs([]wua.QuickFix{{HotFixID: "KB2"}, {HotFixID: "kb5034441"}, {HotFixID: "File 1"}, {HotFixID: "KB5027397"}, {HotFixID: "KB5034441"}})
	if want := []string{"KB5027397", "KB5034441"}; !slices.Equal(kbs, want) {
		t.Errorf("KBs = %q, want %q", kbs, want)
	}
	if len(ignored) != 2 || ignored[0].HotFixID != "KB2" || ignored[1].HotFixID != "File 1" {
		t.Errorf("ignored = %+v, want KB2 and File 1 in order", ignored)
	}
	if got := parse.MergeKBs(nil, nil); got == nil || len(got) != 0 {
		t.Errorf("MergeKBs(nil, nil) = %#v, want an empty list", got)
	}
	if got, want := parse.MergeKBs([]string{"KB3", "KB1"}, []string{"KB2", "KB1"}), []string{"KB1", "KB2", "KB3"}; !slices.Equal(got, want) {
		t.Errorf("MergeKBs = %q, want %q", got, want)
	}
}

// FuzzQuickFixKBs: any HotFixID is either a normalised KB or ignored, and
// the result is sorted without duplicates.
func FuzzQuickFixKBs(f *testing.F) {
	f.Add("KB5034441", "kb5034441")
	f.Add("File 1", "")
	f.Add(" 5034441 ", "KB 12")
	f.Fuzz(func(t *testing.T, a, b string) {
		kbs, ignored := parse.QuickFixKBs([]wua.QuickFix{{HotFixID: a}, {HotFixID: b}})
		if len(kbs)+len(ignored) > 2 || len(kbs) == 0 && len(ignored) != 2 {
			t.Fatalf("kbs %q, ignored %v", kbs, ignored)
		}
		if !slices.IsSorted(kbs) || len(slices.Compact(slices.Clone(kbs))) != len(kbs) {
			t.Fatalf("kbs %q not sorted and unique", kbs)
		}
		for _, kb := range kbs {
			if n, ok := patchcore.NormalizeKB(kb); !ok || n != kb {
				t.Fatalf("%q is not normalised", kb)
			}
		}
	})
}

// TestFeedKBsSurviveInventory: every KB the MSRC feed accepts stays in the
// inventory, whether QFE lists it or the history's title names it. The
// adapter used to accept 6 to 8 digits and no space, the feed 4 to 9 and
// "kb 890830", so such KBs dropped out of inventories.
func TestFeedKBsSurviveInventory(t *testing.T) {
	ids := []string{"KB 5034441", "kb5034441", "KB12345", "KB123456789", "5034123"}
	fh, err := os.Open(samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if err := (msrc.CVRF{}).Parse(context.Background(), fh, func(p patchcore.Patch) error {
		if strings.HasPrefix(p.ID, "KB") {
			ids = append(ids, p.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		kb, ok := patchcore.NormalizeKB(id)
		if !ok {
			t.Fatalf("the feed does not accept %q", id)
		}
		if got, ignored := parse.QuickFixKBs([]wua.QuickFix{{HotFixID: id}}); !slices.Equal(got, []string{kb}) || ignored != nil {
			t.Errorf("QFE %q: KBs %q, ignored %v; want %s", id, got, ignored, kb)
		}
		title := "2024-01 Security Update (" + id + ")"
		if !strings.HasPrefix(strings.ToUpper(id), "KB") {
			title = "2024-01 Security Update (KB" + id + ")"
		}
		hist := []wua.HistoryEntry{{Title: title, Operation: parse.OperationInstallation, ResultCode: parse.ResultSucceeded}}
		if got := parse.InstalledKBs(hist); !slices.Equal(got, []string{kb}) {
			t.Errorf("history title %q: KBs %q, want %s", title, got, kb)
		}
	}
}
