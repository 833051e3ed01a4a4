package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Connections stores connections to source systems: their sealed secrets,
// pending OAuth2 consents, sync cursors and schedule, and the transaction
// each sync page commits in.
type Connections struct {
	pool    *pgxpool.Pool
	store   *eventlog.EventStore
	imports *Imports
	logger  *slog.Logger
}

var (
	_ commands.ConnectionRepository = (*Connections)(nil)
	_ commands.SyncRepository       = (*Connections)(nil)
	_ commands.PushRepository       = (*Connections)(nil)
)

// NewConnections builds the connection storage.
func NewConnections(pool *pgxpool.Pool, store *eventlog.EventStore, imports *Imports, logger *slog.Logger) *Connections {
	return &Connections{pool: pool, store: store, imports: imports, logger: logger}
}

// stateHash is how a pending OAuth2 state is stored: a keyed hash, so the
// table cannot be used to complete someone's consent.
func (s *Connections) stateHash(state string) []byte {
	return s.store.Keys().KeyedHash("oauth state", state)
}

func (s *Connections) sealSecrets(id uuid.UUID, secrets *commands.ConnectionSecrets) ([]byte, error) {
	if secrets == nil {
		return nil, nil
	}
	raw, err := json.Marshal(secrets)
	if err != nil {
		return nil, fmt.Errorf("encode connection secrets: %w", err)
	}
	return s.store.Keys().SealSecret(id, "secrets", raw)
}

// Create appends the connection's events and stores its row together.
func (s *Connections) Create(ctx context.Context, origin domain.Origin, conn *domain.Connection, secrets *commands.ConnectionSecrets,
	pending *commands.PendingAuthorization, runNow bool) (int64, error) {
	sealed, err := s.sealSecrets(conn.ID(), secrets)
	if err != nil {
		return 0, err
	}
	var state, verifier []byte
	var expires *time.Time
	if pending != nil {
		state = s.stateHash(pending.State)
		if verifier, err = s.store.Keys().SealSecret(conn.ID(), "pkce", []byte(pending.Verifier)); err != nil {
			return 0, err
		}
		expires = &pending.ExpiresAt
	}
	var position int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A consent that was never given does not block a new attempt.
		if _, err := tx.Exec(ctx, `DELETE FROM connections WHERE tenant_id = $1 AND provider = $2 AND active
			AND secrets IS NULL AND oauth_verifier IS NOT NULL`, origin.TenantID, conn.Provider()); err != nil {
			return fmt.Errorf("drop abandoned consent: %w", err)
		}
		var err error
		if position, err = s.store.SaveInTx(ctx, tx, origin, conn); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO connections (tenant_id, id, provider, secrets, oauth_state, oauth_verifier,
			oauth_expires_at, next_run_at, next_trigger)
			VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END, 'connect')`,
			origin.TenantID, conn.ID(), conn.Provider(), sealed, state, verifier, expires, runNow)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "connections_provider_idx" {
		return 0, domain.ErrConnectionExists
	}
	if err != nil {
		return 0, fmt.Errorf("create connection: %w", s.store.ExplainConflict(ctx, origin.TenantID, err))
	}
	return position, nil
}

// TakeAuthorization consumes a pending consent: a state works once.
func (s *Connections) TakeAuthorization(ctx context.Context, state string) (uuid.UUID, uuid.UUID, string, error) {
	var tenantID, id uuid.UUID
	var sealed []byte
	err := s.pool.QueryRow(ctx, `WITH taken AS (
			SELECT tenant_id, id, oauth_verifier FROM connections
			WHERE oauth_state = $1 AND oauth_expires_at > now() AND active FOR UPDATE)
		UPDATE connections c SET oauth_state = NULL, oauth_verifier = NULL FROM taken
		WHERE c.tenant_id = taken.tenant_id AND c.id = taken.id
		RETURNING taken.tenant_id, taken.id, taken.oauth_verifier`, s.stateHash(state)).Scan(&tenantID, &id, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, uuid.Nil, "", domain.ErrInvalidOAuthState
	}
	if err != nil {
		return uuid.Nil, uuid.Nil, "", fmt.Errorf("take authorization: %w", err)
	}
	verifier, err := s.store.Keys().OpenSecret(id, "pkce", sealed)
	if err != nil {
		return uuid.Nil, uuid.Nil, "", err
	}
	return tenantID, id, string(verifier), nil
}

// Activate stores the tokens and schedules the first run with the events.
func (s *Connections) Activate(ctx context.Context, origin domain.Origin, conn *domain.Connection, secrets commands.ConnectionSecrets) (int64, error) {
	sealed, err := s.sealSecrets(conn.ID(), &secrets)
	if err != nil {
		return 0, err
	}
	var position int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if position, err = s.store.SaveInTx(ctx, tx, origin, conn); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE connections SET secrets = $3, next_run_at = now(), next_trigger = 'connect'
			WHERE tenant_id = $1 AND id = $2`, origin.TenantID, conn.ID(), sealed)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("activate connection: %w", s.store.ExplainConflict(ctx, origin.TenantID, err))
	}
	return position, nil
}

