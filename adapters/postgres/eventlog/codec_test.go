package eventlog

import (
	"bytes"
	"crypto/cipher"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// decodeEvent reads an event sealed by encodeEvent back as it was, by its
// direct path and by the general one (a payload whose layout differs from
// encodeEvent's), and without the key only its plain fields.
func TestDecodeEventReadsWhatEncodeEventWrote(t *testing.T) {
	key, err := newAEAD(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	subject := uuid.New()
	details := map[domain.Field]string{domain.FieldEmail: "zoe@example.be", domain.FieldLastName: `Zoë "Z"`}
	// With plain fields beside the sealed ones, and with none.
	for _, event := range []domain.ClientRegistered{
		{Details: details, ExternalRefs: []domain.ExternalRef{{Source: "erp", ExternalID: "42"}}},
		{Details: details},
		// Members whose strings hold what a value's end looks like.
		{Details: map[domain.Field]string{domain.FieldCity: `}],{"x":[`, domain.FieldLastName: `\"}`},
			CustomFields: map[string]string{`a"}`: `\\`}, ExternalRefs: []domain.ExternalRef{{Source: `e{rp"`, ExternalID: "4,2]"}}},
	} {
		checkRoundTrip(t, key, subject, event)
	}
}

func checkRoundTrip(t *testing.T, key cipher.AEAD, subject uuid.UUID, event domain.ClientRegistered) {
	t.Helper()
	payload, err := encodeEvent(event, key, subject)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(payload, []byte("zoe@example.be")) {
		t.Fatalf("personal data in clear in %s", payload)
	}
	if _, alone, ok := sealedPart(payload); !ok || alone != (event.ExternalRefs == nil) {
		t.Fatalf("sealed part not found where encodeEvent puts it, or alone %v: %s", alone, payload)
	}
	var fields map[string]any
	if err := json.Unmarshal(payload, &fields); err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, stored := range map[string][]byte{"as written": payload, "laid out otherwise": indented} {
		got, erased, err := decodeEvent(&domain.ClientRegistered{}, event.SchemaVersion(), stored, key, subject)
		if err != nil || erased || !reflect.DeepEqual(got, event) {
			t.Errorf("%s: decoded %+v (erased %v, %v), want %+v", name, got, erased, err, event)
		}
		got, erased, err = decodeEvent(&domain.ClientRegistered{}, event.SchemaVersion(), stored, nil, subject)
		want := domain.ClientRegistered{ExternalRefs: event.ExternalRefs}
		if err != nil || !erased || !reflect.DeepEqual(got, want) {
			t.Errorf("%s, key erased: decoded %+v (erased %v, %v), want %+v", name, got, erased, err, want)
		}
	}
}

// eachMember cuts what json.Marshal writes of an object into the members
// encoding/json reads in it; anything else must merely not crash it.
func TestEachMemberCutsWhatEncodingJSONReads(t *testing.T) {
	for _, in := range memberSamples() {
		checkMembers(t, []byte(in))
	}
}

func FuzzEachMember(f *testing.F) {
	for _, in := range memberSamples() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkMembers(t, data) })
}

func memberSamples() []string {
	return []string{
		`{}`, `{"a":1}`, `{"a":"x","b":{"c":[1,{"d":"}"}]},"e":null,"f":true,"g":-1.5e3}`,
		`{"a":"\"}{","b":"\\"}`, `{"a":[],"b":{},"c":[[[]]]}`, `{"a\"b":"c"}`,
		`{"a":1`, `"a":1}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":"x}`, `{"a":{"b":1}`, `[1]`, ``,
	}
}

func checkMembers(t *testing.T, data []byte) {
	t.Helper()
	type cut struct{ name, member []byte }
	var cuts []cut
	cutErr := eachMember(data, func(name, member []byte) { cuts = append(cuts, cut{name, member}) })
	var want map[string]json.RawMessage
	var compact bytes.Buffer
	if json.Unmarshal(data, &want) != nil || want == nil || json.Compact(&compact, data) != nil || !bytes.Equal(compact.Bytes(), data) {
		return // not what json.Marshal writes of an object
	}
	if cutErr != nil {
		t.Fatalf("eachMember(%q): %v", data, cutErr)
	}
	got := map[string]json.RawMessage{}
	for _, c := range cuts {
		var one map[string]json.RawMessage
		var name string
		if json.Unmarshal([]byte("{"+string(c.member)+"}"), &one) != nil || len(one) != 1 ||
			json.Unmarshal([]byte(`"`+string(c.name)+`"`), &name) != nil || one[name] == nil {
			t.Fatalf("eachMember(%q) cut the member %q named %q", data, c.member, c.name)
		}
		got[name] = one[name]
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("eachMember(%q) cut %q; encoding/json reads %q", data, got, want)
	}
}

