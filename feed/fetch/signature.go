package fetch

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"io"

	"github.com/patchcore/sdk/patchcore"
)

// Signatures are Ed25519ph (RFC 8032, section 5.1: Ed25519 over the SHA-512
// digest of the message, empty context) of the exact bytes as published,
// before any decompression. The pre-hash lets a multi-gigabyte feed be
// verified while it streams. A detached signature file holds the 64
// signature bytes either raw or as standard base64 text (padding and
// surrounding white space optional).

// Sign reads r to the end and returns its detached Ed25519ph signature as
// base64 text with a trailing newline, the form a ".sig" file holds.
func Sign(priv ed25519.PrivateKey, r io.Reader) ([]byte, error) {
	h := sha512.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("signing: reading document: %w", err)
	}
	sig, err := priv.Sign(nil, h.Sum(nil), &ed25519.Options{Hash: crypto.SHA512})
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sig))+1)
	base64.StdEncoding.Encode(out, sig)
	out[len(out)-1] = '\n'
	return out, nil
}

// VerifySignature reads r to the end and checks sig (raw or base64, as
// DecodeSignature takes it) against pub. A wrong signature gives an error
// wrapping patchcore.ErrSignatureInvalid.
func VerifySignature(pub ed25519.PublicKey, r io.Reader, sig []byte) error {
	raw, err := DecodeSignature(sig)
	if err != nil {
		return err
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key has %d bytes, want %d: %w", len(pub), ed25519.PublicKeySize, patchcore.ErrInvalidInput)
	}
	h := sha512.New()
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("verifying signature: reading document: %w", err)
	}
	return verifyDigest(pub, h, raw)
}

func verifyDigest(pub ed25519.PublicKey, h hash.Hash, sig []byte) error {
	if err := ed25519.VerifyWithOptions(pub, h.Sum(nil), sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
		return fmt.Errorf("Ed25519ph signature does not verify: %w", patchcore.ErrSignatureInvalid)
	}
	return nil
}

// DecodeSignature accepts a detached signature as 64 raw bytes or as base64
// text and returns the 64 raw bytes.
func DecodeSignature(b []byte) ([]byte, error) {
	if len(b) == ed25519.SignatureSize {
		return b, nil
	}
	t := bytes.TrimSpace(b)
	t = bytes.TrimRight(t, "=")
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(t)))
	n, err := base64.RawStdEncoding.Decode(raw, t)
	if err != nil || n != ed25519.SignatureSize {
		return nil, fmt.Errorf("signature is neither %d raw bytes nor their base64 text (%d bytes given): %w",
			ed25519.SignatureSize, len(b), patchcore.ErrSignatureInvalid)
	}
	return raw[:n], nil
}
