package deploy

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Target is one device of a deployment.
type Target struct {
	Device string `json:"device"`
	// Ring is the device's rollout ring ("test", "production").
	Ring string `json:"ring,omitempty"`
	// Zone is the device's IANA time zone, used by windows without a zone of their own.
	Zone string `json:"zone,omitempty"`
	// Patches, when set, replaces Spec.Patches for this device: the
	// approved patches detection found applicable to it.
	Patches []string `json:"patches,omitempty"`
}

// Spec is what to deploy: approved patches x target devices, with a policy.
type Spec struct {
	ID      string   `json:"id"`
	Patches []string `json:"patches"`
	Targets []Target `json:"targets"`
	Policy  Policy   `json:"policy"`
}

// Blocked is a device whose installs cannot start, with the reason.
type Blocked struct {
	Device string `json:"device"`
	Reason string `json:"reason"`
}

// PlannedDeployment is a Spec turned into stored form: the deployment
// record, its devices with their rollout stages and one Posted item per
// (device, patch), ready for Store.Create.
type PlannedDeployment struct {
	Deployment Deployment
	Targets    []DeviceTarget
	Items      []Item
	// Openings holds, per target, the first window opening at or after the
	// deployment's start (zero for a device whose windows never open).
	Openings []Opening
	// Blocked lists devices whose maintenance windows never open.
	Blocked []Blocked
}

// Plan checks spec and turns it into a PlannedDeployment at time now:
// the start time from the schedule, each device's rollout stage and next
// window opening, and the items. Time zones are loaded once per zone.
func Plan(spec Spec, now time.Time) (*PlannedDeployment, error) {
	if spec.ID == "" {
		return nil, fmt.Errorf("planning deployment: field id: empty: %w", patchcore.ErrInvalidInput)
	}
	if err := spec.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("planning deployment %q: %w", spec.ID, err)
	}
	pol := spec.Policy.WithDefaults()
	start, err := pol.Schedule.Next(now)
	if err != nil {
		return nil, fmt.Errorf("planning deployment %q: %w", spec.ID, err)
	}
	stages, nstages, err := assignStages(spec.Targets, pol.Rollout)
	if err != nil {
		return nil, fmt.Errorf("planning deployment %q: %w", spec.ID, err)
	}
	n := 0
	for i, t := range spec.Targets {
		if t.Device == "" {
			return nil, fmt.Errorf("planning deployment %q: field targets[%d].device: empty: %w", spec.ID, i, patchcore.ErrInvalidInput)
		}
		if t.Patches != nil {
			n += len(t.Patches)
		} else {
			n += len(spec.Patches)
		}
	}
	p := &PlannedDeployment{
		Deployment: Deployment{ID: spec.ID, Patches: spec.Patches, Policy: pol, Created: now, Start: start, Stages: nstages, Status: StatusActive},
		Targets:    make([]DeviceTarget, len(spec.Targets)),
		Items:      make([]Item, 0, n),
		Openings:   make([]Opening, len(spec.Targets)),
	}
	type zoneResult struct {
		o   Opening
		err error
	}
	byZone := map[string]zoneResult{}
	for i, t := range spec.Targets {
		p.Targets[i] = DeviceTarget{Device: t.Device, Ring: t.Ring, Zone: t.Zone, Stage: stages[i]}
		zr, ok := byZone[t.Zone]
		if !ok {
			zr.o, zr.err = pol.Windows.NextOpening(start, t.Zone)
			byZone[t.Zone] = zr
		}
		if zr.err != nil {
			var never *NeverOpensError
			if !errors.As(zr.err, &never) {
				return nil, fmt.Errorf("planning deployment %q: device %q: %w", spec.ID, t.Device, zr.err)
			}
			p.Blocked = append(p.Blocked, Blocked{Device: t.Device, Reason: zr.err.Error()})
		} else {
			p.Openings[i] = zr.o
		}
		patches := spec.Patches
		if t.Patches != nil {
			patches = t.Patches
		}
		for _, id := range patches {
			p.Items = append(p.Items, Item{Device: t.Device, Patch: id, State: patchcore.DeployPosted, Updated: now})
		}
	}
	return p, nil
}

// assignStages returns each target's rollout stage and the stage count.
func assignStages(ts []Target, r Rollout) ([]int, int, error) {
	st := make([]int, len(ts))
	switch {
	case len(r.Rings) > 0:
		idx := make(map[string]int, len(r.Rings))
		for i, name := range r.Rings {
			idx[name] = i
		}
		n := len(r.Rings)
		for i, t := range ts {
			s, ok := idx[t.Ring]
			if !ok {
				s = len(r.Rings)
				n = len(r.Rings) + 1
			}
			st[i] = s
		}
		return st, n, nil
	case len(r.Waves) > 0:
		cum := 0.0
		bounds := make([]int, len(r.Waves))
		for i, w := range r.Waves {
			cum += w
			bounds[i] = int(math.Ceil(float64(len(ts)) * math.Min(cum, 100) / 100))
		}
		bounds[len(bounds)-1] = len(ts)
		s := 0
		for i := range ts {
			for s < len(bounds)-1 && i >= bounds[s] {
				s++
			}
			st[i] = s
		}
		return st, len(r.Waves), nil
	}
	return st, 1, nil
}
