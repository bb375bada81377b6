package oval

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
)

func FuzzOVAL(f *testing.F) {
	for _, s := range []string{"testdata/com.ubuntu.jammy.usn.oval.xml", samples.Path(f, "suse/sles-oval-truncated.xml")} {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<oval_definitions><definitions><definition id="oval:com.redhat.rhsa:def:1" class="patch"><metadata><reference source="RHSA" ref_id="RHSA-1"/></metadata><criteria operator="AND"><criterion test_ref="t" comment="Red Hat Enterprise Linux 9 is installed"/><criterion test_ref="p"/></criteria></definition></definitions><tests><rpminfo_test id="p"><object object_ref="o"/><state state_ref="s"/></rpminfo_test></tests><objects><rpminfo_object id="o"><name>a</name></rpminfo_object></objects><states><rpminfo_state id="s"><evr operation="less than">0:1-1</evr></rpminfo_state></states></oval_definitions>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		(Reader{}).Detect(b)
		_, err := parseReader(Reader{}, bytes.NewReader(b))
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
	})
}
