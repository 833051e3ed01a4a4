package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// fileChunkSize is the size of the pieces an uploaded file is stored in.
const fileChunkSize = 1 << 20

// Imports stores bulk imports: their files, issues, jobs and the one
// transaction an execution or undo runs in.
type Imports struct {
	pool   *pgxpool.Pool
	store  *eventlog.EventStore
	logger *slog.Logger
}

var _ commands.ImportRepository = (*Imports)(nil)

// NewImports builds the import storage over the event store's pool.
func NewImports(pool *pgxpool.Pool, store *eventlog.EventStore, logger *slog.Logger) *Imports {
	return &Imports{pool: pool, store: store, logger: logger}
}

// Limits reads the tenant's import limits.
func (s *Imports) Limits(ctx context.Context, tenantID uuid.UUID) (commands.ImportLimits, error) {
	var l commands.ImportLimits
	err := s.pool.QueryRow(ctx, `SELECT max_import_rows, max_import_bytes, max_import_columns FROM tenants WHERE id = $1`,
		tenantID).Scan(&l.MaxRows, &l.MaxBytes, &l.MaxColumns)
	if err != nil {
		return l, fmt.Errorf("read import limits: %w", err)
	}
	return l, nil
}

// SetLimits changes a tenant's import limits; zero leaves a limit as it is.
func (s *Imports) SetLimits(ctx context.Context, tenantID uuid.UUID, l commands.ImportLimits) error {
	_, err := s.pool.Exec(ctx, `UPDATE tenants SET
		max_import_rows = coalesce(nullif($2, 0), max_import_rows),
		max_import_bytes = coalesce(nullif($3::bigint, 0), max_import_bytes),
		max_import_columns = coalesce(nullif($4, 0), max_import_columns) WHERE id = $1`,
		tenantID, l.MaxRows, l.MaxBytes, l.MaxColumns)
	if err != nil {
		return fmt.Errorf("set import limits: %w", err)
	}
	return nil
}

// MatchClients looks values up in the reservations.
func (s *Imports) MatchClients(ctx context.Context, tenantID uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error) {
	return matchClients(ctx, s.pool, s.store.Keys(), tenantID, keys)
}

func matchClients(ctx context.Context, q eventlog.RowsQuerier, keyring *eventlog.Keyring, tenantID uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error) {
	kinds := make(textArray, len(keys))
	hashes := make(byteaArray, len(keys))
	sums := make([]byte, 0, len(keys)*eventlog.ReservationHashSize) // every hash in one allocation
	for i, k := range keys {
		kinds[i] = k.Kind
		start := len(sums)
		sums = keyring.AppendReservationHash(sums, tenantID, k.Kind, k.Value)
		hashes[i] = sums[start:len(sums):len(sums)]
	}
	// One probe of the primary key a value, whatever the statistics say
	// (see migration 0022): as a join, a table thought empty was read
	// once for every value.
	rows, err := q.Query(ctx, `SELECT r.kind, r.key_hash, r.owner_id
		FROM unnest($2::text[], $3::bytea[]) AS k(kind, key_hash)
		CROSS JOIN LATERAL (SELECT r.kind, r.key_hash, r.owner_id FROM reservations r
			WHERE r.tenant_id = $1 AND r.kind = k.kind AND r.key_hash = k.key_hash LIMIT 1) r`, tenantID, kinds, hashes)
	if err != nil {
		return nil, fmt.Errorf("match clients: %w", err)
	}
	defer rows.Close()
	type reserved struct {
		kind string
		hash [eventlog.ReservationHashSize]byte
	}
	var byHash map[reserved]int // index in keys; only needed once a key is found
	found := map[domain.UniqueKey]uuid.UUID{}
	for rows.Next() {
		var kind string
		var hash []byte
		var owner uuid.UUID
		if err := rows.Scan(&kind, &hash, &owner); err != nil {
			return nil, fmt.Errorf("match clients: %w", err)
		}
		if byHash == nil {
			byHash = make(map[reserved]int, len(keys))
			for i, k := range keys {
				byHash[reserved{k.Kind, [eventlog.ReservationHashSize]byte(hashes[i])}] = i
			}
		}
		if i, ok := byHash[reserved{kind, [eventlog.ReservationHashSize]byte(hash)}]; ok {
			found[domain.UniqueKey{Kind: keys[i].Kind, Value: keys[i].Value}] = owner
		}
	}
	return found, rows.Err()
}

