package postgres

import (
	"crypto/cipher"
	"encoding/json"
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
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", e.EventName(), err)
	}
	pe, ok := e.(domain.PersonalEvent)
	if !ok {
		return raw, nil
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("split %s: %w", e.EventName(), err)
	}
	personal := map[string]json.RawMessage{}
	for _, name := range pe.PersonalFields() {
		if v, ok := fields[name]; ok {
			personal[name] = v
			delete(fields, name)
		}
	}
	if len(personal) == 0 {
		return raw, nil
	}
	plain, err := json.Marshal(personal)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(key, plain, subjectID[:])
	if err != nil {
		return nil, err
	}
	if fields[sealedKey], err = json.Marshal(sealed); err != nil {
		return nil, err
	}
	return json.Marshal(fields)
}

// decodeEvent rebuilds an event from its payload. With key nil (the subject
// was erased) the personal fields stay empty and erased is true.
func decodeEvent(name string, version int, payload []byte, key cipher.AEAD, subjectID uuid.UUID) (e domain.Event, erased bool, err error) {
	target, ok := domain.NewEvent(name, version)
	if !ok {
		return nil, false, fmt.Errorf("unknown event type %s v%d", name, version)
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, false, fmt.Errorf("decode %s payload: %w", name, err)
	}
	if sealedJSON, ok := fields[sealedKey]; ok {
		delete(fields, sealedKey)
		if key == nil {
			erased = true
		} else {
			var sealed []byte
			if err := json.Unmarshal(sealedJSON, &sealed); err != nil {
				return nil, false, fmt.Errorf("decode sealed part of %s: %w", name, err)
			}
			plain, err := open(key, sealed, subjectID[:])
			if err != nil {
				return nil, false, fmt.Errorf("open sealed part of %s: %w", name, err)
			}
			if err := json.Unmarshal(plain, &fields); err != nil {
				return nil, false, fmt.Errorf("decode personal fields of %s: %w", name, err)
			}
		}
		if payload, err = json.Marshal(fields); err != nil {
			return nil, false, err
		}
	}
	if err := json.Unmarshal(payload, target); err != nil {
		return nil, false, fmt.Errorf("decode %s: %w", name, err)
	}
	// Factories return pointers for decoding; aggregates switch on values.
	return reflect.ValueOf(target).Elem().Interface().(domain.Event), erased, nil
}

// isPersonal reports whether events of this type may carry sealed data.
func isPersonal(e domain.Event) bool {
	_, ok := e.(domain.PersonalEvent)
	return ok
}
