package patchcore

import (
	"strings"
)

// Platform identity. Feeds and inventories name the same release in
// different ways: Debian's tracker says "bookworm" where /etc/os-release
// says VERSION_ID="12", Ubuntu's OVAL says "bionic" where its OSV data says
// "Ubuntu:18.04:LTS", SUSE writes "15 SP4" where os-release says "15.4",
// openSUSE 13.1 predates the Leap and Tumbleweed names. CanonicalRelease
// maps every such spelling to one form, and both the catalog's indexes and
// detection's reading of an inventory go through it, so a fix and a device
// meet whichever spelling each side used. The raw values stay where they
// are shown (Fix.Release, Platform.Version and Codename are never
// rewritten).

// debianReleases maps Debian codenames to release numbers.
var debianReleases = [...][2]string{
	{"hamm", "2.0"}, {"slink", "2.1"}, {"potato", "2.2"}, {"woody", "3.0"}, {"sarge", "3.1"},
	{"etch", "4"}, {"lenny", "5"}, {"squeeze", "6"}, {"wheezy", "7"}, {"jessie", "8"},
	{"stretch", "9"}, {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
	{"trixie", "13"}, {"forky", "14"}, {"duke", "15"},
}

// ubuntuReleases maps Ubuntu codenames to release numbers.
var ubuntuReleases = [...][2]string{
	{"warty", "4.10"}, {"hoary", "5.04"}, {"breezy", "5.10"}, {"dapper", "6.06"}, {"edgy", "6.10"},
	{"feisty", "7.04"}, {"gutsy", "7.10"}, {"hardy", "8.04"}, {"intrepid", "8.10"},
	{"jaunty", "9.04"}, {"karmic", "9.10"}, {"lucid", "10.04"}, {"maverick", "10.10"},
	{"natty", "11.04"}, {"oneiric", "11.10"}, {"precise", "12.04"}, {"quantal", "12.10"},
	{"raring", "13.04"}, {"saucy", "13.10"}, {"trusty", "14.04"}, {"utopic", "14.10"},
	{"vivid", "15.04"}, {"wily", "15.10"}, {"xenial", "16.04"}, {"yakkety", "16.10"},
	{"zesty", "17.04"}, {"artful", "17.10"}, {"bionic", "18.04"}, {"cosmic", "18.10"},
	{"disco", "19.04"}, {"eoan", "19.10"}, {"focal", "20.04"}, {"groovy", "20.10"},
	{"hirsute", "21.04"}, {"impish", "21.10"}, {"jammy", "22.04"}, {"kinetic", "22.10"},
	{"lunar", "23.04"}, {"mantic", "23.10"}, {"noble", "24.04"}, {"oracular", "24.10"},
	{"plucky", "25.04"}, {"questing", "25.10"}, {"resolute", "26.04"},
}

func lookupCodename(table [][2]string, s string) (string, bool) {
	for _, e := range table {
		if e[0] == s {
			return e[1], true
		}
	}
	return "", false
}

// CanonicalRelease returns the canonical distribution and release for a
// distribution and release as a feed or an inventory spells them:
//
//   - distribution names are lower case; "redhat" is "rhel", "rocky linux"
//     "rocky", "alma" "almalinux", "amazon" "amzn";
//   - Debian and Ubuntu releases are numbers: a codename becomes its number
//     ("bookworm" is "12", "bionic" is "18.04"), a Debian point release its
//     major ("12.5" is "12"), an Ubuntu point release or LTS suffix its
//     release ("18.04.6 LTS" is "18.04"); "sid" and other names without a
//     number stay as they are;
//   - SUSE service packs are "major.sp" ("15 SP4", "15-SP4" and "15sp4" are
//     "15.4"), and a SUSE product name as OSV writes it ("Linux Enterprise
//     Server 15 SP4" under "suse") gives its distribution and release
//     ("sles", "15.4");
//   - openSUSE 42.x and 15.x are "opensuse-leap", 13.x and older releases
//     "opensuse" with their number, Tumbleweed "opensuse-tumbleweed" with
//     no release (it is rolling: its snapshot dates select nothing);
//   - RHEL-compatible minor and extended-support streams are the minor
//     release ("8.4 EUS", "8.4-eus", "8.4.z" are "8.4").
//
// Other values are returned lower-cased (distribution) and trimmed.
func CanonicalRelease(distro, release string) (string, string) {
	d := strings.ToLower(strings.TrimSpace(distro))
	r := strings.TrimSpace(release)
	switch d {
	case "redhat", "red hat", "red hat enterprise linux", "redhatenterpriseserver":
		d = "rhel"
	case "rocky linux", "rockylinux":
		d = "rocky"
	case "alma":
		d = "almalinux"
	case "amazon", "amazonlinux", "amazon linux":
		d = "amzn"
	case "suse", "sle", "sles", "sled", "sles_sap", "sle-micro", "sle_hpc":
		return suseRelease(d, r)
	case "opensuse", "opensuse-leap", "opensuse leap", "leap", "opensuse-tumbleweed", "tumbleweed",
		"opensuse-leap-micro":
		return openSUSERelease(d, r)
	}
	lr := strings.ToLower(r)
	switch d {
	case "debian":
		if n, ok := lookupCodename(debianReleases[:], lr); ok {
			return d, n
		}
		// Point releases: "12.5" is 12; before 4.0 the minor was the
		// release ("3.1" is sarge).
		if major, rest, ok := strings.Cut(lr, "."); ok && digits(major) && digits(strings.ReplaceAll(rest, ".", "")) &&
			(len(major) > 1 || major >= "4") {
			return d, major
		}
		if lr == "unstable" {
			return d, "sid"
		}
		return d, lr
	case "ubuntu":
		lr = strings.TrimSpace(strings.TrimSuffix(lr, " lts"))
		if n, ok := lookupCodename(ubuntuReleases[:], lr); ok {
			return d, n
		}
		if parts := strings.Split(lr, "."); len(parts) >= 2 && digits(parts[0]) && digits(parts[1]) {
			return d, parts[0] + "." + parts[1]
		}
		return d, lr
	case "rhel", "centos", "rocky", "almalinux", "ol", "oracle", "amzn", "fedora":
		return d, minorStream(lr)
	}
	return d, r
}

// minorStream strips an extended-support stream suffix from a RHEL-like
// release ("8.4 eus", "8.4-eus", "8.4.z", "8.4_aus" are "8.4").
func minorStream(r string) string {
	for _, suf := range [...]string{"eus", "aus", "e4s", "tus", "z"} {
		for _, sep := range [...]string{" ", "-", "_", "."} {
			if base, ok := strings.CutSuffix(r, sep+suf); ok && base != "" && digits(strings.ReplaceAll(base, ".", "")) {
				return base
			}
		}
	}
	return r
}

// suseRelease reads SUSE Linux Enterprise releases: "15.4", "15 SP4",
// "15-SP4", "15sp4", "15-SP0", and OSV's product names under "suse"
// ("Linux Enterprise Server 15 SP4").
func suseRelease(d, r string) (string, string) {
	lr := strings.ToLower(r)
	if d == "suse" || d == "sle" {
		d = "sles"
	}
	if i := strings.IndexFunc(lr, isDigit); i > 0 {
		name := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(lr[:i], "suse "), "sle "))
		switch {
		case strings.HasPrefix(name, "linux enterprise desktop"):
			d = "sled"
		case strings.Contains(name, "for sap"):
			d = "sles_sap"
		case strings.Contains(name, "micro"):
			d = "sle-micro"
		case strings.HasPrefix(name, "linux enterprise"), name == "":
			d = "sles"
		default:
			return d, r
		}
		lr = lr[i:]
	}
	return d, servicePack(lr)
}

