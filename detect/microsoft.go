package detect

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// visualStudio matches the names Visual Studio registers ("Visual Studio
// Enterprise 2022", "Microsoft Visual Studio Community 2019", "Visual
// Studio Build Tools 2017").
var visualStudio = regexp.MustCompile(`(?i)^(?:microsoft )?visual studio(?: (?:community|professional|enterprise|build tools|team explorer))? (2017|2019|2022)\b`)

// powerShell matches "PowerShell 7-x64", "PowerShell 7.4.1.0-x64".
var powerShell = regexp.MustCompile(`(?i)^powershell 7\b`)

// MapMicrosoftProduct returns the MSRC product name of an installed
// Microsoft product (a Package of ecosystem patchcore.EcosystemMicrosoft):
//
//   - "Microsoft Edge" is "Microsoft Edge (Chromium-based)";
//   - Visual Studio 2022 17.x is "Microsoft Visual Studio 2022 version 17.x";
//     2019 and 2017 are MSRC's "version 16.11 (includes 16.0 - 16.10)" and
//     "version 15.9 (includes 15.0 - 15.8)";
//   - PowerShell 7.x is "PowerShell 7.x";
//   - any other name is taken as the MSRC product name itself, which is
//     what an inventory reports when it knows it.
//
// It fails with an error wrapping patchcore.ErrUnknownProduct when a name
// it recognises has a version it cannot place.
func MapMicrosoftProduct(p patchcore.Package) (string, error) {
	name := strings.TrimSpace(p.Name)
	lower := strings.ToLower(name)
	series := func(parts int) (string, error) {
		f := strings.Split(p.Version, ".")
		if len(f) < parts {
			return "", fmt.Errorf("%s version %q has no %d-part series: %w", name, p.Version, parts, patchcore.ErrUnknownProduct)
		}
		return strings.Join(f[:parts], "."), nil
	}
	switch {
	case lower == "microsoft edge":
		return "Microsoft Edge (Chromium-based)", nil
	case visualStudio.MatchString(name):
		year := visualStudio.FindStringSubmatch(name)[1]
		s, err := series(2)
		if err != nil {
			return "", err
		}
		major, _, _ := strings.Cut(s, ".")
		switch {
		case year == "2022" && major == "17":
			return "Microsoft Visual Studio 2022 version " + s, nil
		case year == "2019" && major == "16":
			return "Microsoft Visual Studio 2019 version 16.11 (includes 16.0 - 16.10)", nil
		case year == "2017" && major == "15":
			return "Microsoft Visual Studio 2017 version 15.9 (includes 15.0 - 15.8)", nil
		}
		return "", fmt.Errorf("%s version %s is not a Visual Studio %s release: %w", name, p.Version, year, patchcore.ErrUnknownProduct)
	case powerShell.MatchString(name):
		s, err := series(2)
		if err != nil {
			return "", err
		}
		return "PowerShell " + s, nil
	}
	return name, nil
}
