package dpkg_test

import (
	"fmt"
	"strings"

	"github.com/patchcore/sdk/internal/dpkg"
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