// servicePack turns "15 sp4", "15-sp4", "15sp4", "15.4" into "15.4" and
// "15-sp0" into "15"; anything else is returned as it is.
func servicePack(lr string) string {
	i := strings.IndexFunc(lr, func(c rune) bool { return !isDigit(c) })
	if i < 0 {
		return lr
	}
	major, rest := lr[:i], lr[i:]
	if major == "" {
		return lr
	}
	rest = strings.TrimLeft(rest, " -_.")
	rest = strings.TrimPrefix(rest, "sp")
	end := strings.IndexFunc(rest, func(c rune) bool { return !isDigit(c) })
	tail := ""
	if end >= 0 {
		rest, tail = rest[:end], rest[end:]
	}
	if tail = strings.TrimLeft(tail, " -_"); rest == "" || tail != "" && tail != "ltss" {
		return lr
	}
	if strings.Trim(rest, "0") == "" {
		return major
	}
	return major + "." + strings.TrimLeft(rest, "0")
}

// openSUSERelease reads openSUSE releases: Leap ("15.5", "42.3", OSV's
// "Leap 15.5"), the numbered releases before Leap ("13.1"), Tumbleweed.
// It reads until nothing changes, so that a release spelled with a
// repeated prefix ("Leap Leap 15.5") has one canonical form.
func openSUSERelease(d, r string) (string, string) {
	for {
		nd, nr := openSUSEStep(d, r)
		if nd == d && nr == r {
			return d, r
		}
		d, r = nd, nr
	}
}

