package approve

import (
	"fmt"
	"testing"
)

func TestIDTable(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000, 10_000} {
		tab := newIDTable(n)
		for i := range n {
			tab.add(fmt.Sprintf("KB%d", i))
		}
		// Right, wrong and out-of-range hints give the same answers.
		for _, hint := range []func(i int) int32{
			func(int) int32 { return -1 },
			func(i int) int32 { return int32(i) },
			func(i int) int32 { return int32((i + 1) % max(n, 1)) },
			func(int) int32 { return int32(n + 5) },
		} {
			for i := range n {
				if j, ok := tab.find(fmt.Sprintf("KB%d", i), hint(i)); !ok || j != i {
					t.Fatalf("n=%d: find KB%d (hint %d) = %d, %v", n, i, hint(i), j, ok)
				}
			}
			for _, miss := range []string{"", "KB-1", fmt.Sprintf("KB%d", n), "kb0"} {
				if j, ok := tab.find(miss, hint(0)); ok {
					t.Fatalf("n=%d: find %q found %d", n, miss, j)
				}
			}
		}
	}
	var zero idTable
	if _, ok := zero.find("x", 0); ok {
		t.Fatal("zero table found something")
	}
}
