package patchcore_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

func TestDurationJSON(t *testing.T) {
	type doc struct {
		D patchcore.Duration `json:"d,omitempty"`
	}
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: `{"d":"72h"}`, want: 72 * time.Hour},
		{in: `{"d":"1h30m"}`, want: 90 * time.Minute},
		{in: `{"d":"3d"}`, want: 72 * time.Hour},
		{in: `{"d":"\u0037\u0032h"}`, want: 72 * time.Hour},
		// A plain time.Duration as encoding/json writes it: nanoseconds.
		{in: `{"d":259200000000000}`, want: 72 * time.Hour},
		{in: `{"d":0}`, want: 0},
		{in: `{"d":null}`, want: 0},
		{in: `{}`, want: 0},
		{in: `{"d":"-1h"}`, bad: true},
		{in: `{"d":-5}`, bad: true},
		{in: `{"d":1.5}`, bad: true},
		{in: `{"d":"soon"}`, bad: true},
		{in: `{"d":"-2d"}`, bad: true},
		{in: `{"d":true}`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var d doc
			err := json.Unmarshal([]byte(tc.in), &d)
			if tc.bad {
				if !errors.Is(err, patchcore.ErrInvalidInput) {
					t.Fatalf("Unmarshal = %v, want an error wrapping ErrInvalidInput", err)
				}
				return
			}
			if err != nil || time.Duration(d.D) != tc.want {
				t.Fatalf("Unmarshal = %s, %v; want %s", d.D, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{72 * time.Hour, `{"d":"72h0m0s"}`}, {90 * time.Second, `{"d":"1m30s"}`}, {0, `{}`}} {
		b, err := json.Marshal(doc{patchcore.Duration(tc.d)})
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%s) = %s, %v; want %s", tc.d, b, err, tc.want)
		}
	}
}
