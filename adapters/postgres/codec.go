package postgres

import (
	"bytes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

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
	name     string
	raw      []byte
	plain    map[string]json.RawMessage
	personal []byte
}

// splitEvent marshals an event and takes out the fields it declares
// personal. The payload is assembled by hand from the event's own encoding:
// re-marshalling maps of raw fields cost more than the database insert on
// large batches.
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
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return splitPayload{}, fmt.Errorf("split %s: %w", e.EventName(), err)
	}
	personal := []byte{'{'}
	for _, name := range pe.PersonalFields() {
		if v, ok := fields[name]; ok {
			personal = appendField(personal, name, v)
			delete(fields, name)
		}
	}
	if len(personal) > 1 {
		out.plain, out.personal = fields, append(personal, '}')
	}
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
	names := make([]string, 0, len(s.plain))
	for name := range s.plain {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]byte, 0, len(s.raw)+base64.StdEncoding.EncodedLen(len(sealed))+16)
	out = append(out, '{')
	for _, name := range names {
		out = appendField(out, name, s.plain[name])
	}
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"`+sealedKey+`":"`...)
	out = base64.StdEncoding.AppendEncode(out, sealed)
	return append(out, '"', '}'), nil
}

// appendField appends "name":value to a JSON object being built; names are
// Go struct tags, plain ASCII.
func appendField(buf []byte, name string, value json.RawMessage) []byte {
	if len(buf) > 1 {
		buf = append(buf, ',')
	}
	buf = append(buf, '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return append(buf, value...)
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

// mayBeSealed tells whether a stored payload may hold a sealed part: a
// personal event whose personal fields were all empty (an undo's deletion)
// was stored without one, and decodes without its subject's key. Any
// escape counts as a maybe: encoding/json would read "se\u0061led" as the
// sealed key.
func mayBeSealed(payload []byte) bool {
	return bytes.Contains(payload, []byte(sealedKey)) || bytes.IndexByte(payload, '\\') >= 0
}
