package pm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

func TestIsAdvisoryID(t *testing.T) {
	for id, want := range map[string]bool{
		"DSA-5678-1": true, "DLA-3456-1": true, "USN-6000-1": true, "RHSA-2024:1234": true,
		"FEDORA-2024-1a2b3c4d5e": true, "FEDORA-EPEL-2024-0a1b2c": true, "SUSE-SU-2024:1234-1": true,
		"openSUSE-SU-2024:0001-1": true, "ALAS2-2024-001": true,
		"openssl": false, "libssl3": false, "DSA": false, "DSA-": false, "dsa-5678-1": false, "Microsoft.Edge": false,
	} {
		if got := IsAdvisoryID(id); got != want {
			t.Errorf("IsAdvisoryID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestSignsClassify(t *testing.T) {
	s := Signs{LockCodes: []int{200}, Lock: []string{"Could not get lock"}, Permission: []string{"are you root?"}}
	fail := errors.New("exit status 100")
	tests := []struct {
		name string
		res  command.Result
		err  error
		is   error
		want string
	}{
		{"success", command.Result{}, nil, nil, ""},
		{"lock line", command.Result{ExitCode: 100, Stderr: []byte("W: x\nE: Could not get lock /var/lib/dpkg/lock-frontend\n")}, fail,
			patchcore.ErrPackageManagerLocked, "apt: installing: package manager locked by another process: E: Could not get lock /var/lib/dpkg/lock-frontend"},
		{"lock code", command.Result{ExitCode: 200}, fail, patchcore.ErrPackageManagerLocked, "exit status 200"},
		{"permission on stdout", command.Result{ExitCode: 100, Stdout: []byte("E: are you root?\n")}, fail, patchcore.ErrPermission, "E: are you root?"},
		{"other", command.Result{ExitCode: 100, Stderr: []byte("E: Unable to locate package nosuch\n")}, fail, fail, "apt: installing: exit status 100"},
	}
	for _, tt := range tests {
		err := s.Classify("apt", "installing", tt.res, tt.err)
		if tt.is == nil {
			if err != nil {
				t.Errorf("%s: %v, want nil", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error wrapping %v saying %q", tt.name, err, tt.is, tt.want)
		}
		if got := s.Locked(tt.res); got != errors.Is(tt.is, patchcore.ErrPackageManagerLocked) {
			t.Errorf("%s: Locked = %v", tt.name, got)
		}
	}
}

// ctxRunner records whether the context a command got can end.
type ctxRunner struct{ cancellable, ran bool }

func (r *ctxRunner) Run(ctx context.Context, _ command.Command) (command.Result, error) {
	r.ran, r.cancellable = true, ctx.Done() != nil
	return command.Result{}, nil
}

func TestTransaction(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &ctxRunner{}
	if _, err := NewRunner("x", r, nil).Transaction(ctx, command.Command{Name: "upgrade"}); err != nil || !r.ran || r.cancellable {
		t.Errorf("Transaction: err %v, ran %v, cancellable %v; want a run whose context cannot end", err, r.ran, r.cancellable)
	}
	q := &ctxRunner{}
	if _, err := NewRunner("x", q, nil).Query(ctx, command.Command{Name: "list"}); err != nil || !q.cancellable {
		t.Errorf("Query: err %v, cancellable %v; want the caller's context", err, q.cancellable)
	}
	cancel()
	late := &ctxRunner{}
	if _, err := NewRunner("x", late, nil).Transaction(ctx, command.Command{Name: "upgrade"}); !errors.Is(err, context.Canceled) || late.ran {
		t.Errorf("Transaction after cancel: err %v, ran %v; want context.Canceled and nothing run", err, late.ran)
	}
}
