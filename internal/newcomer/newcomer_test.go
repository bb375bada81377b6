// Package newcomer tests a new user's path through the repository: the
// commands README.md and docs/*.md show run as written in a fresh copy of
// the repository, the links between the documents resolve, the deployment
// state tables of docs/design.md match the code, and nothing points outside
// the repository.
//
// The convention for commands in the Markdown files:
//
//   - Every ```sh block is run, as one `sh -e` script from the root of a
//     fresh copy of the repository (blocks of one file share the copy, in
//     order, as a reader following along would), and must exit 0.
//   - It needs at least one `<!-- output: TEXT -->` line right before its
//     fence: TEXT must appear in the block's output (runs of white space
//     count as one space).
//   - `<!-- not run: REASON -->` before the fence excludes a block (one that
//     installs, needs root, the network or another module, or is the test
//     suite itself); the reason is required, so nothing is skipped silently.
//   - `<!-- needs: PATH -->` runs the block only where PATH exists (the
//     quick start needs a dpkg database); elsewhere the test says so.
//   - A ```text block whose first line starts with "$ " is a transcript: the
//     command (with its "\" continuation lines) is run and each line shown
//     after it, except "...", must appear in its output, in order.
package newcomer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

// repoRoot is the repository's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// documents returns README.md and docs/*.md, relative to root.
func documents(t *testing.T, root string) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		out = append(out, filepath.ToSlash(strings.TrimPrefix(d, root+string(filepath.Separator))))
	}
	return out
}

// block is one fenced code block of a Markdown file.
type block struct {
	file    string
	line    int // line of the opening fence
	lang    string
	body    []string
	markers map[string][]string // "output", "not run", "needs" -> values
}

var markerRE = regexp.MustCompile(`^<!--\s*([a-z ]+):\s*(.*?)\s*-->$`)

// knownMarkers are the keys a comment right before a fence may use.
var knownMarkers = map[string]bool{"output": true, "not run": true, "needs": true}

// parseBlocks reads the fenced blocks of a Markdown file and the marker
// comments right before each fence; errs are the misuses of the markers.
func parseBlocks(file string, r io.Reader) (blocks []block, errs []error) {
	var (
		pending []string // marker lines seen just before the current line
		cur     *block
	)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur != nil {
			// A fence may be indented (a block inside a list item).
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				blocks = append(blocks, *cur)
				cur = nil
				continue
			}
			cur.body = append(cur.body, line)
			continue
		}
		trimmed := strings.TrimSpace(line)
		if lang, ok := strings.CutPrefix(trimmed, "```"); ok {
			cur = &block{file: file, line: n, lang: lang, markers: map[string][]string{}}
			for _, m := range pending {
				sub := markerRE.FindStringSubmatch(m)
				if sub == nil || !knownMarkers[sub[1]] {
					errs = append(errs, fmt.Errorf("%s:%d: comment %q before a code block is not a marker (output, not run, needs)", file, n, m))
					continue
				}
				cur.markers[sub[1]] = append(cur.markers[sub[1]], sub[2])
			}
			pending = nil
			continue
		}
		if strings.HasPrefix(trimmed, "<!--") {
			pending = append(pending, trimmed)
		} else {
			pending = nil
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", file, err))
	}
	if cur != nil {
		errs = append(errs, fmt.Errorf("%s:%d: code block is never closed", file, cur.line))
	}
	return blocks, errs
}

// freshCopy copies the repository's files (those git tracks or would
// track, or every file when there is no git) into a new directory, as a
// fresh clone has them.
func freshCopy(t *testing.T, root string) string {
	t.Helper()
	var files []string
	if _, err := os.Stat(filepath.Join(root, ".git")); err == nil {
		out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
		if err != nil {
			t.Fatalf("git ls-files: %v", err)
		}
		for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
			files = append(files, filepath.FromSlash(f))
		}
	} else {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, strings.TrimPrefix(p, root+string(filepath.Separator)))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	dst := t.TempDir()
	for _, f := range files {
		src := filepath.Join(root, f)
		st, err := os.Lstat(src)
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree, not committed yet
			}
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// collapse turns every run of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestDocumentedCommands runs the commands of README.md and docs/*.md as
// written, in a fresh copy of the repository.
func TestDocumentedCommands(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the documented commands are POSIX shell commands")
	}
	root := repoRoot(t)
	ran := 0
	for _, doc := range documents(t, root) {
		f, err := os.Open(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		blocks, errs := parseBlocks(doc, f)
		f.Close()
		for _, err := range errs {
			t.Error(err)
		}
		var work, config string
		for _, b := range blocks {
			script, expect, note, err := b.plan()
			if err != nil {
				t.Error(err)
			}
			if note != "" {
				t.Log(note)
			}
			if script == "" {
				continue
			}
			if work == "" {
				work, config = freshCopy(t, root), t.TempDir()
			}
			name := fmt.Sprintf("%s:%d", doc, b.line)
			t.Run(name, func(t *testing.T) {
				for _, need := range b.markers["needs"] {
					if _, err := os.Stat(need); err != nil {
						t.Skipf("needs %s, which this machine lacks: %v", need, err)
					}
				}
				ran++
				out, err := runScript(t, work, config, script)
				if err != nil {
					t.Fatalf("%s\nfailed: %v\noutput:\n%s", script, err, out)
				}
				got := collapse(out)
				at := 0
				for _, want := range expect {
					i := strings.Index(got[at:], collapse(want))
					if i < 0 {
						t.Errorf("%s\noutput lacks %q (after what matched before):\n%s", script, want, out)
						return
					}
					at += i + len(collapse(want))
				}
			})
		}
	}
	if ran == 0 {
		t.Error("no documented command ran; the markers or the parser are wrong")
	}
}