// Revoke appends the events and forgets the secrets together.
func (s *Connections) Revoke(ctx context.Context, origin domain.Origin, conn *domain.Connection) (int64, error) {
	var position int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if position, err = s.store.SaveInTx(ctx, tx, origin, conn); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE connections SET active = false, secrets = NULL, oauth_state = NULL,
			oauth_verifier = NULL, next_run_at = NULL WHERE tenant_id = $1 AND id = $2`, origin.TenantID, conn.ID())
		return err
	})
	if err != nil {
		return 0, s.store.ExplainConflict(ctx, origin.TenantID, err)
	}
	return position, nil
}

// Secrets opens a connection's secrets; a revoked one has none.
func (s *Connections) Secrets(ctx context.Context, tenantID, id uuid.UUID) (commands.ConnectionSecrets, error) {
	var out commands.ConnectionSecrets
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT secrets FROM connections WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, domain.ErrConnectionNotFound
	}
	if err != nil {
		return out, fmt.Errorf("read connection secrets: %w", err)
	}
	if sealed == nil {
		return out, nil
	}
	plain, err := s.store.Keys().OpenSecret(id, "secrets", sealed)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(plain, &out); err != nil {
		return out, fmt.Errorf("decode connection secrets: %w", err)
	}
	return out, nil
}

// SaveSecrets replaces the secrets of an active connection (a refreshed token).
func (s *Connections) SaveSecrets(ctx context.Context, tenantID, id uuid.UUID, secrets commands.ConnectionSecrets) error {
	sealed, err := s.sealSecrets(id, &secrets)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE connections SET secrets = $3 WHERE tenant_id = $1 AND id = $2 AND active`,
		tenantID, id, sealed); err != nil {
		return fmt.Errorf("save connection secrets: %w", err)
	}
	return nil
}

// ScheduleNow asks for a run as soon as a worker is free.
func (s *Connections) ScheduleNow(ctx context.Context, tenantID, id uuid.UUID) error {
	if _, err := s.pool.Exec(ctx, `UPDATE connections SET next_run_at = now(), next_trigger = 'manual'
		WHERE tenant_id = $1 AND id = $2 AND active`, tenantID, id); err != nil {
		return fmt.Errorf("schedule sync: %w", err)
	}
	return nil
}

// Rows lists the tenant's connections as the table has them, newest first.
func (s *Connections) Rows(ctx context.Context, tenantID uuid.UUID) ([]commands.ConnectionRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, id, provider, active, next_run_at FROM connections
		WHERE tenant_id = $1 ORDER BY created_at DESC, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (commands.ConnectionRow, error) {
		var c commands.ConnectionRow
		err := r.Scan(&c.TenantID, &c.ID, &c.Provider, &c.Active, &c.NextRunAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// runLockClass namespaces the advisory locks of sync runs (two-key form,
// apart from the single-key locks of migrations and test templates).
const runLockClass = 7311

func runLockKey(id uuid.UUID) int32 {
	h := fnv.New32a()
	h.Write(id[:])
	return int32(h.Sum32())
}

// WithRunLock holds a session advisory lock on the connection for the
// whole run, on a connection of its own: every serve instance sees it, and
// it goes away with the session if the process dies.
func (s *Connections) WithRunLock(ctx context.Context, id uuid.UUID, fn func(context.Context) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire run lock connection: %w", err)
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, runLockClass, runLockKey(id)).Scan(&locked); err != nil {
		return fmt.Errorf("take run lock: %w", err)
	}
	if !locked {
		return domain.ErrSyncAlreadyRunning
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, runLockClass, runLockKey(id)); err != nil {
			// The lock must not outlive the run: drop the session.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn(ctx)
}

// Claim takes the due run; it must run under the run lock.
func (s *Connections) Claim(ctx context.Context, tenantID, id uuid.UUID, retryAt time.Time) (string, bool, error) {
	var trigger string
	err := s.pool.QueryRow(ctx, `UPDATE connections c SET next_run_at = $3, next_trigger = 'schedule'
		FROM (SELECT next_trigger FROM connections WHERE tenant_id = $1 AND id = $2) AS old
		WHERE c.tenant_id = $1 AND c.id = $2 AND c.active AND c.secrets IS NOT NULL AND c.next_run_at <= now()
		RETURNING old.next_trigger`, tenantID, id, retryAt).Scan(&trigger)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("claim sync run: %w", err)
	}
	return trigger, true, nil
}

// RunFinished schedules the next run unless one was asked for meanwhile.
func (s *Connections) RunFinished(ctx context.Context, tenantID, id uuid.UUID, next time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE connections SET next_run_at = $3, run_id = NULL
		WHERE tenant_id = $1 AND id = $2 AND active AND next_trigger = 'schedule'`, tenantID, id, next); err != nil {
		return fmt.Errorf("schedule next sync: %w", err)
	}
	return nil
}

// AwaitClients waits until the clients projection has position.
func (s *Connections) AwaitClients(ctx context.Context, tenantID uuid.UUID, position int64) error {
	err := NewReadModels(s.pool).WaitForPosition(ctx, tenantID, position, []string{projections.Clients{}.Name()}, time.Minute)
	if errors.Is(err, projections.ErrPositionNotReached) {
		return &commands.SourceError{Message: "the registry is still catching up with recent changes; the next run continues"}
	}
	return err
}

// State reads where the connection's sync stands.
func (s *Connections) State(ctx context.Context, tenantID, id uuid.UUID) (commands.SyncState, error) {
	var st commands.SyncState
	var pullID, runID *uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT cursor, pull_id, run_id FROM connections WHERE tenant_id = $1 AND id = $2`,
		tenantID, id).Scan(&st.Cursor, &pullID, &runID)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, domain.ErrConnectionNotFound
	}
	if err != nil {
		return st, fmt.Errorf("read sync state: %w", err)
	}
	if pullID != nil {
		st.PullID = *pullID
	}
	if runID != nil {
		st.RunID = *runID
	}
	return st, nil
}

