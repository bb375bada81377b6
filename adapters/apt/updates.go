package apt

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

// ListUpdates lists the installed packages whose candidate version is newer,
// exactly the set `apt list --upgradable` prints, each with its installed
// and candidate versions, the origin of the candidate as apt-get -s names it
// ("Debian-Security:12/oldstable-security"), its classification, and whether
// the package is held.
//
// The origin comes from the aptRelease files of the archives apt names for the
// candidate; a candidate found in a "-security" suite is ClassSecurity, one
// only in "-backports" ClassEnhancement, any other ClassBugfix (stable
// Debian and Ubuntu suites take fixes only). apt does not rate severity, so
// Severity is unknown.
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("apt: offline catalog %q: %w", req.OfflineCatalog, patchcore.ErrUnsupported)
	}
	if req.Refresh {
		if err := a.refresh(ctx, t); err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
	}
	updates, err := a.listUpdates(ctx, t)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	return adapters.ListUpdatesResponse{Updates: updates}, nil
}

// refresh runs apt-get update on the target.
func (a *adapter) refresh(ctx context.Context, t target) error {
	args := append(t.aptOptions(), "-q", "update")
	res, err := a.runCmd(ctx, command.Command{Name: "apt-get", Args: args, Env: nonInteractiveEnv})
	return classifyAptError("refreshing package lists with apt-get update", res, err)
}

// listUpdates runs apt list --upgradable and dpkg-query on the target and
// joins them with the aptRelease files.
func (a *adapter) listUpdates(ctx context.Context, t target) ([]adapters.Update, error) {
	if err := t.checkSources(); err != nil {
		return nil, err
	}
	type result struct {
		pkgs []patchcore.Package
		arch string
		err  error
	}
	// dpkg-query is quick; run it while apt builds its cache.
	ch := make(chan result, 1)
	go func() {
		var r result
		r.pkgs, r.err = a.installed(ctx, t)
		if r.err == nil {
			r.arch, r.err = a.nativeArch(ctx, t, r.pkgs)
		}
		ch <- r
	}()
	args := append(t.aptOptions(), "list", "--upgradable")
	res, err := a.runCmd(ctx, command.Command{Name: "apt", Args: args})
	inst := <-ch
	if err != nil {
		return nil, classifyAptError("listing updates with apt list --upgradable", res, err)
	}
	if inst.err != nil {
		return nil, inst.err
	}
	ups, err := parseAptList(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("apt: reading apt list --upgradable output: %w", err)
	}
	releases, err := readReleases(t.path("/var/lib/apt/lists"))
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool)
	for _, p := range inst.pkgs {
		if p.Held {
			held[p.Name+":"+p.Arch] = true
		}
	}
	out := make([]adapters.Update, 0, len(ups))
	for _, u := range ups {
		id := u.Name
		if u.Arch != "all" && u.Arch != inst.arch {
			id = u.Name + ":" + u.Arch
		}
		out = append(out, adapters.Update{
			ID:               id,
			Package:          u.Name,
			Arch:             u.Arch,
			InstalledVersion: u.Installed,
			AvailableVersion: u.Candidate,
			Origin:           origin(u.Archives, releases),
			Classification:   classify(u.Archives, releases),
			Held:             held[u.Name+":"+u.Arch],
		})
	}
	slices.SortFunc(out, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// upgradable is one line of `apt list --upgradable`.
type upgradable struct {
	Name string
	// Archives are the suites the candidate is found in ("oldstable",
	// "oldstable-security"), as apt prints them.
	Archives  []string
	Candidate string
	Arch      string
	Installed string
}

// parseAptList parses the output of `apt list --upgradable` (under
// LC_ALL=C): lines "name/archive[,archive...] candidate arch [upgradable
// from: installed]", after a "Listing..." line. Blank lines and the
// "Listing..." line are skipped; any other line that does not have this form
// is an error naming its line number and wrapping patchcore.ErrInvalidInput.
func parseAptList(out []byte) ([]upgradable, error) {
	var ups []upgradable
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "Listing...") || strings.HasPrefix(text, "WARNING: ") {
			continue
		}
		u, err := parseAptListLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: %s: %q", line, patchcore.ErrInvalidInput, err, truncate(text))
		}
		ups = append(ups, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w: %w", line+1, patchcore.ErrTooLarge, err)
	}
	return ups, nil
}

