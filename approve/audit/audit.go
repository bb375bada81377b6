// Package audit is an append-only, hash-chained audit trail: every entry
// carries the SHA-256 of the entry before it, so Verify detects an entry
// that was edited, removed or inserted and names the first bad one.
//
// Storage is an interface (Store); MemoryStore implements it here, and a
// product stores entries in its database (the examples use SQL). Entries
// hold only strings, a map of strings and a time truncated to microseconds,
// so they survive a round trip through any database unchanged.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Kind says what an entry records.
type Kind string

// Entry kinds.
const (
	// KindApproval records a manual approval, rejection or rating.
	KindApproval Kind = "approval"
	// KindDecision records an automatic decision that changed (a rule
	// approved a patch, a ring was promoted).
	KindDecision Kind = "decision"
	// KindBaselineChange records a change to a baseline.
	KindBaselineChange Kind = "baseline_change"
)

// Entry is one audit record.
type Entry struct {
	// Seq numbers entries from 1 without gaps; Log sets it.
	Seq uint64 `json:"seq"`
	// At is when the entry was appended (Log's clock, UTC, microseconds).
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  Kind      `json:"kind"`
	// Subject is what the entry is about ("baseline:win-default", "patch:KB5034441").
	Subject string `json:"subject"`
	Summary string `json:"summary"`
	// Details are the facts of the change (field names to values).
	Details map[string]string `json:"details,omitempty"`
	// PrevHash is the Hash of the entry before (empty for the first); Hash
	// is the hex SHA-256 of this entry's other fields, PrevHash included.
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// ComputeHash returns the hash e should carry: the hex SHA-256 of every
// field except Hash, each written as its length and its bytes (Details
// sorted by key), so no two different entries share an encoding.
func ComputeHash(e *Entry) string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	field := func(s string) {
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	field("patchcore-audit-v1")
	field(strconv.FormatUint(e.Seq, 10))
	field(e.At.UTC().Format(time.RFC3339Nano))
	field(e.Actor)
	field(string(e.Kind))
	field(e.Subject)
	field(e.Summary)
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	field(strconv.Itoa(len(keys)))
	for _, k := range keys {
		field(k)
		field(e.Details[k])
	}
	field(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil))
}

// Store keeps entries. Implementations must be append-only: no method
// edits or deletes an entry.
type Store interface {
	// Append stores e. e.Seq must be one more than the last stored entry's
	// (1 for the first); otherwise Append stores nothing and returns an error
	// wrapping patchcore.ErrConflict, so concurrent writers cannot fork the
	// chain.
	Append(ctx context.Context, e Entry) error
	// Last returns the entry with the highest Seq; ok is false when the store is empty.
	Last(ctx context.Context) (e Entry, ok bool, err error)
	// List returns up to limit entries with Seq >= from, in Seq order.
	List(ctx context.Context, from uint64, limit int) ([]Entry, error)
}

// Log appends entries to a Store, chaining each to the one before.
type Log struct {
	mu    sync.Mutex
	store Store
	now   func() time.Time
}

// NewLog returns a log writing to store and dating entries with now.
func NewLog(store Store, now func() time.Time) *Log {
	return &Log{store: store, now: now}
}

// MaxConflictRetries is how often Append retries after losing a race with
// another writer of the same store.
const MaxConflictRetries = 5

// Append dates e, numbers it, chains it to the last entry and stores it,
// returning the entry as stored. Seq, At, PrevHash and Hash of e are ignored.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	if e.Kind == "" || e.Actor == "" || e.Subject == "" {
		return Entry{}, fmt.Errorf("appending audit entry %q: kind, actor and subject are required: %w", e.Summary, patchcore.ErrInvalidInput)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Details = cloneMap(e.Details)
	var err error
	for range MaxConflictRetries {
		last, ok, lerr := l.store.Last(ctx)
		if lerr != nil {
			return Entry{}, fmt.Errorf("appending audit entry: reading the last entry: %w", lerr)
		}
		e.Seq, e.PrevHash = 1, ""
		if ok {
			e.Seq, e.PrevHash = last.Seq+1, last.Hash
		}
		e.At = l.now().UTC().Truncate(time.Microsecond)
		e.Hash = ComputeHash(&e)
		if err = l.store.Append(ctx, e); err == nil {
			return e, nil
		}
		if !isConflict(err) {
			break
		}
	}
	return Entry{}, fmt.Errorf("appending audit entry %d: %w", e.Seq, err)
}

