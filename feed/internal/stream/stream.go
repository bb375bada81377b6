// Package stream holds what the streaming feed parsers share: turning
// encoding/xml and encoding/json decoder errors into *feed.ParseError values
// that carry the position, and walking a JSON document key by key.
package stream

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// passThrough reports errors that must reach the caller unchanged: already
// located parse errors and cancellation.
func passThrough(err error) bool {
	var pe *feed.ParseError
	return errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// malformed makes err match patchcore.ErrMalformedFeed unless it already
// matches it or patchcore.ErrTooLarge.
func malformed(err error) error {
	if errors.Is(err, patchcore.ErrMalformedFeed) || errors.Is(err, patchcore.ErrTooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err)
}

// XMLError locates err at the decoder's position (the syntax error's line
// when there is one) in a *feed.ParseError about field.
func XMLError(d *xml.Decoder, field string, err error) error {
	if passThrough(err) {
		return err
	}
	if err.Error() == "exceeded max depth" { // encoding/xml's unexported unmarshal limit
		err = fmt.Errorf("elements nested deeper than encoding/xml allows: %w", patchcore.ErrTooLarge)
	}
	line, col := d.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) && se.Line != line {
		line, col = se.Line, 0
	}
	return &feed.ParseError{Line: line, Column: col, Offset: d.InputOffset(), Field: field, Err: malformed(err)}
}

// JSONError locates err at the decoder's byte offset (the syntax or type
// error's own offset when there is one) in a *feed.ParseError about field.
func JSONError(dec *json.Decoder, field string, err error) error {
	if passThrough(err) {
		return err
	}
	off := dec.InputOffset()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		// The decoder stays at the start of the incomplete value; the end
		// of what it read is where the input stopped.
		if br, ok := dec.Buffered().(interface{ Len() int }); ok {
			off += int64(br.Len())
		}
		err = fmt.Errorf("unexpected end of input: %w", io.ErrUnexpectedEOF)
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			// Paths use "/" like every other ParseError.Field.
			if field != "" {
				field += "/"
			}
			field += strings.ReplaceAll(te.Field, ".", "/")
		}
	}
	return &feed.ParseError{Offset: off, Field: field, Err: malformed(err)}
}

// Object walks the JSON object the decoder is at, calling fn with each key;
// fn must consume the key's value (dec.Decode or Skip). The opening and
// closing braces are checked.
func Object(dec *json.Decoder, field string, fn func(key string) error) error {
	if err := Delim(dec, field, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return JSONError(dec, field, err)
		}
		key, ok := tok.(string)
		if !ok {
			return JSONError(dec, field, fmt.Errorf("object key is %v, want a string", tok))
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return Delim(dec, field, '}')
}

// Array walks the JSON array the decoder is at, calling fn for each element
// with its index; fn must consume the element.
func Array(dec *json.Decoder, field string, fn func(i int) error) error {
	if err := Delim(dec, field, '['); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if err := fn(i); err != nil {
			return err
		}
	}
	return Delim(dec, field, ']')
}

// Delim reads the next token and checks it is want.
func Delim(dec *json.Decoder, field string, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return JSONError(dec, field, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return JSONError(dec, field, fmt.Errorf("found %v, want %q", tok, want))
	}
	return nil
}

// Skip consumes one JSON value of any kind without keeping it.
func Skip(dec *json.Decoder, field string) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return JSONError(dec, field, err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > MaxJSONDepth {
				return &feed.ParseError{Offset: dec.InputOffset(), Field: field,
					Err: fmt.Errorf("values nested deeper than %d: %w", MaxJSONDepth, patchcore.ErrTooLarge)}
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// MaxJSONDepth bounds nesting in values skipped with Skip.
const MaxJSONDepth = 256

// XML is an encoding/xml decoder that refuses documents nesting deeper than
// a limit, everywhere (encoding/xml bounds only what it unmarshals into
// structs, not what it skips). Use Decoder for Token and DecodeElement and
// Error to locate errors in the input.
type XML struct {
	// Decoder reads the depth-limited token stream.
	Decoder *xml.Decoder
	raw     *xml.Decoder
	depth   int
	max     int
	maxAttr int
	maxText int
}

// NewXML returns a decoder of r that fails with patchcore.ErrTooLarge past
// maxDepth nested elements. Undefined entities are errors (Strict), so no
// entity is ever expanded beyond the five predefined ones.
func NewXML(r io.Reader, maxDepth int) *XML {
	x := &XML{raw: xml.NewDecoder(r), max: maxDepth, maxAttr: MaxXMLAttr, maxText: MaxXMLText}
	x.Decoder = xml.NewTokenDecoder(x)
	return x
}

// Token implements xml.TokenReader over the underlying decoder's raw
// tokens: the checking decoder on top matches end tags and translates
// name spaces, once.
func (x *XML) Token() (xml.Token, error) {
	tok, err := x.raw.RawToken()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		x.depth++
		if x.depth > x.max {
			return nil, fmt.Errorf("elements nested deeper than %d: %w", x.max, patchcore.ErrTooLarge)
		}
		for _, a := range t.Attr {
			if len(a.Value) > x.maxAttr {
				return nil, fmt.Errorf("attribute %s of <%s> is %d bytes, limit %d: %w", a.Name.Local, t.Name.Local, len(a.Value), x.maxAttr, patchcore.ErrTooLarge)
			}
		}
	case xml.EndElement:
		x.depth--
	case xml.CharData:
		if len(t) > x.maxText {
			return nil, fmt.Errorf("text of %d bytes, limit %d: %w", len(t), x.maxText, patchcore.ErrTooLarge)
		}
	}
	return tok, nil
}

// Limits on single XML tokens. Real feeds stay far below them (the longest
// MSRC note is 42 KB, the longest attribute 191 bytes).
const (
	MaxXMLAttr = 64 << 10
	MaxXMLText = 16 << 20
)

// InputPos is the line and 1-based column of the input position reached
// (just after the last token read).
func (x *XML) InputPos() (line, column int) { return x.raw.InputPos() }

// Depth is the current element depth (1 inside the root element).
func (x *XML) Depth() int { return x.depth }

// Error locates err at the input position in a *feed.ParseError about field.
// Syntax errors found by the checking layer (mismatched end tags) carry its
// line count, which is not the input's; they are relocated to the input
// position reached, which is just after the offending token.
func (x *XML) Error(field string, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) && !passThrough(err) {
		line, col := x.raw.InputPos()
		if se.Line != line {
			return &feed.ParseError{Line: line, Column: col, Offset: x.raw.InputOffset(), Field: field,
				Err: fmt.Errorf("%w: XML syntax error: %s", patchcore.ErrMalformedFeed, se.Msg)}
		}
	}
	return XMLError(x.raw, field, err)
}

// Skip consumes the rest of the element whose start tag was just read.
func (x *XML) Skip(field string) error {
	if err := x.Decoder.Skip(); err != nil {
		return x.Error(field, err)
	}
	return nil
}

// FileName is the name errors give the document: name when the caller set
// one, otherwise the reader's own Name() (an *os.File's path), otherwise "".
func FileName(r io.Reader, name string) string {
	if name != "" {
		return name
	}
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// Malformedf formats a message that matches patchcore.ErrMalformedFeed.
func Malformedf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), patchcore.ErrMalformedFeed)
}

// InFile names file in err when err is a *feed.ParseError that names no
// file yet; any other error is returned as it is.
func InFile(file string, err error) error {
	var pe *feed.ParseError
	if file != "" && errors.As(err, &pe) && pe.File == "" {
		pe.File = file
	}
	return err
}
