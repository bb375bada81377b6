package winreboot_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/patchcore"
)

func TestCheck(t *testing.T) {
	renames := winreboot.SessionManagerKey + `\` + winreboot.PendingRenamesValue
	tests := []struct {
		name    string
		reg     winreboot.Fake
		want    bool
		reasons []string
	}{
		{"nothing pending", winreboot.Fake{}, false, nil},
		{"windows update key", winreboot.Fake{Keys: []string{winreboot.WindowsUpdateKey}}, true, []string{winreboot.ReasonWindowsUpdate}},
		{"servicing key", winreboot.Fake{Keys: []string{winreboot.ServicingKey}}, true, []string{winreboot.ReasonServicing}},
		{"pending renames", winreboot.Fake{Values: map[string][]string{renames: {`\??\C:\Windows\Temp\a.dll`, ""}}}, true, []string{winreboot.ReasonPendingRenames}},
		{"empty pending renames do not count", winreboot.Fake{Values: map[string][]string{renames: {"", ""}}}, false, nil},
		{"all of them", winreboot.Fake{Keys: []string{winreboot.ServicingKey, winreboot.WindowsUpdateKey}, Values: map[string][]string{renames: {"x"}}},
			true, []string{winreboot.ReasonWindowsUpdate, winreboot.ReasonServicing, winreboot.ReasonPendingRenames}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reasons, err := winreboot.Check(context.Background(), tt.reg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || !slices.Equal(reasons, tt.reasons) {
				t.Errorf("Check = %v %q, want %v %q", got, reasons, tt.want, tt.reasons)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	_, _, err := winreboot.Check(context.Background(), winreboot.Fake{Err: patchcore.ErrPermission})
	if !errors.Is(err, patchcore.ErrPermission) {
		t.Errorf("err = %v, want ErrPermission", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := winreboot.Check(ctx, winreboot.Fake{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if runtime.GOOS != "windows" {
		if _, _, err := winreboot.Check(context.Background(), winreboot.System()); !errors.Is(err, patchcore.ErrUnsupported) {
			t.Errorf("System() outside Windows: err = %v, want ErrUnsupported", err)
		}
	}
}
