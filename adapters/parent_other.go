//go:build !unix

package adapters

import "time"

// parentGone never fires where re-parenting cannot be observed; the host's
// job object (or Kill) ends the plugin there.
func parentGone(time.Duration) <-chan struct{} { return nil }
