package approve

import (
	"strings"
	"time"
)

// Risk is what is known about a CVE's exploitation, from sources outside
// the vendor feeds: CISA's Known Exploited Vulnerabilities catalog and
// FIRST's Exploit Prediction Scoring System.
type Risk struct {
	// KEV reports membership of the KEV catalog; KEVAdded is when it was
	// added and KEVDue the remediation due date CISA set (both may be zero).
	KEV      bool      `json:"kev,omitempty"`
	KEVAdded time.Time `json:"kev_added,omitzero"`
	KEVDue   time.Time `json:"kev_due,omitzero"`
	// EPSS is the probability of exploitation in the next 30 days (0-1) and
	// EPSSPercentile its rank among all scored CVEs (0-1).
	EPSS           float64 `json:"epss,omitempty"`
	EPSSPercentile float64 `json:"epss_percentile,omitempty"`
}

// RiskSignals maps a CVE ID ("CVE-2024-3094", any case) to its Risk. Rules
// filter on them with Rule.KEV and Rule.MinEPSS; pass them to Evaluate with
// WithRisk.
type RiskSignals map[string]Risk

// lookup finds a CVE's signals, trying the ID as given and then upper-cased.
func (r RiskSignals) lookup(cve string) (Risk, bool) {
	if r == nil {
		return Risk{}, false
	}
	if v, ok := r[cve]; ok {
		return v, true
	}
	v, ok := r[strings.ToUpper(cve)]
	return v, ok
}
