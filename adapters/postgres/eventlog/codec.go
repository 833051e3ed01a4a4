package eventlog

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
)

// sealedKey holds a personal event's sealed fields in the stored payload.
const sealedKey = "sealed"

// encodeEvent turns an event into its stored payload. The fields the event
// declares personal are moved into one sealed blob under the subject's key.
func encodeEvent(e domain.Event, key cipher.AEAD, subjectID uuid.UUID) ([]byte, error) {
	split, err := splitEvent(e)
	if err != nil {
		return nil, err
	}
	return split.seal(key, subjectID)
}

// splitPayload is an event's JSON with its personal fields taken out, still
// in clear: personal is nil when the event has none to seal (a deletion
// without a note), and then the event needs no key.
type splitPayload struct {
	name string
	raw  []byte
	// plain are the other members, comma-separated, without braces.
	plain    []byte
	personal []byte
}

// splitEvent marshals an event and takes out the fields it declares
// personal. The members are cut out of the event's own encoding rather
// than decoded and encoded again: that cost more than the database's
// insert on large batches.
func splitEvent(e domain.Event) (splitPayload, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return splitPayload{}, fmt.Errorf("marshal %s: %w", e.EventName(), err)
	}
	out := splitPayload{name: e.EventName(), raw: raw}
	pe, ok := e.(domain.PersonalEvent)
	if !ok {
		return out, nil
	}
	names := pe.PersonalFields()
	found := make([][]byte, len(names)) // personal members, in the order of names
	err = eachMember(raw, func(name, member []byte) {
		for i, personal := range names {
			if string(name) == personal {
				found[i] = member
				return
			}
		}
		out.plain = appendMember(out.plain, member)
	})
	if err != nil {
		return splitPayload{}, fmt.Errorf("split %s: %w", e.EventName(), err)
	}
	var personal []byte
	for _, member := range found {
		if member != nil {
			personal = appendMember(personal, member)
		}
	}
	if personal == nil {
		return splitPayload{name: out.name, raw: raw}, nil
	}
	out.personal = append(append([]byte{'{'}, personal...), '}')
	return out, nil
}

