// Package approve decides which patches are approved for which devices and
// how compliant devices are with that decision.
//
// A Baseline holds approval rules (classification, vendor or custom
// severity, product, platform, CVE, CISA KEV and EPSS risk signals, approve N
// days after release or up to a date, a compliance level and a deadline per
// rule), approved and rejected lists (patch IDs, CVE IDs, package patterns
// with versions), the action for rejected patches (AWS Patch Manager's
// ALLOW_AS_DEPENDENCY or BLOCK), the platforms that may auto-approve
// (Windows only by default), rollout rings, and manual approvals and
// rejections scoped to everyone, a partner, a customer, a group or a device.
//
// Evaluate turns a baseline and the catalog's patches into an Evaluation at
// an instant the caller passes in (there is no hidden clock): a Decision per
// patch that names the rule, list entry or manual record behind it, and the
// patches pending approval. Evaluation.Compliance then turns one device's
// scan findings into per-patch states named as AWS Patch Manager names them
// (INSTALLED, INSTALLED_OTHER, INSTALLED_PENDING_REBOOT, INSTALLED_REJECTED,
// MISSING, NOT_APPLICABLE, FAILED) and a compliant / non-compliant verdict.
// Compliance is measured against the baseline: missing patches it does not
// approve (yet) leave a device compliant, and DeviceCompliance counts them
// (UnapprovedMissing, UnapprovedSecurity) so that reports can print them
// beside the verdict; a device detection does not cover
// (DeviceResult.NotCovered) is never compliant.
// A Fleet rolls device results up into groups, the data of the Patch
// Compliance, Patch Pending Approvals and Patch Status dashboard widgets, and
// report rows by patch, device and group that export as CSV or JSON.
//
// Every approval decision and baseline change can be written to the
// hash-chained audit trail of package approve/audit.
//
// approve imports only patchcore: findings come in as []patchcore.Finding,
// patches as []patchcore.Patch, and anything else it needs (version
// comparison, ring outcomes, risk signals) is passed in.
package approve
