//go:build race

package journal_test

// raceEnabled: the race-instrumented child is ~30x slower to run, so the
// crash test samples the crash points instead of taking all of them.
const raceEnabled = true
