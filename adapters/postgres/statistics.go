package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statistics keeps the planner's statistics of the registry's tables fresh
// after bulk changes. An import writes 100,000 clients in seconds, and the
// first thing its user opens is the client list: on a table never analysed
// (or analysed when it was small) the planner takes the tenant for a few
// rows and sorts all 100,000 to show 50 (300 ms instead of 3). Autovacuum
// would analyse it, but a minute later at best, and not at all where it is
// off. So every few seconds the tables changed by more than a fifth since
// their last ANALYZE (and by at least statsMinChanges rows) are analysed,
// each on its own: ANALYZE takes a transaction id only to write its
// results, and a long transaction would hold back every projector.
type Statistics struct {
	pool     *pgxpool.Pool
	logger   *slog.Logger
	interval time.Duration
}

const (
	statsMinChanges = 1000
	statsLockID     = 7_311_420_003 // one instance analyses at a time
)

func NewStatistics(pool *pgxpool.Pool, logger *slog.Logger) *Statistics {
	return &Statistics{pool: pool, logger: logger, interval: 5 * time.Second}
}

// Run checks the tables every interval until ctx ends.
func (s *Statistics) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.AnalyzeChanged(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("refreshing planner statistics", "error", err)
		}
	}
}

// AnalyzeChanged analyses the tables of the schema changed enough since
// their last ANALYZE, and returns when it has.
func (s *Statistics) AnalyzeChanged(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, statsLockID).Scan(&locked); err != nil || !locked {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, statsLockID) //nolint:errcheck // released with the session anyway
	rows, err := conn.Query(ctx, `
		SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = current_schema()
		AND s.n_mod_since_analyze >= $1 + 0.2 * greatest(c.reltuples, 0)`, statsMinChanges)
	if err != nil {
		return fmt.Errorf("tables changed since analysed: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("tables changed since analysed: %w", err)
	}
	for _, table := range tables {
		began := time.Now()
		if _, err := conn.Exec(ctx, `ANALYZE `+pgx.Identifier{table}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s: %w", table, err)
		}
		s.logger.Debug("analysed", "table", table, "took", time.Since(began))
	}
	return nil
}
