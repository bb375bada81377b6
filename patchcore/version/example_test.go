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

func ExampleHomebrewScheme() {
	brew := version.HomebrewScheme()

	// openssl@3 3.2.0 rebuilt as revision 1, then the next release.
	for _, pair := range [][2]string{
		{"3.2.0", "3.2.0_1"},
		{"3.2.0_1", "3.2.1"},
		{"1.1.1v", "1.1.1w"},       // openssl@1.1 letter releases
		{"9.5p1", "9.6p1"},         // openssh patch levels
		{"22.1.0.beta1", "22.1.0"}, // a beta before its release
	} {
		c, _ := brew.Compare(pair[0], pair[1])
		fmt.Println(pair[0], []string{"<", "=", ">"}[c+1], pair[1])
	}

	v, _ := brew.Parse("9.6p1_1")
	fmt.Println(v.(*version.HomebrewVersion).Version(), v.(*version.HomebrewVersion).Revision())

	// A formula installed from its development branch has no order.
	_, err := brew.Parse("HEAD-4a1b2c3")
	var pe *version.ParseError
	fmt.Println(errors.As(err, &pe), errors.Is(err, version.ErrNotComparable))
	fmt.Println(pe.Reason)
	// Output:
	// 3.2.0 < 3.2.0_1
	// 3.2.0_1 < 3.2.1
	// 1.1.1v < 1.1.1w
	// 9.5p1 < 9.6p1
	// 22.1.0.beta1 < 22.1.0
	// 9.6p1 1
	// true true
	// a HEAD version is built from the development branch: it has no version to compare
}
