package native_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/native"
	"github.com/patchcore/sdk/patchcore"
)

func Example() {
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))

	// The partner writes and signs a feed.
	var doc bytes.Buffer
	w, _ := native.NewWriter(&doc, native.Header{Publisher: native.Publisher{Name: "Contoso"}})
	w.Write(patchcore.Patch{ID: "CONTOSO-2024-001", Classification: patchcore.ClassSecurity,
		Fixes: []patchcore.Fix{{Distro: "windows", Ecosystem: patchcore.EcosystemWinget, Package: "Contoso.Agent", FixedVersion: "5.2.1", Scheme: "dotted"}}})
	w.Close()
	sig, _ := fetch.Sign(priv, bytes.NewReader(doc.Bytes()))

	// The reader verifies it before using any patch.
	_, err := native.ParseSigned(context.Background(), bytes.NewReader(doc.Bytes()), sig, pub, func(p patchcore.Patch) error {
		fmt.Println(p.ID, p.Vendor, p.Fixes[0].Package, p.Fixes[0].FixedVersion)
		return nil
	})
	fmt.Println(err)
	// Output:
	// CONTOSO-2024-001 Contoso Contoso.Agent 5.2.1
	// <nil>
}
