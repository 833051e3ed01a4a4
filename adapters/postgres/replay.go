package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// Rebuilder replays the whole log into fresh copies of a projection's
// tables, then swaps them in. The live tables keep answering queries (and
// the live projector keeps feeding them) until the swap, which takes one
// short transaction.
type Rebuilder struct {
	pool *pgxpool.Pool
	keys *eventlog.Keyring
	// BatchSize is how many events go to the projection per transaction.
	BatchSize int
	// OnSetAside, when set, is told of every event a rebuild sets aside.
	OnSetAside func(SetAsideEvent)
	logger     *slog.Logger
}

// NewRebuilder builds a rebuilder over the application's pool.
func NewRebuilder(pool *pgxpool.Pool, keys *eventlog.Keyring, logger *slog.Logger) *Rebuilder {
	return &Rebuilder{pool: pool, keys: keys, BatchSize: 5000, logger: logger}
}

// RaiseGCTargetForReplay lets the heap of a process that rebuilds grow to
// five times what it keeps before the garbage collector runs, unless GOGC
// says otherwise. A rebuild allocates for every event it decodes and keeps
// only a few batches: at Go's default the collector ran every few megabytes
// and took a fifth of the CPU. For clientreg replay's main, not for serve.
// restore sets the target back.
func RaiseGCTargetForReplay() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	previous := debug.SetGCPercent(400)
	return func() { debug.SetGCPercent(previous) }
}

// logCursor is a place in the log in the order projections read it.
type logCursor struct {
	tx     int64
	offset int64
}

// RebuildProgress reports a rebuild's advance: events applied of about total.
type RebuildProgress func(done, total int64)

// Rebuild replays the log into the projection's fresh tables and swaps them
// in. It is safe to interrupt at any point and run again: an interrupted
// or failed rebuild leaves the live tables as they were, drops its own, and
// the next run starts over.
//
// An event the projection cannot apply (one it cannot decode, or one a
// statement refuses) is set aside as the live projector does, logged and
// counted, and the rebuild goes on; the rebuilt projection's set-aside
// events replace the old ones when the tables are swapped in. An event
// stored with a NUL byte (older versions let some in) is applied with the
// byte replaced by U+FFFD. OnSetAside, when set, hears of each event set
// aside.
func (r *Rebuilder) Rebuild(ctx context.Context, p projections.Projection, progress RebuildProgress) (err error) {
	live, err := r.liveSchema(ctx)
	if err != nil {
		return err
	}
	work, trash := "rebuild_"+p.Name(), "replaced_"+p.Name()
	defer func() {
		if err != nil {
			r.dropWork(ctx, work)
		}
	}()
	deferred, err := r.prepare(ctx, p, live, work, trash)
	if err != nil {
		return err
	}
	pool, err := r.rebuildPool(ctx, live, work)
	if err != nil {
		return err
	}
	defer pool.Close()
	run := &rebuildRun{projection: p.Name(), logger: r.logger, report: r.OnSetAside}
	return r.rebuild(ctx, pool, run, p, progress, deferred, live, work, trash)
}

// dropWork drops the tables of a rebuild that did not finish, also when it
// was interrupted (its context is then done).
func (r *Rebuilder) dropWork(ctx context.Context, work string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := r.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{work}.Sanitize()+` CASCADE`); err != nil {
		r.logger.Warn("could not drop the tables of an unfinished rebuild (the next rebuild drops them)", "schema", work, "error", err)
	}
}

