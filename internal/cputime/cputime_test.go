package cputime

import (
	"runtime"
	"testing"
)

func TestProcessAdvancesWithWork(t *testing.T) {
	before, ok := Process()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("Linux must report process CPU time")
		}
		t.Skip("no process CPU time on " + runtime.GOOS)
	}
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i % 7
	}
	after, _ := Process()
	if after <= before {
		t.Errorf("CPU time did not advance after busy work (%v -> %v, %d)", before, after, x)
	}
}
