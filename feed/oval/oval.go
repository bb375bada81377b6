// Package oval reads OVAL definition files (OVAL 5) into patchcore
// patches, with one reader shared by the vendors that publish them:
//
//   - Red Hat OVAL v2: rpminfo tests; oval:com.redhat.rhsa:def definitions
//     are patched advisories (FixFixed with the "earlier than" version),
//     oval:com.redhat.cve:def definitions are unpatched CVEs (FixUnfixed,
//     or FixWontFix when the definition's resolution says "Will not fix");
//   - SUSE OVAL: rpminfo tests under "SUSE Linux Enterprise ... is
//     installed" platform criteria;
//   - Red Hat "unaffected" definitions (oval:com.redhat.unaffected:def):
//     every component they list is FixNotAffected, as Red Hat states;
//   - Oracle Linux OVAL: ELSA patch definitions under "Oracle Linux 8 is
//     installed" ("ol"/"8");
//   - Debian OVAL: one vulnerability definition per CVE and release (the
//     CVE is only in the title), dpkginfo tests naming SOURCE packages
//     under "Debian 7 is installed" ("debian"/"7"); the spurious "0:"
//     Debian puts before versions that have their own epoch is dropped;
//   - Ubuntu OVAL: dpkginfo tests whose object names binary packages
//     directly or through a constant variable, and kernel definitions
//     (variable tests on the running kernel) that keep the kernel's name.
//
// Azure Linux (CBL-Mariner) and Photon OS OVAL are refused with a
// *feed.ParseError wrapping patchcore.ErrUnsupported, before any patch is
// emitted: their files do not say which release they describe. A definition
// with package tests under no platform patchcore recognises (and no
// Reader.Distro) is emitted, and reported with a feed.NoticeNotCovered
// through feed.Notify: its fixes name no distribution and never apply.
//
// The file is read once with an encoding/xml token loop: definitions are
// kept in a compact form (metadata and criteria) until the tests, objects,
// states and variables that follow them are read, then resolved and
// emitted in document order. The XML itself is never held.
//
// Each definition becomes one patch: ID the advisory reference
// ("RHSA-2019:3927", "USN-5614-1", "SUSE-SU-2021:1573-1" for patch
// definitions) or the CVE (vulnerability definitions), Source "oval",
// Severity and dates from <advisory>, CVEs from <cve> (with the CVSS v3
// score) and CVE references. Each package test under a platform becomes a
// Fix: Distro and Release from the platform criterion ("Red Hat Enterprise
// Linux 8 is installed" -> "rhel"/"8"; "SUSE Linux Enterprise Server 15 SP1
// is installed" -> "sles"/"15.1"; Ubuntu from the definition namespace,
// "jammy"), Product the platform, Package the rpm or deb binary name,
// Arch when the state restricts it to one, Scheme "rpm" or "deb",
// FixedVersion the state's "less than" evr (epoch kept). Kernel fixes of
// Ubuntu carry Attributes["kernel"] = "running" and the running-kernel
// pattern in Attributes["kernel_pattern"].
package oval

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Reader reads OVAL definition files of any of the supported vendors. Its
// zero value, Reader{}, is ready to use.
type Reader struct {
	// File names the document in errors; by default the reader's Name().
	File string
	// Distro and Release, when set, apply to fixes whose definition names
	// no platform (Ubuntu files name their release in the namespace).
	Distro, Release string
}

// Name returns "oval".
func (Reader) Name() string { return "oval" }

// Detect reports whether head starts an OVAL definitions document.
func (Reader) Detect(head []byte) bool {
	i := bytes.Index(head, []byte("<oval_definitions"))
	if i < 0 {
		i = bytes.Index(head, []byte(":oval_definitions"))
	}
	return i >= 0
}

