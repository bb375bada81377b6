package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/formats"
)

// fetchState is what patchctl feed fetch remembers about a saved feed, in
// DIR/.NAME.fetch.json, so the next run asks the server only for a changed
// document.
type fetchState struct {
	URL string `json:"url"`
	fetch.Validators
}

// runFeedFetch implements patchctl feed fetch [--dir DIR] [--max-bytes N]
// [--sha256 HEX] [--progress MODE] URL...: it downloads each feed into DIR
// under the last element of its URL path, as served (compressed feeds stay
// compressed; feed parse and detect read them), through feed/fetch:
// conditional requests with the ETag and Last-Modified of the last run, a
// size limit, and resumption of an interrupted download. It prints one line
// per URL on stdout and progress on stderr: a bar on a terminal, plain lines
// otherwise.
func runFeedFetch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "feed fetch")
	dir := fs.String("dir", ".", "directory to save the feeds in")
	maxBytes := fs.Int64("max-bytes", 256<<20, "refuse a feed larger than this many bytes (as transferred)")
	sum := fs.String("sha256", "", "the expected hex SHA-256 of the feed as transferred (one URL only)")
	progress := fs.String("progress", "auto", "progress on stderr: bar, lines, none, or auto (a bar on a terminal, lines otherwise)")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on each download")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: patchctl feed fetch [--dir DIR] [--max-bytes N] [--sha256 HEX] [--progress MODE] URL...")
		fmt.Fprintln(fs.Output(), "Saves each feed in DIR under the last element of its URL path; a second run downloads only changed feeds")
		fmt.Fprintln(fs.Output(), "and an interrupted download resumes where it stopped.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no URL given", errUsage)
	}
	if *sum != "" && fs.NArg() > 1 {
		return fmt.Errorf("%w: --sha256 checks one feed; %d URLs given", errUsage, fs.NArg())
	}
	if *maxBytes <= 0 {
		return fmt.Errorf("%w: --max-bytes must be positive", errUsage)
	}
	mode, err := progressMode(*progress, e.stderr)
	if err != nil {
		return err
	}
	names := map[string]string{}
	targets := make([]string, fs.NArg())
	for i, u := range fs.Args() {
		name, err := feedFileName(u)
		if err != nil {
			return err
		}
		if other, dup := names[name]; dup {
			return fmt.Errorf("%w: %s and %s would both be saved as %s", errUsage, other, u, name)
		}
		names[name] = u
		targets[i] = filepath.Join(*dir, name)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	failed := 0
	for i, u := range fs.Args() {
		if err := fetchOne(ctx, e, u, targets[i], fetch.Source{Location: u, MaxBytes: *maxBytes, SHA256: *sum}, mode, *timeout); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			fmt.Fprintf(e.stderr, "patchctl feed fetch: %v\n", oneLine(err))
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d feeds failed", failed, fs.NArg())
	}
	return nil
}

// fetchOne downloads one feed to dst and prints its line.
func fetchOne(ctx context.Context, e *env, u, dst string, src fetch.Source, mode string, timeout time.Duration) error {
	// Hidden, so that patchctl feed parse DIR/* reads only feeds.
	statePath := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".fetch.json")
	var prev fetch.Validators
	if st, err := readFetchState(statePath); err == nil && st.URL == u {
		if _, err := os.Stat(dst); err == nil {
			prev = st.Validators
		}
	}
	bar := newProgressPrinter(e.stderr, mode, filepath.Base(dst))
	src.OnProgress = bar.report
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	saved, err := src.Download(ctx, dst, prev)
	bar.finish()
	if err != nil {
		if _, serr := os.Stat(dst + ".part"); serr == nil {
			return fmt.Errorf("%w (the partial download is kept; run the command again to resume)", err)
		}
		return err
	}
	if saved.NotModified {
		fmt.Fprintf(e.stdout, "not modified  %s  %s\n", dst, u)
		return nil
	}
	b, err := json.Marshal(fetchState{URL: u, Validators: saved.Validators})
	if err == nil {
		err = os.WriteFile(statePath, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("saving the validators of %s: %w", u, err)
	}
	what := []string{fmt.Sprintf("%d bytes", saved.Size)}
	if saved.Resumed > 0 {
		what = append(what, fmt.Sprintf("resumed at %d", saved.Resumed))
	}
	if saved.Compression != fetch.None {
		what = append(what, string(saved.Compression))
	}
	what = append(what, sniffFormat(dst))
	fmt.Fprintf(e.stdout, "saved         %s  %s  (%s)\n", dst, u, strings.Join(what, ", "))
	return nil
}