func (r *Rebuilder) rebuild(ctx context.Context, pool *pgxpool.Pool, run *rebuildRun, p projections.Projection, progress RebuildProgress,
	deferred deferredDDL, live, work, trash string) error {

	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_type = ANY($1)`, p.StreamTypes()).Scan(&total); err != nil {
		return fmt.Errorf("count events: %w", err)
	}
	if progress != nil {
		progress(0, total)
	}
	began := time.Now()
	var cursor logCursor
	var done int64
	var mu sync.Mutex // a Loader's first pass applies batches on several connections
	report := func(n int) {
		if done += int64(n); progress != nil {
			progress(done, max(total, done))
		}
	}
	loader, isLoader := p.(projections.Loader)
	read := func(ctx context.Context, out chan<- fetchedBatch) error { return r.readAll(ctx, pool, p, total, out) }
	run.limit = max(100, int(total/100))
	appliers, lastSeq := 1, -1
	if isLoader {
		// Its batches are independent: COPY, the server's largest part of
		// the first pass, runs on two connections at once.
		appliers = 2
	}
	leftBySeq := map[int][]int64{} // a Loader's first pass: the positions each batch left for the second
	err := r.replay(ctx, run, read, appliers, func(ctx context.Context, b replayBatch) error {
		var left []int64
		n := len(b.events)
		if isLoader {
			rest, err := run.load(ctx, pool, loader, b)
			if err != nil {
				return err
			}
			left, n = b.leftForLater(nil, rest), n-len(rest)
		} else if err := run.applyBatch(ctx, pool, p, b); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(left) > 0 {
			leftBySeq[b.seq] = left
		}
		report(n)
		if b.seq > lastSeq {
			cursor, lastSeq = b.end, b.seq
		}
		return nil
	})
	if err != nil {
		return err
	}
	var later []int64 // positions of the events a Loader left for the second pass, in log order
	for seq := range lastSeq + 1 {
		later = append(later, leftBySeq[seq]...)
	}
	if len(later) > 0 {
		// The second pass's updates find their rows through the keys.
		for i := range deferred.tables {
			if err := execAll(ctx, pool, deferred.tables[i].keys); err != nil {
				return err
			}
			deferred.tables[i].keys = nil
		}
	}
	r.logger.Debug("rebuild loaded", "projection", p.Name(), "events", total, "left_for_later", len(later), "took", time.Since(began))
	if len(later) > 0 {
		began = time.Now()
		read := func(ctx context.Context, out chan<- fetchedBatch) error {
			return r.readPositions(ctx, pool, later, out)
		}
		err := r.replay(ctx, run, read, 1, func(ctx context.Context, b replayBatch) error {
			if err := run.applyBatch(ctx, pool, p, b); err != nil {
				return err
			}
			report(len(b.events))
			return nil
		})
		if err != nil {
			return err
		}
		r.logger.Debug("rebuild applied the rest", "projection", p.Name(), "events", len(later), "took", time.Since(began))
	}
	if err := finish(ctx, pool, p, deferred, r.logger); err != nil {
		return err
	}
	began = time.Now()
	if err := r.swap(ctx, pool, run, p, cursor, live, work, trash); err != nil {
		return err
	}
	r.logger.Debug("rebuild swapped in", "projection", p.Name(), "took", time.Since(began))
	if _, err := r.pool.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{trash}.Sanitize()+` CASCADE; DROP SCHEMA `+pgx.Identifier{work}.Sanitize()); err != nil {
		return fmt.Errorf("drop replaced tables: %w", err)
	}
	return nil
}

// rebuildPool connects up to three sessions (one reads, two apply) whose
// search_path finds the rebuild's tables first, then the live schema's
// (events, offsets, keys).
func (r *Rebuilder) rebuildPool(ctx context.Context, live, work string) (*pgxpool.Pool, error) {
	cfg := r.pool.Config().Copy()
	params := cfg.ConnConfig.RuntimeParams
	params["search_path"] = pgx.Identifier{work}.Sanitize() + ", " + pgx.Identifier{live}.Sanitize()
	// The fresh tables grow from empty: a plan cached while they were small
	// (a sequential scan) would stay in use at a million rows.
	params["plan_cache_mode"] = "force_custom_plan"
	// Every batch can be replayed after a crash: none is worth a disk sync.
	params["synchronous_commit"] = "off"
	// The deferred indexes are built once, over every row.
	params["maintenance_work_mem"] = "256MB"
	cfg.MaxConns = 3
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect for rebuild: %w", err)
	}
	return pool, nil
}

// replayBatch is a batch of decoded events and the place in the log after
// the last event read. In a loader's first pass, deferred holds the
// positions of the events read but not decoded, and positions those of
// every event read, in log order.
type replayBatch struct {
	seq       int // the batch's place in its pass
	events    []domain.RecordedEvent
	end       logCursor
	deferred  map[int64]bool
	positions []int64
}

// leftForLater appends to later, in log order, the positions of the
// batch's events the second pass applies: those deferred undecoded and
// those Load returned.
func (b replayBatch) leftForLater(later []int64, rest []domain.RecordedEvent) []int64 {
	if len(rest) == 0 && len(b.deferred) == 0 {
		return later
	}
	restAt := make(map[int64]bool, len(rest))
	for _, e := range rest {
		restAt[e.Position] = true
	}
	for _, pos := range b.positions {
		if b.deferred[pos] || restAt[pos] {
			later = append(later, pos)
		}
	}
	return later
}

// replay runs a pipeline over the batches read reads: reading a batch,
// decoding the one before and applying the one before that overlap (the
// first and last are mostly the server's work, the second Go's). With
// more than one applier, batches are applied several at once, in no
// particular order: apply tells them apart by their seq.
func (r *Rebuilder) replay(ctx context.Context, run *rebuildRun, read func(context.Context, chan<- fetchedBatch) error,
	appliers int, apply func(context.Context, replayBatch) error) error {
	fetched, batches := make(chan fetchedBatch, 1), make(chan replayBatch, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(fetched)
		return read(gctx, fetched)
	})
	g.Go(func() error {
		defer close(batches)
		seq := 0
		for f := range fetched {
			b, err := run.decode(f)
			if err != nil {
				return err
			}
			b.seq, seq = seq, seq+1
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range appliers {
		g.Go(func() error {
			for b := range batches {
				if err := apply(gctx, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// readPositions reads the events at positions (in log order), a batch at
// a time, with the keys that decode them.
func (r *Rebuilder) readPositions(ctx context.Context, pool *pgxpool.Pool, positions []int64, out chan<- fetchedBatch) error {
	for chunk := range slices.Chunk(positions, r.BatchSize) {
		rows, err := pool.Query(ctx, `SELECT `+eventlog.StoredColumns+`, transaction_id::text::bigint FROM events
			WHERE "offset" = ANY($1) ORDER BY events.transaction_id, events."offset"`, chunk)
		if err != nil {
			return fmt.Errorf("read events to replay: %w", err)
		}
		b, err := r.scanBatch(ctx, pool, rows, logCursor{}, nil)
		if err != nil {
			return err
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// readAll reads the projection's events in batches, with the keys that
// decode them, until it has read at least total of them and the log has no
// more.
func (r *Rebuilder) readAll(ctx context.Context, pool *pgxpool.Pool, p projections.Projection, total int64, out chan<- fetchedBatch) error {
	var cursor logCursor
	var read int64
	for {
		b, err := r.fetch(ctx, pool, p, cursor, nil, "")
		if err != nil {
			return err
		}
		if b.rows > 0 {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			cursor, read = b.end, read+int64(b.rows)
		}
		if b.rows == r.BatchSize {
			continue
		}
		if read >= total {
			return nil
		}
		// Events committed before the count stay invisible while an older
		// transaction runs (a long import): wait for it.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *Rebuilder) liveSchema(ctx context.Context) (string, error) {
	var schema string
	if err := r.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", fmt.Errorf("find schema: %w", err)
	}
	return schema, nil
}

// prepare makes empty copies of the projection's tables in the work
// schema, with their columns, defaults, constraints, primary keys and
// triggers. It returns the DDL run once the data is in: the other indexes
// (building an index once costs less than maintaining it row by row) and,
// for a Summarized projection, the triggers.
func (r *Rebuilder) prepare(ctx context.Context, p projections.Projection, live, work, trash string) (deferredDDL, error) {
	var deferred deferredDDL
	_, summarized := p.(projections.Summarized)
	_, loader := p.(projections.Loader)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		w, t := pgx.Identifier{work}.Sanitize(), pgx.Identifier{trash}.Sanitize()
		if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+w+` CASCADE; DROP SCHEMA IF EXISTS `+t+` CASCADE; CREATE SCHEMA `+w); err != nil {
			return fmt.Errorf("make rebuild schema: %w", err)
		}
		for _, table := range p.Tables() {
			src, dst := pgx.Identifier{live, table}.Sanitize(), pgx.Identifier{work, table}.Sanitize()
			if _, err := tx.Exec(ctx, `CREATE TABLE `+dst+` (LIKE `+src+` INCLUDING ALL EXCLUDING INDEXES)`); err != nil {
				return fmt.Errorf("copy table %s: %w", table, err)
			}
			t := tableDDL{name: dst}
			// LIKE leaves out storage parameters (rm_clients' fillfactor).
			// They are set once the rows are in: the load fills its pages,
			// the rows written after the rebuild get the room they need.
			var options string
			if err := tx.QueryRow(ctx, `SELECT coalesce(array_to_string(reloptions, ', '), '') FROM pg_class WHERE oid = $1::regclass`,
				src).Scan(&options); err != nil {
				return fmt.Errorf("copy table %s: %w", table, err)
			}
			if options != "" {
				t.storage = `ALTER TABLE ` + dst + ` SET (` + options + `)`
			}
			ddl, err := copiedDDL(ctx, tx, live, work, table)
			if err != nil {
				return err
			}
			for _, d := range ddl {
				switch {
				case d.index:
					t.indexes = append(t.indexes, d.sql)
					continue
				case d.primary && loader:
					t.keys = append(t.keys, d.sql)
					continue
				case d.trigger && summarized:
					deferred.triggers = append(deferred.triggers, d.sql)
					continue
				}
				if _, err := tx.Exec(ctx, d.sql); err != nil {
					return fmt.Errorf("copy %s: %w", table, err)
				}
			}
			deferred.tables = append(deferred.tables, t)
		}
		return nil
	})
	return deferred, err
}

type ddl struct {
	sql string
	// index: an index other than the primary key, built once the rows are in.
	index, primary, trigger bool
}

// deferredDDL is what a rebuild runs on its tables once they are loaded.
type deferredDDL struct {
	tables   []tableDDL // in the projection's order
	triggers []string
}

// tableDDL is what a rebuild runs on one of its tables once it is loaded.
type tableDDL struct {
	name    string // qualified
	storage string // ALTER TABLE ... SET (the live table's storage parameters), or ""
	// keys build a Loader's primary key (its index, then the constraint):
	// after its first pass when a second one follows, else at the end.
	keys    []string
	indexes []string
}

// finish runs the projection's summaries and the deferred DDL on all the
// rebuild's connections at once, each statement once those it needs have
// run: the summaries first, then each table's storage parameters and
// indexes (building an index over its rows costs several times inserting
// them into a built one).
//
// The tables the summaries fill (those still empty once the events are
// in) are logged from the start, like the others. Filling them unlogged
// and logging them with SET LOGGED before their indexes cost more in the
// rebuild (rm_client_words: 16.5 s for the INSERT and 5.7 s for SET
// LOGGED, against 14.2 s for the INSERT logged): SET LOGGED rewrites the
// whole table.
func finish(ctx context.Context, pool *pgxpool.Pool, p projections.Projection, deferred deferredDDL, logger *slog.Logger) error {
	began := time.Now()
	defer func() { logger.Debug("rebuild indexed", "projection", p.Name(), "took", time.Since(began)) }()
	var work schedule
	var summaries []int
	filled := map[string]bool{} // by the summaries
	if s, ok := p.(projections.Summarized); ok {
		var err error
		if filled, err = emptyTables(ctx, pool, deferred.tables); err != nil {
			return err
		}
		for _, sql := range s.Summaries() {
			summaries = append(summaries, work.add(nil, sql))
		}
	}
	// The summary tables first: their statements wait longest for what
	// they need. Their DDL waits for the summaries rather than for a lock
	// on a connection another table's index could use.
	for _, first := range []bool{true, false} {
		for _, t := range deferred.tables {
			if filled[t.name] != first {
				continue
			}
			var after []int
			if filled[t.name] {
				after = summaries
			}
			if t.storage != "" {
				after = []int{work.add(after, t.storage)}
			}
			var built []int
			for _, sql := range append(slices.Clone(t.keys[:min(1, len(t.keys))]), t.indexes...) {
				built = append(built, work.add(after, sql))
			}
			// The primary key's constraint last: it locks the table
			// against the index builds and the summaries reading it, and
			// a statement waiting for that lock holds a connection.
			built = append(built, summaries...)
			for _, sql := range t.keys[min(1, len(t.keys)):] {
				built = []int{work.add(built, sql)}
			}
		}
	}
	if err := work.run(ctx, pool, finishers, logger); err != nil {
		return err
	}
	return execAll(ctx, pool, deferred.triggers)
}

// finishers is how many statements finish runs at once: the rebuild's
// connections but the reader's (an index build has parallel workers of
// its own).
const finishers = 2

// emptyTables returns the names of the tables nothing was loaded into.
func emptyTables(ctx context.Context, pool *pgxpool.Pool, tables []tableDDL) (map[string]bool, error) {
	empty := map[string]bool{}
	for _, t := range tables {
		var none bool
		if err := pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM `+t.name+`)`).Scan(&none); err != nil {
			return nil, fmt.Errorf("complete the rebuilt tables: %w", err)
		}
		empty[t.name] = none
	}
	return empty, nil
}

