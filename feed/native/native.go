// Package native reads and writes patchcore's own feed format, for partners
// who publish their own patches: a versioned JSON document whose patches
// are patchcore.Patch values in their JSON form, with a detached Ed25519
// signature that the reader verifies. docs/feed-formats.md specifies it.
//
//	{
//	  "patchcore_feed": "1.0",
//	  "publisher": {"name": "Contoso", "url": "https://patches.contoso.example"},
//	  "generated": "2024-03-01T00:00:00Z",
//	  "patches": [ {"id": "CONTOSO-2024-001", "classification": "security", ...} ]
//	}
//
// "patchcore_feed" is "MAJOR.MINOR" and must come before "patches". A
// reader accepts any minor version of the major versions it knows (unknown
// fields are ignored, so minor versions only add fields) and refuses other
// majors with patchcore.ErrUnsupported.
//
// The signature is Ed25519ph over the exact bytes of the document (see
// fetch.Sign), published next to it as "<name>.sig". ParseSigned and
// ParseFileSigned verify before emitting anything; Format.Parse does not
// verify and is meant for documents fetch.Source already verified.
package native

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Name is the format name and the default Patch.Source.
const Name = "patchcore"

// SchemaVersion is the version this package writes.
const SchemaVersion = "1.0"

// SchemaMajor is the major version this package reads.
const SchemaMajor = 1

// Publisher identifies who publishes a native feed.
type Publisher struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Header is everything in a native feed document but its patches.
type Header struct {
	// SchemaVersion is "MAJOR.MINOR".
	SchemaVersion string    `json:"patchcore_feed"`
	Publisher     Publisher `json:"publisher"`
	Generated     time.Time `json:"generated,omitzero"`
}

// Format is the feed.Format of native feeds. It does not verify signatures.
type Format struct{}

var _ feed.Format = Format{}

// Name returns "patchcore".
func (Format) Name() string { return Name }

// Detect reports a native feed document.
func (Format) Detect(head []byte) bool {
	return bytes.Contains(head, []byte(`"patchcore_feed"`))
}

// Parse reads a native feed and emits its patches, streaming them one at a
// time. Patches without a Source get "patchcore"; without a Vendor, the
// publisher's name.
func (Format) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	_, err := Parse(ctx, r, emit)
	return err
}

// Parse is Format.Parse that also returns the document's header.
func Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) (*Header, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	h := &Header{}
	sawVersion := false
	err := stream.Object(dec, "", func(key string) error {
		switch key {
		case "patchcore_feed":
			if err := dec.Decode(&h.SchemaVersion); err != nil {
				return stream.JSONError(dec, key, err)
			}
			if err := checkVersion(h.SchemaVersion); err != nil {
				return &feed.ParseError{Offset: dec.InputOffset(), Field: key, Err: err}
			}
			sawVersion = true
		case "publisher":
			if err := dec.Decode(&h.Publisher); err != nil {
				return stream.JSONError(dec, key, err)
			}
		case "generated":
			if err := dec.Decode(&h.Generated); err != nil {
				return stream.JSONError(dec, key, err)
			}
		case "patches":
			if !sawVersion {
				return stream.JSONError(dec, key, errors.New(`"patches" before "patchcore_feed"`))
			}
			return stream.Array(dec, key, func(i int) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				field := fmt.Sprintf("patches[%d]", i)
				var p patchcore.Patch
				if err := dec.Decode(&p); err != nil {
					return stream.JSONError(dec, field, err)
				}
				if err := Validate(&p); err != nil {
					return &feed.ParseError{Offset: dec.InputOffset(), Field: field + " " + p.ID, Err: fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err)}
				}
				if p.Source == "" {
					p.Source = Name
				}
				if p.Vendor == "" {
					p.Vendor = h.Publisher.Name
				}
				return emit(p)
			})
		default:
			return stream.Skip(dec, key)
		}
		return nil
	})
	if err != nil {
		return h, err
	}
	if !sawVersion {
		return h, &feed.ParseError{Offset: dec.InputOffset(), Field: "patchcore_feed", Err: fmt.Errorf("missing: %w", patchcore.ErrMalformedFeed)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return h, stream.JSONError(dec, "", errors.New("data after the document"))
	}
	return h, nil
}

