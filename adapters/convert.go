package adapters

import (
	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
	"github.com/patchcore/sdk/patchcore"
)

// Conversions between the author-facing structs and protocol 1 messages.
// The patchcore types convert in internal/adapterproto/v1.

func targetToProto(t Target) *adapterv1.Target {
	if t.Root == "" {
		return nil
	}
	return &adapterv1.Target{Root: t.Root}
}

func targetFromProto(t *adapterv1.Target) Target {
	return Target{Root: t.GetRoot()}
}

func infoToProto(r InfoResponse) *adapterv1.InfoResponse {
	caps := make([]string, len(r.Capabilities))
	for i, c := range r.Capabilities {
		caps[i] = string(c)
	}
	return &adapterv1.InfoResponse{
		Name: r.Name, Version: r.Version, ProtocolVersion: int32(r.ProtocolVersion),
		Platforms: r.Platforms, VersionScheme: r.VersionScheme, Capabilities: caps,
	}
}

func infoFromProto(m *adapterv1.InfoResponse) InfoResponse {
	var caps []Capability
	for _, c := range m.GetCapabilities() {
		caps = append(caps, Capability(c))
	}
	return InfoResponse{
		Name: m.GetName(), Version: m.GetVersion(), ProtocolVersion: int(m.GetProtocolVersion()),
		Platforms: m.GetPlatforms(), VersionScheme: m.GetVersionScheme(), Capabilities: caps,
	}
}

func updatesToProto(us []Update) []*adapterv1.Update {
	out := make([]*adapterv1.Update, len(us))
	for i, u := range us {
		out[i] = &adapterv1.Update{
			Id: u.ID, Package: u.Package, Arch: u.Arch,
			InstalledVersion: u.InstalledVersion, AvailableVersion: u.AvailableVersion,
			Origin: u.Origin, Title: u.Title, Classification: string(u.Classification),
			Severity: adapterv1.FromSeverity(u.Severity), Cves: u.CVEs, Advisories: u.Advisories,
			Kb: u.KB, Issued: adapterv1.FromTime(u.Issued), Held: u.Held,
			Reboot: string(u.Reboot), Size: u.Size,
		}
	}
	return out
}

func appendUpdates(dst []Update, ms []*adapterv1.Update) []Update {
	for _, m := range ms {
		if m == nil {
			continue
		}
		dst = append(dst, Update{
			ID: m.Id, Package: m.Package, Arch: m.Arch,
			InstalledVersion: m.InstalledVersion, AvailableVersion: m.AvailableVersion,
			Origin: m.Origin, Title: m.Title, Classification: patchcore.Classification(m.Classification),
			Severity: adapterv1.ToSeverity(m.Severity), CVEs: m.Cves, Advisories: m.Advisories,
			KB: m.Kb, Issued: adapterv1.ToTime(m.Issued), Held: m.Held,
			Reboot: patchcore.RebootBehavior(m.Reboot), Size: m.Size,
		})
	}
	return dst
}

func itemsToProto(items []ItemResult) []*adapterv1.ItemResult {
	out := make([]*adapterv1.ItemResult, len(items))
	for i, it := range items {
		out[i] = &adapterv1.ItemResult{
			Id: it.ID, Status: string(it.Status), Reason: it.Reason,
			FromVersion: it.FromVersion, ToVersion: it.ToVersion,
		}
	}
	return out
}

func itemsFromProto(ms []*adapterv1.ItemResult) []ItemResult {
	if ms == nil {
		return nil
	}
	out := make([]ItemResult, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			continue
		}
		out = append(out, ItemResult{
			ID: m.Id, Status: ItemStatus(m.Status), Reason: m.Reason,
			FromVersion: m.FromVersion, ToVersion: m.ToVersion,
		})
	}
	return out
}

func installToProto(r InstallRequest, progress bool) *adapterv1.InstallRequest {
	return &adapterv1.InstallRequest{
		Target: targetToProto(r.Target), Ids: r.IDs, Force: r.Force,
		OperationId: r.OperationID, Progress: progress,
	}
}

func installFromProto(m *adapterv1.InstallRequest) InstallRequest {
	return InstallRequest{
		Target: targetFromProto(m.GetTarget()), IDs: m.GetIds(), Force: m.GetForce(),
		OperationID: m.GetOperationId(),
	}
}

func progressToProto(p Progress) *adapterv1.Progress {
	return &adapterv1.Progress{Id: p.ID, Phase: p.Phase, Percent: int32(p.Percent), Message: p.Message}
}

func progressFromProto(m *adapterv1.Progress) Progress {
	return Progress{ID: m.GetId(), Phase: m.GetPhase(), Percent: int(m.GetPercent()), Message: m.GetMessage()}
}
