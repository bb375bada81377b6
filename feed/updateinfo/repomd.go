package updateinfo

import (
	"context"
	"encoding/xml"
	"io"
	"strconv"

	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Repomd is a repository's repodata/repomd.xml: the index of its metadata files.
type Repomd struct {
	Revision string       `xml:"revision"`
	Data     []RepomdData `xml:"data"`
}

// RepomdData is one metadata file of the index.
type RepomdData struct {
	// Type is "primary", "updateinfo", "updateinfo_zck", "modules", ...
	Type string `xml:"type,attr"`
	// Location is the file's path relative to the repository root
	// ("repodata/...-updateinfo.xml.gz").
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	OpenChecksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"open-checksum"`
	Timestamp string `xml:"timestamp"`
	Size      int64  `xml:"size"`
	OpenSize  int64  `xml:"open-size"`
}

// ReadRepomd reads a repomd.xml document. file names it in errors.
func ReadRepomd(ctx context.Context, r io.Reader, file string) (*Repomd, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	file = stream.FileName(r, file)
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	var md Repomd
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, xmlError(file, dec, "repomd", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "repomd" {
				return nil, xmlError(file, dec, se.Name.Local, stream.Malformedf("root element <%s>, want <repomd>", se.Name.Local))
			}
			if err := dec.DecodeElement(&md, &se); err != nil {
				return nil, xmlError(file, dec, "repomd", err)
			}
			return &md, nil
		}
	}
}

// Updateinfo returns the entry of the updateinfo file, preferring the plain
// "updateinfo" type over "updateinfo_zck"; patchcore.ErrNotFound when the
// repository publishes no errata.
func (m *Repomd) Updateinfo() (RepomdData, error) {
	for _, t := range []string{"updateinfo", "updateinfo_xz", "updateinfo_zst"} {
		for _, d := range m.Data {
			if d.Type == t && d.Location.Href != "" {
				return d, nil
			}
		}
	}
	return RepomdData{}, &notFoundError{len(m.Data)}
}

type notFoundError struct{ n int }

func (e *notFoundError) Error() string {
	return "repomd.xml lists no updateinfo among its " + strconv.Itoa(e.n) + " data files"
}
func (e *notFoundError) Unwrap() error { return patchcore.ErrNotFound }
