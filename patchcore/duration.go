package patchcore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxDurationDays bounds the "Nd" form of a Duration: a century.
const maxDurationDays = 36500

// Duration is a time.Duration that JSON writes as Go writes durations
// ("72h0m0s"). On input it reads a Go duration ("72h", "90m"), a whole
// number of days ("3d"), or a JSON number of nanoseconds, which is how
// encoding/json writes a plain time.Duration, so data stored with one
// still reads. Negative durations are an error.
type Duration time.Duration

// String formats d as time.Duration.String does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText reads "72h", "90m" or "3d".
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > maxDurationDays {
			return fmt.Errorf("duration %q: want a number of days from 0 to %d: %w", s, maxDurationDays, ErrInvalidInput)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want a non-negative Go duration such as 72h: %w", s, ErrInvalidInput)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON reads a JSON string as UnmarshalText does, or a JSON
// integer as nanoseconds. null leaves d unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return fmt.Errorf("duration: empty JSON value: %w", ErrInvalidInput)
	case string(b) == "null":
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("duration %.40s: not a valid JSON string: %w", b, ErrInvalidInput)
		}
		return d.UnmarshalText([]byte(s))
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("duration %.40s: want a Go duration string such as \"72h\" or a non-negative integer of nanoseconds: %w", b, ErrInvalidInput)
	}
	*d = Duration(n)
	return nil
}
