package deploy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Status is a deployment's own lifecycle, beside its items' states.
type Status string

// Deployment statuses.
const (
	// StatusActive runs (or waits for its schedule).
	StatusActive Status = "active"
	// StatusHalted stopped because a stage exceeded the error threshold; no
	// further stage starts until Resume.
	StatusHalted Status = "halted"
	// StatusCancelled was cancelled; its open items are aborted.
	StatusCancelled Status = "cancelled"
)

// Deployment is the stored record of a planned deployment.
type Deployment struct {
	ID      string   `json:"id"`
	Patches []string `json:"patches"`
	Policy  Policy   `json:"policy"`
	// Created is when it was planned; Start when its schedule starts it.
	Created time.Time `json:"created"`
	Start   time.Time `json:"start"`
	// Stages is the number of rollout stages.
	Stages int    `json:"stages"`
	Status Status `json:"status"`
	// StatusReason explains a halt or a cancellation.
	StatusReason string `json:"status_reason,omitempty"`
	// HaltedStage is the stage that exceeded the error threshold.
	HaltedStage int `json:"halted_stage,omitempty"`
	// AcceptedStages: the errors of stages before it were accepted by a
	// Resume and no longer halt the rollout.
	AcceptedStages int `json:"accepted_stages,omitempty"`
}

// StatusUpdate changes a deployment's status.
type StatusUpdate struct {
	Status         Status `json:"status"`
	Reason         string `json:"reason,omitempty"`
	HaltedStage    int    `json:"halted_stage,omitempty"`
	AcceptedStages int    `json:"accepted_stages,omitempty"`
	// Alert is stored in the outbox with the change.
	Alert Alert `json:"alert"`
}

// DeviceTarget is one device of a stored deployment.
type DeviceTarget struct {
	Device string `json:"device"`
	Ring   string `json:"ring,omitempty"`
	Zone   string `json:"zone,omitempty"`
	// Stage is the device's rollout stage, from 0.
	Stage int `json:"stage"`
}

// Update is one transition to persist: the item after it. The store
// rejects it unless the stored item is at version Item.Version-1.
type Update struct {
	Item Item `json:"item"`
}

// StepRecord is the persisted progress of one device's pre- and
// post-steps in one deployment. Steps run in policy order, so counts say
// which are done. The runner stores a record before acting on it, like an
// item transition: a step recorded done is never run again, a step not
// recorded done is run again (with the same operation ID) after a crash.
type StepRecord struct {
	Device string `json:"device"`
	// Version counts the record's stored changes; an update carries the
	// stored version plus one (0 + 1 for a device without a record).
	Version uint64 `json:"version"`
	// PreDone counts the policy's pre-steps that completed (or failed and
	// were tolerated by ContinueOnError).
	PreDone int `json:"pre_done,omitempty"`
	// PostDue is set before the device's first install: its post-steps
	// run once its items have settled.
	PostDue bool `json:"post_due,omitempty"`
	// PostDone counts the post-steps that ran; a failed one counts (its
	// alert is stored with the record).
	PostDone int `json:"post_done,omitempty"`
}

// PostPending reports whether post-steps of a policy with n post-steps
// are still to run on the device.
func (r StepRecord) PostPending(n int) bool { return r.PostDue && r.PostDone < n }

// Batch is what one Apply persists atomically: item transitions, step
// records and the alerts they (and the runner) emitted.
type Batch struct {
	Updates []Update     `json:"updates,omitempty"`
	Steps   []StepRecord `json:"steps,omitempty"`
	Alerts  []Alert      `json:"alerts,omitempty"`
}

