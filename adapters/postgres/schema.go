// Package postgres is the PostgreSQL side of the registry: the event log
// (written and read through Watermill), uniqueness reservations, per-subject
// keys, tenancy and the read-model queries.
package postgres

import (
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// EventsTopic is the single Watermill topic of the log.
const EventsTopic = "events"

// Metadata keys of the envelope. Each event carries all of them.
const (
	MetaEventID       = "event_id"
	MetaEventType     = "event_type"
	MetaSchemaVersion = "schema_version"
	MetaTenantID      = "tenant_id"
	MetaStreamType    = "stream_type"
	MetaStreamID      = "stream_id"
	MetaStreamVersion = "stream_version"
	MetaOccurredAt    = "occurred_at"
	MetaActor         = "actor"
	MetaCorrelationID = "correlation_id"
	MetaCausationID   = "causation_id"
	// MetaPosition is added when reading: the event's global position.
	MetaPosition = "position"
)

// maxParams is PostgreSQL's limit of bind parameters per statement.
const maxParams = 65535

// insertColumns are the values bound per event; transaction_id comes from
// the server.
const insertColumns = 8

// MaxEventsPerInsert keeps one multi-row INSERT under the parameter limit.
const MaxEventsPerInsert = maxParams / insertColumns

// logSchema is Watermill's schema adapter for the events table: Watermill's
// own columns plus the event-store columns, filled from each message's
// envelope metadata. The table itself is created by migrations.
type logSchema struct {
	batchSize int
}

var _ wsql.SchemaAdapter = logSchema{}

func (s logSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

func (s logSchema) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	if len(params.Msgs) > MaxEventsPerInsert {
		return wsql.Query{}, fmt.Errorf("%d events in one insert; at most %d fit", len(params.Msgs), MaxEventsPerInsert)
	}
	var sb strings.Builder
	sb.WriteString(`INSERT INTO events (uuid, payload, metadata, tenant_id, stream_type, stream_id, stream_version, event_type, transaction_id) VALUES `)
	args := make([]any, 0, len(params.Msgs)*insertColumns)
	for i, msg := range params.Msgs {
		version, err := strconv.Atoi(msg.Metadata.Get(MetaStreamVersion))
		if err != nil {
			return wsql.Query{}, fmt.Errorf("message %s has no stream version: %w", msg.UUID, err)
		}
		for _, key := range []string{MetaTenantID, MetaStreamType, MetaStreamID, MetaEventType} {
			if msg.Metadata.Get(key) == "" {
				return wsql.Query{}, fmt.Errorf("message %s has no %s in its metadata", msg.UUID, key)
			}
		}
		metadata, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("marshal metadata of %s: %w", msg.UUID, err)
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		n := i * insertColumns
		fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,pg_current_xact_id())", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8)
		args = append(args, msg.UUID, string(msg.Payload), string(metadata),
			msg.Metadata.Get(MetaTenantID), msg.Metadata.Get(MetaStreamType), msg.Metadata.Get(MetaStreamID),
			version, msg.Metadata.Get(MetaEventType))
	}
	return wsql.Query{Query: sb.String(), Args: args}, nil
}

// SelectQuery follows Watermill's PostgreSQL schema: rows are delivered in
// (transaction_id, offset) order and only once every older transaction has
// finished, so no event is skipped by a slow committer.
func (s logSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic: params.Topic, ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	q := `SELECT * FROM (
		WITH last_processed AS (` + next.Query + `)
		SELECT "offset", transaction_id, uuid, payload, metadata FROM events
		WHERE (
			(transaction_id = (SELECT last_processed_transaction_id FROM last_processed)
			 AND "offset" > (SELECT offset_acked FROM last_processed))
			OR transaction_id > (SELECT last_processed_transaction_id FROM last_processed)
		)
		AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
	) AS messages
	ORDER BY transaction_id ASC, "offset" ASC
	LIMIT ` + strconv.Itoa(s.batchSize)
	return wsql.Query{Query: q, Args: next.Args}, nil
}

func (s logSchema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	var txID wsql.XID8
	if err := params.Row.Scan(&r.Offset, &txID, &r.UUID, &r.Payload, &r.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("scan event row: %w", err)
	}
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("unmarshal metadata of event %s: %w", r.UUID, err)
	}
	msg.Metadata.Set(MetaPosition, strconv.FormatInt(r.Offset, 10))
	r.Msg = msg
	r.ExtraData = map[string]any{"transaction_id": txID}
	return r, nil
}

func (s logSchema) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelRepeatableRead
}

// offsetsAdapter stores each projection's position in events_offsets.
func offsetsAdapter() wsql.DefaultPostgreSQLOffsetsAdapter {
	return wsql.DefaultPostgreSQLOffsetsAdapter{
		GenerateMessagesOffsetsTableName: func(string) string { return "events_offsets" },
	}
}
