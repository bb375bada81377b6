package brew

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// caskPrefix marks cask tokens in IDs and package names, so a cask and a
// formula of the same name ("docker") stay apart: "cask:firefox".
const caskPrefix = "cask:"

// maxJSON bounds the JSON brew may print (a full `brew info --installed`
// of a large machine is a few MB).
const maxJSON = 256 << 20

// outdatedItem is one formula or cask of `brew outdated --json=v2`.
type outdatedItem struct {
	// Name is the formula name or the cask token.
	Name              string
	Cask              bool
	InstalledVersions []string
	CurrentVersion    string
	Pinned            bool
	PinnedVersion     string
}

// ID is the item's update ID: the formula name or caskPrefix + token.
func (o outdatedItem) ID() string {
	if o.Cask {
		return caskPrefix + o.Name
	}
	return o.Name
}

// stringList reads a JSON array of strings or a single string (older brew
// printed a cask's installed_versions as one string).
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

type outdatedJSON struct {
	Formulae []struct {
		Name              string     `json:"name"`
		InstalledVersions stringList `json:"installed_versions"`
		CurrentVersion    string     `json:"current_version"`
		Pinned            bool       `json:"pinned"`
		PinnedVersion     *string    `json:"pinned_version"`
	} `json:"formulae"`
	Casks []struct {
		Name              string     `json:"name"`
		InstalledVersions stringList `json:"installed_versions"`
		CurrentVersion    string     `json:"current_version"`
	} `json:"casks"`
}

// jsonError wraps a JSON decoding error with the offset it happened at.
func jsonError(what string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(data) > maxJSON:
		return fmt.Errorf("brew %s: %d bytes of JSON: %w", what, len(data), patchcore.ErrTooLarge)
	case asErr(err, &se):
		return fmt.Errorf("brew %s: JSON at offset %d: %w: %v", what, se.Offset, patchcore.ErrInvalidInput, err)
	case asErr(err, &te):
		return fmt.Errorf("brew %s: JSON field %s at offset %d: %w: %v", what, te.Field, te.Offset, patchcore.ErrInvalidInput, err)
	default:
		return fmt.Errorf("brew %s: %w: %v", what, patchcore.ErrInvalidInput, err)
	}
}

// parseOutdated reads `brew outdated --json=v2`.
func parseOutdated(data []byte) ([]outdatedItem, error) {
	if len(data) > maxJSON {
		return nil, jsonError("outdated", data, nil)
	}
	var doc outdatedJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, jsonError("outdated", data, err)
	}
	var items []outdatedItem
	for i, f := range doc.Formulae {
		if f.Name == "" || f.CurrentVersion == "" {
			return nil, fmt.Errorf("brew outdated: formulae[%d]: %w: name or current_version missing", i, patchcore.ErrInvalidInput)
		}
		it := outdatedItem{Name: f.Name, InstalledVersions: f.InstalledVersions, CurrentVersion: f.CurrentVersion, Pinned: f.Pinned}
		if f.PinnedVersion != nil {
			it.PinnedVersion = *f.PinnedVersion
		}
		items = append(items, it)
	}
	for i, c := range doc.Casks {
		if c.Name == "" || c.CurrentVersion == "" {
			return nil, fmt.Errorf("brew outdated: casks[%d]: %w: name or current_version missing", i, patchcore.ErrInvalidInput)
		}
		items = append(items, outdatedItem{Name: c.Name, Cask: true, InstalledVersions: c.InstalledVersions, CurrentVersion: c.CurrentVersion})
	}
	return items, nil
}

// installedItem is one formula or cask of `brew info --json=v2 --installed`.
type installedItem struct {
	Name    string
	Cask    bool
	Version string
	Pinned  bool
	// Tap is where it comes from ("homebrew/core", "homebrew/cask").
	Tap string
	// OnRequest is false for formulae installed only as a dependency.
	OnRequest bool
}

type infoJSON struct {
	Formulae []struct {
		Name      string  `json:"name"`
		FullName  string  `json:"full_name"`
		Tap       string  `json:"tap"`
		LinkedKeg *string `json:"linked_keg"`
		Pinned    bool    `json:"pinned"`
		Installed []struct {
			Version     string `json:"version"`
			OnRequest   bool   `json:"installed_on_request"`
			AsDependent bool   `json:"installed_as_dependency"`
		} `json:"installed"`
	} `json:"formulae"`
	Casks []struct {
		Token     string  `json:"token"`
		FullToken string  `json:"full_token"`
		Tap       string  `json:"tap"`
		Version   string  `json:"version"`
		Installed *string `json:"installed"`
	} `json:"casks"`
}