// schedule is a list of statements, each to run once some earlier ones
// (its after) have.
type schedule struct {
	sql   []string
	after [][]int
}

// statementHead is the start of a statement, for the debug log: enough to
// tell which index or summary it builds.
func statementHead(sql string) string {
	head := strings.Join(strings.Fields(sql), " ")
	if len(head) > 80 {
		head = head[:80]
	}
	return head
}

// add appends a statement that runs after those at the indexes after and
// returns its index.
func (s *schedule) add(after []int, sql string) int {
	s.sql, s.after = append(s.sql, sql), append(s.after, after)
	return len(s.sql) - 1
}

// run runs the statements on workers connections of pool at once: each
// connection takes the first statement not taken yet whose predecessors
// have run, or waits for one.
func (s *schedule) run(ctx context.Context, pool *pgxpool.Pool, workers int, logger *slog.Logger) error {
	var mu sync.Mutex
	changed := sync.NewCond(&mu)
	taken, done := make([]bool, len(s.sql)), make([]bool, len(s.sql))
	failed := false
	ready := func(i int) bool {
		for _, j := range s.after[i] {
			if !done[j] {
				return false
			}
		}
		return true
	}
	// next takes a statement, waiting while none is ready; false when
	// none is left or one failed. Called with mu held.
	next := func() (int, bool) {
		for !failed {
			left := false
			for i := range s.sql {
				if taken[i] {
					continue
				}
				left = true
				if ready(i) {
					taken[i] = true
					return i, true
				}
			}
			if !left {
				return 0, false
			}
			changed.Wait()
		}
		return 0, false
	}
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for {
				mu.Lock()
				i, ok := next()
				mu.Unlock()
				if !ok {
					return nil
				}
				began := time.Now()
				_, err := pool.Exec(gctx, s.sql[i])
				logger.Debug("rebuild ran", "statement", statementHead(s.sql[i]), "took", time.Since(began))
				mu.Lock()
				done[i], failed = err == nil, failed || err != nil
				changed.Broadcast()
				mu.Unlock()
				if err != nil {
					return fmt.Errorf("complete the rebuilt tables: %w", err)
				}
			}
		})
	}
	return g.Wait()
}

