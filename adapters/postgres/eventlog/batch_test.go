package eventlog

import (
	"encoding/json"
	"maps"
	"strings"
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

// envelopeOf reads stored metadata in place, and must give what the map
// path gives, for metadata it reads in place and for metadata it does not.
func TestEnvelopeOfReadsLikeTheMapPath(t *testing.T) {
	md := message.Metadata{
		MetaEventID: "6f9619ff-8b86-d011-b42d-00c04fc964ff", MetaEventType: "ClientDetailsChanged", MetaSchemaVersion: "1",
		MetaTenantID: "0b5c2a4e-1f9d-4c1e-9a55-7c1d2e3f4a5b", MetaStreamType: "client", MetaStreamID: "8d2f6c1a-3b4e-4f5a-9c8d-7e6f5a4b3c2d",
		MetaStreamVersion: "12", MetaOccurredAt: "2026-11-21T10:00:00.123456789Z", MetaActor: "token-1",
		MetaCorrelationID: "corr", MetaCausationID: "", MetaImportID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", MetaImportRow: "7",
	}
	for name, actor := range map[string]string{"in place": "token-1", "through the map": `Zoë "Z"`} {
		md[MetaActor] = actor
		got, err := EnvelopeOf(appendMetadataJSON(nil, md), 42)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := EnvelopeFrom(md, 42)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got.Actor != actor || got.StreamVersion != 12 || got.ImportRow != 7 || got.OccurredAt.Nanosecond() != 123456789 {
			t.Errorf("%s: envelopeOf = %+v\nwant %+v", name, got, want)
		}
	}
	md[MetaStreamVersion] = "twelve"
	if _, err := EnvelopeOf(appendMetadataJSON(nil, md), 42); err == nil || !strings.Contains(err.Error(), "event 42 has a broken envelope") {
		t.Errorf("a broken envelope reads with error %v", err)
	}
}