// SaveAnalysis stores the file, its issues and the import's events together.
func (s *Imports) SaveAnalysis(ctx context.Context, origin domain.Origin, imp *domain.Import, file commands.StoredFile, issues []domain.ImportIssue) (int64, error) {
	var position int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := storeFile(ctx, tx, origin.TenantID, imp.StreamID(), file); err != nil {
			return err
		}
		if err := copyIssues(ctx, tx, origin.TenantID, imp.StreamID(), "analyze", issues); err != nil {
			return err
		}
		var err error
		position, err = s.store.SaveInTx(ctx, tx, origin, imp)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save import analysis: %w", err)
	}
	return position, nil
}

// SaveRemap replaces the analysis issues of an import analysed again and
// appends its events together; the stored file stays as it is.
func (s *Imports) SaveRemap(ctx context.Context, origin domain.Origin, imp *domain.Import, issues []domain.ImportIssue) (int64, error) {
	var position int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM import_issues WHERE tenant_id = $1 AND import_id = $2 AND phase = 'analyze'`,
			origin.TenantID, imp.StreamID()); err != nil {
			return err
		}
		if err := copyIssues(ctx, tx, origin.TenantID, imp.StreamID(), "analyze", issues); err != nil {
			return err
		}
		var err error
		position, err = s.store.SaveInTx(ctx, tx, origin, imp)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("save import analysis: %w", err)
	}
	return position, nil
}

func storeFile(ctx context.Context, tx pgx.Tx, tenantID, importID uuid.UUID, file commands.StoredFile) error {
	reader := io.NewSectionReader(file.Content, 0, file.Size)
	buf := make([]byte, fileChunkSize)
	chunk := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		n, err := io.ReadFull(reader, buf)
		if n == 0 {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, err
		}
		chunk++
		return []any{tenantID, importID, chunk, buf[:n]}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_files"}, []string{"tenant_id", "import_id", "chunk", "data"}, src); err != nil {
		return fmt.Errorf("store import file: %w", err)
	}
	return nil
}

func copyIssues(ctx context.Context, tx pgx.Tx, tenantID, importID uuid.UUID, phase string, issues []domain.ImportIssue) error {
	if len(issues) == 0 {
		return nil
	}
	var start int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM import_issues WHERE tenant_id = $1 AND import_id = $2 AND phase = $3`,
		tenantID, importID, phase).Scan(&start); err != nil {
		return fmt.Errorf("store import issues: %w", err)
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(issues) {
			return nil, nil
		}
		iss := issues[i]
		i++
		params, err := json.Marshal(iss.Params)
		if err != nil {
			return nil, err
		}
		if iss.Params == nil {
			params = []byte("{}")
		}
		return []any{tenantID, importID, phase, start + i, iss.Severity(), iss.Row, iss.Column, iss.Header, iss.Field, iss.Value, iss.Code, string(params)}, nil
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_issues"},
		[]string{"tenant_id", "import_id", "phase", "seq", "severity", "row", "col", "header", "field", "value", "code", "params"}, src)
	if err != nil {
		return fmt.Errorf("store import issues: %w", err)
	}
	return nil
}

// StoredFiles lists the imports of the tenant whose file is kept.
func (s *Imports) StoredFiles(ctx context.Context, tenantID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT import_id FROM import_files WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list stored files: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("list stored files: %w", err)
	}
	return ids, nil
}