// execAll runs deferred statements one after the other.
func execAll(ctx context.Context, pool *pgxpool.Pool, statements []string) error {
	for _, sql := range statements {
		if _, err := pool.Exec(ctx, sql); err != nil {
			return fmt.Errorf("complete the rebuilt tables: %w", err)
		}
	}
	return nil
}

// copiedDDL recreates a table's indexes (same names: later migrations may
// refer to them), primary key and triggers on its copy.
func copiedDDL(ctx context.Context, tx pgx.Tx, live, work, table string) ([]ddl, error) {
	rows, err := tx.Query(ctx, `
		SELECT pg_get_indexdef(i.indexrelid), i.indisprimary, c.relname, coalesce(k.conname, '')
		FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid
		LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.contype = 'p'
		WHERE i.indrelid = $1::regclass`, pgx.Identifier{live, table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", table, err)
	}
	var out []ddl
	var def, name, constraint string
	var primary bool
	on := regexp.MustCompile(`\bON (` + regexp.QuoteMeta(pgx.Identifier{live}.Sanitize()) + `\.|` + regexp.QuoteMeta(live) + `\.)?` + regexp.QuoteMeta(table) + `\b`)
	dst := "ON " + pgx.Identifier{work, table}.Sanitize()
	_, err = pgx.ForEachRow(rows, []any{&def, &primary, &name, &constraint}, func() error {
		sql := on.ReplaceAllLiteralString(def, dst)
		if !primary {
			out = append(out, ddl{sql: sql, index: true})
			return nil
		}
		out = append(out, ddl{sql: sql, primary: true}, ddl{sql: `ALTER TABLE ` + pgx.Identifier{work, table}.Sanitize() + ` ADD CONSTRAINT ` +
			pgx.Identifier{constraint}.Sanitize() + ` PRIMARY KEY USING INDEX ` + pgx.Identifier{name}.Sanitize(), primary: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read indexes of %s: %w", table, err)
	}
	rows, err = tx.Query(ctx, `SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal`,
		pgx.Identifier{live, table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read triggers of %s: %w", table, err)
	}
	triggers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read triggers of %s: %w", table, err)
	}
	for _, t := range triggers {
		out = append(out, ddl{sql: on.ReplaceAllLiteralString(t, dst), trigger: true})
	}
	return out, nil
}

// applyBatch applies a decoded batch in a transaction of its own on pool,
// whose search_path leads to the rebuild's tables.
func (run *rebuildRun) applyBatch(ctx context.Context, pool *pgxpool.Pool, p projections.Projection, b replayBatch) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := run.apply(ctx, tx, applyAll(p.Apply), b)
		return err
	})
}

// load is applyBatch through a Loader's first pass; it returns the events
// left for the second.
func (run *rebuildRun) load(ctx context.Context, pool *pgxpool.Pool, l projections.Loader, b replayBatch) (rest []domain.RecordedEvent, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rest, err = run.apply(ctx, tx, l.Load, b)
		return err
	})
	return rest, err
}

