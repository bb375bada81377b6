package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
)

// runFeed implements patchctl feed:
//
//	patchctl feed parse [--format NAME] [--json] FILE...
//	patchctl feed formats
//
// parse prints the normalised patches of each file, as a table or, with
// --json, one JSON object per line (NDJSON). Each file's compression and
// format are recognised from its content unless --format names the format
// (a file that is not of that format is an error naming what it is); a
// directory is read as a winget manifest version directory. For each file a
// summary line goes to stderr (see printIngest), followed by each repair of
// sloppy vendor data with its position. A file that fails is reported on
// stderr with its name and position, the others are still printed, and the
// exit status is 1.
func runFeed(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: missing subcommand (parse, fetch, formats)", errUsage)
	}
	if args[0] == "-h" || args[0] == "--help" {
		feedUsage(e.stdout)
		return flag.ErrHelp
	}
	switch args[0] {
	case "parse":
		return runFeedParse(ctx, e, args[1:])
	case "fetch":
		return runFeedFetch(ctx, e, args[1:])
	case "formats":
		for _, f := range formats.All() {
			fmt.Fprintln(e.stdout, f.Name())
		}
		return nil
	}
	return fmt.Errorf("%w: unknown subcommand %q (parse, fetch, formats)", errUsage, args[0])
}

func feedUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: patchctl feed parse [--format NAME] [--json] FILE...")
	fmt.Fprintln(w, "       patchctl feed fetch [--dir DIR] [--max-bytes N] [--sha256 HEX] URL...")
	fmt.Fprintln(w, "       patchctl feed formats")
	fmt.Fprintf(w, "formats: %s\n", strings.Join(formats.Names(), ", "))
}

func runFeedParse(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "feed parse")
	formatName := fs.String("format", "", "the feed format (default: recognised from content); see patchctl feed formats")
	asJSON := fs.Bool("json", false, "print one JSON object per patch (NDJSON) instead of a table")
	fs.Usage = func() { feedUsage(fs.Output()); fs.PrintDefaults() }
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no FILE given", errUsage)
	}
	var opts formats.Options
	if *formatName != "" {
		f, err := formats.ByName(*formatName)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		opts.Format = f
	}
	out := newPatchPrinter(e.stdout, *asJSON)
	var errs []error
	for _, path := range fs.Args() {
		var st feed.Ingest
		f, err := parseInput(st.Watch(ctx), e, path, opts, func(p patchcore.Patch) error {
			st.AddPatch(&p)
			return out.print(p)
		})
		if errors.Is(err, context.Canceled) {
			return err
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "patchctl feed parse: %v\n", err)
			errs = append(errs, err)
		}
		if f != nil && (err == nil || st.Patches > 0 || len(st.Notices) > 0) {
			st.Format = f.Name()
			printIngest(e.stderr, path, &st)
		}
	}
	if err := out.flush(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d files failed", len(errs), fs.NArg())
	}
	return nil
}

// printIngest prints the summary line of one file, then each recovery with
// its position:
//
//	patchctl feed parse: FILE: FORMAT: P patches, C CVEs with a patch, N not covered, R recovered
//	patchctl feed parse: FILE:LINE: ID: recovered: MESSAGE
//
// C counts the distinct CVE IDs the patches name, N the distinct records
// (by ID) the parser reported it does not turn into a patch.
func printIngest(w io.Writer, path string, st *feed.Ingest) {
	fmt.Fprintf(w, "patchctl feed parse: %s: %s: %d patches, %d CVEs with a patch, %d not covered, %d recovered\n",
		path, st.Format, st.Patches, st.CVEs, st.NotCovered, st.Recovered)
	for _, n := range st.Notices {
		if n.Kind == feed.NoticeRecovered {
			if n.File == "" {
				n.File = path
			}
			fmt.Fprintf(w, "patchctl feed parse: %s\n", n)
		}
	}
}

// patchPrinter prints patches as a table or as NDJSON.
type patchPrinter struct {
	json *json.Encoder
	tw   *tabwriter.Writer
	n    int
}

func newPatchPrinter(w io.Writer, asJSON bool) *patchPrinter {
	if asJSON {
		return &patchPrinter{json: json.NewEncoder(w)}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE\tSEVERITY\tCLASS\tRELEASED\tCVES\tFIXES\tTITLE")
	return &patchPrinter{tw: tw}
}

func (pp *patchPrinter) print(p patchcore.Patch) error {
	pp.n++
	if pp.json != nil {
		return pp.json.Encode(p)
	}
	released := ""
	if !p.Released.IsZero() {
		released = p.Released.Format(time.DateOnly)
	}
	title := p.Title
	if len(title) > 60 {
		title = title[:57] + "..."
	}
	_, err := fmt.Fprintf(pp.tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", p.ID, p.Source, p.Severity, p.Classification,
		released, len(p.CVEs), len(p.Fixes), strings.ReplaceAll(title, "\t", " "))
	return err
}

func (pp *patchPrinter) flush() error {
	if pp.tw != nil {
		return pp.tw.Flush()
	}
	return nil
}
