package adapterv1

import (
	"time"

	"github.com/patchcore/sdk/patchcore"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// FromPlatform converts a patchcore.Platform to its message.
func FromPlatform(p patchcore.Platform) *Platform {
	return &Platform{
		Family: p.Family, Distro: p.Distro, Version: p.Version, Codename: p.Codename,
		ProductName: p.ProductName, DisplayVersion: p.DisplayVersion, Edition: p.Edition,
		Build: p.Build, Ubr: int64(p.UBR), Arch: p.Arch, Kernel: p.Kernel,
	}
}

// ToPlatform converts a message back to a patchcore.Platform; nil gives the zero value.
func ToPlatform(p *Platform) patchcore.Platform {
	if p == nil {
		return patchcore.Platform{}
	}
	return patchcore.Platform{
		Family: p.Family, Distro: p.Distro, Version: p.Version, Codename: p.Codename,
		ProductName: p.ProductName, DisplayVersion: p.DisplayVersion, Edition: p.Edition,
		Build: p.Build, UBR: int(p.Ubr), Arch: p.Arch, Kernel: p.Kernel,
	}
}

// FromPackages converts packages to messages, allocating them in one block.
func FromPackages(pkgs []patchcore.Package) []*Package {
	block := make([]Package, len(pkgs))
	out := make([]*Package, len(pkgs))
	for i, p := range pkgs {
		m := &block[i]
		m.Name, m.Version, m.Arch = p.Name, p.Version, p.Arch
		m.SourceName, m.SourceVersion = p.SourceName, p.SourceVersion
		m.Ecosystem, m.ModuleStream, m.ProductCode, m.Held = string(p.Ecosystem), p.ModuleStream, p.ProductCode, p.Held
		out[i] = m
	}
	return out
}

// AppendPackages appends the packages of ms to dst.
func AppendPackages(dst []patchcore.Package, ms []*Package) []patchcore.Package {
	for _, m := range ms {
		if m == nil {
			continue
		}
		dst = append(dst, patchcore.Package{
			Name: m.Name, Version: m.Version, Arch: m.Arch,
			SourceName: m.SourceName, SourceVersion: m.SourceVersion,
			Ecosystem: patchcore.Ecosystem(m.Ecosystem), ModuleStream: m.ModuleStream,
			ProductCode: m.ProductCode, Held: m.Held,
		})
	}
	return dst
}

// FromInventoryHeader converts everything in inv except its packages.
func FromInventoryHeader(inv patchcore.Inventory) *InventoryHeader {
	return &InventoryHeader{
		DeviceId:      inv.DeviceID,
		Platform:      FromPlatform(inv.Platform),
		Kbs:           inv.KBs,
		PendingReboot: inv.PendingReboot,
		CollectedAt:   FromTime(inv.CollectedAt),
		Duration:      durationpb.New(inv.Duration),
		PackageCount:  int64(len(inv.Packages)),
	}
}

// ToInventoryHeader converts a header back to an inventory without packages.
func ToInventoryHeader(h *InventoryHeader) patchcore.Inventory {
	if h == nil {
		return patchcore.Inventory{}
	}
	inv := patchcore.Inventory{
		DeviceID:      h.DeviceId,
		Platform:      ToPlatform(h.Platform),
		KBs:           h.Kbs,
		PendingReboot: h.PendingReboot,
		CollectedAt:   ToTime(h.CollectedAt),
	}
	if h.Duration != nil {
		inv.Duration = h.Duration.AsDuration()
	}
	return inv
}

// FromSeverity converts a severity.
func FromSeverity(s patchcore.Severity) *Severity {
	return &Severity{Level: int32(s.Level), Raw: s.Raw}
}

// ToSeverity converts a severity back; nil gives the zero (unknown) severity.
func ToSeverity(s *Severity) patchcore.Severity {
	if s == nil {
		return patchcore.Severity{}
	}
	return patchcore.Severity{Level: patchcore.SeverityLevel(s.Level), Raw: s.Raw}
}

// FromTime converts t; the zero time becomes nil so it survives the round trip.
func FromTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// ToTime converts a timestamp back; nil gives the zero time.
func ToTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