// OpenFile copies the stored file into a temporary file, chunk by chunk, so
// even a large file never sits in memory.
func (s *Imports) OpenFile(ctx context.Context, tenantID, importID uuid.UUID) (io.ReaderAt, int64, io.Closer, error) {
	f, err := os.CreateTemp("", "clientreg-import-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open import file: %w", err)
	}
	closer := tempFile{f}
	rows, err := s.pool.Query(ctx, `SELECT data FROM import_files WHERE tenant_id = $1 AND import_id = $2 ORDER BY chunk`, tenantID, importID)
	if err != nil {
		closer.Close()
		return nil, 0, nil, fmt.Errorf("read import file: %w", err)
	}
	defer rows.Close()
	var size int64
	for rows.Next() {
		n, err := f.Write(rows.RawValues()[0])
		size += int64(n)
		if err != nil {
			closer.Close()
			return nil, 0, nil, fmt.Errorf("read import file: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		closer.Close()
		return nil, 0, nil, fmt.Errorf("read import file: %w", err)
	}
	if size == 0 {
		// Empty uploads are refused at analysis, so no chunk means the file
		// was removed by an erasure.
		closer.Close()
		return nil, 0, nil, domain.ErrImportFileErased
	}
	return f, size, closer, nil
}

type tempFile struct{ *os.File }

func (t tempFile) Close() error {
	return errors.Join(t.File.Close(), os.Remove(t.File.Name()))
}

// RejectedRows lists the rows the analysis found errors in.
func (s *Imports) RejectedRows(ctx context.Context, tenantID, importID uuid.UUID) (map[int]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT row FROM import_issues
		WHERE tenant_id = $1 AND import_id = $2 AND phase = 'analyze' AND severity = 'error'`, tenantID, importID)
	if err != nil {
		return nil, fmt.Errorf("read rejected rows: %w", err)
	}
	out := map[int]bool{}
	var row int
	_, err = pgx.ForEachRow(rows, []any{&row}, func() error {
		out[row] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read rejected rows: %w", err)
	}
	return out, nil
}

// RejectedReasons gives, for every row not imported, the codes and params
// of its errors in row order: what the rejected-rows export writes.
func (s *Imports) RejectedReasons(ctx context.Context, tenantID, importID uuid.UUID) (map[int][]domain.ImportIssue, error) {
	rows, err := s.pool.Query(ctx, `SELECT row, col, header, field, value, code, params FROM import_issues
		WHERE tenant_id = $1 AND import_id = $2 AND severity = 'error' ORDER BY row, phase, seq`, tenantID, importID)
	if err != nil {
		return nil, fmt.Errorf("read rejected rows: %w", err)
	}
	defer rows.Close()
	out := map[int][]domain.ImportIssue{}
	for rows.Next() {
		var i domain.ImportIssue
		if err := rows.Scan(&i.Row, &i.Column, &i.Header, &i.Field, &i.Value, &i.Code, &i.Params); err != nil {
			return nil, fmt.Errorf("read rejected rows: %w", err)
		}
		out[i.Row] = append(out[i.Row], i)
	}
	return out, rows.Err()
}

// QueueExecution records the request and queues the job together.
func (s *Imports) QueueExecution(ctx context.Context, origin domain.Origin, imp *domain.Import) (int64, error) {
	var position int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if position, err = s.store.SaveInTx(ctx, tx, origin, imp); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO import_jobs (tenant_id, import_id) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, origin.TenantID, imp.StreamID())
		return err
	})
	if err != nil {
		return 0, s.store.ExplainConflict(ctx, origin.TenantID, err)
	}
	return position, nil
}

// InTransaction runs fn in one transaction.
func (s *Imports) InTransaction(ctx context.Context, tenantID uuid.UUID, fn func(commands.ImportTx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		itx := s.newTx(tx, tenantID)
		defer itx.waitProgress()
		return fn(itx)
	})
	if err != nil {
		return s.store.ExplainConflict(ctx, tenantID, err)
	}
	return nil
}

func (s *Imports) newTx(tx pgx.Tx, tenantID uuid.UUID) *importTx {
	return &importTx{tx: tx, tenantID: tenantID, store: s.store, pool: s.pool, logger: s.logger}
}

// Progress reads how far a running import is.
func (s *Imports) Progress(ctx context.Context, tenantID, importID uuid.UUID) (*projections.ImportProgress, error) {
	var p projections.ImportProgress
	err := s.pool.QueryRow(ctx, `SELECT rows_done, rows_total FROM import_progress WHERE tenant_id = $1 AND import_id = $2`,
		tenantID, importID).Scan(&p.Done, &p.Total)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read import progress: %w", err)
	}
	return &p, nil
}

// importTx is the transaction of one execution or undo.
type importTx struct {
	tx       pgx.Tx
	tenantID uuid.UUID
	store    *eventlog.EventStore
	pool     *pgxpool.Pool
	logger   *slog.Logger

	lastProgress time.Time
	progress     chan struct{} // closed when the last progress write ended; nil before the first
}

var _ commands.ImportTx = (*importTx)(nil)

// ListMembers finds the clients that ever joined the list, from the log in
// the import's own transaction (a read model could lag behind a client
// added a moment ago); each one's stream says whether it is still on it.
func (t *importTx) ListMembers(ctx context.Context, tenantID, listID uuid.UUID) ([]uuid.UUID, error) {
	return eventlog.StreamsWithEvent(ctx, t.tx, tenantID, "ClientAddedToList", "list_id", listID.String())
}

func (t *importTx) MatchClients(ctx context.Context, tenantID uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error) {
	return matchClients(ctx, t.tx, t.store.Keys(), tenantID, keys)
}

// LoadStreams reads many client streams in one query, decoding each with
// its subject's key (all keys loaded in one query too), on every CPU.
func (t *importTx) LoadStreams(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error) {
	return t.loadStreams(ctx, t.tx, ids, nil)
}

// LoadStreamsToUndo is LoadStreams for the undo of an import: a client the
// import created and nothing touched since is read without its personal
// data, sparing its key and its decryption. The undo deletes it, which
// needs none. It reads committed events on a connection of its own, so it
// may run while the transaction writes.
func (t *importTx) LoadStreamsToUndo(ctx context.Context, importID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error) {
	registered := domain.ClientRegistered{}.EventName()
	return t.loadStreams(ctx, t.pool, ids, func(stream []domain.Envelope) bool {
		return stream[0].EventName == registered && !slices.ContainsFunc(stream, func(e domain.Envelope) bool { return e.ImportID != importID })
	})
}

// loadStreams reads the streams, then the keys of those that need them:
// all but those whose envelopes keyless accepts, when given.
func (t *importTx) loadStreams(ctx context.Context, q eventlog.KeyQuerier, ids []uuid.UUID, keyless func(stream []domain.Envelope) bool) (map[uuid.UUID][]domain.RecordedEvent, error) {
	rows, err := q.Query(ctx, `SELECT `+eventlog.StoredColumns+` FROM events
		WHERE tenant_id = $1 AND stream_id = ANY($2) ORDER BY stream_id, stream_version`, t.tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("read streams: %w", err)
	}
	stored, _, err := eventlog.ScanStored(rows)
	if err != nil {
		return nil, err
	}
	needKeys := ids
	var envs []domain.Envelope // read once, when keyless needs them
	if keyless != nil {
		if envs, needKeys, err = streamsNeedingKeys(stored, keyless); err != nil {
			return nil, err
		}
	}
	keys, err := t.store.Keys().SubjectKeysOf(ctx, q, t.tenantID, needKeys)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, ok := keys[id]; !ok {
			keys[id] = nil // erased, or not needed: its personal fields read as empty
		}
	}
	decoder := eventlog.NewSubjectKeys(t.store.Keys(), q, keys)
	var events []domain.RecordedEvent
	if envs == nil {
		events, err = decoder.DecodeStored(stored)
	} else {
		events, err = eventlog.InParallel(len(stored), func(i int) (domain.RecordedEvent, error) {
			return decoder.DecodePrefetched(stored[i].Payload, envs[i])
		})
	}
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID][]domain.RecordedEvent, len(ids))
	for _, e := range events {
		out[e.StreamID] = append(out[e.StreamID], e)
	}
	return out, nil
}

// streamsNeedingKeys reads the envelopes of stored (whole streams, one
// after the other) and returns them with the streams keyless refuses.
func streamsNeedingKeys(stored []eventlog.StoredEvent, keyless func(stream []domain.Envelope) bool) (envs []domain.Envelope, need []uuid.UUID, err error) {
	envs = make([]domain.Envelope, len(stored))
	start := 0
	for i, e := range stored {
		if envs[i], err = eventlog.EnvelopeOf(e.Metadata, e.Position); err != nil {
			return nil, nil, err
		}
		if envs[i].StreamID != envs[start].StreamID {
			if !keyless(envs[start:i]) {
				need = append(need, envs[start].StreamID)
			}
			start = i
		}
	}
	if len(envs) > 0 && !keyless(envs[start:]) {
		need = append(need, envs[start].StreamID)
	}
	return envs, need, nil
}

// ImportedStreams lists the client streams an import wrote to, in the order
// it first wrote to them.
func (t *importTx) ImportedStreams(ctx context.Context, importID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := t.tx.Query(ctx, `SELECT stream_id FROM events
		WHERE tenant_id = $1 AND import_id = $2 AND stream_type = $3
		GROUP BY stream_id ORDER BY min("offset")`, t.tenantID, importID, domain.StreamClient)
	if err != nil {
		return nil, fmt.Errorf("find imported clients: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("find imported clients: %w", err)
	}
	return ids, nil
}

// Reserve claims the unique values of the aggregates: new ones in one
// statement, those that gave up all their values (deleted) released in
// one, the rest one by one in a savepoint so a conflict leaves no trace.
func (t *importTx) Reserve(ctx context.Context, aggs []domain.Aggregate) (map[uuid.UUID]*domain.DuplicateError, error) {
	taken := map[uuid.UUID]*domain.DuplicateError{}
	var fresh []domain.Aggregate
	var released []uuid.UUID
	for _, agg := range aggs {
		switch {
		case agg.Version() == 0:
			fresh = append(fresh, agg)
		case len(agg.UniqueKeys()) == 0:
			released = append(released, agg.StreamID())
		default:
			if err := t.resyncOne(ctx, agg, taken); err != nil {
				return nil, err
			}
		}
	}
	if err := eventlog.ReleaseReservations(ctx, t.tx, t.tenantID, released); err != nil {
		return nil, err
	}
	if err := t.claimFresh(ctx, fresh, taken); err != nil {
		return nil, err
	}
	return taken, nil
}

func (t *importTx) resyncOne(ctx context.Context, agg domain.Aggregate, taken map[uuid.UUID]*domain.DuplicateError) error {
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return err
	}
	err = t.store.SyncReservations(ctx, sp, t.tenantID, agg)
	var dup *domain.DuplicateError
	if errors.As(err, &dup) {
		taken[agg.StreamID()] = dup
		return sp.Rollback(ctx)
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// claimFresh inserts every value of the new aggregates at once. A value
// already held makes its aggregate give back what it did claim.
func (t *importTx) claimFresh(ctx context.Context, aggs []domain.Aggregate, taken map[uuid.UUID]*domain.DuplicateError) error {
	if len(aggs) == 0 {
		return nil
	}
	type claim struct {
		owner uuid.UUID
		key   domain.UniqueKey
	}
	var claims []claim
	var kinds []string
	var hashes [][]byte
	var owners []uuid.UUID
	for _, agg := range aggs {
		for _, k := range agg.UniqueKeys() {
			claims = append(claims, claim{agg.StreamID(), k})
			kinds = append(kinds, k.Kind)
			hashes = append(hashes, t.store.Keys().ReservationHash(t.tenantID, k.Kind, k.Value))
			owners = append(owners, agg.StreamID())
		}
	}
	rows, err := t.tx.Query(ctx, `INSERT INTO reservations (tenant_id, kind, key_hash, owner_id)
		SELECT $1, k, h, o FROM unnest($2::text[], $3::bytea[], $4::uuid[]) AS x(k, h, o)
		ON CONFLICT DO NOTHING RETURNING kind, key_hash`, t.tenantID, kinds, hashes, owners)
	if err != nil {
		return fmt.Errorf("reserve unique values: %w", err)
	}
	claimed := map[string]bool{}
	var kind string
	var hash []byte
	if _, err := pgx.ForEachRow(rows, []any{&kind, &hash}, func() error {
		claimed[kind+"\x00"+string(hash)] = true
		return nil
	}); err != nil {
		return fmt.Errorf("reserve unique values: %w", err)
	}
	var losers []uuid.UUID
	var lostKeys []domain.UniqueKey
	for i, c := range claims {
		if !claimed[kinds[i]+"\x00"+string(hashes[i])] && taken[c.owner] == nil {
			taken[c.owner] = &domain.DuplicateError{Field: c.key.Field}
			losers = append(losers, c.owner)
			lostKeys = append(lostKeys, domain.UniqueKey{Kind: c.key.Kind, Value: c.key.Value})
		}
	}
	if len(losers) == 0 {
		return nil
	}
	owners2, err := matchClients(ctx, t.tx, t.store.Keys(), t.tenantID, lostKeys)
	if err != nil {
		return err
	}
	for i, id := range losers {
		taken[id].OwnerID = owners2[lostKeys[i]].String()
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM reservations WHERE tenant_id = $1 AND owner_id = ANY($2)`, t.tenantID, losers); err != nil {
		return fmt.Errorf("give back unique values: %w", err)
	}
	return nil
}