// decodePlainDetails reads what it takes exactly as encoding/json does, and
// leaves the rest to it.
func TestDecodePlainDetailsReadsLikeEncodingJSON(t *testing.T) {
	for _, in := range plainDetailsSamples() {
		checkPlainDetails(t, []byte(in))
	}
	if !decodePlainDetails(&domain.ClientRegistered{}, []byte(`{"details":{"email":"a@b.be","first_name":"Zoë"}}`)) {
		t.Error("details as encodeEvent writes them were left to encoding/json")
	}
}

func FuzzDecodePlainDetails(f *testing.F) {
	for _, in := range plainDetailsSamples() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkPlainDetails(t, data) })
}

func plainDetailsSamples() []string {
	return []string{
		`{"details":{}}`, `{"details":{"email":"a@b.be","first_name":"Zoë"}}`, `{"details":{"a":"1","a":"2"}}`,
		`{"details":{"a":"x\"y"}}`, `{"details":{"a":"\u00e9"}}`, `{"details":{"a":"}"}}`, `{"details":null}`,
		`{"details":{"a":"1"},"custom_fields":{"b":"2"}}`, `{"custom_fields":{"b":"2"},"details":{"a":"1"}}`,
		`{"details":{"a":"1"}}x`, `{"details":{"a":1}}`, `{ "details":{"a":"1"}}`, "{\"details\":{\"a\":\"\xff\"}}",
		`{"details":{"a":"1"}`, `{"details":{"a":"1"}}}`, `{"changes":{"city":""}}`, `{"details":{"a":"tab	x"}}`,
	}
}

func checkPlainDetails(t *testing.T, data []byte) {
	t.Helper()
	for _, newTarget := range []func() domain.Event{
		func() domain.Event { return &domain.ClientRegistered{} },
		func() domain.Event { return &domain.ClientDetailsChanged{} },
	} {
		want, got := newTarget(), newTarget()
		if wantErr := json.Unmarshal(data, want); !decodePlainDetails(got, data) {
			continue
		} else if wantErr != nil {
			t.Fatalf("decodePlainDetails took %q, which encoding/json refuses: %v", data, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodePlainDetails(%q) = %+v; encoding/json reads %+v", data, got, want)
		}
	}
}

// An undo's deletion has no personal field set: it is stored without a
// sealed part and decodes without its subject's key, which a projector
// then does not load. A deletion with a note needs the key.
func TestAPersonalEventWithNothingPersonalNeedsNoKey(t *testing.T) {
	key, err := newAEAD(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	subject := uuid.New()
	noKeys := SubjectKeys{cache: map[uuid.UUID]cipher.AEAD{}}
	for _, event := range []domain.ClientDeleted{{Cause: domain.DeletedByUndo}, {Cause: domain.DeletedByHand, Reason: "moved away"}} {
		payload, err := encodeEvent(event, key, subject)
		if err != nil {
			t.Fatal(err)
		}
		if sealed := MayBeSealed(payload); sealed != (event.Reason != "") {
			t.Errorf("%s: mayBeSealed = %v", payload, sealed)
		}
		env := domain.Envelope{EventName: event.EventName(), SchemaVersion: event.SchemaVersion(), StreamID: subject}
		got, err := noKeys.DecodePrefetched(payload, env)
		switch {
		case event.Reason == "" && (err != nil || got.Event != event || got.PersonalDataErased):
			t.Errorf("%s without its key: %+v, %v", payload, got, err)
		case event.Reason != "" && err == nil:
			t.Errorf("%s decoded without its key: %+v", payload, got)
		}
	}
	if !MayBeSealed([]byte(`{"se\u0061led":"x"}`)) {
		t.Error("an escaped sealed key is taken as no sealed part")
	}
}
