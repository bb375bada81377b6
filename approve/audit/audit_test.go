package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(1500 * time.Nanosecond) // sub-microsecond part must be dropped
	return c.t
}

func newTestLog(t *testing.T, n int) (*Log, *MemoryStore) {
	t.Helper()
	store := NewMemoryStore()
	clock := &fakeClock{t: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
	l := NewLog(store, clock.now)
	for i := range n {
		_, err := l.Append(context.Background(), Entry{Actor: "alice", Kind: KindApproval,
			Subject: fmt.Sprintf("patch:KB%d", i), Summary: "approved globally",
			Details: map[string]string{"scope": "global", "reason": fmt.Sprint("ticket ", i)}})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	return l, store
}

func TestAppendChains(t *testing.T) {
	l, store := newTestLog(t, 3)
	es, err := store.List(context.Background(), 1, 10)
	if err != nil || len(es) != 3 {
		t.Fatalf("List: %d entries, %v", len(es), err)
	}
	if es[0].Seq != 1 || es[0].PrevHash != "" || es[1].PrevHash != es[0].Hash || es[2].PrevHash != es[1].Hash {
		t.Fatalf("chain broken: %+v", es)
	}
	if es[0].At.Nanosecond()%1000 != 0 || es[0].At.Location() != time.UTC {
		t.Errorf("At %v not truncated to UTC microseconds", es[0].At)
	}
	if err := l.Verify(context.Background()); err != nil {
		t.Fatalf("Verify of an untouched log: %v", err)
	}
	head, _ := l.Head(context.Background())
	if head != es[2].Hash {
		t.Errorf("Head %s, want %s", head, es[2].Hash)
	}
}

func TestVerifyNamesFirstBadEntry(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(es []Entry) []Entry
		wantSeq uint64
		reason  string
	}{
		{"edited summary", func(es []Entry) []Entry { es[3].Summary = "rejected globally"; return es }, 4, "content does not match"},
		{"edited detail", func(es []Entry) []Entry { es[2].Details["reason"] = "nothing to see"; return es }, 3, "content does not match"},
		{"added detail", func(es []Entry) []Entry { es[5].Details["extra"] = ""; return es }, 6, "content does not match"},
		{"edited time", func(es []Entry) []Entry { es[1].At = es[1].At.Add(time.Hour); return es }, 2, "content does not match"},
		{"edited and rehashed", func(es []Entry) []Entry {
			es[4].Actor = "mallory"
			es[4].Hash = ComputeHash(&es[4])
			return es
		}, 6, "previous-entry hash"},
		{"removed entry", func(es []Entry) []Entry { return append(es[:2:2], es[3:]...) }, 4, "sequence number 4 where 3"},
		{"swapped entries", func(es []Entry) []Entry { es[6], es[7] = es[7], es[6]; return es }, 8, "sequence number 8 where 7"},
		{"inserted entry", func(es []Entry) []Entry {
			forged := es[2]
			forged.Seq, forged.Summary = 4, "forged"
			forged.PrevHash = es[2].Hash
			forged.Hash = ComputeHash(&forged)
			return append(es[:3:3], append([]Entry{forged}, es[3:]...)...)
		}, 4, "position 4): sequence number 4 where 5"},
		{"first entry edited", func(es []Entry) []Entry { es[0].Subject = "patch:other"; return es }, 1, "content does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, store := newTestLog(t, 10)
			es, _ := store.List(context.Background(), 1, 100)
			if err := Verify(es); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			es = tt.tamper(es)
			err := Verify(es)
			var te *TamperError
			if !errors.As(err, &te) || !errors.Is(err, patchcore.ErrTampered) {
				t.Fatalf("Verify = %v, want a *TamperError wrapping ErrTampered", err)
			}
			if te.Seq != tt.wantSeq {
				t.Errorf("first bad entry %d, want %d (%v)", te.Seq, tt.wantSeq, err)
			}
			if !contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// TestLogVerifyReadsStore tampers with the store itself and checks that
// Log.Verify pages through it and names the entry.
func TestLogVerifyReadsStore(t *testing.T) {
	l, store := newTestLog(t, verifyPage+5)
	if err := l.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	store.entries[verifyPage+2].Summary = "changed"
	var te *TamperError
	if err := l.Verify(context.Background()); !errors.As(err, &te) || te.Seq != verifyPage+3 {
		t.Fatalf("Verify = %v, want entry %d", err, verifyPage+3)
	}
}

func TestAppendValidatesAndConflicts(t *testing.T) {
	l, store := newTestLog(t, 1)
	if _, err := l.Append(context.Background(), Entry{Kind: KindApproval}); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("missing fields: %v", err)
	}
	if err := store.Append(context.Background(), Entry{Seq: 5}); !errors.Is(err, patchcore.ErrConflict) {
		t.Errorf("out-of-order append: %v", err)
	}
	// Two logs on one store (two processes): both keep a valid chain.
	other := NewLog(store, func() time.Time { return time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC) })
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := l
			if i%2 == 1 {
				log = other
			}
			if _, err := log.Append(context.Background(), Entry{Actor: "a", Kind: KindDecision, Subject: "s"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := l.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if last, _, _ := store.Last(context.Background()); last.Seq != 21 {
		t.Errorf("last seq %d, want 21", last.Seq)
	}
}

func TestEntriesAreCopies(t *testing.T) {
	l, store := newTestLog(t, 0)
	d := map[string]string{"k": "v"}
	e, err := l.Append(context.Background(), Entry{Actor: "a", Kind: KindBaselineChange, Subject: "baseline:b", Details: d})
	if err != nil {
		t.Fatal(err)
	}
	d["k"] = "changed"
	e.Details["k"] = "changed too"
	got, _, _ := store.Last(context.Background())
	got.Details["k"] = "and again"
	if err := l.Verify(context.Background()); err != nil {
		t.Fatalf("callers' maps reach the stored entry: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
