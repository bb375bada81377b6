package choco_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/choco"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
)

// An adapter with recorded choco output; on a device, pass command.OS{}
// (or leave Runner nil) and leave Registry nil.
func Example() {
	runner := commandtest.New(nil,
		commandtest.Recording{Line: "choco outdated --limit-output --ignore-unfound", ExitCode: 2,
			Stdout: []byte("git|2.43.0|2.44.0|false\nnotepadplusplus|8.6|8.6.2|true\n")})
	a := choco.New(choco.Options{Runner: runner, Registry: winreboot.Fake{}})
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range resp.Updates {
		fmt.Println(u.ID, u.InstalledVersion, "->", u.AvailableVersion, "held:", u.Held)
	}
	// Output:
	// git 2.43.0 -> 2.44.0 held: false
	// notepadplusplus 8.6 -> 8.6.2 held: true
}