// Definition is a compact <definition>.
type Definition struct {
	ID    string `xml:"id,attr"`
	Class string `xml:"class,attr"`
	Title string `xml:"metadata>title"`
	// Platforms are the affected platforms of the metadata.
	Platforms   []string    `xml:"metadata>affected>platform"`
	References  []Reference `xml:"metadata>reference"`
	Description string      `xml:"metadata>description"`
	Advisory    struct {
		Severity string `xml:"severity"`
		Issued   struct {
			Date string `xml:"date,attr"`
		} `xml:"issued"`
		Updated struct {
			Date string `xml:"date,attr"`
		} `xml:"updated"`
		PublicDate string `xml:"public_date"`
		CVEs       []struct {
			ID         string `xml:",chardata"`
			CVSS3      string `xml:"cvss3,attr"`
			CVSSScore  string `xml:"cvss_score,attr"`
			CVSSVector string `xml:"cvss_vector,attr"`
			Href       string `xml:"href,attr"`
		} `xml:"cve"`
		Affected []struct {
			Resolutions []struct {
				State      string   `xml:"state,attr"`
				Components []string `xml:"component"`
			} `xml:"resolution"`
		} `xml:"affected"`
	} `xml:"metadata>advisory"`
	Criteria Criteria `xml:"criteria"`
}

// Reference is a metadata reference.
type Reference struct {
	Source string `xml:"source,attr"`
	RefID  string `xml:"ref_id,attr"`
	RefURL string `xml:"ref_url,attr"`
}

// Criteria is a criteria node.
type Criteria struct {
	Operator   string      `xml:"operator,attr"`
	Negate     bool        `xml:"negate,attr"`
	Criteria   []Criteria  `xml:"criteria"`
	Criterions []Criterion `xml:"criterion"`
	Extends    []struct {
		DefinitionRef string `xml:"definition_ref,attr"`
	} `xml:"extend_definition"`
}

// Criterion is a criterion leaf.
type Criterion struct {
	TestRef string `xml:"test_ref,attr"`
	Comment string `xml:"comment,attr"`
	Negate  bool   `xml:"negate,attr"`
}

// test is any *_test element.
type test struct {
	kind    string
	ID      string `xml:"id,attr"`
	Comment string `xml:"comment,attr"`
	Check   string `xml:"check,attr"`
	Object  struct {
		Ref string `xml:"object_ref,attr"`
	} `xml:"object"`
	States []struct {
		Ref string `xml:"state_ref,attr"`
	} `xml:"state"`
}

// object is any *_object element.
type object struct {
	ID   string `xml:"id,attr"`
	Name struct {
		Value  string `xml:",chardata"`
		VarRef string `xml:"var_ref,attr"`
	} `xml:"name"`
}

type valueOp struct {
	Value     string `xml:",chardata"`
	Operation string `xml:"operation,attr"`
	Datatype  string `xml:"datatype,attr"`
}

// state is any *_state element.
type state struct {
	ID             string  `xml:"id,attr"`
	EVR            valueOp `xml:"evr"`
	Version        valueOp `xml:"version"`
	Arch           valueOp `xml:"arch"`
	SignatureKeyID valueOp `xml:"signature_keyid"`
	Value          valueOp `xml:"value"`
}

// variable is a constant_variable.
type variable struct {
	ID     string   `xml:"id,attr"`
	Values []string `xml:"value"`
}

// Document is a whole OVAL file in compact form.
type Document struct {
	Definitions []Definition
	tests       map[string]*test
	objects     map[string]*object
	states      map[string]*state
	variables   map[string]*variable
}

const maxDepth = 64

