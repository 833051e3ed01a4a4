package postgres

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// EventColumns are the columns of events an append fills (transaction_id
// and the defaults aside), in the order EncodeRows returns them.
var EventColumns = []string{"uuid", "payload", "metadata", "tenant_id", "stream_type", "stream_id", "stream_version", "event_type"}

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
	q, err := logSchema{}.InsertQuery(wsql.InsertQueryParams{Topic: EventsTopic, Msgs: msgs})
	if err != nil {
		return nil, err
	}
	ids, payloads, metadata := q.Args[0].([]string), q.Args[1].([]string), q.Args[2].([]string)
	tenants, streamTypes, streams := q.Args[3].([]string), q.Args[4].([]string), q.Args[5].([]string)
	versions, types := q.Args[6].([]int32), q.Args[7].([]string)
	rows := make([][]any, len(msgs))
	for i := range msgs {
		tenant, err := uuid.Parse(tenants[i])
		if err != nil {
			return nil, err
		}
		stream, err := uuid.Parse(streams[i])
		if err != nil {
			return nil, err
		}
		rows[i] = []any{ids[i], []byte(payloads[i]), []byte(metadata[i]), tenant, streamTypes[i], stream, versions[i], types[i]}
	}
	return rows, nil
}
