package feed

import (
	"context"

	"github.com/patchcore/sdk/patchcore"
)

// Ingest is the status of reading one feed document: how many patches it
// gave, how many distinct CVEs those patches name, and the notices its
// parser reported (records not covered, sloppy data recovered). AddFrom
// returns it; a caller reading a document itself tallies one with
// AddPatch and AddNotice. The zero value is an empty tally.
type Ingest struct {
	// Format is the name of the document's format, when known.
	Format string `json:"format,omitempty"`
	// Patches is the number of patches the document gave.
	Patches int `json:"patches"`
	// CVEs is the number of distinct CVE IDs named by those patches.
	CVEs int `json:"cves"`
	// NotCovered is the number of distinct records (by Notice.ID; each
	// notice without an ID counts once) reported as NoticeNotCovered.
	NotCovered int `json:"not_covered"`
	// Recovered is the number of NoticeRecovered notices.
	Recovered int `json:"recovered"`
	// Notices are every notice, in document order.
	Notices []Notice `json:"notices,omitempty"`

	cves, notCovered map[string]bool
}

// AddPatch counts p and the CVEs it names.
func (s *Ingest) AddPatch(p *patchcore.Patch) {
	s.Patches++
	for _, c := range p.CVEs {
		if s.cves == nil {
			s.cves = map[string]bool{}
		}
		if c.ID != "" && !s.cves[c.ID] {
			s.cves[c.ID] = true
			s.CVEs++
		}
	}
}

// AddNotice records n.
func (s *Ingest) AddNotice(n Notice) {
	s.Notices = append(s.Notices, n)
	switch n.Kind {
	case NoticeRecovered:
		s.Recovered++
	case NoticeNotCovered:
		if n.ID == "" {
			s.NotCovered++
			break
		}
		if s.notCovered == nil {
			s.notCovered = map[string]bool{}
		}
		if !s.notCovered[n.ID] {
			s.notCovered[n.ID] = true
			s.NotCovered++
		}
	}
}

// Watch returns a context under which parsers' notices are recorded in s,
// and still delivered to any function ctx already carries (WithNotices).
func (s *Ingest) Watch(ctx context.Context) context.Context {
	prev, _ := ctx.Value(noticeKey{}).(func(Notice))
	return WithNotices(ctx, func(n Notice) {
		s.AddNotice(n)
		if prev != nil {
			prev(n)
		}
	})
}
