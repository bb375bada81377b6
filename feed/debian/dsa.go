package debian

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// AdvisoryList reads a DSA or DLA list of the security tracker repository
// (data/DSA/list and data/DLA/list: Debian Security Advisories and Debian LTS
// Advisories); its zero value, AdvisoryList{}, is ready to use:
//
//	[21 May 2024] DSA-5695-1 chromium - security update
//		{CVE-2024-5157 CVE-2024-5158}
//		[bookworm] - chromium 125.0.6422.76-1~deb12u1
//		[bullseye] - chromium <end-of-life> (see DSA 5555)
//		NOTE: free text
//
// Each advisory becomes one patchcore.Patch (ID "DSA-5695-1", Source
// "debian-dsa" or "debian-dla" after the prefix, Title "chromium - security
// update", Released the date, CVEs from the braces) with one Fix per release
// line: Distro "debian", Release the codename ("" when the line names
// none), Package the SOURCE package, Scheme "deb", FixedVersion the
// version. An entry whose header is malformed (no "[DD Mon YYYY] DSA-N"
// form, or a bad date) is skipped up to the next header, and reported
// with a feed.NoticeRecovered (file and line) through feed.Notify; the other
// entries are kept. A list without one well-formed entry fails. A line whose version is a <marker> keeps the marker in
// Attributes["note"] and maps it to a status: <not-affected> is
// FixNotAffected, <unfixed> FixUnfixed, <end-of-life>, <no-dsa> and
// <ignored> FixWontFix, anything else FixUnfixed.
type AdvisoryList struct {
	// File names the document in errors; by default the reader's Name().
	File string
}

// Name returns "debian-advisory-list".
func (AdvisoryList) Name() string { return "debian-advisory-list" }

var advisoryHeader = regexp.MustCompile(`^\[(\d{1,2} [A-Z][a-z]{2} \d{4})\] ((?:DSA|DLA|DTSA)-[0-9A-Za-z-]+)(?: (.*))?$`)

// Detect reports whether head starts like an advisory list.
func (AdvisoryList) Detect(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return advisoryHeader.Match(bytes.TrimRight(line, "\r"))
}

// Parse reads an advisory list and emits a patch per advisory, in file order.
func (a AdvisoryList) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	file := stream.FileName(r, a.File)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var cur *patchcore.Patch
	emitted := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		p := *cur
		cur = nil
		emitted++
		return emit(p)
	}
	line := 0
	// skipping is set while the lines of an entry whose header was
	// malformed are passed over.
	skipping := false
	// firstBad is the error of the first skipped entry: a list in which no
	// entry is well formed is not a list, and fails with it.
	var firstBad error
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := strings.TrimRight(sc.Text(), " \t\r")
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if s[0] == '[' {
			m := advisoryHeader.FindStringSubmatch(s)
			var day time.Time
			why := ""
			if m == nil {
				why = fmt.Sprintf("want \"[DD Mon YYYY] DSA-NNNN-N package - title\", got %q", truncate(s))
			} else if d, err := time.Parse("2 Jan 2006", m[1]); err != nil {
				why = fmt.Sprintf("date %q: %v", m[1], err)
			} else {
				day = d
			}
			if err := flush(); err != nil {
				return err
			}
			if why != "" {
				if firstBad == nil {
					field := "advisory header"
					if m != nil {
						field += ": date"
					}
					firstBad = lineError(file, line, field, stream.Malformedf("%s", why))
				}
				// The security tracker's own tools skip such an entry
				// and read the rest: so does this parser, and says so.
				feed.Notify(ctx, feed.Notice{Kind: feed.NoticeRecovered, File: file, Line: line, Field: "advisory header",
					Message: "malformed advisory header, entry skipped up to the next header: " + why})
				skipping = true
				continue
			}
			skipping = false
			src := "debian-dsa"
			if strings.HasPrefix(m[2], "DLA-") {
				src = "debian-dla"
			} else if strings.HasPrefix(m[2], "DTSA-") {
				src = "debian-dtsa"
			}
			cur = &patchcore.Patch{
				ID:             m[2],
				Source:         src,
				Vendor:         "Debian",
				Title:          m[3],
				Classification: patchcore.ClassSecurity,
				Released:       day,
				References:     []string{"https://security-tracker.debian.org/tracker/" + m[2]},
			}
			if pkg, _, ok := strings.Cut(m[3], " "); ok && pkg != "" {
				cur.Products = []string{pkg}
			}
			continue
		}
		if skipping && (s[0] == ' ' || s[0] == '\t') {
			continue
		}
		if s[0] != ' ' && s[0] != '\t' {
			return lineError(file, line, "", stream.Malformedf("want an advisory header or an indented line, got %q", truncate(s)))
		}
		if cur == nil {
			return lineError(file, line, "", stream.Malformedf("indented line before the first advisory header"))
		}
		body := strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(body, "{"):
			if !strings.HasSuffix(body, "}") {
				return lineError(file, line, "CVE list", stream.Malformedf("unterminated {...}"))
			}
			for _, id := range strings.Fields(body[1 : len(body)-1]) {
				cur.CVEs = append(cur.CVEs, patchcore.CVE{ID: id})
			}
		case strings.HasPrefix(body, "[") || strings.HasPrefix(body, "- "):
			f, err := advisoryFix(body)
			if err != nil {
				return lineError(file, line, "release line", err)
			}
			cur.Fixes = append(cur.Fixes, f)
		default:
			// NOTE:, TODO: and other free text.
		}
	}
	if err := scanErr(sc); err != nil {
		return lineError(file, line+1, "", err)
	}
	if err := flush(); err != nil {
		return err
	}
	if emitted == 0 && firstBad != nil {
		return firstBad
	}
	return nil
}

// advisoryFix parses "[bookworm] - chromium 125.0-1" or "- pkg <marker> (reason)".
func advisoryFix(body string) (patchcore.Fix, error) {
	f := patchcore.Fix{Distro: "debian", Ecosystem: patchcore.EcosystemDeb,
		PackageKind: patchcore.PackageSource, Scheme: "deb"}
	if body[0] == '[' {
		rel, rest, ok := strings.Cut(body[1:], "]")
		if !ok || rel == "" {
			return f, stream.Malformedf("unterminated [release] in %q", truncate(body))
		}
		f.Release = rel
		body = strings.TrimSpace(rest)
	}
	rest, ok := strings.CutPrefix(body, "- ")
	if !ok {
		return f, stream.Malformedf("want \"- package version\", got %q", truncate(body))
	}
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return f, stream.Malformedf("want \"- package version\", got %q", truncate(body))
	}
	f.Package = fields[0]
	v := fields[1]
	if strings.HasPrefix(v, "<") {
		if !strings.HasSuffix(v, ">") {
			return f, stream.Malformedf("unterminated <marker> %q", truncate(v))
		}
		f.Attributes = map[string]string{"note": v}
		switch v {
		case "<not-affected>":
			f.Status = patchcore.FixNotAffected
		case "<end-of-life>", "<no-dsa>", "<ignored>":
			f.Status = patchcore.FixWontFix
		default:
			f.Status = patchcore.FixUnfixed
		}
		return f, nil
	}
	f.FixedVersion = v
	return f, nil
}