// seal returns the stored payload: the plain fields, then the personal
// ones sealed under key.
func (s splitPayload) seal(key cipher.AEAD, subjectID uuid.UUID) ([]byte, error) {
	if s.personal == nil {
		return s.raw, nil
	}
	if key == nil {
		return nil, fmt.Errorf("seal %s: no data key for subject %s", s.name, subjectID)
	}
	sealed, err := seal(key, s.personal, subjectID[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(s.plain)+base64.StdEncoding.EncodedLen(len(sealed))+16)
	out = append(append(out, '{'), s.plain...)
	if len(s.plain) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"`+sealedKey+`":"`...)
	out = base64.StdEncoding.AppendEncode(out, sealed)
	return append(out, '"', '}'), nil
}

// appendMember appends a member ("name":value) to a list of them.
func appendMember(list, member []byte) []byte {
	if len(list) > 0 {
		list = append(list, ',')
	}
	return append(list, member...)
}

// eachMember calls fn with each top-level member of a JSON object as
// json.Marshal writes it (no whitespace), and the member's name,
// between its quotes as written.
func eachMember(object []byte, fn func(name, member []byte)) error {
	body, isObject := bytes.CutPrefix(object, []byte{'{'})
	body, closed := bytes.CutSuffix(body, []byte{'}'})
	if !isObject || !closed {
		return errors.New("not a JSON object")
	}
	for start := 0; start < len(body); {
		nameEnd := stringEnd(body, start)
		if nameEnd < 0 || nameEnd+1 >= len(body) || body[nameEnd+1] != ':' {
			return fmt.Errorf("no member name at byte %d", start+1)
		}
		end := valueEnd(body, nameEnd+2)
		if end < 0 {
			return fmt.Errorf("unterminated value at byte %d", nameEnd+3)
		}
		fn(body[start+1:nameEnd], body[start:end])
		if start = end; start < len(body) {
			if start++; body[start-1] != ',' || start == len(body) {
				return fmt.Errorf("no member after byte %d", start)
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the JSON string
// starting at data[start], or -1.
func stringEnd(data []byte, start int) int {
	if start >= len(data) || data[start] != '"' {
		return -1
	}
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// valueEnd returns the index just past the JSON value starting at
// data[start] (a string, an object, an array or a literal), or -1.
func valueEnd(data []byte, start int) int {
	depth := 0
	for i := start; i < len(data); i++ {
		switch data[i] {
		case '"':
			if i = stringEnd(data, i); i < 0 {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			} else if depth < 0 {
				return -1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	if depth != 0 {
		return -1
	}
	return len(data)
}

// decodeEvent fills target (an empty event of the current version, from
// domain.CurrentEvent) from a payload stored at version. With key nil (the
// subject was erased) the personal fields stay empty and erased is true.
//
// A payload of the current version, as encodeEvent wrote it, is decoded
// straight into target, then its sealed fields over it: they are other
// top-level keys than the plain ones. Anything else (an older version,
// which must be upcast once unsealed) goes through a map of its fields.
func decodeEvent(target domain.Event, version int, payload []byte, key cipher.AEAD, subjectID uuid.UUID) (e domain.Event, erased bool, err error) {
	name := target.EventName()
	sealed, alone, hasSealed := sealedPart(payload)
	if !domain.IsCurrentVersion(name, version) || !hasSealed && bytes.Contains(payload, []byte(`"`+sealedKey+`"`)) {
		return decodeFields(target, version, payload, key, subjectID)
	}
	// A registration's payload is all personal: nothing to read but the
	// sealed part (skipping the pass over it is a fifth of a replay's work).
	if !alone {
		if err := json.Unmarshal(payload, target); err != nil {
			return nil, false, fmt.Errorf("decode %s: %w", name, err)
		}
	}
	if hasSealed {
		if key == nil {
			erased = true
		} else {
			plain, err := openBase64(key, sealed, subjectID)
			if err != nil {
				return nil, false, fmt.Errorf("open sealed part of %s: %w", name, err)
			}
			if !decodePlainDetails(target, plain) {
				if err := json.Unmarshal(plain, target); err != nil {
					return nil, false, fmt.Errorf("decode personal fields of %s: %w", name, err)
				}
			}
		}
	}
	// Factories return pointers for decoding; aggregates switch on values.
	return reflect.ValueOf(target).Elem().Interface().(domain.Event), erased, nil
}

// decodePlainDetails fills the field map of the events most of a log holds
// (a registration's details, a change's changes) when their sealed JSON is
// that one object of plain strings, as encodeEvent writes it, without
// encoding/json's reflection, which was most of a replay's decoding. It
// returns false for anything else, which encoding/json then reads.
func decodePlainDetails(target domain.Event, plain []byte) bool {
	var field string
	var into *map[domain.Field]string
	switch t := target.(type) {
	case *domain.ClientRegistered:
		field, into = "details", &t.Details
	case *domain.ClientDetailsChanged:
		field, into = "changes", &t.Changes
	default:
		return false
	}
	object, ok := bytes.CutPrefix(plain, []byte(`{"`+field+`":`))
	if !ok {
		return false
	}
	if object, ok = bytes.CutSuffix(object, []byte{'}'}); !ok {
		return false
	}
	var buf [24]metadataPair
	pairs, ok := plainPairs(object, buf[:0])
	if !ok {
		return false
	}
	text := string(object)
	fields := make(map[domain.Field]string, len(pairs))
	for _, p := range pairs {
		fields[domain.Field(substring(text, object, p.key))] = substring(text, object, p.value)
	}
	*into = fields
	return true
}

// substring is part, a subslice of data, as a substring of text, which
// holds data's bytes: one string for a whole object and every field a
// substring of it, rather than an allocation per field. A subslice's offset
// shows in its capacity.
func substring(text string, data, part []byte) string {
	start := cap(data) - cap(part)
	return text[start : start+len(part)]
}

// sealedPart finds the sealed blob where encodeEvent puts it: the last
// field, a base64 string (which holds no quote), alone when the payload has
// no other field. No string value can end with the marker: its quotes would
// be escaped.
func sealedPart(payload []byte) (sealed []byte, alone, ok bool) {
	body, ok := bytes.CutSuffix(payload, []byte(`"}`))
	if !ok {
		return nil, false, false
	}
	start := bytes.LastIndexByte(body, '"') + 1
	marker := []byte(`"` + sealedKey + `":"`)
	before, ok := bytes.CutSuffix(body[:start], marker)
	if !ok || !bytes.HasSuffix(before, []byte{'{'}) && !bytes.HasSuffix(before, []byte{','}) {
		return nil, false, false
	}
	return body[start:], string(before) == "{", true
}

func openBase64(key cipher.AEAD, encoded []byte, subjectID uuid.UUID) ([]byte, error) {
	sealed := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
	n, err := base64.StdEncoding.Decode(sealed, encoded)
	if err != nil {
		return nil, err
	}
	return open(key, sealed[:n], subjectID[:])
}

// decodeFields is decodeEvent's general path, through a map of the
// payload's fields.
func decodeFields(target domain.Event, version int, payload []byte, key cipher.AEAD, subjectID uuid.UUID) (e domain.Event, erased bool, err error) {
	name := target.EventName()
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, false, fmt.Errorf("decode %s payload: %w", name, err)
	}
	if sealedJSON, ok := fields[sealedKey]; ok {
		delete(fields, sealedKey)
		if key == nil {
			erased = true
		} else {
			var encoded string
			if err := json.Unmarshal(sealedJSON, &encoded); err != nil {
				return nil, false, fmt.Errorf("decode sealed part of %s: %w", name, err)
			}
			plain, err := openBase64(key, []byte(encoded), subjectID)
			if err != nil {
				return nil, false, fmt.Errorf("open sealed part of %s: %w", name, err)
			}
			if err := json.Unmarshal(plain, &fields); err != nil {
				return nil, false, fmt.Errorf("decode personal fields of %s: %w", name, err)
			}
		}
	}
	if _, err := domain.Upcast(name, version, fields); err != nil {
		return nil, false, err
	}
	if payload, err = json.Marshal(fields); err != nil {
		return nil, false, err
	}
	if err := json.Unmarshal(payload, target); err != nil {
		return nil, false, fmt.Errorf("decode %s: %w", name, err)
	}
	return reflect.ValueOf(target).Elem().Interface().(domain.Event), erased, nil
}

// isPersonal reports whether events of this type may carry sealed data.
func isPersonal(e domain.Event) bool {
	_, ok := e.(domain.PersonalEvent)
	return ok
}

// MayBeSealed tells whether a stored payload may hold a sealed part: a
// personal event whose personal fields were all empty (an undo's deletion)
// was stored without one, and decodes without its subject's key. Any
// escape counts as a maybe: encoding/json would read "se\u0061led" as the
// sealed key.
func MayBeSealed(payload []byte) bool {
	return bytes.Contains(payload, []byte(sealedKey)) || bytes.IndexByte(payload, '\\') >= 0
}
