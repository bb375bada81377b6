package msrc_test

import (
	"context"
	"fmt"
	"os"

	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/patchcore"
)

func ExampleParseCSAF() {
	f, err := os.Open("testdata/msrc_cve-2024-21338.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	doc, err := msrc.ParseCSAF(context.Background(), f, func(p patchcore.Patch) error {
		for _, fix := range p.Fixes {
			fmt.Printf("%s %s %s -> %s\n", p.ID, fix.ProductID, fix.Product, fix.FixedBuild)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.ID, len(doc.Products), "product IDs")
	// Output:
	// KB5034765 12243 Windows 11 Version 23H2 for x64-based Systems -> 10.0.22631.3155
	// KB5034765 12086 Windows 11 Version 22H2 for x64-based Systems -> 10.0.22621.3155
	// KB5034763 12097 Windows 10 Version 22H2 for x64-based Systems -> 10.0.19045.4046
	// KB5034770 11923 Windows Server 2022 -> 10.0.20348.2322
	// msrc_CVE-2024-21338 8 product IDs
}
