package domain

import (
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The one rule for every text that can reach the log, whatever door it
// came through (JSON, form fields, query parameters, headers, ERP pushes,
// source records, spreadsheet cells): valid UTF-8, no NUL or other control
// character (a line break only where a field keeps several lines), no bidi
// override or isolate (they make a name read differently from what it
// holds), and within a stated length. The log is immutable: a byte that
// PostgreSQL or a projection cannot take must be stopped here.

// Lengths of texts that are not client fields, in characters.
const (
	// MaxParamLength bounds a query parameter or a header that reaches the
	// database or the log (a search, a filter, a correlation id).
	MaxParamLength = 1000
	// MaxURLLength bounds a source's base URL.
	MaxURLLength = 2000
)

// TextError is a text refused at the door: a query parameter or a header
// (400), as opposed to a field of a body (ValidationErrors, 422).
type TextError struct{ FieldError }

func (e *TextError) Error() string { return e.Field + ": " + e.Message }

func (e *TextError) Is(target error) bool { return target == ErrValidation }

// CheckParam checks a query parameter, path parameter or header value
// against the text rule, at most MaxParamLength characters.
func CheckParam(name, v string) error {
	if fe := textProblem(name, v, MaxParamLength, false); fe != nil {
		return &TextError{*fe}
	}
	return nil
}

// CheckText checks a single-line text of a request body (or a cell) of at
// most maxChars characters; the error is a ValidationErrors naming field.
func CheckText(field, v string, maxChars int) error {
	if fe := textProblem(field, v, maxChars, false); fe != nil {
		return ValidationErrors{*fe}
	}
	return nil
}

// checkText applies the text rule with the limits of the field (by name).
func checkText(field, v string) *FieldError {
	return textProblem(field, v, MaxLength(field), IsMultiLine(field))
}

// isBidiControl reports the embedding, override and isolate controls
// (U+202A..U+202E, U+2066..U+2069): invisible, they reorder what follows.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

func textProblem(field, v string, maxChars int, multiLine bool) *FieldError {
	if printableASCII(v) {
		// Nearly every cell of an import: valid, no control character,
		// a character a byte.
		if len(v) > maxChars {
			return tooLong(field, len(v), maxChars)
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return &FieldError{field, "invalid_text", "contains bytes that are not valid text (UTF-8)"}
	}
	n := 0 // characters, counted in the same pass
	for _, r := range v {
		switch {
		case r == '\n' && multiLine:
		case unicode.IsControl(r):
			return &FieldError{field, "invalid_text", "contains a control character (" + runeName(r) + ")"}
		case isBidiControl(r):
			return &FieldError{field, "invalid_text", "contains an invisible direction control (" + runeName(r) + ")"}
		}
		n++
	}
	if n > maxChars {
		return tooLong(field, n, maxChars)
	}
	return nil
}

func tooLong(field string, n, maxChars int) *FieldError {
	return &FieldError{field, "too_long", "is " + strconv.Itoa(n) + " characters long; at most " + strconv.Itoa(maxChars) + " are allowed"}
}

// printableASCII reports whether v is space to tilde only.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func runeName(r rune) string {
	return "U+" + strings.ToUpper(strconv.FormatInt(int64(0x10000+r), 16)[1:])
}

// CleanText makes a text the system did not choose (an error a remote
// server answered, a reason built from one) fit for the log: invalid bytes
// and control characters become spaces, and it is cut, on a character, to
// at most maxBytes bytes.
func CleanText(v string, maxBytes int) string {
	if len(v) <= maxBytes && textProblem("", v, len(v), false) == nil {
		return v
	}
	var b strings.Builder
	for i, r := range v {
		if r == utf8.RuneError || unicode.IsControl(r) || isBidiControl(r) {
			r = ' '
		}
		if i+utf8.RuneLen(r) > maxBytes || b.Len()+utf8.RuneLen(r) > maxBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CheckEventText is the last check before an event is appended: no string
// of its payload, at any depth, may hold invalid UTF-8 or a control
// character other than a line break or tab. The doors check each field
// with its own rule and name it for the user; this catches a door that was
// missed, so that no event can make the log unprojectable. The error names
// the member by its JSON path.
func CheckEventText(e Event) error {
	if path, bad := badString(reflect.ValueOf(e), ""); bad {
		return ValidationErrors{{Field: strings.TrimPrefix(path, "."), Code: "invalid_text",
			Message: "contains bytes that are not valid text or a control character"}}
	}
	return nil
}

// CheckOriginText checks the texts of an origin, which every event of a
// command carries in its envelope.
func CheckOriginText(o Origin) error {
	for _, f := range []struct{ name, v string }{{"actor", o.Actor}, {"X-Correlation-ID", o.CorrelationID}, {"causation_id", o.CausationID}} {
		if err := CheckParam(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

func storable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' && c != '\r' || c == 0x7f || c >= 0x80 {
			return storableSlow(s)
		}
	}
	return true
}

func storableSlow(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return false
		}
	}
	return true
}

func badString(v reflect.Value, path string) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return path, !storable(v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", false
		}
		return badString(v.Elem(), path)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if p, bad := badString(v.Field(i), path+"."+name); bad {
				return p, true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", false // bytes, not text
		}
		for i := 0; i < v.Len(); i++ {
			if p, bad := badString(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			k := it.Key()
			if k.Kind() == reflect.String && !storable(k.String()) {
				return path, true
			}
			name := path + "." + k.String()
			if k.Kind() != reflect.String {
				name = path
			}
			if p, bad := badString(it.Value(), name); bad {
				return p, true
			}
		}
	}
	return "", false
}

// ScrubEvent returns e with every NUL and invalid UTF-8 sequence in its
// strings replaced by U+FFFD, and whether there was any. It is for events
// an older version let into the log: PostgreSQL stores no NUL in a text,
// so such an event is projected with the byte replaced rather than not at
// all. e itself is not changed.
func ScrubEvent(e Event) (Event, bool) {
	if _, bad := badString(reflect.ValueOf(e), ""); !bad {
		return e, false
	}
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		cp := reflect.New(v.Elem().Type())
		cp.Elem().Set(scrubbed(v.Elem()))
		return cp.Interface().(Event), true
	}
	return scrubbed(v).Interface().(Event), true
}

func scrubString(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// scrubbed is a deep copy of v with its strings scrubbed.
func scrubbed(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(scrubString(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Elem().Type())
		out.Elem().Set(scrubbed(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(scrubbed(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(scrubbed(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(scrubbed(it.Key()), scrubbed(it.Value()))
		}
		return out
	}
	return v
}
