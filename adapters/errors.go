package adapters

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
	"github.com/patchcore/sdk/patchcore"
)

// wireSentinel is how one sentinel crosses the process boundary: a stable
// name in the ErrorDetail and the gRPC code that fits it.
type wireSentinel struct {
	name string
	err  error
	code codes.Code
}

// wireSentinels lists the errors that survive the boundary, most specific
// first: an error wrapping several takes the first that matches.
func wireSentinels() []wireSentinel {
	return []wireSentinel{
		{"package_manager_locked", patchcore.ErrPackageManagerLocked, codes.Unavailable},
		{"adapter_exited", patchcore.ErrAdapterExited, codes.Unavailable},
		{"protocol_mismatch", patchcore.ErrProtocolMismatch, codes.FailedPrecondition},
		{"permission", patchcore.ErrPermission, codes.PermissionDenied},
		{"unsupported", patchcore.ErrUnsupported, codes.Unimplemented},
		{"not_found", patchcore.ErrNotFound, codes.NotFound},
		{"unknown_version", patchcore.ErrUnknownVersion, codes.InvalidArgument},
		{"invalid_input", patchcore.ErrInvalidInput, codes.InvalidArgument},
		{"too_large", patchcore.ErrTooLarge, codes.ResourceExhausted},
		{"checksum_mismatch", patchcore.ErrChecksumMismatch, codes.DataLoss},
		{"signature_invalid", patchcore.ErrSignatureInvalid, codes.DataLoss},
		{"tampered", patchcore.ErrTampered, codes.DataLoss},
		{"busy", patchcore.ErrBusy, codes.Aborted},
		{"illegal_transition", patchcore.ErrIllegalTransition, codes.FailedPrecondition},
		{"timeout", patchcore.ErrTimeout, codes.DeadlineExceeded},
		{"malformed_feed", patchcore.ErrMalformedFeed, codes.InvalidArgument},
		{"unknown_format", patchcore.ErrUnknownFormat, codes.InvalidArgument},
		{"unknown_product", patchcore.ErrUnknownProduct, codes.InvalidArgument},
		{"canceled", context.Canceled, codes.Canceled},
		{"deadline_exceeded", context.DeadlineExceeded, codes.DeadlineExceeded},
	}
}

// toStatus turns an adapter's error into a gRPC status error carrying an
// ErrorDetail, so the host can rebuild an error that errors.Is the same
// sentinel.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	code, name := codes.Unknown, ""
	for _, s := range wireSentinels() {
		if errors.Is(err, s.err) {
			code, name = s.code, s.name
			break
		}
	}
	st := status.New(code, err.Error())
	if withDetail, derr := st.WithDetails(&adapterv1.ErrorDetail{Sentinel: name, Message: err.Error()}); derr == nil {
		st = withDetail
	}
	return st.Err()
}

// RemoteError is an error an adapter returned, rebuilt on the host side of
// the plugin boundary. It unwraps to the patchcore sentinel (or context
// error) the adapter's error wrapped, so errors.Is works across processes.
type RemoteError struct {
	// Code is the gRPC status code the error travelled with.
	Code codes.Code
	// Message is the adapter's error message.
	Message string
	// Sentinel is the sentinel the adapter's error wrapped, or nil.
	Sentinel error
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel.
func (e *RemoteError) Unwrap() error { return e.Sentinel }

// fromStatus rebuilds an adapter's error from a gRPC error. It returns
// (nil, false) for errors that did not come from the adapter (transport
// failures, a process that went away), which the host handles itself.
func fromStatus(err error) (error, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return nil, false
	}
	for _, d := range st.Details() {
		detail, ok := d.(*adapterv1.ErrorDetail)
		if !ok {
			continue
		}
		re := &RemoteError{Code: st.Code(), Message: detail.Message}
		for _, s := range wireSentinels() {
			if s.name == detail.Sentinel {
				re.Sentinel = s.err
				break
			}
		}
		return re, true
	}
	if st.Code() == codes.Unimplemented {
		// A plugin built against an older protocol 1 server that lacks a method.
		return fmt.Errorf("%s: %w", strings.TrimSpace(st.Message()), patchcore.ErrUnsupported), true
	}
	return nil, false
}
