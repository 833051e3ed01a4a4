package eventlog

import (
	"fmt"
	"slices"
	"strconv"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// ProjectorSchema is the schema adapter of the projectors: LogSchema's
// events, read so that one tenant's long transaction holds back no other
// tenant (docs/decisions/skip-ahead-projectors.md).
//
// LogSchema reads only transactions older than every running one, so a
// 100,000-event import held every projector, for every tenant, for as long
// as it ran, and then queued every later event behind its own. This one
// reads every committed transaction in two lanes:
//
//   - ahead: the log after the projector's frontier (transaction, offset),
//     in that order, stepping over the running transactions. The frontier
//     moving past a running transaction, or past one it read only part of,
//     records that transaction in events_offsets_open.
//   - behind: the events of those open transactions once they commit, each
//     from where the projector left it.
//
// A tenant's events stay in order: a batch takes the ahead lane only up to
// the first event of a tenant that has events waiting behind (or whose
// transaction it leaves part-read), so a tenant's later events never pass
// its earlier ones. Transactions writing one stream serialise on the stream
// key, so what is visible has committed before anything that depends on it.
//
// Use it with ProjectorOffsets, which records both lanes when a batch is
// acked. The NATS forwarder and the feed keep LogSchema's strict order.
//
// A projector of rare streams only (RareStreamsOnly) reads the log of those
// events alone, through the index that holds nothing else (migration 0009):
// a client import's 100,000 events cost it nothing, where it read each of
// them (about 13 µs each on the server) to find none it wanted. Its
// frontier and open transactions then track that sub-log; ReadModels knows
// it when it tells how far a projection is.
type ProjectorSchema struct {
	LogSchema
	rare string // the sub-log's condition on events, or ""
}

// NewProjectorSchema reads batches of about batchSize events; streams, when
// not empty, are the stream types the projector wants.
func NewProjectorSchema(batchSize int, streams []string) ProjectorSchema {
	return ProjectorSchema{LogSchema: NewLogSchema(batchSize, streams), rare: rareCondition(streams)}
}

// commonStream is the stream type of nearly every event; the others are
// "rare", and events_rare_streams_idx (migration 0009) holds only them.
const commonStream = "client"

// RareStreamsOnly tells whether a projector of these stream types reads
// the sub-log of rare events only.
func RareStreamsOnly(streams []string) bool {
	return len(streams) > 0 && !slices.Contains(streams, commonStream)
}

// RareEvent is the condition that an events row (its columns prefixed by
// col, "e." or "") is one of the rare events, written as
// events_rare_streams_idx's predicate so that the planner reads that index.
func RareEvent(col string) string { return col + `stream_type <> '` + commonStream + `'` }

// rareCondition keeps a query of events on the rare ones when a projector
// of these stream types reads the rare events only.
func rareCondition(streams []string) string {
	if !RareStreamsOnly(streams) {
		return ""
	}
	return " AND " + RareEvent("")
}

var _ wsql.SchemaAdapter = ProjectorSchema{}

// maxXID8 is the largest transaction id: the end of the last gap.
const maxXID8 = `'18446744073709551615'::xid8`

// Lanes of a batch's rows (ExtraData "lane").
const (
	laneAhead  = 0
	laneBehind = 1
)

// passLimit is how many events of other transactions a batch reads past a
// transaction it could not finish (a committed import's 100,000 events):
// enough for the events other tenants wrote meanwhile to be applied in this
// batch rather than after the import.
func (s ProjectorSchema) passLimit() int { return s.batchSize / 10 }

// behindLimit is how many events of open transactions a batch reads: a
// quarter of a batch, so that a batch busy with another tenant's committed
// import is short, and what arrives meanwhile waits for little.
func (s ProjectorSchema) behindLimit() int { return max(s.batchSize/4, 1) }

func (s ProjectorSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	n, e, b := strconv.Itoa(s.batchSize), strconv.Itoa(s.passLimit()), strconv.Itoa(s.behindLimit())
	args := []any{params.ConsumerGroup}
	payload, metadata, keep := "e.payload", "e.metadata", ""
	if s.streams != nil {
		args = append(args, s.streams)
		wanted := `b.stream_type = ANY($2::text[])`
		payload = `CASE WHEN ` + wanted + ` THEN e.payload END`
		metadata = `CASE WHEN ` + wanted + ` THEN e.metadata END`
		// The last event of each transaction in each lane is kept, so the
		// ack knows how far each transaction was read.
		keep = `WHERE stream_type = ANY($2::text[]) OR tx_last`
	}
	// The CASEs below keep PostgreSQL from evaluating a subquery that would
	// walk a running transaction's invisible rows; a gap's end is a bound
	// of the index scans, not a filter, for the same reason (as a filter,
	// every poll during a 100,000-event import read what the import had
	// written so far: 240 to 470 ms a poll at 50,000, instead of 2 to 3).
	// The lanes carry the columns they need from their own index scans, and
	// a batch's rows are joined with their payloads only once they are
	// chosen: the events a projector skips are read once, and the sorts
	// move narrow rows (a clients poll of 1000 events of an undo cost 8.4
	// ms of server CPU, 6.2 after).
	q := `WITH cur AS (
		SELECT offset_acked AS o, last_processed_transaction_id AS t
		FROM events_offsets WHERE consumer_group = $1 FOR UPDATE
	), running AS (
		SELECT x FROM cur, pg_snapshot_xip(pg_current_snapshot()) AS x WHERE x > cur.t
	), gaps AS (
		SELECT cur.t AS lo_t, cur.o AS lo_o, (SELECT min(x) FROM running) AS hi FROM cur
		UNION ALL
		SELECT r.x, 9223372036854775807, (SELECT min(n.x) FROM running n WHERE n.x > r.x) FROM running r
	), ahead AS (
		SELECT k.transaction_id, k."offset", k.tenant_id, k.stream_type FROM gaps CROSS JOIN LATERAL (
			SELECT transaction_id, "offset", tenant_id, stream_type FROM events
			WHERE (transaction_id, "offset") > (gaps.lo_t, gaps.lo_o) AND transaction_id < coalesce(gaps.hi, ` + maxXID8 + `)` + s.rare + `
			ORDER BY transaction_id, "offset" LIMIT ` + n + `) AS k
		ORDER BY 1, 2 LIMIT ` + n + `
	), cut AS (
		SELECT last.transaction_id AS x FROM (SELECT * FROM ahead ORDER BY 1 DESC, 2 DESC LIMIT 1) AS last
		WHERE EXISTS (SELECT FROM events WHERE transaction_id = last.transaction_id AND "offset" > last."offset"` + s.rare + `)
	), past AS (
		SELECT k.transaction_id, k."offset", k.tenant_id, k.stream_type FROM cut, gaps CROSS JOIN LATERAL (
			SELECT transaction_id, "offset", tenant_id, stream_type FROM events
			WHERE (transaction_id, "offset") > (
					CASE WHEN gaps.lo_t <= cut.x THEN cut.x ELSE gaps.lo_t END,
					CASE WHEN gaps.lo_t <= cut.x THEN 9223372036854775807 ELSE gaps.lo_o END)
				AND transaction_id < coalesce(gaps.hi, ` + maxXID8 + `)` + s.rare + `
			ORDER BY transaction_id, "offset" LIMIT ` + e + `) AS k
		WHERE gaps.hi IS NULL OR gaps.hi > cut.x
		ORDER BY 1, 2 LIMIT ` + e + `
	), open AS (
		SELECT h.transaction_id AS x, h.offset_acked AS o FROM events_offsets_open h
		WHERE h.consumer_group = $1 AND pg_visible_in_snapshot(h.transaction_id, pg_current_snapshot())
	), behind AS (
		SELECT k.transaction_id, k."offset", k.tenant_id, k.stream_type FROM open CROSS JOIN LATERAL (
			SELECT transaction_id, "offset", tenant_id, stream_type FROM events
			WHERE transaction_id = open.x AND "offset" > open.o` + s.rare + ` ORDER BY "offset" LIMIT ` + b + `) AS k
		ORDER BY 1, 2 LIMIT ` + b + `
	), front AS (
		SELECT transaction_id, "offset", false AS past, tenant_id, stream_type FROM ahead
		UNION ALL SELECT transaction_id, "offset", true, tenant_id, stream_type FROM past
	), lanes AS (
		SELECT transaction_id, "offset", stream_type, ` + strconv.Itoa(laneAhead) + ` AS lane FROM (
			SELECT transaction_id, "offset", stream_type, bool_or(
					tenant_id IN (SELECT tenant_id FROM behind) OR
					(past AND tenant_id IN (SELECT fc.tenant_id FROM front fc, cut WHERE fc.transaction_id = cut.x)))
				OVER (ORDER BY transaction_id, "offset") AS stop
			FROM front) AS s
		WHERE NOT stop
		UNION ALL
		SELECT transaction_id, "offset", stream_type, ` + strconv.Itoa(laneBehind) + ` FROM behind
	), batch AS (
		SELECT * FROM (
			SELECT l.*,
				lead(l."offset") OVER (ORDER BY l.lane, l.transaction_id, l."offset") IS NULL AS batch_last,
				lead(l."offset") OVER (PARTITION BY l.lane, l.transaction_id ORDER BY l."offset") IS NULL AS tx_last
			FROM lanes l) AS w
		` + keep + `
	)
	SELECT b."offset", b.transaction_id, e.uuid, ` + payload + ` AS payload, ` + metadata + ` AS metadata, b.stream_type, b.batch_last, b.lane
	FROM batch b JOIN events e ON e.transaction_id = b.transaction_id AND e."offset" = b."offset"
	ORDER BY b.lane, b.transaction_id, b."offset"`
	return wsql.Query{Query: q, Args: args}, nil
}

func (s ProjectorSchema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	var txID wsql.XID8
	var streamType string
	var last bool
	var lane int
	if err := params.Row.Scan(&r.Offset, &txID, &r.UUID, &r.Payload, &r.Metadata, &streamType, &last, &lane); err != nil {
		return wsql.Row{}, fmt.Errorf("scan event row: %w", err)
	}
	if err := setMessage(&r, streamType, last); err != nil {
		return wsql.Row{}, err
	}
	r.ExtraData = map[string]any{"transaction_id": txID, "lane": lane}
	return r, nil
}

// ProjectorOffsets records, when a batch of ProjectorSchema is acked, how
// far each lane was read: the frontier in events_offsets and the open
// transactions in events_offsets_open, in the batch's own transaction, so
// a projector killed between applying and recording neither loses nor
// repeats an event.
type ProjectorOffsets struct {
	wsql.DefaultPostgreSQLOffsetsAdapter
	rare string // as ProjectorSchema's
}

// NewProjectorOffsets keeps the positions, in events_offsets and
// events_offsets_open, of a projector of these stream types.
func NewProjectorOffsets(streams []string) ProjectorOffsets {
	return ProjectorOffsets{DefaultPostgreSQLOffsetsAdapter: OffsetsAdapter(), rare: rareCondition(streams)}
}

var _ wsql.OffsetsAdapter = ProjectorOffsets{}

func (a ProjectorOffsets) AckMessageQuery(params wsql.AckMessageQueryParams) (wsql.Query, error) {
	// Rows holds the whole batch; what was acked ends at LastRow.
	var frontier *wsql.Row
	aheadTx, behindTx := map[wsql.XID8]int64{}, map[wsql.XID8]int64{}
	for i := range params.Rows {
		row := &params.Rows[i]
		tx, _ := row.ExtraData["transaction_id"].(wsql.XID8)
		if lane, _ := row.ExtraData["lane"].(int); lane == laneBehind {
			behindTx[tx] = max(behindTx[tx], row.Offset)
		} else {
			frontier = row
			aheadTx[tx] = max(aheadTx[tx], row.Offset)
		}
		if row.Offset == params.LastRow.Offset {
			break
		}
	}
	var fTx, fOffset any // nil: the frontier stays
	if frontier != nil {
		tx, _ := frontier.ExtraData["transaction_id"].(wsql.XID8)
		fTx, fOffset = strconv.FormatUint(uint64(tx), 10), frontier.Offset
	}
	ax, ao := splitXIDs(aheadTx)
	bx, bo := splitXIDs(behindTx)
	q := `WITH cur AS (
		SELECT last_processed_transaction_id AS t FROM events_offsets WHERE consumer_group = $1
	), moved AS (
		UPDATE events_offsets SET last_processed_transaction_id = $2::text::xid8, offset_acked = $3
		WHERE consumer_group = $1 AND $2::text::xid8 IS NOT NULL
	), passed AS (
		INSERT INTO events_offsets_open (consumer_group, transaction_id, offset_acked)
		SELECT $1, x, 0 FROM cur, pg_snapshot_xip(pg_current_snapshot()) AS x WHERE x > cur.t AND x < $2::text::xid8
		UNION ALL
		SELECT $1, f.x, f.o FROM unnest($4::text[]::xid8[], $5::bigint[]) AS f(x, o)
		WHERE f.x < $2::text::xid8 AND EXISTS (SELECT FROM events WHERE transaction_id = f.x AND "offset" > f.o` + a.rare + `)
		ON CONFLICT DO NOTHING
	), open AS (
		SELECT h.transaction_id AS x, greatest(h.offset_acked, r.o) AS o, r.o IS NOT NULL AS read,
			CASE WHEN pg_visible_in_snapshot(h.transaction_id, pg_current_snapshot()) THEN NOT EXISTS (
				SELECT FROM events WHERE transaction_id = h.transaction_id AND "offset" > greatest(h.offset_acked, r.o)` + a.rare + `)
			ELSE false END AS done
		FROM events_offsets_open h LEFT JOIN unnest($6::text[]::xid8[], $7::bigint[]) AS r(x, o) ON r.x = h.transaction_id
		WHERE h.consumer_group = $1
	), closed AS (
		DELETE FROM events_offsets_open h USING open
		WHERE h.consumer_group = $1 AND h.transaction_id = open.x AND open.done
	)
	UPDATE events_offsets_open h SET offset_acked = open.o FROM open
	WHERE h.consumer_group = $1 AND h.transaction_id = open.x AND open.read AND NOT open.done`
	return wsql.Query{Query: q, Args: []any{params.ConsumerGroup, fTx, fOffset, ax, ao, bx, bo}}, nil
}

func splitXIDs(m map[wsql.XID8]int64) ([]string, []int64) {
	xs, os := make([]string, 0, len(m)), make([]int64, 0, len(m))
	for x, o := range m {
		xs, os = append(xs, strconv.FormatUint(uint64(x), 10)), append(os, o)
	}
	return xs, os
}