// openSUSEStep is one reading of openSUSERelease. After the first (which
// lower-cases, turning invalid bytes into U+FFFD) every change it makes
// shortens the release or settles the distro, so the loop ends.
func openSUSEStep(d, r string) (string, string) {
	lr := strings.ToLower(r)
	lr = strings.TrimSpace(strings.TrimPrefix(lr, "opensuse"))
	switch {
	case d == "opensuse-tumbleweed" || d == "tumbleweed" || lr == "tumbleweed":
		return "opensuse-tumbleweed", ""
	case d == "opensuse-leap-micro":
		return d, lr
	case strings.HasPrefix(lr, "leap micro"):
		return "opensuse-leap-micro", strings.TrimSpace(strings.TrimPrefix(lr, "leap micro"))
	}
	lr = strings.TrimSpace(strings.TrimPrefix(lr, "leap"))
	major, _, _ := strings.Cut(lr, ".")
	if !digits(major) {
		if d == "leap" || d == "opensuse leap" {
			d = "opensuse-leap"
		}
		return d, lr
	}
	if major == "15" || major == "16" || major == "42" {
		return "opensuse-leap", lr
	}
	return "opensuse", lr
}

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// Canonical returns the platform's canonical distribution and the
// canonical releases whose fixes concern it, most specific first: the
// release of its Version (or of its Codename when it has no Version), then
// its Codename's where that differs, then, outside Debian and Ubuntu, the
// major release ("9.4", "9" for RHEL 9.4, whose mainline fixes are "9").
// A platform without a release has none; only release-independent fixes
// concern it.
func (p Platform) Canonical() (distro string, releases []string) {
	add := func(s string) {
		if s == "" {
			return
		}
		for _, r := range releases {
			if r == s {
				return
			}
		}
		releases = append(releases, s)
	}
	raw := p.Version
	if raw == "" {
		raw = p.Codename
	}
	distro, first := CanonicalRelease(p.Distro, raw)
	add(first)
	if p.Codename != "" && p.Version != "" {
		if d, r := CanonicalRelease(p.Distro, p.Codename); d == distro {
			add(r)
		}
	}
	if distro != "debian" && distro != "ubuntu" && distro != "opensuse-tumbleweed" {
		for _, r := range releases {
			if major, _, ok := strings.Cut(r, "."); ok && digits(major) {
				add(major)
				break
			}
		}
	}
	return distro, releases
}
