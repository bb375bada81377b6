package wua

import "context"

// SoftwareReader reads installed software from the registry.
type SoftwareReader interface {
	Software(ctx context.Context) (Software, error)
}
