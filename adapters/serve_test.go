package adapters

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestStopGuard checks the ordering stopGuard promises: claim waits for a
// running Shutdown handler, a Shutdown after claim never reaches go-plugin's
// handler, and other methods are not affected.
func TestStopGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := &stopGuard{}
	shutdown := &grpc.UnaryServerInfo{FullMethod: shutdownMethod}

	// A Shutdown handler is running (blocked in "GRPCServer.Stop").
	release := make(chan struct{})
	handlerDone := make(chan error, 1)
	entered := make(chan struct{})
	go func() {
		_, err := g.intercept(ctx, nil, shutdown, func(context.Context, any) (any, error) {
			close(entered)
			<-release
			return "stopped", nil
		})
		handlerDone <- err
	}()
	<-entered
	claimed := make(chan struct{})
	go func() { g.claim(); close(claimed) }()
	select {
	case <-claimed:
		t.Fatal("claim returned while a Shutdown handler was still stopping the server")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-handlerDone; err != nil {
		t.Errorf("first Shutdown: %v", err)
	}
	select {
	case <-claimed:
	case <-time.After(5 * time.Second):
		t.Fatal("claim did not return after the Shutdown handler finished")
	}

	tests := []struct {
		name        string
		method      string
		wantHandler bool
		wantCode    codes.Code
	}{
		{"second Shutdown is refused", shutdownMethod, false, codes.Unavailable},
		{"adapter calls pass through", "/patchcore.adapter.v1.Adapter/Info", true, codes.OK},
	}
	for _, tt := range tests {
		called := false
		_, err := g.intercept(ctx, nil, &grpc.UnaryServerInfo{FullMethod: tt.method}, func(context.Context, any) (any, error) {
			called = true
			return nil, nil
		})
		if called != tt.wantHandler || status.Code(err) != tt.wantCode {
			t.Errorf("%s: handler called = %v, code %v; want %v, %v", tt.name, called, status.Code(err), tt.wantHandler, tt.wantCode)
		}
	}
}

// TestServeTestStopAfterHostClose is the sequence of adaptertest.Run's
// cleanup: the host closes (go-plugin's Kill sends Shutdown, whose handler
// stops the server) and then the ServeTest server is stopped. Without
// stopGuard, -race reported the two GRPCServer.Stop calls in about one run
// in six; repeating the sequence makes a regression show in a single run.
func TestServeTestStopAfterHostClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		rc, stop, err := ServeTest(ctx, fakeFactory)
		if err != nil {
			t.Fatal(err)
		}
		h := NewHost(Reattach("fake", rc))
		if _, err := h.Info(ctx, InfoRequest{}); err != nil {
			t.Fatalf("round %d: Info: %v", i, err)
		}
		if err := h.Close(ctx); err != nil {
			t.Errorf("round %d: Close: %v", i, err)
		}
		done := make(chan struct{})
		go func() { stop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: ServeTest's stop did not return", i)
		}
	}
}
