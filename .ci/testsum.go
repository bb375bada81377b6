//go:build ignore

// testsum reads the events of `go test -json` on standard input and prints
// what a person needs from a CI run: each package's result line, the output
// of every failed test and of every package that failed to build or run,
// then the number of tests (and subtests) that passed, failed and were
// skipped, every skipped test with its reason and every failed test.
//
//	go test -json ./... | go run .ci/testsum.go [-allow-skips]
//
// It exits 1 when a test or a package failed, when no test ran, and,
// unless -allow-skips, when any test was skipped: CI's machine has every
// package the tests need, so a test that skips there is a defect.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail
	Test       string
	Elapsed    float64
	Output     string
}

type result struct {
	name   string // package and test
	output []string
}

func main() {
	allowSkips := flag.Bool("allow-skips", false, "do not fail when a test is skipped")
	flag.Parse()
	os.Exit(run(os.Stdin, os.Stdout, *allowSkips))
}

func run(in io.Reader, out io.Writer, allowSkips bool) int {
	outputs := map[string][]string{}   // "pkg\x00test" -> output lines
	build := map[string][]string{}     // import path -> build output
	var passed, failed, skipped [2]int // [0] top-level tests, [1] subtests
	var failedTests, skippedTests []result
	var failedPkgs []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(out, string(line)) // not an event: pass it on
			continue
		}
		key := e.Package + "\x00" + e.Test
		sub := 0
		if strings.Contains(e.Test, "/") {
			sub = 1
		}
		switch e.Action {
		case "build-output":
			build[e.ImportPath] = append(build[e.ImportPath], e.Output)
		case "build-fail":
			fmt.Fprintf(out, "FAIL\t%s [build failed]\n", e.ImportPath)
			for _, l := range build[e.ImportPath] {
				fmt.Fprint(out, "    ", l)
			}
		case "output":
			outputs[key] = append(outputs[key], e.Output)
			if e.Test == "" && isResultLine(e.Output) {
				fmt.Fprint(out, e.Output)
			}
		case "pass":
			if e.Test != "" {
				passed[sub]++
			}
			delete(outputs, key)
		case "skip":
			if e.Test == "" {
				delete(outputs, key)
				continue // a package with no tests
			}
			skipped[sub]++
			skippedTests = append(skippedTests, result{e.Package + " " + e.Test, reason(outputs[key])})
			delete(outputs, key)
		case "fail":
			if e.Test != "" {
				failed[sub]++
				failedTests = append(failedTests, result{e.Package + " " + e.Test, outputs[key]})
				fmt.Fprintf(out, "--- FAIL: %s %s\n", e.Package, e.Test)
				for _, l := range outputs[key] {
					if !strings.HasPrefix(l, "=== ") {
						fmt.Fprint(out, "    ", l)
					}
				}
			} else {
				failedPkgs = append(failedPkgs, e.Package)
				// Tests that never finished: the package panicked or
				// timed out while they ran; their output has the panic.
				var unfinished []string
				for k := range outputs {
					if pkg, test, _ := strings.Cut(k, "\x00"); pkg == e.Package && test != "" {
						unfinished = append(unfinished, test)
					}
				}
				slices.Sort(unfinished)
				for _, test := range unfinished {
					k := e.Package + "\x00" + test
					failed[min(strings.Count(test, "/"), 1)]++
					failedTests = append(failedTests, result{e.Package + " " + test + " (did not finish)", outputs[k]})
					fmt.Fprintf(out, "--- FAIL: %s %s (did not finish)\n", e.Package, test)
					for _, l := range outputs[k] {
						if !strings.HasPrefix(l, "=== ") {
							fmt.Fprint(out, "    ", l)
						}
					}
					delete(outputs, k)
				}
				// Output of the package outside its tests (a failing
				// TestMain, a build failure), but its result line.
				for _, l := range outputs[key] {
					if t := strings.TrimSpace(l); !isResultLine(l) && t != "FAIL" && t != "PASS" {
						fmt.Fprint(out, "    ", l)
					}
				}
			}
			delete(outputs, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsum: reading go test -json: %v\n", err)
		return 1
	}

	total := func(c [2]int) string {
		if c[1] == 0 {
			return fmt.Sprint(c[0])
		}
		return fmt.Sprintf("%d (+%d subtests)", c[0], c[1])
	}
	fmt.Fprintf(out, "\ntests: %s passed, %s failed, %s skipped\n", total(passed), total(failed), total(skipped))
	if len(skippedTests) > 0 {
		fmt.Fprintf(out, "skipped:\n")
		for _, r := range skippedTests {
			fmt.Fprintf(out, "  %s: %s\n", r.name, strings.Join(r.output, " / "))
		}
	}
	if len(failedTests) > 0 {
		fmt.Fprintf(out, "failed:\n")
		for _, r := range failedTests {
			fmt.Fprintf(out, "  %s\n", r.name)
		}
	}
	for _, p := range failedPkgs {
		fmt.Fprintf(out, "failed package: %s\n", p)
	}
	switch {
	case len(failedTests) > 0 || len(failedPkgs) > 0:
		return 1
	case passed[0] == 0:
		fmt.Fprintln(out, "testsum: no test ran")
		return 1
	case len(skippedTests) > 0 && !allowSkips:
		fmt.Fprintln(out, "testsum: tests were skipped; CI's machine has what every test needs, so each skip is a defect")
		return 1
	}
	return 0
}

// isResultLine reports a package's summary line ("ok  \tpkg\t1.2s",
// "FAIL\tpkg", "?   \tpkg\t[no test files]").
func isResultLine(l string) bool {
	return strings.HasPrefix(l, "ok  \t") || strings.HasPrefix(l, "FAIL\t") || strings.HasPrefix(l, "?   \t")
}

// reason is what a skipped test printed, without the test runner's lines.
func reason(lines []string) []string {
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		out = []string{"(no reason given)"}
	}
	return out
}
