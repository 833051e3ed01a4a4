// Package eventlog is the event log: events appended by COPY through
// Watermill's SQL publisher and read back through its subscriber, the codec
// that seals personal fields under per-subject keys (crypto-shredding), the
// keyring behind them, and the uniqueness reservations written with each
// append. Other storage seals its secrets and hashes its unique values
// through the Keyring's methods, never its keys.
package eventlog

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
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
	// MetaImportID and MetaImportRow name the import and the row of the
	// user's file an event came from (absent on other events).
	MetaImportID  = "import_id"
	MetaImportRow = "import_row"
	// MetaSyncRunID names the sync run an event came from.
	MetaSyncRunID = "sync_run_id"
	// MetaPosition is added when reading: the event's global position.
	MetaPosition = "position"
)

// LogSchema is Watermill's schema adapter for the events table: Watermill's
// own columns plus the event-store columns, filled from each message's
// envelope metadata. The table itself is created by migrations.
type LogSchema struct {
	batchSize int
	// streams, when set, are the stream types the subscriber reads; of the
	// other events it gets only a batch's last, with its stream type and
	// position alone, enough to move past them all.
	streams []string
}

// NewLogSchema reads batches of batchSize events; streams, when not empty,
// are the stream types the subscriber wants.
func NewLogSchema(batchSize int, streams []string) LogSchema {
	return LogSchema{batchSize: batchSize, streams: streams}
}

var _ wsql.SchemaAdapter = LogSchema{}

func (s LogSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// InsertQuery hands the publisher the whole batch as a COPY, which the
// executor it is created on (logWriter) streams through pgx's CopyFrom.
func (s LogSchema) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	return wsql.Query{Query: copyStatement, Args: []any{&eventRows{msgs: params.Msgs}}}, nil
}

// appendMetadataJSON encodes metadata as a JSON object, keys sorted like
// encoding/json does, without its reflection cost (it dominated large
// batches). The envelope's keys are looked up in their sorted order;
// only metadata with other keys has its keys sorted.
func appendMetadataJSON(buf []byte, md message.Metadata) []byte {
	if out, written := appendObject(buf, envelopeKeys, md); written == len(md) {
		return out
	}
	out, _ := appendObject(buf, slices.Sorted(maps.Keys(md)), md)
	return out
}

// envelopeKeys are the metadata keys the store writes, sorted.
var envelopeKeys = slices.Sorted(slices.Values([]string{
	MetaEventID, MetaEventType, MetaSchemaVersion, MetaTenantID, MetaStreamType, MetaStreamID, MetaStreamVersion,
	MetaOccurredAt, MetaActor, MetaCorrelationID, MetaCausationID, MetaImportID, MetaImportRow, MetaSyncRunID,
}))

// appendObject appends the JSON object of md's values under keys, in
// their order, and says how many of them md had.
func appendObject(buf []byte, keys []string, md message.Metadata) (_ []byte, written int) {
	buf = append(buf, '{')
	for _, k := range keys {
		v, ok := md[k]
		if !ok {
			continue
		}
		if written > 0 {
			buf = append(buf, ',')
		}
		written++
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendJSONString(buf, v)
	}
	return append(buf, '}'), written
}

func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			quoted, _ := json.Marshal(s) // rare: escaping or non-ASCII needed
			return append(buf, quoted...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// MetaBatchLast is added when reading, like MetaPosition: "true" on the
// last event of the batch the subscriber selected, "false" on the others.
// Watermill hands a batch over one message at a time and commits it after
// the last one is acked; the projector needs to know which one that is to
// apply the whole batch at once.
const MetaBatchLast = "batch_last"

// SelectQuery follows Watermill's PostgreSQL schema: rows are delivered in
// (transaction_id, offset) order and only once every older transaction has
// finished, so no event is skipped by a slow committer. The inner query is
// Watermill's, unchanged; the outer ones flag the batch's last row (the
// window runs over the rows LIMIT kept, not the whole backlog) and, for a
// subscriber of some stream types, leave out the other events but the
// last: acking that one moves the subscriber past them all, without the
// cost of handing each over (a bulk import's 100,000 client events, to the
// projections of lists and imports).
func (s LogSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic: params.Topic, ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	args, payload, metadata, filter := next.Args, "payload", "metadata", ""
	if s.streams != nil {
		args = append(slices.Clone(args), s.streams)
		wanted := `stream_type = ANY($` + strconv.Itoa(len(args)) + `::text[])`
		payload = `CASE WHEN ` + wanted + ` THEN payload END`
		metadata = `CASE WHEN ` + wanted + ` THEN metadata END`
		filter = `WHERE ` + wanted + ` OR batch_last`
	}
	q := `WITH last_processed AS (` + next.Query + `)
	SELECT "offset", transaction_id, uuid, ` + payload + `, ` + metadata + `, stream_type, batch_last
	FROM (
		SELECT *, lead("offset") OVER (ORDER BY transaction_id ASC, "offset" ASC) IS NULL AS batch_last
		FROM (
			SELECT "offset", transaction_id, uuid, payload, metadata, stream_type FROM events
			WHERE (transaction_id, "offset") > (
				(SELECT last_processed_transaction_id FROM last_processed),
				(SELECT offset_acked FROM last_processed))
			AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
			ORDER BY transaction_id ASC, "offset" ASC
			LIMIT ` + strconv.Itoa(s.batchSize) + `
		) AS batch
	) AS flagged
	` + filter + `
	ORDER BY transaction_id ASC, "offset" ASC`
	return wsql.Query{Query: q, Args: args}, nil
}

func (s LogSchema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	var txID wsql.XID8
	var streamType string
	var last bool
	if err := params.Row.Scan(&r.Offset, &txID, &r.UUID, &r.Payload, &r.Metadata, &streamType, &last); err != nil {
		return wsql.Row{}, fmt.Errorf("scan event row: %w", err)
	}
	if err := setMessage(&r, streamType, last); err != nil {
		return wsql.Row{}, err
	}
	r.ExtraData = map[string]any{"transaction_id": txID}
	return r, nil
}

// setMessage makes the Watermill message of a scanned event row.
func setMessage(r *wsql.Row, streamType string, last bool) error {
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if r.Metadata == nil { // an event of a stream the subscriber skips
		msg.Metadata = message.Metadata{MetaStreamType: streamType}
	} else {
		md, err := parseMetadata(r.Metadata)
		if err != nil {
			return fmt.Errorf("unmarshal metadata of event %s: %w", r.UUID, err)
		}
		msg.Metadata = md
	}
	msg.Metadata.Set(MetaPosition, strconv.FormatInt(r.Offset, 10))
	msg.Metadata.Set(MetaBatchLast, strconv.FormatBool(last))
	r.Msg = msg
	return nil
}

// parseMetadata reads back a metadata object. What appendMetadataJSON
// writes (string values, no whitespace, rarely an escape) is parsed by
// hand: encoding/json's reflection cost about 4µs per event, a good part
// of the time Watermill takes to hand a batch over. Anything else goes
// through encoding/json, so both give the same map.
func parseMetadata(data []byte) (message.Metadata, error) {
	if md, ok := parsePlainMetadata(data); ok {
		return md, nil
	}
	var md message.Metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return nil, err
	}
	if md == nil { // the JSON was null
		md = message.Metadata{}
	}
	return md, nil
}

