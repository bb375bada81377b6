// Package patchcore is the shared vocabulary of the patchcore SDK: patches and
// their fixes, devices and their inventories, severities and classifications,
// the states of findings, compliance and deployments, and the sentinel errors
// every other package wraps.
//
// The types here are plain data. They marshal to JSON with stable snake_case
// field names, carry no behaviour that needs I/O, and import nothing else of
// the SDK, so a product can store, send and compare them freely.
//
// The words mean the same in every package (docs/design.md in the
// repository defines them all): a Patch is what is approved and installed; a
// Fix says, per platform, which package version, OS build or installer
// resolves it; an Inventory is what a device has now; a Finding is what
// detection concluded about one patch on one device and why.
package patchcore
