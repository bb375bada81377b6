package updateinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// AlmaErrata reads AlmaLinux's errata.json
// (https://errata.almalinux.org/8/errata.json); its zero value,
// AlmaErrata{}, is ready to use. The document is a JSON array of errata in the
// shape of updateinfo, with MongoDB-style dates ({"$date": milliseconds}).
// Each element maps as an <update> does (see the package documentation),
// with Distro "almalinux" and Source "alma-errata".
type AlmaErrata struct {
	// File names the document in errors; by default the reader's Name().
	File string
	// Release, when set, overrides the release taken from dist tags.
	Release string
}

// Name returns "alma-errata".
func (AlmaErrata) Name() string { return "alma-errata" }

// Detect reports whether head starts an errata.json array.
func (AlmaErrata) Detect(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(h) > 0 && h[0] == '[' && bytes.Contains(h, []byte(`"updateinfo_id"`))
}

// AlmaErratum is one element of errata.json.
type AlmaErratum struct {
	ID          string    `json:"updateinfo_id"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	From        string    `json:"fromstr"`
	Status      string    `json:"status"`
	Issued      mongoDate `json:"issued_date"`
	Updated     mongoDate `json:"updated_date"`
	References  []struct {
		Href string `json:"href"`
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"references"`
	PkgList struct {
		Name     string `json:"name"`
		Packages []struct {
			Name            string `json:"name"`
			Version         string `json:"version"`
			Release         string `json:"release"`
			Epoch           string `json:"epoch"`
			Arch            string `json:"arch"`
			Src             string `json:"src"`
			RebootSuggested int    `json:"reboot_suggested"`
		} `json:"packages"`
		Module *struct {
			Name    string      `json:"name"`
			Stream  string      `json:"stream"`
			Version json.Number `json:"version"`
			Arch    string      `json:"arch"`
			Context string      `json:"context"`
		} `json:"module"`
	} `json:"pkglist"`
}

// mongoDate is {"$date": milliseconds since the epoch}.
type mongoDate struct{ time.Time }

// UnmarshalJSON reads {"$date": N}, {"$date": "RFC 3339"} or null.
func (d *mongoDate) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var v struct {
		Date json.RawMessage `json:"$date"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	raw := strings.TrimSpace(string(v.Date))
	if raw == "" || raw == "null" {
		return nil
	}
	if ms, err := strconv.ParseInt(raw, 10, 64); err == nil {
		d.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(v.Date, &s); err == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return stream.Malformedf("$date %s is neither milliseconds nor an RFC 3339 string", truncate(raw))
}

// Parse reads errata.json and emits a patch per erratum.
func (a AlmaErrata) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	file := stream.FileName(r, a.File)
	body, closeFn, err := decompress(r)
	defer closeFn()
	if err != nil {
		return &feed.ParseError{File: file, Err: err}
	}
	dec := json.NewDecoder(body)
	fail := func(field string, err error) error { return jsonError(file, dec, field, err) }
	tok, err := dec.Token()
	if err != nil {
		return fail("", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fail("", stream.Malformedf("got %v, want an array of errata", tok))
	}
	for i := 0; dec.More(); i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		field := "[" + strconv.Itoa(i) + "]"
		var e AlmaErratum
		if err := dec.Decode(&e); err != nil {
			return fail(field, err)
		}
		if e.ID == "" {
			return fail(field+".updateinfo_id", stream.Malformedf("erratum without updateinfo_id"))
		}
		if err := emit(a.Patch(&e)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("", stream.Malformedf("data after the array"))
	}
	return nil
}

// Patch maps one erratum.
func (a AlmaErrata) Patch(e *AlmaErratum) patchcore.Patch {
	up := Update{ID: e.ID, Type: e.Type, Title: e.Title, Description: e.Description, Severity: e.Severity, From: e.From}
	p, _ := Reader{Distro: "almalinux", Release: a.Release}.Patch(&up) // no dates: cannot fail
	p.Source = "alma-errata"
	p.Released, p.Revised = e.Issued.Time, e.Updated.Time
	for _, ref := range e.References {
		if strings.EqualFold(ref.Type, "cve") && ref.ID != "" {
			addCVE(&p, ref.ID)
		}
		if ref.Href != "" {
			p.References = appendOnce(p.References, ref.Href)
		}
	}
	stream := ""
	if m := e.PkgList.Module; m != nil && m.Name != "" {
		stream = m.Name + ":" + m.Stream
	}
	seen := map[fixKey]bool{}
	for _, pkg := range e.PkgList.Packages {
		f, ok := packageFix(Package{Name: pkg.Name, Version: pkg.Version, Release: pkg.Release, Epoch: pkg.Epoch, Arch: pkg.Arch},
			"almalinux", a.Release, stream)
		if !ok {
			continue
		}
		if pkg.RebootSuggested != 0 {
			f.Reboot = patchcore.RebootRequired
		}
		k := fixKey{f.Release, f.Package, f.Arch, f.ModuleStream, f.FixedVersion}
		if !seen[k] {
			seen[k] = true
			p.Fixes = append(p.Fixes, f)
		}
	}
	return p
}
