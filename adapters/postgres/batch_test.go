package postgres

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

// parseMetadata must read every metadata object exactly as encoding/json
// does: the hand-written path only takes what it can read the same way.
func TestParseMetadataReadsLikeEncodingJSON(t *testing.T) {
	for _, in := range metadataSamples() {
		checkParseMetadata(t, []byte(in))
	}
	written := appendMetadataJSON(nil, message.Metadata{MetaEventType: "ClientRegistered", MetaActor: `Zoë "Z" \ tab	`, "empty": ""})
	checkParseMetadata(t, written)
}

func FuzzParseMetadata(f *testing.F) {
	for _, in := range metadataSamples() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParseMetadata(t, data) })
}

func metadataSamples() []string {
	return []string{
		`{}`, `null`, `{"a":"1"}`, `{"a":"1","b":""}`, `{"a":"1","a":"2"}`,
		`{"actor":"Zoë","event_type":"ClientRegistered","stream_version":"3"}`,
		`{"a":"x\"y"}`, `{"a":"\u00e9"}`, `{ "a" : "1" }`, `{"a":1}`, `{"a":"1",}`, `{"a":"1"`,
		`{"a":"1"}x`, `{"a":"1""b":"2"}`, `{"a":"tab	inside"}`, "{\"a\":\"\xff\"}", `[]`, ``, `{"a":null}`,
	}
}

func checkParseMetadata(t *testing.T, data []byte) {
	t.Helper()
	var want message.Metadata
	wantErr := json.Unmarshal(data, &want)
	if wantErr == nil && want == nil {
		want = message.Metadata{}
	}
	got, err := parseMetadata(data)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("parseMetadata(%q) error %v; encoding/json says %v", data, err, wantErr)
	}
	if err == nil && !maps.Equal(got, want) {
		t.Fatalf("parseMetadata(%q) = %v; encoding/json reads %v", data, got, want)
	}
}
