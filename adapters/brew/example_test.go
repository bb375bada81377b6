package brew_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/brew"
	"github.com/patchcore/sdk/adapters/commandtest"
)

// The adapter reading recorded output; on a Mac, leave Runner nil and set
// User to the owner of the Homebrew prefix when the agent runs as root.
func Example() {
	runner := commandtest.New(nil, commandtest.Recording{
		Line:   "brew outdated --json=v2",
		Stdout: []byte(`{"formulae":[{"name":"curl","installed_versions":["8.4.0"],"current_version":"8.5.0","pinned":false,"pinned_version":null}],"casks":[{"name":"firefox","installed_versions":["120.0.1"],"current_version":"121.0"}]}`),
	})
	a := brew.New(brew.Options{Runner: runner})
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range resp.Updates {
		fmt.Println(u.ID, u.InstalledVersion, "->", u.AvailableVersion)
	}
	// Output:
	// cask:firefox 120.0.1 -> 121.0
	// curl 8.4.0 -> 8.5.0
}
