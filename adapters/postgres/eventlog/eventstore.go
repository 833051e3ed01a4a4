package eventlog

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// EventStore appends events through a Watermill SQL publisher bound to the
// command's own transaction, and folds streams back into aggregates.
type EventStore struct {
	pool   *pgxpool.Pool
	keys   *Keyring
	logger watermill.LoggerAdapter
	now    func() time.Time
	group  groupCommit // saves of new streams sent together (save_new.go)
}

// NewEventStore builds the store over a pool and the deployment's keyring.
func NewEventStore(pool *pgxpool.Pool, keys *Keyring, logger watermill.LoggerAdapter) *EventStore {
	return &EventStore{pool: pool, keys: keys, logger: logger, now: time.Now}
}

// Keys is the deployment's keyring, for the storage beside the log that
// seals secrets or hashes unique values the way the log does.
func (s *EventStore) Keys() *Keyring { return s.keys }

// Load folds each aggregate's stream of the tenant into it. A stream that
// does not exist (or belongs to another tenant) leaves its aggregate at
// version 0. Many aggregates are read together, up to loadChunk streams a
// query, rather than one query each (a list's deletion loads all of its
// clients).
func (s *EventStore) Load(ctx context.Context, tenantID uuid.UUID, aggs ...domain.Aggregate) error {
	if len(aggs) == 1 {
		events, err := s.ReadStream(ctx, tenantID, aggs[0].StreamID())
		if err != nil {
			return err
		}
		for _, e := range events {
			aggs[0].Apply(e)
		}
		return nil
	}
	byStream := make(map[uuid.UUID][]domain.Aggregate, len(aggs))
	var streams [][16]byte // each once
	for _, agg := range aggs {
		id := agg.StreamID()
		if _, seen := byStream[id]; !seen {
			streams = append(streams, id)
		}
		byStream[id] = append(byStream[id], agg)
	}
	for ids := range slices.Chunk(streams, loadChunk) {
		rows, err := s.pool.Query(ctx, `SELECT `+StoredColumns+` FROM events
			WHERE tenant_id = $1 AND stream_id = ANY($2) ORDER BY stream_id, stream_version`, tenantID, ids)
		if err != nil {
			return fmt.Errorf("read %d streams: %w", len(ids), err)
		}
		events, err := s.DecodeRows(ctx, rows)
		if err != nil {
			return err
		}
		for _, e := range events {
			for _, agg := range byStream[e.StreamID] {
				agg.Apply(e)
			}
		}
	}
	return nil
}

// loadChunk is how many streams Load reads with one query.
const loadChunk = 5000

// ReadStream returns a tenant's stream in version order, decoded.
func (s *EventStore) ReadStream(ctx context.Context, tenantID, streamID uuid.UUID) ([]domain.RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+StoredColumns+` FROM events
		WHERE tenant_id = $1 AND stream_id = $2 ORDER BY stream_version`, tenantID, streamID)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	return s.DecodeRows(ctx, rows)
}

// DecodeRows decodes rows of storedColumns, loading the data keys of their
// subjects in one query.
func (s *EventStore) DecodeRows(ctx context.Context, rows pgx.Rows) ([]domain.RecordedEvent, error) {
	all, subjects, err := ScanStored(rows)
	if err != nil {
		return nil, err
	}
	keys := SubjectKeys{keyring: s.keys, q: s.pool}
	if err := keys.Prefetch(ctx, subjects); err != nil {
		return nil, err
	}
	return keys.DecodeStored(all)
}

// StoredColumns are the columns of an event row that decoding reads.
const StoredColumns = `"offset", tenant_id, stream_id, payload, metadata`

// StoredEvent is an event row as read from the log.
type StoredEvent struct {
	Position int64
	Payload  []byte
	Metadata []byte
}