// Head returns the hash of the last entry ("" for an empty log). Keeping it
// somewhere else (a signed report, another system) lets Verify's caller
// also detect entries cut off the end of the log.
func (l *Log) Head(ctx context.Context) (string, error) {
	last, ok, err := l.store.Last(ctx)
	if err != nil || !ok {
		return "", err
	}
	return last.Hash, nil
}

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 1000

// Verify reads the whole log and checks the chain. It returns nil, or a
// *TamperError naming the first bad entry (wrapping patchcore.ErrTampered),
// or the store's error.
func (l *Log) Verify(ctx context.Context) error {
	var c chain
	from := uint64(1)
	for {
		page, err := l.store.List(ctx, from, verifyPage)
		if err != nil {
			return fmt.Errorf("verifying audit log: reading from entry %d: %w", from, err)
		}
		for i := range page {
			if err := c.next(&page[i]); err != nil {
				return err
			}
		}
		if len(page) < verifyPage {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

// Verify checks a slice of entries that starts at the first entry of a log.
func Verify(entries []Entry) error {
	var c chain
	for i := range entries {
		if err := c.next(&entries[i]); err != nil {
			return err
		}
	}
	return nil
}

// TamperError names the first entry whose check failed.
type TamperError struct {
	// Seq is the entry's sequence number as stored; Index its position
	// (from 0) in the order read.
	Seq    uint64
	Index  int
	Reason string
}

// Error says which entry and why.
func (e *TamperError) Error() string {
	return fmt.Sprintf("audit log entry %d (position %d): %s: %v", e.Seq, e.Index, e.Reason, patchcore.ErrTampered)
}

// Unwrap returns patchcore.ErrTampered.
func (e *TamperError) Unwrap() error { return patchcore.ErrTampered }

type chain struct {
	n    int
	last Entry // valid when n > 0
}

func (c *chain) next(e *Entry) error {
	bad := func(why string, args ...any) error {
		return &TamperError{Seq: e.Seq, Index: c.n, Reason: fmt.Sprintf(why, args...)}
	}
	wantSeq, wantPrev := uint64(1), ""
	if c.n > 0 {
		wantSeq, wantPrev = c.last.Seq+1, c.last.Hash
	}
	switch {
	case e.Seq != wantSeq:
		return bad("sequence number %d where %d was expected (an entry was removed or inserted)", e.Seq, wantSeq)
	case e.PrevHash != wantPrev:
		return bad("previous-entry hash %.12s does not match entry %d's hash %.12s", e.PrevHash, wantSeq-1, wantPrev)
	}
	if h := ComputeHash(e); h != e.Hash {
		return bad("content does not match its hash (stored %.12s, computed %.12s)", e.Hash, h)
	}
	c.last = *e
	c.n++
	return nil
}

func isConflict(err error) bool { return errors.Is(err, patchcore.ErrConflict) }

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// MemoryStore is a Store in memory, for tests and single-process use.
type MemoryStore struct {
	mu      sync.Mutex
	entries []Entry
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Append implements Store.
func (m *MemoryStore) Append(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if want := uint64(len(m.entries)) + 1; e.Seq != want {
		return fmt.Errorf("memory audit store: entry %d, next is %d: %w", e.Seq, want, patchcore.ErrConflict)
	}
	e.Details = cloneMap(e.Details)
	m.entries = append(m.entries, e)
	return nil
}

// Last implements Store.
func (m *MemoryStore) Last(ctx context.Context) (Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entry{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == 0 {
		return Entry{}, false, nil
	}
	e := m.entries[len(m.entries)-1]
	e.Details = cloneMap(e.Details)
	return e, true, nil
}

// List implements Store.
func (m *MemoryStore) List(ctx context.Context, from uint64, limit int) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if from == 0 {
		from = 1
	}
	var out []Entry
	for i := from - 1; i < uint64(len(m.entries)) && len(out) < limit; i++ {
		e := m.entries[i]
		e.Details = cloneMap(e.Details)
		out = append(out, e)
	}
	return out, nil
}
