package wua_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/detect"
	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

// TestInventoryProducts: the Microsoft products of the recorded registry
// (Uninstall keys and the Click-to-Run configuration) are packages of
// ecosystem microsoft; hidden entries, updates of other entries, the
// Click-to-Run entry already reported and other publishers are not.
func TestInventoryProducts(t *testing.T) {
	a, _ := newAdapter(t, winreboot.Fake{})
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]patchcore.Package{}
	for _, p := range resp.Inventory.Packages {
		if p.Ecosystem != patchcore.EcosystemMicrosoft {
			t.Errorf("%s: ecosystem %q", p.Name, p.Ecosystem)
		}
		got[p.Name] = p
	}
	for _, w := range []patchcore.Package{
		{Name: "Microsoft 365 Apps for Enterprise for 64-bit Systems", Version: "16.0.17126.20132", Arch: "x64", Channel: "Current"},
		{Name: "Microsoft Edge", Version: "121.0.2277.83"},
		{Name: "Visual Studio Enterprise 2022", Version: "17.8.3"},
		{Name: ".NET 8.0", Version: "8.0.1", ProductCode: "{5A0B4AE6-E4D3-4C7D-A5E7-9B3B32E4C6F1}"},
		{Name: "PowerShell 7-x64", Version: "7.4.0.0"},
	} {
		w.Ecosystem = patchcore.EcosystemMicrosoft
		if g, ok := got[w.Name]; !ok || g != w {
			t.Errorf("%s: got %+v, want %+v", w.Name, g, w)
		}
		delete(got, w.Name)
	}
	for name := range got {
		t.Errorf("unexpected package %q", name)
	}
}

// TestInventoryDetectsMicrosoftProducts: the inventory of the recorded
// device against MSRC's January and February 2024 documents reports the
// outdated Edge, Visual Studio and .NET missing.
func TestInventoryDetectsMicrosoftProducts(t *testing.T) {
	cat := feed.NewCatalog()
	for _, f := range []string{"microsoft/cvrfDocument-2024-Jan.xml", "microsoft/cvrfDocument-2024-Feb.xml"} {
		fh, err := os.Open(samples.Path(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := (msrc.CVRF{}).Parse(context.Background(), fh, func(p patchcore.Patch) error { cat.Add(p); return nil }); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	a, _ := newAdapter(t, winreboot.Fake{})
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := detect.New(cat).Detect(context.Background(), resp.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	for id, installed := range map[string]string{
		"msrc:11655@122.0.2365.52": "121.0.2277.83", // Edge
		"msrc:12271@17.8.7":        "17.8.3",        // Visual Studio 2022 version 17.8
		"KB5035121":                "8.0.1",         // .NET 8.0: a KB with FixedBuild 8.0.2
	} {
		f, ok := r.Finding(id)
		if !ok || f.State != patchcore.FindingMissing || !strings.Contains(f.Reason, installed) {
			t.Errorf("%s: %v %+v", id, ok, f)
		}
	}
}