// Read reads an OVAL document into its compact form. file names it in errors.
func Read(ctx context.Context, r io.Reader, file string) (*Document, error) {
	file = stream.FileName(r, file)
	dec := xml.NewDecoder(r)
	d := &Document{tests: map[string]*test{}, objects: map[string]*object{}, states: map[string]*state{}, variables: map[string]*variable{}}
	depth, root, n := 0, false, 0
	fail := func(field string, err error) error { return xmlError(file, dec, field, err) }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !root {
				return nil, fail("oval_definitions", stream.Malformedf("no <oval_definitions> element"))
			}
			if depth != 0 {
				return nil, fail("oval_definitions", io.ErrUnexpectedEOF)
			}
			return d, nil
		}
		if err != nil {
			return nil, fail("", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if depth == 0 {
				if name != "oval_definitions" || root {
					return nil, fail(name, stream.Malformedf("root element <%s>, want <oval_definitions>", name))
				}
				root = true
			}
			if depth >= 2 {
				n++
				if n%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
				}
				var err error
				var id string
				switch {
				case name == "definition":
					var def Definition
					err = dec.DecodeElement(&def, &t)
					id = def.ID
					if err == nil && def.ID == "" {
						err = stream.Malformedf("definition without id")
					}
					if err == nil {
						if cd := criteriaDepth(&def.Criteria, 0); cd > maxDepth {
							err = fmt.Errorf("criteria nested %d deep, limit %d: %w", cd, maxDepth, patchcore.ErrTooLarge)
						}
					}
					d.Definitions = append(d.Definitions, def)
				case strings.HasSuffix(name, "_test"):
					tt := &test{kind: name}
					err = dec.DecodeElement(tt, &t)
					id = tt.ID
					d.tests[tt.ID] = tt
				case strings.HasSuffix(name, "_object"):
					o := &object{}
					err = dec.DecodeElement(o, &t)
					id = o.ID
					d.objects[o.ID] = o
				case strings.HasSuffix(name, "_state"):
					s := &state{}
					err = dec.DecodeElement(s, &t)
					id = s.ID
					d.states[s.ID] = s
				case name == "constant_variable":
					v := &variable{}
					err = dec.DecodeElement(v, &t)
					id = v.ID
					d.variables[v.ID] = v
				default:
					depth++
					if depth > maxDepth {
						return nil, fail(name, stream.Malformedf("elements nested deeper than %d", maxDepth))
					}
					continue
				}
				if err != nil {
					return nil, fail(name+"[@id="+strconv.Quote(id)+"]", err)
				}
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

func criteriaDepth(c *Criteria, d int) int {
	m := d
	for i := range c.Criteria {
		if d > maxDepth {
			return d
		}
		m = max(m, criteriaDepth(&c.Criteria[i], d+1))
	}
	return m
}

// Parse reads an OVAL document and emits a patch per definition.
func (o Reader) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	d, err := Read(ctx, r, o.File)
	if err != nil {
		return err
	}
	file := stream.FileName(r, o.File)
	field := func(def *Definition) string { return "definition[@id=" + strconv.Quote(def.ID) + "]" }
	for i := range d.Definitions {
		if why := unsupported(d.Definitions[i].ID); why != "" {
			return &feed.ParseError{File: file, Field: field(&d.Definitions[i]), Err: fmt.Errorf("%s: %w", why, patchcore.ErrUnsupported)}
		}
	}
	for i := range d.Definitions {
		def := &d.Definitions[i]
		p, err := d.Patch(def, o.Distro, o.Release)
		if err != nil {
			return &feed.ParseError{File: file, Field: field(def), Err: err}
		}
		if n := countFunc(p.Fixes, func(f patchcore.Fix) bool { return f.Distro == "" }); n > 0 {
			feed.Notify(ctx, feed.Notice{Kind: feed.NoticeNotCovered, File: file, Field: field(def), ID: p.ID,
				Message: fmt.Sprintf("%d of %d package tests are under no platform criterion patchcore recognises: those fixes name no distribution and never apply", n, len(p.Fixes))})
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, x := range s {
		if f(x) {
			n++
		}
	}
	return n
}

// unsupported says why a definition's vendor is refused, or "".
func unsupported(id string) string {
	switch {
	case strings.HasPrefix(id, "oval:com.microsoft.azurelinux:"), strings.HasPrefix(id, "oval:com.microsoft.cbl-mariner:"):
		return "Azure Linux (CBL-Mariner) OVAL is not supported: its definitions name no release (only the download's file name does) and its unpatched definitions test \"version X or earlier\", which a fix cannot express"
	case strings.HasPrefix(id, "oval:com.vmware."):
		return "Photon OS OVAL is not supported: patchcore has no mapping of its definitions (PHSA advisories, \"Photon 5\" platforms, \"CVE:00001:CVE-…\" references) to Photon releases and packages"
	}
	return ""
}

// xmlError locates err at the decoder's position in file.
func xmlError(file string, dec *xml.Decoder, field string, err error) error {
	return stream.InFile(file, stream.XMLError(dec, field, err))
}
