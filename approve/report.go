package approve

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSVRow is a report row that can be written as CSV.
type CSVRow interface {
	// CSVHeader returns the column names; every row of a type returns the same.
	CSVHeader() []string
	// CSVRecord returns the row's cells, in header order.
	CSVRecord() []string
}

// WriteCSV writes a header and one record per row. Cells that a spreadsheet
// would run as a formula (starting with =, +, -, @, tab or carriage return)
// are prefixed with a single quote: titles and reasons come from feeds.
func WriteCSV[R CSVRow](w io.Writer, rows []R) error {
	cw := csv.NewWriter(w)
	var zero R
	if err := cw.Write(zero.CSVHeader()); err != nil {
		return fmt.Errorf("writing CSV header: %w", err)
	}
	for i := range rows {
		rec := rows[i].CSVRecord()
		for j, s := range rec {
			rec[j] = defuseCell(s)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing CSV row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

func defuseCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// WriteJSON writes rows (or any report value, such as a Dashboard) as
// indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

var stateHeader = []string{"installed", "installed_other", "installed_pending_reboot", "installed_rejected",
	"missing", "not_applicable", "failed"}

func (c StateCounts) cells() []string {
	return []string{itoa(c.Installed), itoa(c.InstalledOther), itoa(c.InstalledPendingReboot),
		itoa(c.InstalledRejected), itoa(c.Missing), itoa(c.NotApplicable), itoa(c.Failed)}
}

var severityHeader = []string{"noncompliant_critical", "noncompliant_high", "noncompliant_medium",
	"noncompliant_low", "noncompliant_none", "noncompliant_unknown_severity"}

func (c SeverityCounts) cells() []string {
	return []string{itoa(c.Critical), itoa(c.High), itoa(c.Medium), itoa(c.Low), itoa(c.None), itoa(c.Unknown)}
}

func itoa(n int) string { return strconv.Itoa(n) }

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// CSVHeader implements CSVRow.
func (DeviceRow) CSVHeader() []string {
	return concat([]string{"device_id", "name", "partner", "customer", "groups", "ring", "compliant",
		"unapproved_missing", "not_covered", "pending_reboot"},
		stateHeader, []string{"unknown"}, severityHeader, []string{"scanned_at"})
}

// CSVRecord implements CSVRow.
func (r DeviceRow) CSVRecord() []string {
	return concat([]string{r.DeviceID, r.Name, r.Partner, r.Customer, r.Groups, r.Ring,
		strconv.FormatBool(r.Compliant), itoa(r.UnapprovedMissing), r.NotCovered, strconv.FormatBool(r.PendingReboot)},
		r.StateCounts.cells(), []string{itoa(r.Unknown)},
		r.NonCompliantBySeverity.cells(), []string{timeCell(r.ScannedAt)})
}

// CSVHeader implements CSVRow.
func (PatchRow) CSVHeader() []string {
	return concat([]string{"patch_id", "title", "classification", "severity", "compliance_level", "approval",
		"source", "reason", "devices"}, stateHeader, []string{"unknown", "unapproved_missing"})
}

// CSVRecord implements CSVRow.
func (r PatchRow) CSVRecord() []string {
	return concat([]string{r.PatchID, r.Title, string(r.Classification), r.Severity.String(),
		string(r.ComplianceLevel), string(r.Approval), string(r.Source), r.Reason, itoa(r.Devices)},
		r.StateCounts.cells(), []string{itoa(r.Unknown), itoa(r.UnapprovedMissing)})
}

// CSVHeader implements CSVRow.
func (GroupRow) CSVHeader() []string {
	return concat([]string{"group", "devices", "compliant", "noncompliant", "compliance_percent", "unapproved_missing"},
		stateHeader, severityHeader, []string{"unknown"})
}

// CSVRecord implements CSVRow.
func (r GroupRow) CSVRecord() []string {
	return concat([]string{r.Group, itoa(r.Devices), itoa(r.Compliant), itoa(r.NonCompliant),
		strconv.FormatFloat(r.CompliancePercent, 'f', 1, 64), itoa(r.UnapprovedMissing)},
		r.StateCounts.cells(), r.NonCompliantBySeverity.cells(), []string{itoa(r.Unknown)})
}
