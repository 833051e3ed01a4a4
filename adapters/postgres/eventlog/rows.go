package eventlog

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/clientreg/clientreg/domain"
)

// BareEventsTable creates bench_events_copy, the ceiling of the append
// benchmarks: the events table's columns and defaults (a sequence value,
// the transaction id, the time per row, as the store's COPY asks for),
// without a key, a constraint, an index or a trigger.
const BareEventsTable = `CREATE TABLE bench_events_copy (
    "offset"        BIGSERIAL,
    uuid            VARCHAR(36),
    payload         JSON,
    metadata        JSON,
    transaction_id  xid8 DEFAULT pg_current_xact_id(),
    tenant_id       UUID,
    stream_type     TEXT,
    stream_id       UUID,
    stream_version  INTEGER,
    event_type      TEXT,
    recorded_at     TIMESTAMPTZ DEFAULT now(),
    import_id       UUID
)`

// EncodeRows returns, without writing them, the rows Save would append for
// agg's pending events: same codec, same envelope, same column values, with
// a throwaway data key for personal events. Benchmarks COPY these rows as
// the baseline for the store.
func (s *EventStore) EncodeRows(ctx context.Context, origin domain.Origin, agg domain.Aggregate) ([][]any, error) {
	var key cipher.AEAD
	msgs := make([]*message.Message, len(agg.PendingEvents()))
	occurredAt := s.now().UTC().Format(time.RFC3339Nano)
	for i, e := range agg.PendingEvents() {
		if key == nil && isPersonal(e) {
			raw := make([]byte, 32)
			if _, err := rand.Read(raw); err != nil {
				return nil, fmt.Errorf("generate data key: %w", err)
			}
			var err error
			if key, err = newAEAD(raw); err != nil {
				return nil, err
			}
		}
		payload, err := encodeEvent(e, key, agg.StreamID())
		if err != nil {
			return nil, err
		}
		msgs[i] = s.newMessage(ctx, origin, 0, agg, agg.Version()+i+1, e, payload, occurredAt)
	}
	rows := make([][]any, len(msgs))
	for i, msg := range msgs {
		row, err := eventRow(msg)
		if err != nil {
			return nil, err
		}
		rows[i] = row
	}
	return rows, nil
}