func parseAptListLine(text string) (upgradable, error) {
	const marker = " [upgradable from: "
	head, tail, ok := strings.Cut(text, marker)
	if !ok || !strings.HasSuffix(tail, "]") {
		return upgradable{}, fmt.Errorf("no %q", strings.TrimSpace(marker)+"...]")
	}
	installed := strings.TrimSuffix(tail, "]")
	f := strings.Fields(head)
	if len(f) != 3 {
		return upgradable{}, fmt.Errorf("want \"name/archive version arch\" before the bracket, got %d fields", len(f))
	}
	name, archives, ok := strings.Cut(f[0], "/")
	if !ok || name == "" {
		return upgradable{}, fmt.Errorf("no \"/\" between package and archive")
	}
	if installed == "" || strings.ContainsAny(installed, " \t") {
		return upgradable{}, fmt.Errorf("bad installed version %q", installed)
	}
	u := upgradable{Name: name, Candidate: f[1], Arch: f[2], Installed: installed}
	for _, a := range strings.Split(archives, ",") {
		if a != "" {
			u.Archives = append(u.Archives, a)
		}
	}
	return u, nil
}

// aptRelease is the header of an archive's aptRelease or InRelease file.
type aptRelease struct {
	Origin, Label, Suite, Codename, Version string
}

// String renders the release the way apt-get -s does: "Label:Version/Suite"
// ("Debian-Security:12/oldstable-security").
func (r aptRelease) String() string {
	s := r.Label
	if s == "" {
		s = r.Origin
	}
	if s != "" {
		s += ":"
	}
	if r.Version != "" {
		s += r.Version + "/"
	}
	return s + r.Suite
}

// security reports whether the release is a security pocket.
func (r aptRelease) security() bool {
	return strings.HasSuffix(r.Suite, "-security") || strings.HasSuffix(r.Codename, "-security") ||
		strings.HasSuffix(r.Label, "-Security")
}

// readReleases reads the headers of every aptRelease and InRelease file in the
// apt lists directory. A missing directory gives none.
func readReleases(dir string) ([]aptRelease, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("apt: reading the package lists in %s: %w", dir, err)
	}
	var rels []aptRelease
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(n, "_InRelease") || strings.HasSuffix(n, "_Release")) {
			continue
		}
		b, err := readHead(filepath.Join(dir, n), 16*1024)
		if err != nil {
			return nil, fmt.Errorf("apt: reading %s: %w", filepath.Join(dir, n), err)
		}
		rels = append(rels, parseRelease(b))
	}
	return rels, nil
}

// readHead reads at most n bytes of a file: a aptRelease header is far smaller
// than its checksum list.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := f.Read(buf)
	if m > 0 {
		err = nil
	}
	return buf[:m], err
}

// parseRelease reads the Origin, Label, Suite, Codename and Version fields
// of a aptRelease or InRelease file (the latter inside its PGP armour). It
// never fails: fields it cannot find stay empty.
func parseRelease(b []byte) aptRelease {
	var r aptRelease
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Origin":
			r.Origin = v
		case "Label":
			r.Label = v
		case "Suite":
			r.Suite = v
		case "Codename":
			r.Codename = v
		case "Version":
			r.Version = v
		case "SHA256", "MD5Sum", "SHA1", "SHA512":
			return r // the header is over
		}
	}
	return r
}

// releasesFor returns the releases whose Suite (or Codename) is one of archives.
func releasesFor(archives []string, releases []aptRelease) []aptRelease {
	var out []aptRelease
	for _, a := range archives {
		for _, r := range releases {
			if (r.Suite == a || (r.Suite == "" && r.Codename == a)) && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// origin renders where a candidate comes from: the releases of its archives
// ("Debian:12.15/oldstable, Debian-Security:12/oldstable-security"), or the
// archive names themselves when no aptRelease file describes them.
func origin(archives []string, releases []aptRelease) string {
	var parts []string
	for _, a := range archives {
		rs := releasesFor([]string{a}, releases)
		if len(rs) == 0 {
			parts = append(parts, a)
			continue
		}
		for _, r := range rs {
			parts = append(parts, r.String())
		}
	}
	return strings.Join(parts, ", ")
}

// classify says what kind of update a candidate from archives is.
func classify(archives []string, releases []aptRelease) patchcore.Classification {
	backports := false
	for _, a := range archives {
		if strings.HasSuffix(a, "-security") {
			return patchcore.ClassSecurity
		}
		if strings.HasSuffix(a, "-backports") {
			backports = true
		}
	}
	for _, r := range releasesFor(archives, releases) {
		if r.security() {
			return patchcore.ClassSecurity
		}
	}
	if backports && len(archives) == 1 {
		return patchcore.ClassEnhancement
	}
	return patchcore.ClassBugfix
}