func (t *importTx) Append(ctx context.Context, origin domain.Origin, changes []commands.RowChange) (int64, error) {
	return t.store.AppendInTx(ctx, t.tx, origin, changes)
}

func (t *importTx) NextImportSeq(ctx context.Context) (int, error) {
	var seq int
	err := t.tx.QueryRow(ctx, `INSERT INTO import_sequences (tenant_id, last_seq) VALUES ($1, 1)
		ON CONFLICT (tenant_id) DO UPDATE SET last_seq = import_sequences.last_seq + 1 RETURNING last_seq`, t.tenantID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next import number: %w", err)
	}
	return seq, nil
}

func (t *importTx) RecordIssues(ctx context.Context, importID uuid.UUID, issues []domain.ImportIssue) error {
	return copyIssues(ctx, t.tx, t.tenantID, importID, "execute", issues)
}

// Progress is written from the pool, outside the transaction, at most a
// few times a second, and in the background: the import went on only once
// each write had committed (a WAL flush), 4 to 5% of its time. A figure
// that comes while the previous one is still being written is dropped.
func (t *importTx) Progress(ctx context.Context, importID uuid.UUID, done, total int) {
	if done < total && time.Since(t.lastProgress) < 200*time.Millisecond {
		return
	}
	if t.progress != nil {
		select {
		case <-t.progress:
		default:
			return
		}
	}
	t.lastProgress = time.Now()
	written := make(chan struct{})
	t.progress = written
	go func() {
		defer close(written)
		if _, err := t.pool.Exec(ctx, `INSERT INTO import_progress (tenant_id, import_id, rows_done, rows_total) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, import_id) DO UPDATE SET rows_done = $3, rows_total = $4, updated_at = now()`,
			t.tenantID, importID, done, total); err != nil {
			t.logger.Warn("could not record import progress", "import_id", importID, "error", err)
		}
	}()
}

// waitProgress waits for the progress write in flight, so that none comes
// after the transaction (the worker deletes the row when the job ends).
func (t *importTx) waitProgress() {
	if t.progress != nil {
		<-t.progress
	}
}