// applyFunc applies events and returns those it left for later.
type applyFunc func(context.Context, pgx.Tx, []domain.RecordedEvent) ([]domain.RecordedEvent, error)

func applyAll(apply func(context.Context, pgx.Tx, []domain.RecordedEvent) error) applyFunc {
	return func(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) ([]domain.RecordedEvent, error) {
		return nil, apply(ctx, tx, events)
	}
}

// apply applies a batch in a savepoint of tx. When a statement refuses it,
// the batch is applied again one event at a time, each in a savepoint of
// its own: an event refused again is retried with its NUL bytes replaced
// (when it has any), then set aside. Errors that a retry in the same
// transaction cannot help (a lost connection, a cancelled rebuild) end the
// rebuild.
func (run *rebuildRun) apply(ctx context.Context, tx pgx.Tx, apply applyFunc, b replayBatch) ([]domain.RecordedEvent, error) {
	if len(b.events) == 0 {
		return nil, nil
	}
	var rest []domain.RecordedEvent
	err := inSavepoint(ctx, tx, func(sp pgx.Tx) error {
		var err error
		rest, err = apply(ctx, sp, b.events)
		return err
	})
	if err == nil || mustAbandon(ctx, err) {
		if err != nil {
			err = fmt.Errorf("replay %s at position %d: %w", run.projection, b.events[0].Position, err)
		}
		return rest, err
	}
	rest = rest[:0]
	for _, e := range b.events {
		one := func(e domain.RecordedEvent) error {
			return inSavepoint(ctx, tx, func(sp pgx.Tx) error {
				left, err := apply(ctx, sp, []domain.RecordedEvent{e})
				if err == nil {
					rest = append(rest, left...)
				}
				return err
			})
		}
		err := one(e)
		if err != nil && !mustAbandon(ctx, err) {
			if scrubbed, changed := domain.ScrubEvent(e.Event); changed {
				e.Event = scrubbed
				err = one(e)
			}
		}
		if err != nil && mustAbandon(ctx, err) {
			return nil, fmt.Errorf("replay %s at position %d: %w", run.projection, e.Position, err)
		}
		if err != nil {
			if err := run.setAsideEvent(e.Position, e.EventID.String(), e.EventName, err); err != nil {
				return nil, err
			}
		}
	}
	return rest, nil
}