func checkVersion(v string) error {
	major, _, ok := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if !ok || err != nil {
		return fmt.Errorf("schema version %q is not MAJOR.MINOR: %w", v, patchcore.ErrMalformedFeed)
	}
	if n != SchemaMajor {
		return fmt.Errorf("schema version %q: this reader knows major version %d: %w", v, SchemaMajor, patchcore.ErrUnsupported)
	}
	return nil
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// Validate checks what a native feed's patch must satisfy: an ID, a known
// classification (empty becomes other), CVE IDs of the form CVE-YYYY-N,
// CVSS scores within 0-10, fixes with a known version scheme and, for
// installers, a URL and a 64-hex-digit SHA-256.
func Validate(p *patchcore.Patch) error {
	if strings.TrimSpace(p.ID) == "" {
		return errors.New("id missing")
	}
	if p.Classification == "" {
		p.Classification = patchcore.ClassOther
	}
	if !p.Classification.Valid() {
		return fmt.Errorf("classification %q unknown", p.Classification)
	}
	for i, c := range p.CVEs {
		if !cveRE.MatchString(c.ID) {
			return fmt.Errorf("cves[%d]: %q is not a CVE ID", i, c.ID)
		}
		if c.CVSSScore < 0 || c.CVSSScore > 10 {
			return fmt.Errorf("cves[%d]: CVSS score %v outside 0-10", i, c.CVSSScore)
		}
	}
	for i, f := range p.Fixes {
		switch f.Scheme {
		case "", "deb", "rpm", "semver", "dotted":
		default:
			return fmt.Errorf("fixes[%d]: scheme %q unknown", i, f.Scheme)
		}
		switch f.Status {
		case patchcore.FixFixed, patchcore.FixUnfixed, patchcore.FixWontFix, patchcore.FixNotAffected:
		default:
			return fmt.Errorf("fixes[%d]: status %q unknown", i, f.Status)
		}
		if in := f.Installer; in != nil {
			if in.URL == "" {
				return fmt.Errorf("fixes[%d]: installer URL missing", i)
			}
			if in.SHA256 != "" && (len(in.SHA256) != 64 || strings.Trim(strings.ToLower(in.SHA256), "0123456789abcdef") != "") {
				return fmt.Errorf("fixes[%d]: installer SHA-256 %q is not 64 hex digits", i, in.SHA256)
			}
		}
	}
	return nil
}

// ParseSigned verifies sig (raw or base64 Ed25519ph, as fetch.DecodeSignature
// takes it) over all of r with pub, then rewinds r and parses it. Nothing is
// emitted unless the signature verifies; a bad one gives an error wrapping
// patchcore.ErrSignatureInvalid.
func ParseSigned(ctx context.Context, r io.ReadSeeker, sig []byte, pub ed25519.PublicKey, emit func(patchcore.Patch) error) (*Header, error) {
	if err := fetch.VerifySignature(pub, r, sig); err != nil {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return Parse(ctx, r, emit)
}

// ParseFileSigned reads path and its detached signature path+".sig", and
// parses the feed once the signature verifies. Errors name the file.
func ParseFileSigned(ctx context.Context, path string, pub ed25519.PublicKey, emit func(patchcore.Patch) error) (*Header, error) {
	sig, err := os.ReadFile(path + ".sig")
	if err != nil {
		return nil, fmt.Errorf("reading signature of %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := ParseSigned(ctx, f, sig, pub, emit)
	var pe *feed.ParseError
	switch {
	case errors.As(err, &pe):
		pe.File = path
	case err != nil:
		err = fmt.Errorf("%s: %w", path, err)
	}
	return h, err
}

// Writer writes a native feed document one patch at a time.
type Writer struct {
	w     io.Writer
	n     int
	enc   *json.Encoder
	ended bool
}

// NewWriter writes the header to w and returns a Writer for the patches.
// An empty SchemaVersion is set to SchemaVersion.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.SchemaVersion == "" {
		h.SchemaVersion = SchemaVersion
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	// Header fields, then the patches array, so readers see the version first.
	if _, err := fmt.Fprintf(w, "%s,\n\"patches\": [", head[:len(head)-1]); err != nil {
		return nil, err
	}
	return &Writer{w: w, enc: json.NewEncoder(w)}, nil
}

// Write validates p and appends it to the document.
func (wr *Writer) Write(p patchcore.Patch) error {
	if err := Validate(&p); err != nil {
		return fmt.Errorf("patch %q: %w: %w", p.ID, patchcore.ErrInvalidInput, err)
	}
	sep := "\n"
	if wr.n > 0 {
		sep = ",\n"
	}
	if _, err := io.WriteString(wr.w, sep); err != nil {
		return err
	}
	wr.n++
	return wr.enc.Encode(p)
}

// Close ends the document. It does not close the underlying writer.
func (wr *Writer) Close() error {
	if wr.ended {
		return nil
	}
	wr.ended = true
	_, err := io.WriteString(wr.w, "]}\n")
	return err
}
