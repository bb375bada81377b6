package wua_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/adapters/wua/wuatest"
)

// The conformance kit over gRPC, the COM layer replaced by a recorded fake.
func TestConformance(t *testing.T) {
	rec, err := wuatest.Load(filepath.Join("testdata", "win11-23h2.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := wuatest.New(rec)
	factory := func(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
		return wua.New(wua.Options{Open: f.Opener(), OSInfo: f, Software: f, Registry: winreboot.Fake{}, Logger: env.Logger}), nil
	}
	adaptertest.Run(t, factory, adaptertest.WithInstallID(installed))
}