// ScanStored reads rows of storedColumns followed by the columns scanned
// into last (which end up holding the last row's values). It also returns
// the subjects whose keys may decode the events: a personal event is sealed
// under its own stream's key, so the row's stream tells the subject without
// parsing the metadata, which decodeStored does on every CPU.
func ScanStored(rows pgx.Rows, last ...any) ([]StoredEvent, []SubjectRef, error) {
	defer rows.Close()
	var all []StoredEvent
	var subjects []SubjectRef
	for rows.Next() {
		var e StoredEvent
		var tenantID, streamID [16]byte
		if err := rows.Scan(append([]any{&e.Position, &tenantID, &streamID, &e.Payload, &e.Metadata}, last...)...); err != nil {
			return nil, nil, fmt.Errorf("read events: %w", err)
		}
		all = append(all, e)
		subjects = addSubject(subjects, e.Payload, tenantID, streamID)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	return all, subjects, nil
}

// addSubject adds the event's stream to the subjects whose keys are asked
// for when its payload may be sealed (rows of one stream come together, so
// comparing with the last one added keeps each once).
func addSubject(subjects []SubjectRef, payload []byte, tenantID, streamID [16]byte) []SubjectRef {
	if MayBeSealed(payload) && (len(subjects) == 0 || subjects[len(subjects)-1].subjectID != streamID) {
		subjects = append(subjects, SubjectRef{tenantID, streamID})
	}
	return subjects
}

// ScanFirstPass is ScanStored for a rebuild's first pass into a loader: the
// rows are StoredColumns, then event_type, then the columns scanned into
// last. A row is kept when starts says its type begins its stream, or when
// its stream began in an earlier row; the others are deferred: only their
// positions are kept, and their subjects' keys are not asked for. positions
// holds every row's, in the order read.
func ScanFirstPass(rows pgx.Rows, starts func(eventType string) bool, last ...any) (kept []StoredEvent, deferred map[int64]bool,
	positions []int64, subjects []SubjectRef, err error) {
	defer rows.Close()
	began := map[[16]byte]bool{}
	deferred = map[int64]bool{}
	var eventType []byte // scanned in place: only compared
	for rows.Next() {
		var e StoredEvent
		var tenantID, streamID [16]byte
		if err := rows.Scan(append([]any{&e.Position, &tenantID, &streamID, &e.Payload, &e.Metadata, &eventType}, last...)...); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("read events: %w", err)
		}
		positions = append(positions, e.Position)
		if !began[streamID] {
			if !starts(string(eventType)) {
				deferred[e.Position] = true
				continue
			}
			began[streamID] = true
		}
		kept = append(kept, e)
		subjects = addSubject(subjects, e.Payload, tenantID, streamID)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read events: %w", err)
	}
	return kept, deferred, positions, subjects, nil
}

// DecodeStored decodes rows of the log on every CPU. The keys must have
// been prefetched.
func (k *SubjectKeys) DecodeStored(all []StoredEvent) ([]domain.RecordedEvent, error) {
	return InParallel(len(all), func(i int) (domain.RecordedEvent, error) {
		env, err := EnvelopeOf(all[i].Metadata, all[i].Position)
		if err != nil {
			return domain.RecordedEvent{}, err
		}
		return k.DecodePrefetched(all[i].Payload, env)
	})
}

// Save appends the pending events of every aggregate in one transaction,
// each stream at the version it was loaded at, together with the unique
// values the aggregates hold afterwards. It returns the global position of
// the last event appended (0 when there was nothing to append).
func (s *EventStore) Save(ctx context.Context, origin domain.Origin, aggs ...domain.Aggregate) (int64, error) {
	if allNew(aggs) && pendingEvents(aggs) <= maxNewPipelined {
		position, ok, err := s.saveNew(ctx, origin, aggs)
		if err != nil || ok {
			return position, err
		}
	}
	return s.saveWith(ctx, origin, func(tx pgx.Tx) (int64, error) {
		return s.SaveInTx(ctx, tx, origin, aggs...)
	})
}

// maxNewPipelined is the most events saveNew takes: its INSERT from
// arrays costs what COPY does at a hundred events, and twice as much at
// ten thousand (one new stream of 10,000 events: 182-193 ms against 96).
const maxNewPipelined = 100

func pendingEvents(aggs []domain.Aggregate) int {
	n := 0
	for _, agg := range aggs {
		n += len(agg.PendingEvents())
	}
	return n
}

// allNew tells whether every aggregate is a stream not yet in the log.
func allNew(aggs []domain.Aggregate) bool {
	for _, agg := range aggs {
		if agg.Version() != 0 {
			return false
		}
	}
	return len(aggs) > 0
}

