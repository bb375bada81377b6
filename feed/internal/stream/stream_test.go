package stream

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

func TestXMLLimits(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"depth", "<a><b><c><d/></c></b></a>", "nested deeper than 3"},
		{"attribute", `<a><b x="` + strings.Repeat("v", 101) + `"/></a>`, "attribute x of <b> is 101 bytes, limit 100"},
		{"text", "<a>\n<b>" + strings.Repeat("t", 201) + "</b></a>", "text of 201 bytes, limit 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewXML(strings.NewReader(tt.doc), 3)
			x.maxAttr, x.maxText = 100, 200
			var err error
			for err == nil {
				_, err = x.Decoder.Token()
			}
			err = x.Error("f", err)
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrTooLarge) || !strings.Contains(err.Error(), tt.want) || pe.Line == 0 {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestXMLMismatchedTagLocated(t *testing.T) {
	x := NewXML(strings.NewReader("<a>\n\n<b></c></a>"), 10)
	var err error
	for err == nil {
		_, err = x.Decoder.Token()
	}
	err = x.Error("a", err)
	var pe *feed.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, patchcore.ErrMalformedFeed) {
		t.Errorf("err = %v (line %d)", err, pe.Line)
	}
	// A clean end of input stays io.EOF for the caller to handle.
	x = NewXML(strings.NewReader("<a/>"), 10)
	for err = nil; err == nil; _, err = x.Decoder.Token() {
	}
	if err != io.EOF {
		t.Errorf("end: %v", err)
	}
}