// plan returns the script a block runs and the output it must show; an
// empty script for a block that is not run (a non-shell block, or one
// marked "not run" with a reason, which note says); err for a misused
// marker.
func (b *block) plan() (script string, expect []string, note string, err error) {
	where := fmt.Sprintf("%s:%d", b.file, b.line)
	switch {
	case b.lang == "sh":
		if reasons, skip := b.markers["not run"]; skip {
			if strings.TrimSpace(strings.Join(reasons, "")) == "" {
				return "", nil, "", fmt.Errorf("%s: a not-run marker needs a reason", where)
			}
			return "", nil, where + ": not run: " + strings.Join(reasons, "; "), nil
		}
		if len(b.markers["output"]) == 0 {
			return "", nil, "", fmt.Errorf("%s: a sh block needs an <!-- output: TEXT --> marker (or <!-- not run: REASON -->)", where)
		}
		return strings.Join(b.body, "\n"), b.markers["output"], "", nil
	case (b.lang == "text" || b.lang == "console") && len(b.body) > 0 && strings.HasPrefix(b.body[0], "$ "):
		if reasons, skip := b.markers["not run"]; skip {
			return "", nil, where + ": not run: " + strings.Join(reasons, "; "), nil
		}
		cmd := []string{strings.TrimPrefix(b.body[0], "$ ")}
		i := 1
		for ; strings.HasSuffix(cmd[len(cmd)-1], `\`) && i < len(b.body); i++ {
			cmd = append(cmd, b.body[i])
		}
		for _, l := range b.body[i:] {
			if strings.TrimSpace(l) != "..." && strings.TrimSpace(l) != "" {
				expect = append(expect, l)
			}
		}
		if len(expect) == 0 {
			return "", nil, "", fmt.Errorf("%s: a transcript shows no output to check", where)
		}
		return strings.Join(cmd, "\n"), expect, "", nil
	}
	if len(b.markers) > 0 {
		return "", nil, "", fmt.Errorf("%s: markers before a %q block, which is never run", where, b.lang)
	}
	return "", nil, "", nil
}

// TestMarkdownConventions checks the reading of blocks and markers on a
// document with every case, so a typo in a marker fails instead of
// skipping a command.
func TestMarkdownConventions(t *testing.T) {
	// Errors and results name the line of a block's opening fence.
	doc := strings.Join([]string{
		"<!-- output: hello -->", // 1
		"```sh",
		"echo hello",
		"```",
		"<!-- not run: installs things -->", // 5
		"```sh",
		"sudo make install",
		"```",
		"```sh", // 9
		"echo unchecked",
		"```",
		"<!-- ouptut: typo -->", // 12
		"```sh",
		"echo typo",
		"```",
		"<!-- not run: -->", // 16
		"```sh",
		"rm -rf /",
		"```",
		"```text", // 20
		`$ echo a \`,
		"    b",
		"a b",
		"...",
		"```",
		"<!-- output: x -->", // 26
		"```go",
		"package x",
		"```",
		"```text", // 30
		"no transcript",
		"```",
		"```sh", // 33
		"echo never closed",
	}, "\n")
	blocks, errs := parseBlocks("x.md", strings.NewReader(doc))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	for _, b := range blocks {
		script, expect, note, err := b.plan()
		switch {
		case err != nil:
			got = append(got, err.Error())
		case script != "":
			got = append(got, fmt.Sprintf("%d run %q expect %q", b.line, script, expect))
		case note != "":
			got = append(got, note)
		}
	}
	want := []string{
		`x.md:13: comment "<!-- ouptut: typo -->" before a code block is not a marker (output, not run, needs)`,
		`x.md:33: code block is never closed`,
		`2 run "echo hello" expect ["hello"]`,
		`x.md:6: not run: installs things`,
		`x.md:9: a sh block needs an <!-- output: TEXT --> marker (or <!-- not run: REASON -->)`,
		`x.md:13: a sh block needs an <!-- output: TEXT --> marker (or <!-- not run: REASON -->)`,
		`x.md:17: a not-run marker needs a reason`,
		`20 run "echo a \\\n    b" expect ["a b"]`,
		`x.md:27: markers before a "go" block, which is never run`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// runScript runs script with sh -e in dir, with the user's configuration
// directory moved to config so the commands see no personal state.
func runScript(t *testing.T, dir, config, script string) (string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = dir
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "HELLO_ROOT=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "LC_ALL=")
	})
	cmd.Env = append(env, "XDG_CONFIG_HOME="+config, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMarkdownLinks checks that every relative link of README.md and
// docs/*.md names a file or directory of the repository.
func TestMarkdownLinks(t *testing.T) {
	root := repoRoot(t)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, doc := range documents(t, root) {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			p := filepath.Join(root, filepath.Dir(doc), filepath.FromSlash(target))
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: link %q: %v", doc, m[1], err)
			}
		}
	}
}

