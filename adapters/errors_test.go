package adapters

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorsCrossTheBoundary(t *testing.T) {
	for _, s := range wireSentinels() {
		t.Run(s.name, func(t *testing.T) {
			orig := fmt.Errorf("apt-get install: line 3: %w", s.err)
			back := remote(toStatus(orig))
			var re *RemoteError
			if !errors.As(back, &re) {
				t.Fatalf("remote(toStatus(%v)) = %#v, want *RemoteError", orig, back)
			}
			if !errors.Is(back, s.err) || re.Code != s.code || back.Error() != orig.Error() {
				t.Errorf("got %v (code %s), want errors.Is %v with code %s and the same message", back, re.Code, s.err, s.code)
			}
		})
	}
	// An error wrapping no sentinel keeps its message and matches none.
	back := remote(toStatus(errors.New("dpkg: unexpected end of file")))
	for _, s := range wireSentinels() {
		if errors.Is(back, s.err) {
			t.Errorf("plain error matches %v", s.err)
		}
	}
	if back.Error() != "dpkg: unexpected end of file" {
		t.Errorf("message = %q", back.Error())
	}
	// A status without our detail is a transport failure, for the Host to diagnose.
	var te *transportError
	if !errors.As(remote(status.Error(codes.Unavailable, "connection reset")), &te) {
		t.Error("a bare Unavailable status was not treated as a transport failure")
	}
	if err := toStatus(nil); err != nil {
		t.Errorf("toStatus(nil) = %v", err)
	}
	if !errors.Is(remote(toStatus(context.Canceled)), context.Canceled) {
		t.Error("context.Canceled did not survive")
	}
}
