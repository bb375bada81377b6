// Package sdk is the front page of the patchcore SDK, a Go SDK for patch
// management. It holds no code: it says where things are and shows the
// whole flow in one runnable example.
//
// Data flows one way through the packages:
//
//	feed/...  vendor feeds            -> patchcore.Patch values
//	feed      Catalog                 merges, de-duplicates and indexes them
//	adapters  the device's package    -> patchcore.Inventory (as plugin subprocesses)
//	          manager
//	detect    Catalog + Inventory     -> one patchcore.Finding per patch, with a reason
//	approve   Baseline + patches      -> decisions, compliance, an audit trail
//	deploy    approved patches        -> plans and per (device, patch) state machines
//
// The shared words (Patch, Fix, Inventory, Finding, the compliance and
// deployment states, the sentinel errors) live in package patchcore, which
// imports nothing else of the SDK; detect, approve and deploy never import
// adapters. docs/design.md in the repository explains the design, the
// vocabulary and every deployment state; examples/quickstart is the
// example below as a program (go run ./examples/quickstart).
package sdk
