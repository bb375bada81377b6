package softwareupdate_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/softwareupdate"
)

// Listing Apple's updates from recorded output; on a Mac, leave Runner nil.
func Example() {
	runner := commandtest.New(nil, commandtest.Recording{
		Line: "/usr/sbin/softwareupdate --list",
		Stdout: []byte("Software Update found the following new or updated software:\n" +
			"* Label: macOS Sonoma 14.4.1-23E224\n" +
			"\tTitle: macOS Sonoma 14.4.1, Version: 14.4.1, Size: 1053245KiB, Recommended: YES, Action: restart, \n"),
	})
	a := softwareupdate.New(softwareupdate.Options{Runner: runner})
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range resp.Updates {
		fmt.Println(u.ID, u.AvailableVersion, u.Reboot, u.Classification)
	}
	// Output:
	// macOS Sonoma 14.4.1-23E224 14.4.1 required update_rollup
}