// Store persists deployments. Every method is atomic: after a crash either
// all of a call's effect is stored or none. The runner persists each
// transition through Apply before it acts on it, and an alert stays in the
// outbox until Ack.
type Store interface {
	// Create stores a planned deployment, its targets and items (grouped
	// by device in target order). An existing ID is an error wrapping
	// patchcore.ErrInvalidInput.
	Create(ctx context.Context, d Deployment, targets []DeviceTarget, items []Item) error
	// Deployment returns a deployment (patchcore.ErrNotFound if unknown).
	Deployment(ctx context.Context, id string) (Deployment, error)
	// List returns the IDs of all deployments in creation order.
	List(ctx context.Context) ([]string, error)
	// Targets returns a deployment's devices.
	Targets(ctx context.Context, id string) ([]DeviceTarget, error)
	// Items returns a deployment's items, of one device or (device "") all.
	Items(ctx context.Context, id, device string) ([]Item, error)
	// Apply persists a batch of transitions, step records and alerts
	// atomically. A stale version (of an item or a step record) is an
	// error wrapping patchcore.ErrIllegalTransition, a step record of a
	// device that is not a target one wrapping patchcore.ErrNotFound, and
	// nothing is stored.
	Apply(ctx context.Context, id string, b Batch) error
	// Steps returns the step records of a deployment's devices that have
	// one, in target order (device ""), or of one device (a zero record
	// with Device set when it has none yet).
	Steps(ctx context.Context, id, device string) ([]StepRecord, error)
	// SetStatus changes a deployment's status and stores the update's alert with it.
	SetStatus(ctx context.Context, id string, u StatusUpdate) error
	// Acquire gives device to deployment id; it returns an error wrapping
	// patchcore.ErrBusy when another deployment holds it. Acquiring twice is fine.
	Acquire(ctx context.Context, device, id string) error
	// Release frees device if deployment id holds it.
	Release(ctx context.Context, device, id string) error
	// Outbox returns up to max unacknowledged alerts, oldest first.
	Outbox(ctx context.Context, max int) ([]Alert, error)
	// Ack removes delivered alerts from the outbox; unknown IDs are ignored.
	Ack(ctx context.Context, ids []string) error
}

// ChangeKind names a Change.
type ChangeKind string

// Change kinds.
const (
	ChangeCreate  ChangeKind = "create"
	ChangeApply   ChangeKind = "apply"
	ChangeStatus  ChangeKind = "status"
	ChangeAcquire ChangeKind = "acquire"
	ChangeRelease ChangeKind = "release"
	ChangeAck     ChangeKind = "ack"
)

// Change is one atomic mutation of a MemStore, as a write-ahead log
// records it (see WithWriteAhead and MemStore.Replay).
type Change struct {
	Kind       ChangeKind     `json:"kind"`
	ID         string         `json:"id,omitempty"`
	Deployment *Deployment    `json:"deployment,omitempty"`
	Targets    []DeviceTarget `json:"targets,omitempty"`
	Items      []Item         `json:"items,omitempty"`
	Batch      *Batch         `json:"batch,omitempty"`
	Status     *StatusUpdate  `json:"status,omitempty"`
	Device     string         `json:"device,omitempty"`
	AckIDs     []string       `json:"ack_ids,omitempty"`
}

type memDeployment struct {
	d        Deployment
	targets  []DeviceTarget
	items    []Item
	byDevice map[string][2]int // device -> [start, end) in items
	steps    map[string]StepRecord
}

// MemStore is an in-memory Store. With WithWriteAhead it becomes the core
// of a durable store: every change is validated, handed to the write-ahead
// function and applied only when that succeeds.
type MemStore struct {
	mu      sync.Mutex
	wal     func(context.Context, Change) error
	deps    map[string]*memDeployment
	order   []string
	locks   map[string]string
	outbox  []Alert
	live    map[string]int // alert ID -> index in outbox
	outHead int
	// created is the device index check built for the Create being committed.
	created map[string][2]int
}

// MemOption configures a MemStore.
type MemOption func(*MemStore)

// WithWriteAhead makes the store call log with each validated change
// before applying it; when log fails the change is not applied.
func WithWriteAhead(log func(context.Context, Change) error) MemOption {
	return func(s *MemStore) { s.wal = log }
}