// TestNoReferencesOutside checks that no Go file or Markdown document
// points at design notes that live outside the repository.
func TestNoReferencesOutside(t *testing.T) {
	root := repoRoot(t)
	// Built from pieces so that this file does not match itself.
	bad := regexp.MustCompile(`DESIGN` + `\.md|STYLE` + `\.md|\bseeds? [0-9]{3}\b|\bthe seed` + `s\b|\.\./shared`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md")) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if loc := bad.FindStringIndex(line); loc != nil {
				t.Errorf("%s:%d: %q points outside the repository; say it here or in docs/", strings.TrimPrefix(p, root+string(filepath.Separator)), i+1, line[loc[0]:loc[1]])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDesignDeploymentStates checks docs/design.md's deployment state and
// transition tables against patchcore's states and deploy.Transitions.
func TestDesignDeploymentStates(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "<!-- transitions")
	end := strings.Index(doc, "<!-- end transitions -->")
	if start < 0 || end < start {
		t.Fatal("docs/design.md has no <!-- transitions --> ... <!-- end transitions --> table")
	}
	var documented []string
	for _, line := range strings.Split(doc[start:end], "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 3 || strings.Contains(line, "---") || strings.TrimSpace(cells[0]) == "from" {
			continue
		}
		documented = append(documented, strings.TrimSpace(cells[0])+" -("+strings.TrimSpace(cells[1])+")-> "+strings.TrimSpace(cells[2]))
	}
	var code []string
	for _, tr := range deploy.Transitions() {
		code = append(code, string(tr.From)+" -("+string(tr.Event)+")-> "+string(tr.To))
	}
	slices.Sort(documented)
	slices.Sort(code)
	for _, c := range code {
		if _, found := slices.BinarySearch(documented, c); !found {
			t.Errorf("docs/design.md lacks the transition %s", c)
		}
	}
	for _, d := range documented {
		if _, found := slices.BinarySearch(code, d); !found {
			t.Errorf("docs/design.md lists %s, which deploy.Transitions does not have", d)
		}
	}

	// The state table: every state, with its terminal flag.
	for _, s := range deploy.States() {
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(string(s)) + "` \\|[^|]+\\| (yes|no) \\|$").FindStringSubmatch(doc)
		if row == nil {
			t.Errorf("docs/design.md's state table has no row for %s", s)
			continue
		}
		if want := map[bool]string{true: "yes", false: "no"}[s.Terminal()]; row[1] != want {
			t.Errorf("docs/design.md says %s is terminal: %s; the code says %s", s, row[1], want)
		}
	}
	// Finding and compliance states are all named in the vocabulary.
	for _, s := range []string{string(patchcore.FindingMissing), string(patchcore.FindingInstalled), string(patchcore.FindingInstalledPendingReboot),
		string(patchcore.FindingNotApplicable), string(patchcore.FindingSuperseded), string(patchcore.FindingUnknown),
		string(patchcore.ComplianceInstalled), string(patchcore.ComplianceInstalledOther), string(patchcore.ComplianceInstalledPendingReboot),
		string(patchcore.ComplianceInstalledRejected), string(patchcore.ComplianceMissing), string(patchcore.ComplianceNotApplicable),
		string(patchcore.ComplianceFailed)} {
		if !strings.Contains(doc, "| `"+s+"` |") {
			t.Errorf("docs/design.md's vocabulary has no row for the state %s", s)
		}
	}
}
