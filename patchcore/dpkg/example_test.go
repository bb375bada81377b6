package dpkg_test

import (
	"fmt"
	"strings"

	"github.com/patchcore/sdk/patchcore/dpkg"
)

func ExampleParse() {
	status := `Package: libreoffice-core
Status: install ok installed
Architecture: amd64
Source: libreoffice (1:7.4.7-1+deb12u1)
Version: 4:7.4.7-1+deb12u1

Package: oldpkg
Status: deinstall ok config-files
Version: 1.0-1
`
	pkgs, err := dpkg.Parse(strings.NewReader(status))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pkgs {
		fmt.Printf("%s %s built from %s %s\n", p.Name, p.Version, p.SourceName, p.SourceVersion)
	}
	// Output:
	// libreoffice-core 4:7.4.7-1+deb12u1 built from libreoffice 1:7.4.7-1+deb12u1
}

// A status file copied from a device, with a line of white space inside a
// description, as some third-party packages write: dpkg warns and reads
// on, so does ParseStatus.
func ExampleParseStatus() {
	status := "Package: code\n" +
		"Status: install ok installed\n" +
		"Architecture: amd64\n" +
		"Version: 1.85.1-1702462158\n" +
		"Description: Code editing. Redefined.\n" +
		" Visual Studio Code is a new choice of tool.\n" +
		" \n" +
		" See https://code.visualstudio.com/docs/setup/linux.\n"
	st, err := dpkg.ParseStatus(strings.NewReader(status))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range st.Packages {
		fmt.Printf("%s %s (source %s %s)\n", p.Name, p.Version, p.SourceName, p.SourceVersion)
	}
	for _, r := range st.Recoveries {
		fmt.Printf("line %d, field %s: recovered\n", r.Line, r.Field)
	}
	// Output:
	// code 1.85.1-1702462158 (source code 1.85.1-1702462158)
	// line 7, field Description: recovered
}