// parseInfo reads `brew info --json=v2 --installed`. A formula's version is
// its linked keg, or the newest installed keg (newestVersion) when none is
// linked; a cask's is its installed version. Versions are reported as brew
// prints them, including those without an order ("HEAD-<commit>",
// "latest"), so that detection reports them as Unknown rather than never
// seeing the package.
func parseInfo(data []byte) ([]installedItem, error) {
	if len(data) > maxJSON {
		return nil, jsonError("info", data, nil)
	}
	var doc infoJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, jsonError("info", data, err)
	}
	var items []installedItem
	for i, f := range doc.Formulae {
		name := f.FullName
		if name == "" || f.Tap == "homebrew/core" {
			name = f.Name
		}
		if name == "" {
			return nil, fmt.Errorf("brew info: formulae[%d]: %w: no name", i, patchcore.ErrInvalidInput)
		}
		it := installedItem{Name: name, Tap: f.Tap, Pinned: f.Pinned}
		if f.LinkedKeg != nil && *f.LinkedKeg != "" {
			it.Version = *f.LinkedKeg
		} else {
			kegs := make([]string, 0, len(f.Installed))
			for _, k := range f.Installed {
				kegs = append(kegs, k.Version)
			}
			it.Version = newestVersion(kegs)
		}
		for _, k := range f.Installed {
			if k.Version == it.Version {
				it.OnRequest = k.OnRequest
			}
		}
		if it.Version == "" {
			continue // listed but no keg: not installed
		}
		items = append(items, it)
	}
	for i, c := range doc.Casks {
		if c.Token == "" {
			return nil, fmt.Errorf("brew info: casks[%d]: %w: no token", i, patchcore.ErrInvalidInput)
		}
		if c.Installed == nil || *c.Installed == "" {
			continue
		}
		items = append(items, installedItem{Name: c.Token, Cask: true, Version: *c.Installed, Tap: c.Tap, OnRequest: true})
	}
	return items, nil
}

// brewOutcome classifies what `brew upgrade` or `brew fetch` printed.
type brewOutcome int

// Outcomes of a brew command, from its output.
const (
	outcomeOK brewOutcome = iota
	outcomeAlreadyInstalled
	outcomeNotInstalled
	outcomeNoSuchPackage
	outcomeLocked
	outcomeRoot
	outcomePinned
	outcomeFailed
)

// classify reads brew's output (stdout and stderr together) and its exit
// code. It returns the outcome and the line that decided it.
func classify(out []byte, exitCode int) (brewOutcome, string) {
	var failLine string
	for _, raw := range strings.Split(string(out), "\n") {
		line := strings.TrimSpace(raw)
		low := strings.ToLower(line)
		switch {
		case strings.Contains(low, "running homebrew as root is extremely dangerous"):
			return outcomeRoot, line
		case strings.Contains(low, "has already locked") || strings.Contains(low, "another active homebrew") ||
			(strings.Contains(low, "another `brew") && strings.Contains(low, "already running")):
			return outcomeLocked, line
		case strings.HasPrefix(low, "error: no available formula") || strings.HasPrefix(low, "error: no available cask") ||
			strings.HasPrefix(low, "error: cask '") && strings.Contains(low, "is unavailable"):
			return outcomeNoSuchPackage, line
		case (strings.HasPrefix(low, "error: ") || strings.HasPrefix(low, "warning: ")) && strings.HasSuffix(low, " not installed"):
			return outcomeNotInstalled, line
		case strings.HasPrefix(low, "error: not upgrading") && strings.Contains(low, "pinned"):
			return outcomePinned, line
		case strings.HasPrefix(low, "warning: ") && (strings.Contains(low, "already installed") || strings.Contains(low, "latest version is already installed")):
			if exitCode == 0 {
				return outcomeAlreadyInstalled, line
			}
		case strings.HasPrefix(low, "error: ") && failLine == "":
			failLine = line
		}
	}
	if exitCode != 0 {
		return outcomeFailed, failLine
	}
	return outcomeOK, ""
}

// newestVersion returns the newest of the versions brew lists for one
// formula or cask (installed kegs, installed_versions), in the Homebrew
// version order, whatever order brew printed them in. Versions without an
// order (HEAD builds, "latest") are returned only when there is nothing
// else, the last listed winning; "" for none.
func newestVersion(versions []string) string {
	scheme := version.HomebrewScheme()
	var newest version.Version
	for _, s := range versions {
		v, err := scheme.Parse(s)
		if err != nil {
			continue
		}
		if newest == nil || v.Compare(newest) > 0 {
			newest = v
		}
	}
	if newest != nil {
		return newest.String()
	}
	if n := len(versions); n > 0 {
		return versions[n-1]
	}
	return ""
}