// parsePlainMetadata parses {"key":"value",...} whose strings hold no
// escape and no control character; ok is false for anything else.
func parsePlainMetadata(data []byte) (md message.Metadata, ok bool) {
	var buf [24]metadataPair
	pairs, ok := plainPairs(data, buf[:0])
	if !ok {
		return nil, false
	}
	md = make(message.Metadata, max(16, len(pairs)))
	for _, p := range pairs {
		md[string(p.key)] = string(p.value)
	}
	return md, true
}

// metadataPair is a key and its value in stored metadata, both still in
// the row's bytes.
type metadataPair struct{ key, value []byte }

// plainPairs appends to pairs the keys and values of {"key":"value",...}
// whose strings hold no escape and no control character; ok is false for
// anything else.
func plainPairs(data []byte, pairs []metadataPair) (_ []metadataPair, ok bool) {
	rest, ok := bytes.CutPrefix(data, []byte{'{'})
	if !ok {
		return nil, false
	}
	if string(rest) == "}" {
		return pairs, true
	}
	for {
		var p metadataPair
		if p.key, rest, ok = cutPlainString(rest); !ok {
			return nil, false
		}
		if rest, ok = bytes.CutPrefix(rest, []byte{':'}); !ok {
			return nil, false
		}
		if p.value, rest, ok = cutPlainString(rest); !ok {
			return nil, false
		}
		pairs = append(pairs, p)
		if string(rest) == "}" {
			return pairs, true
		}
		if rest, ok = bytes.CutPrefix(rest, []byte{','}); !ok {
			return nil, false
		}
	}
}

// cutPlainString reads a JSON string at the start of b, if it needs no
// unescaping and is valid UTF-8 (encoding/json would replace bad bytes).
func cutPlainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	raw := b[1 : 1+end]
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return nil, nil, false
		}
	}
	if !utf8.Valid(raw) {
		return nil, nil, false
	}
	return raw, b[2+end:], true
}

func (s LogSchema) SubscribeIsolationLevel() stdsql.IsolationLevel {
	return stdsql.LevelRepeatableRead
}

// OffsetsAdapter stores each projection's position in events_offsets.
func OffsetsAdapter() wsql.DefaultPostgreSQLOffsetsAdapter {
	return wsql.DefaultPostgreSQLOffsetsAdapter{
		GenerateMessagesOffsetsTableName: func(string) string { return "events_offsets" },
	}
}

// SubscriberBeginner begins the subscribers' transactions with two
// settings.
//
// Custom plans only: the log and the read models grow by a million rows in
// one bulk import; a generic plan the connection cached while they were
// small (a bitmap scan of the whole backlog to find the next batch, a
// sequential scan to find the rows to update) would stay in use, since
// nothing invalidates it until the table is analyzed.
//
// No wait for the disk at commit: what a subscriber commits (a read model
// and its offset, or a forwarding offset) can always be done again from the
// log, and is, together, if a crash loses the last commits. Four projectors
// each waiting for a WAL flush per batch were much of a bulk import's
// catch-up.
func SubscriberBeginner(pool *pgxpool.Pool) wsql.Beginner {
	return subscriberSettings{wsql.BeginnerFromPgx(pool)}
}

type subscriberSettings struct{ wsql.Beginner }

func (b subscriberSettings) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (wsql.Tx, error) {
	tx, err := b.Beginner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL synchronous_commit = off`); err != nil {
		return nil, errors.Join(err, tx.Rollback())
	}
	return tx, nil
}
