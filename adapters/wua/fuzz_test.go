package wua_test

import (
	"testing"

	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/internal/parse"
)

// The WUA layer returns structured values, not text; the mapping from
// them must hold for any input.
func FuzzMapping(f *testing.F) {
	f.Add("2024-02 Cumulative Update (KB5034765)", "5034765", "0FA1201D-4330-4FA8-8AE9-B877473B6441", "Critical", 1, 2, int32(0), true)
	f.Add("KB123 KB1234567 (KB99999999)", "", "", "", 2, 4, int32(-2145124330), false)
	f.Fuzz(func(t *testing.T, title, kb, cat, sev string, reboot, result int, hr int32, rr bool) {
		u := wua.UpdateInfo{UpdateID: "x", Title: title, KBArticleIDs: []string{kb}, CategoryIDs: []string{cat}, MsrcSeverity: sev, RebootBehavior: reboot}
		up := parse.ToUpdate(u, "default")
		if !up.Classification.Valid() {
			t.Errorf("classification %q", up.Classification)
		}
		if item, err := parse.InstallResult(wua.OperationResult{ResultCode: result, HResult: hr, RebootRequired: rr}); err == nil && item.Status == "" {
			t.Error("no status")
		}
		_ = parse.InstalledKBs([]wua.HistoryEntry{{Title: title, Operation: 1, ResultCode: result}})
		_ = parse.FormatHResult(hr)
	})
}
