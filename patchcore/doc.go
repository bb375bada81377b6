// Package patchcore is the shared vocabulary of the patchcore SDK: patches and
// their fixes, devices and their inventories, severities and classifications,
// the states of findings, compliance and deployments, and the sentinel errors
// every other package wraps.
//
// The types here are plain data. They marshal to JSON with stable snake_case
// field names, carry no behaviour that needs I/O, and import nothing else of
// the SDK, so a product can store, send and compare them freely.
//
// The words mean the same in every package; docs/design.md in the
// repository defines them all.
//
// # Words
//
// Each word has one meaning across the SDK's packages; a package that
// means something else uses another word.
//
//   - Patch: what is approved and installed. Fix: per platform, which
//     package version, OS build or installer resolves it. Inventory: what a
//     device has now. Finding: what detection concluded about one patch on
//     one device and why.
//   - Installer: an application's downloadable installer file ([Installer]:
//     URL, hash, type, silent switches), part of a Fix. What carries out a
//     deployment's downloads, installs and restarts on a device is not an
//     installer but deploy's Executor.
//   - Reboot, as in [RebootNever], [RebootMay] and [RebootRequired], is a
//     patch's [RebootBehavior]: whether installing it needs a restart. A
//     deployment policy's choice whether and when to restart is
//     deploy.RebootOption and deploy.RebootTiming, whose constants carry
//     their type's name (deploy.RebootOptionNever,
//     deploy.RebootTimingNextWindow) so that they do not read alike.
//   - Duration: a length of time a user writes, in JSON the way Go writes
//     durations ("72h0m0s"; "3d" also reads). Every such field is a
//     [Duration]: deploy's policies and maintenance windows, approve's
//     deadlines and ring delays. A measured time.Duration (how long a scan
//     or a command took) stays a plain time.Duration.
//   - Zone: an IANA time zone name ("Europe/Berlin"), a string, empty
//     meaning UTC or the target device's zone; an API that takes a loaded
//     zone takes a *time.Location named loc. deploy's Window and Windows
//     both take the target device's zone name.
//   - Result: what one call or one check produced, named for it wherever a
//     package has more than one: detect.Result (one device evaluated),
//     fetch.Result (one fetched document), command.Result (one command run),
//     adaptertest.Result (one conformance check), adapters.ItemResult (one
//     requested ID of an install), deploy.TickResult (one Runner.Tick),
//     deploy.OpResult (one download or install). approve.DeviceResult is
//     the same word for an input: a device's latest scan, as detect
//     produced it, handed to compliance.
package patchcore