// InTransaction runs fn in one transaction.
func (s *Connections) InTransaction(ctx context.Context, tenantID uuid.UUID, fn func(commands.SyncTx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&syncTx{importTx: s.imports.newTx(tx, tenantID)})
	})
	if eventlog.IsDeadlock(err) {
		// Lost a race for reservations with another writer: the whole
		// transaction rolled back, deciding again is safe.
		return fmt.Errorf("%w: %w", domain.ErrConcurrencyConflict, err)
	}
	if err != nil {
		return s.store.ExplainConflict(ctx, tenantID, err)
	}
	return nil
}

// ConnectionTenant names the tenant of a connection.
func (s *Connections) ConnectionTenant(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	var tenantID uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT tenant_id FROM connections WHERE id = $1`, id).Scan(&tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, domain.ErrConnectionNotFound
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find connection: %w", err)
	}
	return tenantID, nil
}

// RememberSignature records a push signature; false when already seen.
// Signatures older than the window are forgotten: their timestamps are
// refused anyway.
func (s *Connections) RememberSignature(ctx context.Context, id uuid.UUID, signature []byte, window time.Duration) (bool, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM push_signatures WHERE connection_id = $1 AND seen_at < now() - $2::interval`,
		id, window.String()); err != nil {
		return false, fmt.Errorf("forget old push signatures: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO push_signatures (connection_id, signature) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		id, signature)
	if err != nil {
		return false, fmt.Errorf("remember push signature: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// syncTx is the transaction of one sync page or push: the import
// transaction's stream loading, reservations and appends, plus the source
// records.
type syncTx struct {
	*importTx
}

var _ commands.SyncTx = (*syncTx)(nil)

func (t *syncTx) Links(ctx context.Context, source string, externalIDs []string) (map[string]commands.SourceLink, error) {
	// One primary-key probe per id, whatever the planner thinks of a table
	// that grew in the same run (without statistics it reads every record
	// of the source for each page, against the whole array or into a hash):
	// OFFSET 0 keeps the lateral subquery from being flattened into a join.
	rows, err := t.tx.Query(ctx, `SELECT r.external_id, r.client_id, r.digest, r.client_version, r.pull_id, r.removed, r.source_updated_at
		FROM unnest($3::text[]) AS x(ext)
		CROSS JOIN LATERAL (SELECT * FROM source_records s
			WHERE s.tenant_id = $1 AND s.source = $2 AND s.external_id = x.ext OFFSET 0) AS r`, t.tenantID, source, externalIDs)
	if err != nil {
		return nil, fmt.Errorf("read source records: %w", err)
	}
	out := make(map[string]commands.SourceLink, len(externalIDs))
	var l commands.SourceLink
	var pullID *uuid.UUID
	_, err = pgx.ForEachRow(rows, []any{&l.ExternalID, &l.ClientID, &l.Digest, &l.ClientVersion, &pullID, &l.Removed, &l.UpdatedAt}, func() error {
		if pullID != nil {
			l.PullID = *pullID
		} else {
			l.PullID = uuid.Nil
		}
		out[l.ExternalID] = l
		l = commands.SourceLink{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read source records: %w", err)
	}
	return out, nil
}

func (t *syncTx) Versions(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	out := make(map[uuid.UUID]int, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// One probe of the stream key per client (the newest version is the
	// first entry of the index backwards), whatever the size of the log.
	// The ids come from the tenant's own source records, and a stream id
	// belongs to one tenant: reading the stream key alone lets PostgreSQL
	// answer from the index.
	rows, err := t.tx.Query(ctx, `SELECT x.id, v.version FROM unnest($1::uuid[]) AS x(id)
		CROSS JOIN LATERAL (SELECT e.stream_version AS version FROM events e
			WHERE e.stream_id = x.id ORDER BY e.stream_version DESC LIMIT 1) AS v`, ids)
	if err != nil {
		return nil, fmt.Errorf("read client versions: %w", err)
	}
	var id uuid.UUID
	var v int
	if _, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		out[id] = v
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read client versions: %w", err)
	}
	return out, nil
}

// MatchVAT looks enterprise numbers up in the client read model, inside
// the sync's transaction.
func (t *syncTx) MatchVAT(ctx context.Context, source string, vats []string) (map[string]uuid.UUID, error) {
	return projections.NewQueries(t.tx).MatchVAT(ctx, t.tenantID, source, vats)
}

func (t *syncTx) Digest(details map[domain.Field]string) []byte {
	return t.store.Keys().ReservationHash(t.tenantID, "source_record", domain.Fingerprint(details))
}

func (t *syncTx) PutLinks(ctx context.Context, source string, links []commands.SourceLink) error {
	if len(links) == 0 {
		return nil
	}
	ids := make([]string, len(links))
	clients := make([][16]byte, len(links))
	digests := make([][]byte, len(links))
	versions := make([]int32, len(links))
	pulls := make([]*uuid.UUID, len(links))
	removed := make([]bool, len(links))
	updated := make([]*time.Time, len(links))
	for i, l := range links {
		ids[i], clients[i], digests[i], versions[i], removed[i], updated[i] = l.ExternalID, l.ClientID, l.Digest, int32(l.ClientVersion), l.Removed, l.UpdatedAt
		if l.PullID != uuid.Nil {
			p := l.PullID
			pulls[i] = &p
		}
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO source_records (tenant_id, source, external_id, client_id, digest, client_version,
			pull_id, removed, source_updated_at)
		SELECT $1, $2, x.ext, x.client, x.digest, x.version, x.pull, x.removed, x.updated
		FROM unnest($3::text[], $4::uuid[], $5::bytea[], $6::int[], $7::uuid[], $8::bool[], $9::timestamptz[])
			AS x(ext, client, digest, version, pull, removed, updated)
		ON CONFLICT (tenant_id, source, external_id) DO UPDATE SET client_id = excluded.client_id,
			digest = excluded.digest, client_version = excluded.client_version,
			pull_id = coalesce(excluded.pull_id, source_records.pull_id), removed = excluded.removed,
			source_updated_at = coalesce(excluded.source_updated_at, source_records.source_updated_at)`,
		t.tenantID, source, ids, clients, digests, versions, pulls, removed, updated)
	if err != nil {
		return fmt.Errorf("store source records: %w", err)
	}
	return nil
}

func (t *syncTx) Unseen(ctx context.Context, source string, pullID uuid.UUID) ([]commands.SourceLink, error) {
	rows, err := t.tx.Query(ctx, `SELECT external_id, client_id, digest, client_version FROM source_records
		WHERE tenant_id = $1 AND source = $2 AND NOT removed AND pull_id IS DISTINCT FROM $3
		ORDER BY external_id`, t.tenantID, source, pullID)
	if err != nil {
		return nil, fmt.Errorf("find records missing at source: %w", err)
	}
	var out []commands.SourceLink
	var l commands.SourceLink
	if _, err := pgx.ForEachRow(rows, []any{&l.ExternalID, &l.ClientID, &l.Digest, &l.ClientVersion}, func() error {
		l.PullID = pullID
		out = append(out, l)
		l = commands.SourceLink{}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("find records missing at source: %w", err)
	}
	return out, nil
}

func (t *syncTx) SaveState(ctx context.Context, id uuid.UUID, st commands.SyncState) error {
	var pullID, runID *uuid.UUID
	if st.PullID != uuid.Nil {
		pullID = &st.PullID
	}
	if st.RunID != uuid.Nil {
		runID = &st.RunID
	}
	if _, err := t.tx.Exec(ctx, `UPDATE connections SET cursor = $3, pull_id = $4, run_id = $5
		WHERE tenant_id = $1 AND id = $2`, t.tenantID, id, st.Cursor, pullID, runID); err != nil {
		return fmt.Errorf("save sync cursor: %w", err)
	}
	return nil
}