// saveWith runs save in a transaction of its own, again after a deadlock,
// and explains a lost race for a stream.
func (s *EventStore) saveWith(ctx context.Context, origin domain.Origin, save func(pgx.Tx) (int64, error)) (int64, error) {
	var position int64
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			position, err = save(tx)
			return err
		})
		// Two saves that swap unique values (A takes B's email while B takes
		// A's) can deadlock on the reservations; the loser rolled back
		// entirely, so running the same save again is safe.
		if !IsDeadlock(err) || attempt == 3 {
			break
		}
	}
	if err != nil {
		return 0, s.ExplainConflict(ctx, origin.TenantID, err)
	}
	return position, nil
}

func IsDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// SaveInTx is Save on a transaction the caller owns, for commands that must
// write something else atomically with their events.
func (s *EventStore) SaveInTx(ctx context.Context, tx pgx.Tx, origin domain.Origin, aggs ...domain.Aggregate) (int64, error) {
	changes := make([]commands.RowChange, len(aggs))
	for i, agg := range aggs {
		changes[i] = commands.RowChange{Aggregate: agg}
	}
	position, err := s.AppendInTx(ctx, tx, origin, changes)
	if err != nil || position == 0 {
		return position, err
	}
	var released []uuid.UUID
	for _, agg := range aggs {
		switch {
		case len(agg.PendingEvents()) == 0:
		case len(agg.UniqueKeys()) == 0:
			released = append(released, agg.StreamID())
		default:
			if err := s.SyncReservations(ctx, tx, origin.TenantID, agg); err != nil {
				return 0, err
			}
		}
	}
	return position, ReleaseReservations(ctx, tx, origin.TenantID, released)
}

