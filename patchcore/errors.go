package patchcore

import "errors"

// Sentinel errors. Packages wrap them with %w and context ("reading
// feed rocky/updateinfo.xml: line 12: ..."), so callers test with errors.Is.
var (
	// ErrNotFound reports that a named patch, device, package or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput reports input that does not satisfy its documented form.
	ErrInvalidInput = errors.New("invalid input")
	// ErrMalformedFeed reports a feed document that cannot be parsed.
	ErrMalformedFeed = errors.New("malformed feed")
	// ErrUnknownFormat reports a feed whose format cannot be recognised.
	ErrUnknownFormat = errors.New("unknown feed format")
	// ErrTooLarge reports input beyond a configured size or nesting limit.
	ErrTooLarge = errors.New("input too large")
	// ErrChecksumMismatch reports data or a binary whose digest differs from the expected one.
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrSignatureInvalid reports a signature that does not verify.
	ErrSignatureInvalid = errors.New("signature invalid")
	// ErrUnknownVersion reports a version string that its scheme cannot parse.
	ErrUnknownVersion = errors.New("unparsable version")
	// ErrUnknownProduct reports a device whose product cannot be mapped to a vendor's products.
	ErrUnknownProduct = errors.New("unknown product")
	// ErrUnsupported reports an operation or capability the callee does not provide.
	ErrUnsupported = errors.New("unsupported")
	// ErrPackageManagerLocked reports that another process holds the package
	// manager's lock. It is retryable.
	ErrPackageManagerLocked = errors.New("package manager locked by another process")
	// ErrAdapterExited reports an adapter process that crashed, hung or exited mid-call.
	ErrAdapterExited = errors.New("adapter exited")
	// ErrProtocolMismatch reports a host and adapter with no protocol version in common.
	ErrProtocolMismatch = errors.New("adapter protocol version mismatch")
	// ErrTimeout reports an operation that did not finish within its deadline.
	ErrTimeout = errors.New("timed out")
	// ErrPermission reports missing privileges (not root, not an administrator).
	ErrPermission = errors.New("permission denied")
	// ErrIllegalTransition reports a state-machine event that is not allowed in the current state.
	ErrIllegalTransition = errors.New("illegal state transition")
	// ErrBusy reports that a device already runs another deployment ("another
	// deploy in progress, please wait").
	ErrBusy = errors.New("another deployment in progress")
	// ErrTampered reports stored data, such as an audit log, whose integrity check failed.
	ErrTampered = errors.New("integrity check failed")
	// ErrConflict reports a write that lost a race with a concurrent writer
	// (an audit entry appended with a sequence number already taken). It is retryable.
	ErrConflict = errors.New("conflicting concurrent update")
)
