package winget_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/winget"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
)

// Listing upgrades from recorded winget output; on a device, leave Runner
// and Registry nil.
func Example() {
	flags := " --accept-source-agreements --disable-interactivity"
	runner := commandtest.New(nil,
		commandtest.Recording{Line: "winget upgrade --include-pinned" + flags, Stdout: []byte(
			"Name  Id       Version Available Source\n" +
				"---------------------------------------\n" +
				"Git   Git.Git  2.43.0  2.44.0    winget\n" +
				"1 upgrades available.\n")},
		commandtest.Recording{Line: "winget pin list" + flags, Stdout: []byte("There are no pins configured.\n")},
	)
	a := winget.New(winget.Options{Runner: runner, Registry: winreboot.Fake{}})
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range resp.Updates {
		fmt.Println(u.ID, u.InstalledVersion, "->", u.AvailableVersion)
	}
	// Output:
	// Git.Git 2.43.0 -> 2.44.0
}