// rebuildRun is what one rebuild keeps besides its tables: the events it
// set aside.
type rebuildRun struct {
	projection string
	logger     *slog.Logger
	report     func(SetAsideEvent)
	// limit is how many events may be set aside before the rebuild gives
	// up: past it the cause is not a few bad events but, say, a wrong
	// master key, and swapping in nearly empty tables would hide it.
	limit    int
	mu       sync.Mutex
	setAside []SetAsideEvent
}

// SetAsideEvent is an event a projection could not apply, kept out of its
// read model (projection_failures).
type SetAsideEvent struct {
	Projection string    `json:"projection"`
	Position   int64     `json:"position"`
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	Error      string    `json:"error"`
	FailedAt   time.Time `json:"failed_at"`
}

// errTooManySetAside ends a rebuild that set too many events aside.
var errTooManySetAside = errors.New("too many events set aside")

func (run *rebuildRun) setAsideEvent(position int64, eventID, eventType string, cause error) error {
	run.logger.Error("replay set an event aside", "projection", run.projection, "position", position,
		"event_id", eventID, "event_type", eventType, "error", cause)
	e := SetAsideEvent{Projection: run.projection, Position: position, EventID: eventID,
		EventType: eventType, Error: domain.CleanText(cause.Error(), 2000), FailedAt: time.Now()}
	if run.report != nil {
		run.report(e)
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.setAside = append(run.setAside, e)
	if run.limit > 0 && len(run.setAside) > run.limit {
		return fmt.Errorf("replay %s: %w (%d; is the master key the one the log was written with?)",
			run.projection, errTooManySetAside, len(run.setAside))
	}
	return nil
}

// decode decodes a fetched batch; an event that cannot be decoded is set
// aside and left out.
func (run *rebuildRun) decode(f fetchedBatch) (replayBatch, error) {
	b, err := f.decode()
	if err == nil {
		return b, nil
	}
	b = f.batch(make([]domain.RecordedEvent, 0, len(f.stored)))
	for _, st := range f.stored {
		env, err := eventlog.EnvelopeOf(st.Metadata, st.Position)
		if err == nil {
			var e domain.RecordedEvent
			if e, err = f.keys.DecodePrefetched(st.Payload, env); err == nil {
				b.events = append(b.events, e)
				continue
			}
		}
		if err := run.setAsideEvent(st.Position, env.EventID.String(), env.EventName, err); err != nil {
			return replayBatch{}, err
		}
	}
	return b, nil
}

// fetchedBatch is a batch of events as stored, the keys that decode them
// and the place in the log after the last one; rows counts the events
// read, deferred ones (a loader's first pass) included.
type fetchedBatch struct {
	stored    []eventlog.StoredEvent
	keys      *eventlog.SubjectKeys
	end       logCursor
	rows      int
	deferred  map[int64]bool
	positions []int64
}

func (f fetchedBatch) decode() (replayBatch, error) {
	events, err := f.keys.DecodeStored(f.stored)
	return f.batch(events), err
}

func (f fetchedBatch) batch(events []domain.RecordedEvent) replayBatch {
	return replayBatch{events: events, end: f.end, deferred: f.deferred, positions: f.positions}
}

// fetch reads the projection's events after cursor (up to until, when
// given) in the order projections read them: by transaction, then offset,
// and only from transactions older than every running one, so none is
// skipped; and the keys that decode them. Only the projection's streams
// are read; the swap moves the cursor past the others. Up to until, only
// the transactions that had finished when snapshot was taken are read: the
// swap leaves the others open for the live projector.
func (r *Rebuilder) fetch(ctx context.Context, q eventlog.KeyQuerier, p projections.Projection, cursor logCursor, until *logCursor, snapshot string) (fetchedBatch, error) {
	bound := `AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`
	args := []any{cursor.tx, cursor.offset, r.BatchSize}
	if until != nil {
		bound = `AND (transaction_id, "offset") <= ($4::bigint::text::xid8, $5) AND pg_visible_in_snapshot(transaction_id, $6::pg_snapshot)`
		args = append(args, until.tx, until.offset, snapshot)
	}
	// The ORDER BY names the table's column: the output column of the same
	// name would sort by an expression, which no index serves.
	// A loader's first pass (read to the end, not up to until) defers the
	// events whose stream does not start in their batch.
	var starts func(string) bool
	if l, ok := p.(projections.Loader); ok && until == nil {
		starts = l.Starts
	}
	columns := eventlog.StoredColumns
	if starts != nil {
		columns += ", event_type"
	}
	rows, err := q.Query(ctx, `SELECT `+columns+`, transaction_id::text::bigint FROM events
		WHERE (transaction_id, "offset") > ($1::bigint::text::xid8, $2) `+bound+` AND stream_type = ANY($`+strconv.Itoa(len(args)+1)+`)
		ORDER BY events.transaction_id, events."offset" LIMIT $3`, append(args, p.StreamTypes())...)
	if err != nil {
		return fetchedBatch{}, fmt.Errorf("read events to replay: %w", err)
	}
	return r.scanBatch(ctx, q, rows, cursor, starts)
}

// scanBatch reads rows of eventlog.StoredColumns (and event types, with
// starts) and transaction ids (in log order) into a batch that ends at the
// last of them (at cursor when there is none), with the keys that decode
// them.
func (r *Rebuilder) scanBatch(ctx context.Context, q eventlog.KeyQuerier, rows pgx.Rows, cursor logCursor, starts func(string) bool) (fetchedBatch, error) {
	b := fetchedBatch{end: cursor, keys: eventlog.NewSubjectKeys(r.keys, q, nil)}
	var subjects []eventlog.SubjectRef
	var err error
	if starts != nil {
		b.stored, b.deferred, b.positions, subjects, err = eventlog.ScanFirstPass(rows, starts, &b.end.tx)
		b.rows = len(b.positions)
	} else {
		b.stored, subjects, err = eventlog.ScanStored(rows, &b.end.tx)
		b.rows = len(b.stored)
	}
	if err != nil {
		return fetchedBatch{}, err
	}
	switch {
	case len(b.positions) > 0:
		b.end.offset = b.positions[len(b.positions)-1]
	case len(b.stored) > 0:
		b.end.offset = b.stored[len(b.stored)-1].Position
	}
	return b, b.keys.Prefetch(ctx, subjects)
}

// swap catches the rebuilt tables up with the live projector and puts them
// in its place, in one transaction. The live projector's offset row is
// locked first: it waits, and its next batch starts on the new tables from
// the position they were rebuilt to.
func (r *Rebuilder) swap(ctx context.Context, pool *pgxpool.Pool, run *rebuildRun, p projections.Projection, cursor logCursor, live, work, trash string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var at logCursor
		err := tx.QueryRow(ctx, `SELECT coalesce(offset_acked, 0), last_processed_transaction_id::text::bigint
			FROM events_offsets WHERE consumer_group = $1 FOR UPDATE`, p.Name()).Scan(&at.offset, &at.tx)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock %s's position: %w", p.Name(), err)
		}
		// The live projector may have read ahead of running transactions
		// (events_offsets_open). What had finished when this snapshot was
		// taken is applied below; what was still running stays open for
		// the live projector to read when it commits.
		var snapshot string
		if err := tx.QueryRow(ctx, `SELECT pg_current_snapshot()::text`).Scan(&snapshot); err != nil {
			return fmt.Errorf("take a snapshot: %w", err)
		}
		// The rebuilt tables take over at the end of the committed log, or
		// at the live projector's position if that is further: a projection
		// whose streams are rare would otherwise start far behind, at its
		// own last event, and read the rest of the log again.
		var end logCursor
		err = tx.QueryRow(ctx, `SELECT transaction_id::text::bigint, "offset" FROM events
			WHERE transaction_id < pg_snapshot_xmin($1::pg_snapshot)
			ORDER BY events.transaction_id DESC, events."offset" DESC LIMIT 1`, snapshot).Scan(&end.tx, &end.offset)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("find the end of the log: %w", err)
		}
		until := slices.MaxFunc([]logCursor{at, end, cursor}, logCursor.compare)
		for {
			f, err := r.fetch(ctx, tx, p, cursor, &until, snapshot)
			if err != nil {
				return err
			}
			if len(f.stored) == 0 {
				break
			}
			b, err := run.decode(f)
			if err != nil {
				return err
			}
			if _, err := run.apply(ctx, tx, applyAll(p.Apply), b); err != nil {
				return err
			}
			cursor = b.end
		}
		// The rebuilt tables come with their own set-aside events: those the
		// old ones had and the rebuild applied (a NUL replaced) are gone.
		if err := run.recordSetAside(ctx, tx); err != nil {
			return err
		}
		cursor = until
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{trash}.Sanitize()); err != nil {
			return fmt.Errorf("swap: %w", err)
		}
		for _, table := range p.Tables() {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{live, table}.Sanitize()+` SET SCHEMA `+pgx.Identifier{trash}.Sanitize()+`;
				ALTER TABLE `+pgx.Identifier{work, table}.Sanitize()+` SET SCHEMA `+pgx.Identifier{live}.Sanitize()); err != nil {
				return fmt.Errorf("swap %s: %w", table, err)
			}
		}
		// Writing the row, even unchanged, also makes a live projector
		// whose batch waited on the lock start over: its snapshot predates
		// the new tables.
		if _, err := tx.Exec(ctx, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id)
			VALUES ($1, $2, $3::bigint::text::xid8)
			ON CONFLICT (consumer_group) DO UPDATE SET offset_acked = excluded.offset_acked,
				last_processed_transaction_id = excluded.last_processed_transaction_id`,
			p.Name(), cursor.offset, cursor.tx); err != nil {
			return fmt.Errorf("move %s's position: %w", p.Name(), err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM events_offsets_open WHERE consumer_group = $1`, p.Name()); err != nil {
			return fmt.Errorf("open %s's running transactions: %w", p.Name(), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO events_offsets_open (consumer_group, transaction_id)
			SELECT $1, x FROM pg_snapshot_xip($2::pg_snapshot) AS x WHERE x < $3::bigint::text::xid8`,
			p.Name(), snapshot, cursor.tx); err != nil {
			return fmt.Errorf("open %s's running transactions: %w", p.Name(), err)
		}
		return nil
	})
}

func (c logCursor) compare(o logCursor) int {
	return cmp.Or(cmp.Compare(c.tx, o.tx), cmp.Compare(c.offset, o.offset))
}

// recordSetAside makes projection_failures hold, for the rebuilt
// projection, exactly the events the rebuild set aside.
func (run *rebuildRun) recordSetAside(ctx context.Context, tx pgx.Tx) error {
	run.mu.Lock()
	defer run.mu.Unlock()
	if _, err := tx.Exec(ctx, `DELETE FROM projection_failures WHERE projection = $1`, run.projection); err != nil {
		return fmt.Errorf("record set-aside events: %w", err)
	}
	var rows [][]any
	seen := map[int64]bool{}
	for _, e := range run.setAside {
		if !seen[e.Position] {
			seen[e.Position] = true
			rows = append(rows, []any{e.Projection, e.Position, e.EventID, e.EventType, e.Error, e.FailedAt})
		}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"projection_failures"},
		[]string{"projection", "event_offset", "event_id", "event_type", "error", "failed_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("record set-aside events: %w", err)
	}
	return nil
}
