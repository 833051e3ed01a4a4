package projections

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// FeedEvent is an event as the feed gives it to auditors and downstream
// systems: its envelope and its content, personal fields in clear unless
// they were erased.
type FeedEvent struct {
	Position      int64           `json:"position"`
	ID            uuid.UUID       `json:"id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	TenantID      uuid.UUID       `json:"tenant_id"`
	StreamType    string          `json:"stream_type"`
	StreamID      uuid.UUID       `json:"stream_id"`
	StreamVersion int             `json:"stream_version"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Actor         string          `json:"actor"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	Cause         Cause           `json:"cause"`
	PersonalData  string          `json:"personal_data,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// FeedEventOf renders a recorded event for the feed.
func FeedEventOf(e domain.RecordedEvent) (FeedEvent, error) {
	data, err := json.Marshal(e.Event)
	if err != nil {
		return FeedEvent{}, fmt.Errorf("encode event %d: %w", e.Position, err)
	}
	f := FeedEvent{Position: e.Position, ID: e.EventID, Type: e.EventName, SchemaVersion: e.Event.SchemaVersion(),
		TenantID: e.TenantID, StreamType: e.StreamType, StreamID: e.StreamID, StreamVersion: e.StreamVersion,
		OccurredAt: e.OccurredAt, Actor: e.Actor, CorrelationID: e.CorrelationID, CausationID: e.CausationID,
		Cause: CauseOf(e.Envelope), Data: data}
	if e.PersonalDataErased {
		f.PersonalData = Erased
	}
	return f, nil
}