// ReleaseReservations gives up every unique value the owners hold, in one
// statement: deleting a list or undoing an import releases the values of
// thousands of clients at once.
func ReleaseReservations(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, owners []uuid.UUID) error {
	if len(owners) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM reservations WHERE tenant_id = $1 AND owner_id = ANY($2)`, tenantID, owners); err != nil {
		return fmt.Errorf("release unique values: %w", err)
	}
	return nil
}

// AppendInTx writes the pending events of many aggregates in one statement,
// each event naming the import row it came from when there is one. It does
// not touch reservations: callers claim unique values themselves. It
// returns the position of the last event (0 when nothing was pending).
func (s *EventStore) AppendInTx(ctx context.Context, tx pgx.Tx, origin domain.Origin, changes []commands.RowChange) (int64, error) {
	published, err := s.appendWith(ctx, txAppender{tx: tx, logWriter: newLogWriter(tx)}, origin, changes)
	if err != nil || !published {
		return 0, err
	}
	var position int64
	if err := tx.QueryRow(ctx, `SELECT currval(pg_get_serial_sequence('events', 'offset'))`).Scan(&position); err != nil {
		return 0, fmt.Errorf("read position: %w", err)
	}
	return position, nil
}

// appender is where an append goes: a transaction (COPY), or the pipeline
// of a one-round-trip save.
type appender interface {
	Querier
	RowsQuerier
	wsql.ContextExecutor
}

type txAppender struct {
	tx pgx.Tx
	logWriter
}

func (a txAppender) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return a.tx.Exec(ctx, sql, args...)
}

func (a txAppender) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return a.tx.Query(ctx, sql, args...)
}

func (a txAppender) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return a.tx.QueryRow(ctx, sql, args...)
}

// appendWith seals and publishes the pending events of changes through to;
// it tells whether there were any.
func (s *EventStore) appendWith(ctx context.Context, to appender, origin domain.Origin, changes []commands.RowChange) (bool, error) {
	// Events are split first: only streams with personal data to seal need
	// their key (an undo's deletions have none).
	type pendingEvent struct {
		change, index int
		event         domain.Event
	}
	var pending []pendingEvent
	for i, ch := range changes {
		for j, e := range ch.Aggregate.PendingEvents() {
			pending = append(pending, pendingEvent{change: i, index: j, event: e})
		}
	}
	if len(pending) == 0 {
		return false, nil
	}
	if err := domain.CheckOriginText(origin); err != nil {
		return false, err
	}
	splits, err := InParallel(len(pending), func(i int) (splitPayload, error) {
		if err := domain.CheckEventText(pending[i].event); err != nil { // a door missed a text the log cannot hold
			return splitPayload{}, err
		}
		return splitEvent(pending[i].event)
	})
	if err != nil {
		return false, err
	}
	sealing := map[uuid.UUID]bool{}
	for i, p := range pending {
		if splits[i].personal != nil {
			sealing[changes[p.change].Aggregate.StreamID()] = true
		}
	}
	keys, err := s.dataKeys(ctx, to, origin.TenantID, changes, sealing)
	if err != nil {
		return false, err
	}
	occurredAt := s.now().UTC().Format(time.RFC3339Nano)
	msgs, err := InParallel(len(pending), func(i int) (*message.Message, error) {
		p, ch := pending[i], changes[pending[i].change]
		agg := ch.Aggregate
		payload, err := splits[i].seal(keys[agg.StreamID()], agg.StreamID())
		if err != nil {
			return nil, err
		}
		return s.newMessage(ctx, origin, ch.Row, agg, agg.Version()+p.index+1, p.event, payload, occurredAt), nil
	})
	if err != nil {
		return false, err
	}

	publisher, err := wsql.NewPublisher(to, wsql.PublisherConfig{SchemaAdapter: LogSchema{}}, s.logger)
	if err != nil {
		return false, fmt.Errorf("create publisher: %w", err)
	}
	if err := publisher.Publish(EventsTopic, msgs...); err != nil {
		return false, err
	}
	return true, nil
}

// dataKeys finds the data key of every stream with personal data to seal:
// new streams get a key, all created in one statement; existing ones are
// loaded in one query. An erased subject takes no new personal data: a new
// key would leave its older sealed events under the wrong key.
func (s *EventStore) dataKeys(ctx context.Context, tx appender, tenantID uuid.UUID, changes []commands.RowChange, sealing map[uuid.UUID]bool) (map[uuid.UUID]cipher.AEAD, error) {
	var fresh, known []uuid.UUID
	for _, ch := range changes {
		agg := ch.Aggregate
		if !sealing[agg.StreamID()] {
			continue
		}
		if agg.Version() == 0 {
			fresh = append(fresh, agg.StreamID())
		} else {
			known = append(known, agg.StreamID())
		}
	}
	keys := map[uuid.UUID]cipher.AEAD{}
	if len(known) > 0 {
		var err error
		if keys, err = s.keys.SubjectKeysOf(ctx, tx, tenantID, known); err != nil {
			return nil, err
		}
		for _, id := range known {
			if keys[id] == nil {
				return nil, fmt.Errorf("%w: %s", domain.ErrPersonalDataErased, id)
			}
		}
	}
	if len(fresh) > 0 {
		created, err := s.keys.createSubjectKeys(ctx, tx, tenantID, fresh)
		if err != nil {
			return nil, err
		}
		maps.Copy(keys, created)
	}
	return keys, nil
}

func (s *EventStore) newMessage(ctx context.Context, origin domain.Origin, row int, agg domain.Aggregate, version int, e domain.Event, payload []byte, occurredAt string) *message.Message {
	id := uuid.New().String()
	msg := message.NewMessage(id, payload)
	msg.SetContext(ctx)
	msg.Metadata = message.Metadata{
		MetaEventID:       id,
		MetaEventType:     e.EventName(),
		MetaSchemaVersion: strconv.Itoa(e.SchemaVersion()),
		MetaTenantID:      origin.TenantID.String(),
		MetaStreamType:    agg.StreamType(),
		MetaStreamID:      agg.StreamID().String(),
		MetaStreamVersion: strconv.Itoa(version),
		MetaOccurredAt:    occurredAt,
		MetaActor:         origin.Actor,
		MetaCorrelationID: origin.CorrelationID,
		MetaCausationID:   origin.CausationID,
	}
	if origin.ImportID != uuid.Nil {
		msg.Metadata[MetaImportID] = origin.ImportID.String()
		if row > 0 {
			msg.Metadata[MetaImportRow] = strconv.Itoa(row)
		}
	}
	if origin.SyncRunID != uuid.Nil {
		msg.Metadata[MetaSyncRunID] = origin.SyncRunID.String()
	}
	return msg
}

// SyncReservations makes the reservation table hold exactly the aggregate's
// unique keys: what it gave up is released, what it now holds is claimed.
// A key another stream holds is a DuplicateError naming the field. Waiting on
// a concurrent claim of the same key is what serialises two registrations
// of one email.
func (s *EventStore) SyncReservations(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, agg domain.Aggregate) error {
	keys := agg.UniqueKeys()
	kinds, hashes := s.reservationKeys(tenantID, agg)
	owner := agg.StreamID()

	batch := &pgx.Batch{}
	batch.Queue(`DELETE FROM reservations r WHERE r.tenant_id = $1 AND r.owner_id = $2
		AND NOT EXISTS (SELECT 1 FROM unnest($3::text[], $4::bytea[]) AS k(kind, key_hash)
		                WHERE k.kind = r.kind AND k.key_hash = r.key_hash)`, tenantID, owner, kinds, hashes)
	batch.Queue(`INSERT INTO reservations (tenant_id, kind, key_hash, owner_id)
		SELECT $1, k.kind, k.key_hash, $2 FROM unnest($3::text[], $4::bytea[]) AS k(kind, key_hash)
		ORDER BY 2, 3
		ON CONFLICT DO NOTHING`, tenantID, owner, kinds, hashes)
	// One probe of the primary key a value: as a join, a table the
	// statistics think empty is read whole (migration 0022).
	taken := batch.Queue(`SELECT r.kind, r.key_hash, r.owner_id
		FROM unnest($3::text[], $4::bytea[]) AS k(kind, key_hash)
		CROSS JOIN LATERAL (SELECT r.kind, r.key_hash, r.owner_id FROM reservations r
			WHERE r.tenant_id = $1 AND r.kind = k.kind AND r.key_hash = k.key_hash LIMIT 1) r
		WHERE r.owner_id <> $2`, tenantID, owner, kinds, hashes)
	var dup *domain.DuplicateError
	taken.Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var kind string
			var hash []byte
			var other uuid.UUID
			if err := rows.Scan(&kind, &hash, &other); err != nil {
				return err
			}
			for i, k := range keys {
				if k.Kind == kind && string(hashes[i]) == string(hash) && dup == nil {
					dup = &domain.DuplicateError{Field: k.Field, OwnerID: other.String()}
				}
			}
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("reserve unique values: %w", err)
	}
	if dup != nil {
		return dup
	}
	return nil
}

// reservationKeys are the kinds and hashes of the aggregate's unique keys.
func (s *EventStore) reservationKeys(tenantID uuid.UUID, agg domain.Aggregate) (kinds []string, hashes [][]byte) {
	kinds, hashes = []string{}, [][]byte{}
	for _, k := range agg.UniqueKeys() {
		kinds = append(kinds, k.Kind)
		hashes = append(hashes, s.keys.ReservationHash(tenantID, k.Kind, k.Value))
	}
	return kinds, hashes
}

var streamKeyDetail = regexp.MustCompile(`\(stream_id, stream_version\)=\(([0-9a-f-]{36}), (\d+)\)`)

// ExplainConflict turns a unique violation on the stream key into a
// ConflictError that tells the current version of the stream.
func (s *EventStore) ExplainConflict(ctx context.Context, tenantID uuid.UUID, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" || pgErr.ConstraintName != "events_stream_version_key" {
		return err
	}
	m := streamKeyDetail.FindStringSubmatch(pgErr.Detail)
	if m == nil {
		return &domain.ConflictError{StreamID: "unknown", CurrentVersion: -1}
	}
	expected, _ := strconv.Atoi(m[2])
	var current int
	if qerr := s.pool.QueryRow(ctx, `SELECT coalesce(max(stream_version), 0) FROM events WHERE tenant_id = $1 AND stream_id = $2`,
		tenantID, m[1]).Scan(&current); qerr != nil {
		return errors.Join(&domain.ConflictError{StreamID: m[1], ExpectedVersion: expected - 1, CurrentVersion: -1}, qerr)
	}
	return &domain.ConflictError{StreamID: m[1], ExpectedVersion: expected - 1, CurrentVersion: current}
}

// SubjectKeys decodes events, loading each subject's key at most once. A
// batch of events loads the keys of all its subjects first, one query per
// tenant (prefetch); decode then only unwraps them, with no round trip.
type SubjectKeys struct {
	keyring *Keyring
	q       KeyQuerier
	// cache is keyed by subject alone: a stream id belongs to the one
	// tenant that created it (events are unique on stream id and version).
	// A nil key means the subject's key was erased.
	cache map[uuid.UUID]cipher.AEAD
}

// NewSubjectKeys decodes through q with the keyring's subject keys; cache,
// when not nil, holds keys already loaded (SubjectKeysOf's answer).
func NewSubjectKeys(keyring *Keyring, q KeyQuerier, cache map[uuid.UUID]cipher.AEAD) *SubjectKeys {
	return &SubjectKeys{keyring: keyring, q: q, cache: cache}
}

// KeyQuerier is what subjectKeys reads keys through: a pool or a transaction.
type KeyQuerier interface {
	Querier
	RowsQuerier
}

// SubjectRef names the subject whose key decodes an event.
type SubjectRef struct {
	tenantID, subjectID uuid.UUID
}

func (k *SubjectKeys) Decode(ctx context.Context, payload []byte, env domain.Envelope) (domain.RecordedEvent, error) {
	return k.decodeWith(payload, env, func(tenantID, subjectID uuid.UUID) (cipher.AEAD, error) {
		return k.key(ctx, tenantID, subjectID)
	})
}

// DecodePrefetched decodes with the keys prefetch loaded, and fails rather
// than query a missing one: it neither queries nor writes the cache, so
// several goroutines may use it at once.
func (k *SubjectKeys) DecodePrefetched(payload []byte, env domain.Envelope) (domain.RecordedEvent, error) {
	return k.decodeWith(payload, env, func(_, subjectID uuid.UUID) (cipher.AEAD, error) {
		key, ok := k.cache[subjectID]
		if !ok {
			return nil, fmt.Errorf("event %d: the key of subject %s was not prefetched", env.Position, subjectID)
		}
		return key, nil
	})
}

func (k *SubjectKeys) decodeWith(payload []byte, env domain.Envelope,
	keyOf func(tenantID, subjectID uuid.UUID) (cipher.AEAD, error)) (domain.RecordedEvent, error) {
	target, ok := domain.CurrentEvent(env.EventName, env.SchemaVersion)
	if !ok {
		return domain.RecordedEvent{}, fmt.Errorf("event %d: unknown type %s v%d", env.Position, env.EventName, env.SchemaVersion)
	}
	var key cipher.AEAD
	if isPersonal(target) && MayBeSealed(payload) {
		var err error
		if key, err = keyOf(env.TenantID, env.StreamID); err != nil {
			return domain.RecordedEvent{}, err
		}
	}
	e, erased, err := decodeEvent(target, env.SchemaVersion, payload, key, env.StreamID)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("event %d: %w", env.Position, err)
	}
	env.PersonalDataErased = erased
	return domain.RecordedEvent{Envelope: env, Event: e}, nil
}

func (k *SubjectKeys) key(ctx context.Context, tenantID, subjectID uuid.UUID) (cipher.AEAD, error) {
	if key, ok := k.cache[subjectID]; ok {
		return key, nil
	}
	key, err := k.keyring.subjectKey(ctx, k.q, tenantID, subjectID)
	if errors.Is(err, errNoSubjectKey) {
		key, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	k.remember(subjectID, key)
	return key, nil
}

// PersonalSubject tells whose key decoding an event with this metadata
// needs, if any, without looking at the payload.
func PersonalSubject(md map[string]string) (SubjectRef, bool) {
	version, err := strconv.Atoi(md[MetaSchemaVersion])
	if err != nil {
		return SubjectRef{}, false
	}
	target, ok := domain.CurrentEvent(md[MetaEventType], version)
	if !ok || !isPersonal(target) {
		return SubjectRef{}, false
	}
	tenantID, tenantErr := uuid.Parse(md[MetaTenantID])
	subjectID, subjectErr := uuid.Parse(md[MetaStreamID])
	if tenantErr != nil || subjectErr != nil {
		return SubjectRef{}, false // decode reports the broken envelope
	}
	return SubjectRef{tenantID, subjectID}, true
}

// Prefetch loads, with one query, the keys of the subjects not cached yet;
// a subject without a key (erased) is remembered as such. A batch of the
// log may span tenants, so subjects are matched on (tenant, subject) pairs.
// Ids go as [16]byte, which pgx encodes and scans without the strings
// uuid.UUID goes through.
func (k *SubjectKeys) Prefetch(ctx context.Context, subjects []SubjectRef) error {
	var tenants, ids [][16]byte
	missing := map[uuid.UUID]bool{}
	for _, s := range subjects {
		if _, cached := k.cache[s.subjectID]; !cached && !missing[s.subjectID] {
			missing[s.subjectID] = true
			tenants, ids = append(tenants, s.tenantID), append(ids, s.subjectID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := k.q.Query(ctx, `SELECT k.subject_id, k.wrapped_key
		FROM unnest($1::uuid[], $2::uuid[]) AS s(tenant_id, subject_id)
		JOIN subject_keys k ON k.tenant_id = s.tenant_id AND k.subject_id = s.subject_id`, tenants, ids)
	if err != nil {
		return fmt.Errorf("load data keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id [16]byte
		var wrapped []byte
		if err := rows.Scan(&id, &wrapped); err != nil {
			return fmt.Errorf("load data keys: %w", err)
		}
		key, err := k.keyring.unwrap(wrapped, id)
		if err != nil {
			return err
		}
		k.remember(id, key)
		delete(missing, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load data keys: %w", err)
	}
	// Only a complete answer tells a key is gone: after a failed query the
	// subjects stay uncached, and decode asks for them one by one.
	for id := range missing {
		k.remember(id, nil)
	}
	return nil
}

func (k *SubjectKeys) remember(subjectID uuid.UUID, key cipher.AEAD) {
	if k.cache == nil {
		k.cache = map[uuid.UUID]cipher.AEAD{}
	}
	k.cache[subjectID] = key
}

// EnvelopeFrom reads the envelope back from stored metadata.
func EnvelopeFrom(md map[string]string, position int64) (domain.Envelope, error) {
	return buildEnvelope(func(key string) string { return md[key] }, position)
}

// EnvelopeOf reads an envelope from metadata as stored. What
// appendMetadataJSON writes is read in place: the map parseMetadata builds
// was the largest part of reading a long stream.
func EnvelopeOf(metadata []byte, position int64) (domain.Envelope, error) {
	var buf [24]metadataPair
	pairs, ok := plainPairs(metadata, buf[:0])
	if !ok {
		md, err := parseMetadata(metadata)
		if err != nil {
			return domain.Envelope{}, fmt.Errorf("event %d metadata: %w", position, err)
		}
		return EnvelopeFrom(md, position)
	}
	// A string per field was most of the envelope's allocations.
	text := string(metadata)
	return buildEnvelope(func(key string) string {
		for _, p := range pairs {
			if string(p.key) == key {
				return substring(text, metadata, p.value)
			}
		}
		return ""
	}, position)
}

func buildEnvelope(md func(key string) string, position int64) (domain.Envelope, error) {
	env := domain.Envelope{
		EventName:     md(MetaEventType),
		StreamType:    md(MetaStreamType),
		Position:      position,
		Actor:         md(MetaActor),
		CorrelationID: md(MetaCorrelationID),
		CausationID:   md(MetaCausationID),
	}
	var broken error
	check := func(err error) {
		if broken == nil {
			broken = err
		}
	}
	var err error
	env.EventID, err = uuid.Parse(md(MetaEventID))
	check(err)
	env.TenantID, err = uuid.Parse(md(MetaTenantID))
	check(err)
	env.StreamID, err = uuid.Parse(md(MetaStreamID))
	check(err)
	env.StreamVersion, err = strconv.Atoi(md(MetaStreamVersion))
	check(err)
	env.SchemaVersion, err = strconv.Atoi(md(MetaSchemaVersion))
	check(err)
	env.OccurredAt, err = time.Parse(time.RFC3339Nano, md(MetaOccurredAt))
	check(err)
	if v := md(MetaImportID); v != "" {
		env.ImportID, err = uuid.Parse(v)
		check(err)
	}
	if v := md(MetaImportRow); v != "" {
		env.ImportRow, err = strconv.Atoi(v)
		check(err)
	}
	if v := md(MetaSyncRunID); v != "" {
		env.SyncRunID, err = uuid.Parse(v)
		check(err)
	}
	if broken != nil {
		return domain.Envelope{}, fmt.Errorf("event %d has a broken envelope: %w", position, broken)
	}
	return env, nil
}

// StreamsWithEvent lists the tenant's streams that hold an event of
// eventType whose plain payload member equals value (never a sealed member:
// those are not in the payload's clear part). It reads the log itself, so a
// transaction sees what it wrote and nothing waits for a projection.
func StreamsWithEvent(ctx context.Context, q RowsQuerier, tenantID uuid.UUID, eventType, member, value string) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT stream_id FROM events
		WHERE tenant_id = $1 AND event_type = $2 AND payload->>$3 = $4`, tenantID, eventType, member, value)
	if err != nil {
		return nil, fmt.Errorf("find %s streams: %w", eventType, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("find %s streams: %w", eventType, err)
	}
	return ids, nil
}
