package approve

import (
	"fmt"
	"testing"
)

func TestIDTable(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000, 10_000} {
		patches := make([]patchEval, n)
		tab := newIDTable(n)
		for i := range patches {
			patches[i].id = fmt.Sprintf("KB%d", i)
			tab.insert(patches[i].id, i)
		}
		for i := range patches {
			if j, ok := tab.lookup(fmt.Sprintf("KB%d", i), patches); !ok || j != i {
				t.Fatalf("n=%d: lookup KB%d = %d, %v", n, i, j, ok)
			}
		}
		for _, miss := range []string{"", "KB-1", fmt.Sprintf("KB%d", n), "kb0"} {
			if j, ok := tab.lookup(miss, patches); ok {
				t.Fatalf("n=%d: lookup %q found %d", n, miss, j)
			}
		}
	}
	var zero idTable
	if _, ok := zero.lookup("x", nil); ok {
		t.Fatal("zero table found something")
	}
}