// sniffFormat names the feed format of a saved file, or says it is not one
// patchctl recognises (a signature, an index page).
func sniffFormat(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	dec, _, err := fetch.Decompress(f, 0)
	if err != nil {
		return "not a feed: " + err.Error()
	}
	defer dec.Close()
	head, err := bufio.NewReaderSize(dec, formats.HeadSize).Peek(formats.HeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "not a feed: " + err.Error()
	}
	format, err := formats.Detect(head)
	if err != nil {
		return "format not recognised"
	}
	return "format " + format.Name()
}

func readFetchState(p string) (fetchState, error) {
	var st fetchState
	b, err := os.ReadFile(p)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// feedFileName is the file a URL is saved as: the last element of its path.
func feedFileName(u string) (string, error) {
	loc, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a URL: %v", errUsage, u, err)
	}
	switch loc.Scheme {
	case "http", "https":
	default:
		return "", fmt.Errorf("%w: %q: want an http:// or https:// URL (feed parse reads local files)", errUsage, u)
	}
	name := path.Base(loc.Path)
	if name == "" || name == "/" || name == "." || name == ".." || strings.ContainsAny(name, `\:`) {
		return "", fmt.Errorf("%w: %q: the URL path does not end in a file name to save the feed as", errUsage, u)
	}
	return name, nil
}

// progressMode resolves --progress: auto is a bar when w is a terminal.
func progressMode(mode string, w io.Writer) (string, error) {
	switch mode {
	case "bar", "lines", "none":
		return mode, nil
	case "auto":
		if isTerminal(w) {
			return "bar", nil
		}
		return "lines", nil
	}
	return "", fmt.Errorf("%w: --progress %q: want auto, bar, lines or none", errUsage, mode)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter shows fetch.Progress reports: a bar redrawn in place
// (mode bar), a line per tenth of the document or per 8 MiB when its size is
// unknown (mode lines), or nothing.
type progressPrinter struct {
	w     io.Writer
	mode  string
	name  string
	drawn bool
	step  int64
}

func newProgressPrinter(w io.Writer, mode, name string) *progressPrinter {
	return &progressPrinter{w: w, mode: mode, name: name, step: -1}
}

const barWidth = 30

func (p *progressPrinter) report(r fetch.Progress) {
	switch p.mode {
	case "bar":
		p.drawn = true
		if r.Total <= 0 {
			fmt.Fprintf(p.w, "\r%s %s", p.name, byteCount(r.Read))
			return
		}
		filled := int(min(r.Read, r.Total) * barWidth / r.Total)
		fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %s of %s", p.name, strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled),
			min(r.Read, r.Total)*100/r.Total, byteCount(r.Read), byteCount(r.Total))
	case "lines":
		var step int64
		if r.Total > 0 {
			step = min(r.Read, r.Total) * 10 / r.Total
		} else {
			step = r.Read / (8 << 20)
		}
		if step == p.step && !r.Done {
			return
		}
		p.step = step
		if r.Total > 0 {
			fmt.Fprintf(p.w, "%s: %s of %s (%d%%)\n", p.name, byteCount(r.Read), byteCount(r.Total), min(r.Read, r.Total)*100/r.Total)
		} else {
			fmt.Fprintf(p.w, "%s: %s\n", p.name, byteCount(r.Read))
		}
	}
}

// finish ends a drawn bar's line.
func (p *progressPrinter) finish() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// byteCount formats n in B, KiB or MiB.
func byteCount(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
