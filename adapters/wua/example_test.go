package wua_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/adapters/wua/wuatest"
)

// Listing updates through a recorded Windows Update Agent; on Windows,
// wua.New(wua.Options{}) talks to the real one through COM.
func Example() {
	f := wuatest.New(wuatest.Recording{Updates: []wua.UpdateInfo{{
		UpdateID: "1a9d3c4e-5b6f-4a7b-8c9d-0e1f2a3b4c5d", Type: 1, MsrcSeverity: "Critical",
		Title:        "2024-02 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5034765)",
		KBArticleIDs: []string{"5034765"}, CategoryIDs: []string{"0FA1201D-4330-4FA8-8AE9-B877473B6441"}, // Security Updates
		RebootBehavior: 1, // InstallationBehavior.RebootBehavior: always requires a reboot
	}}})
	a := wua.New(wua.Options{Open: f.Opener(), OSInfo: f, Software: f, Registry: winreboot.Fake{}, Source: wua.SourceWSUS})
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range resp.Updates {
		fmt.Println(u.KB, u.Classification, u.Severity.Level, u.Reboot, u.Origin)
	}
	// Output:
	// KB5034765 security critical required wsus
}