// NewMemStore returns an empty in-memory store.
func NewMemStore(opts ...MemOption) *MemStore {
	s := &MemStore{deps: map[string]*memDeployment{}, locks: map[string]string{}, live: map[string]int{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Replay applies a change read back from a write-ahead log, without
// logging it again.
func (s *MemStore) Replay(c Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(context.Background(), c, false)
}

// commit validates c, logs it (when logging) and applies it. The caller holds mu.
func (s *MemStore) commit(ctx context.Context, c Change, log bool) error {
	if err := s.check(c); err != nil {
		return err
	}
	if log && s.wal != nil {
		if err := s.wal(ctx, c); err != nil {
			return fmt.Errorf("deploy store: logging %s of %q: %w", c.Kind, c.ID, err)
		}
	}
	s.apply(c)
	return nil
}

func (s *MemStore) check(c Change) error {
	switch c.Kind {
	case ChangeCreate:
		if c.Deployment == nil {
			return fmt.Errorf("deploy store: create: no deployment: %w", patchcore.ErrInvalidInput)
		}
		if c.Deployment.ID == "" {
			return fmt.Errorf("deploy store: create: empty deployment ID: %w", patchcore.ErrInvalidInput)
		}
		if _, ok := s.deps[c.Deployment.ID]; ok {
			return fmt.Errorf("deploy store: create %q: deployment exists: %w", c.Deployment.ID, patchcore.ErrInvalidInput)
		}
		ix, err := indexDevices(c.Targets, c.Items)
		s.created = ix
		return err
	case ChangeApply:
		if c.Batch == nil {
			return fmt.Errorf("deploy store: apply to %q: no batch: %w", c.ID, patchcore.ErrInvalidInput)
		}
		md, err := s.dep(c.ID)
		if err != nil {
			return err
		}
		for i, a := range c.Batch.Alerts {
			if a.ID == "" {
				return fmt.Errorf("deploy store: apply to %q: alert %d (%s): empty ID: %w", c.ID, i, a.Kind, patchcore.ErrInvalidInput)
			}
		}
		for i, u := range c.Batch.Updates {
			cur, ok := md.find(u.Item.Device, u.Item.Patch)
			if !ok {
				return fmt.Errorf("deploy store: apply to %q: update %d: device %q patch %q: %w", c.ID, i, u.Item.Device, u.Item.Patch, patchcore.ErrNotFound)
			}
			if md.items[cur].Version+1 != u.Item.Version {
				return fmt.Errorf("deploy store: apply to %q: device %q patch %q: stored version %d (%s), update is for version %d: stale: %w",
					c.ID, u.Item.Device, u.Item.Patch, md.items[cur].Version, md.items[cur].State, u.Item.Version-1, patchcore.ErrIllegalTransition)
			}
		}
		for i, r := range c.Batch.Steps {
			if _, ok := md.byDevice[r.Device]; !ok {
				return fmt.Errorf("deploy store: apply to %q: step record %d: device %q is not a target: %w", c.ID, i, r.Device, patchcore.ErrNotFound)
			}
			if cur := md.steps[r.Device].Version; cur+1 != r.Version {
				return fmt.Errorf("deploy store: apply to %q: step record of device %q: stored version %d, update is for version %d: stale: %w",
					c.ID, r.Device, cur, r.Version-1, patchcore.ErrIllegalTransition)
			}
			for _, o := range c.Batch.Steps[:i] {
				if o.Device == r.Device {
					return fmt.Errorf("deploy store: apply to %q: two step records of device %q in one batch: %w", c.ID, r.Device, patchcore.ErrInvalidInput)
				}
			}
		}
	case ChangeStatus:
		if c.Status == nil || c.Status.Alert.ID == "" {
			return fmt.Errorf("deploy store: status of %q: no update or no alert ID: %w", c.ID, patchcore.ErrInvalidInput)
		}
		_, err := s.dep(c.ID)
		return err
	case ChangeAcquire:
		if h, ok := s.locks[c.Device]; ok && h != c.ID {
			return fmt.Errorf("deploy store: device %q: deployment %q waits, %q is in progress: %w", c.Device, c.ID, h, patchcore.ErrBusy)
		}
	case ChangeRelease, ChangeAck:
	default:
		return fmt.Errorf("deploy store: change kind %q: %w", c.Kind, patchcore.ErrInvalidInput)
	}
	return nil
}

func (s *MemStore) apply(c Change) {
	switch c.Kind {
	case ChangeCreate:
		s.deps[c.Deployment.ID] = &memDeployment{d: *c.Deployment, targets: c.Targets, items: c.Items, byDevice: s.created}
		s.created = nil
		s.order = append(s.order, c.Deployment.ID)
	case ChangeApply:
		md := s.deps[c.ID]
		for _, u := range c.Batch.Updates {
			i, _ := md.find(u.Item.Device, u.Item.Patch)
			md.items[i] = u.Item
		}
		for _, r := range c.Batch.Steps {
			if md.steps == nil {
				md.steps = map[string]StepRecord{}
			}
			md.steps[r.Device] = r
		}
		s.push(c.Batch.Alerts)
	case ChangeStatus:
		md := s.deps[c.ID]
		u := c.Status
		md.d.Status, md.d.StatusReason = u.Status, u.Reason
		md.d.HaltedStage, md.d.AcceptedStages = u.HaltedStage, u.AcceptedStages
		s.push([]Alert{u.Alert})
	case ChangeAcquire:
		s.locks[c.Device] = c.ID
	case ChangeRelease:
		if s.locks[c.Device] == c.ID {
			delete(s.locks, c.Device)
		}
	case ChangeAck:
		for _, id := range c.AckIDs {
			if i, ok := s.live[id]; ok {
				s.outbox[i].ID = ""
				delete(s.live, id)
			}
		}
		for s.outHead < len(s.outbox) && s.outbox[s.outHead].ID == "" {
			s.outHead++
		}
		if s.outHead > 4096 && s.outHead*2 > len(s.outbox) {
			s.compact()
		}
	}
}

func (s *MemStore) push(alerts []Alert) {
	for _, a := range alerts {
		if old, ok := s.live[a.ID]; ok {
			s.outbox[old] = a
			continue
		}
		s.live[a.ID] = len(s.outbox)
		s.outbox = append(s.outbox, a)
	}
}

func (s *MemStore) compact() {
	kept := make([]Alert, 0, len(s.outbox)-s.outHead)
	for _, a := range s.outbox[s.outHead:] {
		if a.ID != "" {
			s.live[a.ID] = len(kept)
			kept = append(kept, a)
		}
	}
	s.outbox, s.outHead = kept, 0
}

func indexDevices(targets []DeviceTarget, items []Item) (map[string][2]int, error) {
	ix := make(map[string][2]int, len(targets))
	for _, t := range targets {
		if _, dup := ix[t.Device]; dup {
			return nil, fmt.Errorf("deploy store: device %q targeted twice: %w", t.Device, patchcore.ErrInvalidInput)
		}
		ix[t.Device] = [2]int{-1, -1}
	}
	for i := 0; i < len(items); {
		d := items[i].Device
		r, ok := ix[d]
		if !ok {
			return nil, fmt.Errorf("deploy store: item %d: device %q is not a target: %w", i, d, patchcore.ErrInvalidInput)
		}
		if r[0] >= 0 {
			return nil, fmt.Errorf("deploy store: item %d: items of device %q are not contiguous: %w", i, d, patchcore.ErrInvalidInput)
		}
		j := i
		for j < len(items) && items[j].Device == d {
			j++
		}
		ix[d] = [2]int{i, j}
		i = j
	}
	for d, r := range ix {
		if r[0] < 0 {
			ix[d] = [2]int{0, 0}
		}
	}
	return ix, nil
}

func (md *memDeployment) find(device, patch string) (int, bool) {
	r, ok := md.byDevice[device]
	if !ok {
		return 0, false
	}
	for i := r[0]; i < r[1]; i++ {
		if md.items[i].Patch == patch {
			return i, true
		}
	}
	return 0, false
}

func (s *MemStore) dep(id string) (*memDeployment, error) {
	md, ok := s.deps[id]
	if !ok {
		return nil, fmt.Errorf("deploy store: deployment %q: %w", id, patchcore.ErrNotFound)
	}
	return md, nil
}

// Create implements Store.
func (s *MemStore) Create(ctx context.Context, d Deployment, targets []DeviceTarget, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(ctx, Change{Kind: ChangeCreate, ID: d.ID, Deployment: &d, Targets: slices.Clone(targets), Items: slices.Clone(items)}, true)
}

// CreateOwned is Create without copying targets and items: the store takes
// ownership of the slices, which the caller must not touch afterwards.
// Planning a large deployment uses it to avoid a copy.
func (s *MemStore) CreateOwned(ctx context.Context, d Deployment, targets []DeviceTarget, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(ctx, Change{Kind: ChangeCreate, ID: d.ID, Deployment: &d, Targets: targets, Items: items}, true)
}

// Deployment implements Store.
func (s *MemStore) Deployment(_ context.Context, id string) (Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, err := s.dep(id)
	if err != nil {
		return Deployment{}, err
	}
	return md.d, nil
}

// List implements Store.
func (s *MemStore) List(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order), nil
}

// Targets implements Store.
func (s *MemStore) Targets(_ context.Context, id string) ([]DeviceTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, err := s.dep(id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(md.targets), nil
}

// Items implements Store.
func (s *MemStore) Items(_ context.Context, id, device string) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, err := s.dep(id)
	if err != nil {
		return nil, err
	}
	if device == "" {
		return slices.Clone(md.items), nil
	}
	r, ok := md.byDevice[device]
	if !ok {
		return nil, fmt.Errorf("deploy store: deployment %q: device %q: %w", id, device, patchcore.ErrNotFound)
	}
	return slices.Clone(md.items[r[0]:r[1]]), nil
}

// Apply implements Store.
func (s *MemStore) Apply(ctx context.Context, id string, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(ctx, Change{Kind: ChangeApply, ID: id, Batch: &b}, true)
}

// Steps implements Store.
func (s *MemStore) Steps(_ context.Context, id, device string) ([]StepRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, err := s.dep(id)
	if err != nil {
		return nil, err
	}
	if device != "" {
		if _, ok := md.byDevice[device]; !ok {
			return nil, fmt.Errorf("deploy store: deployment %q: device %q: %w", id, device, patchcore.ErrNotFound)
		}
		r, ok := md.steps[device]
		if !ok {
			r.Device = device
		}
		return []StepRecord{r}, nil
	}
	if len(md.steps) == 0 {
		return nil, nil
	}
	out := make([]StepRecord, 0, len(md.steps))
	for _, t := range md.targets {
		if r, ok := md.steps[t.Device]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// SetStatus implements Store.
func (s *MemStore) SetStatus(ctx context.Context, id string, u StatusUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(ctx, Change{Kind: ChangeStatus, ID: id, Status: &u}, true)
}

// Acquire implements Store.
func (s *MemStore) Acquire(ctx context.Context, device, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[device] == id {
		return nil
	}
	return s.commit(ctx, Change{Kind: ChangeAcquire, ID: id, Device: device}, true)
}

// Release implements Store.
func (s *MemStore) Release(ctx context.Context, device, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks[device] != id {
		return nil
	}
	return s.commit(ctx, Change{Kind: ChangeRelease, ID: id, Device: device}, true)
}

// Outbox implements Store.
func (s *MemStore) Outbox(_ context.Context, max int) ([]Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alert
	for _, a := range s.outbox[s.outHead:] {
		if len(out) >= max {
			break
		}
		if a.ID != "" {
			out = append(out, a)
		}
	}
	return out, nil
}

// Ack implements Store.
func (s *MemStore) Ack(ctx context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var known []string
	for _, id := range ids {
		if _, ok := s.live[id]; ok {
			known = append(known, id)
		}
	}
	if len(known) == 0 {
		return nil
	}
	return s.commit(ctx, Change{Kind: ChangeAck, AckIDs: known}, true)
}
