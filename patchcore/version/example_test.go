package version_test

import (
	"errors"
	"fmt"

	"github.com/patchcore/sdk/patchcore/version"
)

func ExampleLookup() {
	rpm, err := version.Lookup(version.RPM)
	if err != nil {
		panic(err)
	}

	// Installed tomcat against the version that fixes a CVE (fleetdm/fleet#49485).
	installed, _ := rpm.Parse("1:9.0.117-2.el9_8")
	fixed, _ := rpm.Parse("1:9.0.62-11.el9_2.3")
	fmt.Println("patched:", installed.Compare(fixed) >= 0)

	epoch, _ := installed.(*version.RPMVersion).Epoch()
	fmt.Println("epoch:", epoch, "release:", installed.(*version.RPMVersion).Release())

	_, err = rpm.Compare("1.0-1", "1:x:y")
	fmt.Println(err)

	_, err = version.Lookup("apk")
	fmt.Println(errors.Is(err, version.ErrUnknownScheme))
	// Output:
	// patched: true
	// epoch: 1 release: 2.el9_8
	// b: rpm version "1:x:y": epoch "1:x" is not a number (offset 0)
	// true
}

func ExampleWithMissingEpoch() {
	// A Red Hat feed that omits the epoch the installed package carries.
	installed, fixed := "2:1.0-1", "1.0-1"

	c, _ := version.RPMScheme().Compare(installed, fixed)
	fmt.Println("EpochZero:", c)

	c, _ = version.RPMScheme(version.WithMissingEpoch(version.EpochIgnore)).Compare(installed, fixed)
	fmt.Println("EpochIgnore:", c)
	// Output:
	// EpochZero: 1
	// EpochIgnore: 0
}

func ExampleDottedScheme() {
	builds := version.DottedScheme()
	c, _ := builds.Compare("10.0.19045.3930", "10.0.22631.1")
	fmt.Println(c)
	c, _ = builds.Compare("24.09", "24.9.0")
	fmt.Println(c)
	_, err := builds.Parse("10.0..1")
	fmt.Println(err)
	// Output:
	// -1
	// 0
	// dotted version "10.0..1": empty part (offset 5)
}
