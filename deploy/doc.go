// Package deploy drives approved patches onto devices: deployment plans,
// per (device, patch) state machines, maintenance windows, reboot and user
// deferral policy, retries with backoff, rollout rings and waves with an
// error threshold, and the alerts every step emits.
//
// The pieces, in the order a deployment uses them:
//
//   - A [Spec] names the approved patches, the target devices and the
//     [Policy] (schedule, maintenance windows, reboot, deferral, retries,
//     purge interval, pre/post steps, rollout).
//   - [Plan] turns a Spec into a [PlannedDeployment]: one [Item] per (device,
//     patch) in state Posted, each device's rollout stage and next window.
//   - [Fire] is the state machine: a pure function that applies one [Input]
//     to one Item through an explicit transition table ([Transitions]),
//     checks the guards and returns the [Alert] the transition emits.
//     Every illegal transition is an error wrapping
//     [patchcore.ErrIllegalTransition].
//   - A [Store] persists every transition together with its alerts before
//     the runner acts on it; [MemStore] keeps them in memory and
//     deploy/journal keeps them in an fsync'ed append-only file.
//   - A [Runner] drives the machines against an [Executor] the caller
//     implements (download, install, rescan, reboot), one device at a time
//     per deployment, resuming from the stored state after a crash without
//     installing twice: every effect carries an idempotent operation ID.
//     Pre- and post-steps ([StepRunner]) are stored state too: each
//     device's [StepRecord] says which ran, so pre-steps run once before
//     its first install and post-steps once after its last item settles,
//     also when a crash falls between the two.
//   - Alerts wait in the store's outbox until [Runner.Deliver] hands them to
//     a [Sink] and the sink acknowledges them.
//
// An install or a restart that no maintenance window will ever allow (a
// window past its NotAfter, one of zero duration) is blocked: the item
// keeps its state with [Item].Blocked set and the window's reason, an
// alert says so once, and a deployment whose open items are all blocked
// is done ([AggregateBlocked]).
//
// Durations in a Policy or Window are [patchcore.Duration]s, written in
// JSON as Go writes durations ("72h0m0s"); stored data that has them as
// integer nanoseconds still reads.
//
// All time comes from a [Clock], so tests drive schedules, windows,
// backoff and reboots with a fake clock.
package deploy
