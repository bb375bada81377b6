package formats_test

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
)

func ExampleParseFile() {
	err := formats.ParseFile(context.Background(), "../osv/testdata/debian-array.json", func(p patchcore.Patch) error {
		for _, f := range p.Fixes {
			fmt.Println(p.ID, f.Distro, f.Release, f.Package, f.FixedVersion)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// DSA-5678-1 debian 12 unzip 6.0-28+deb12u1
	// DSA-5678-1 debian 11 unzip
}
