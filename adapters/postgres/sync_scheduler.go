package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// SyncRunner runs a connection's sync if one is due.
type SyncRunner interface {
	RunDue(ctx context.Context, tenantID, connectionID uuid.UUID) error
}

// SyncScheduler starts the runs that are due: right after connecting,
// every interval after the last run, and when asked for. Several serve
// instances may run one each: the run lock and the claim keep every run
// single.
type SyncScheduler struct {
	conns       *Connections
	runner      SyncRunner
	logger      *slog.Logger
	scheduled   *commands.Wakeup
	poll        time.Duration
	concurrency int
}

// NewSyncScheduler builds a scheduler; Run starts it.
// scheduled is the connection commands' wakeup, notified when a run is asked for.
func NewSyncScheduler(conns *Connections, runner SyncRunner, scheduled *commands.Wakeup, logger *slog.Logger) *SyncScheduler {
	return &SyncScheduler{conns: conns, runner: runner, scheduled: scheduled, logger: logger.With("worker", "syncs"),
		poll: 5 * time.Second, concurrency: 4}
}

// Run starts due runs until ctx ends, and waits for those it started.
func (s *SyncScheduler) Run(ctx context.Context) {
	for {
		if err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("could not start due syncs", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.scheduled.C():
		case <-time.After(s.poll):
		}
	}
}

type dueConnection struct{ tenantID, id uuid.UUID }

// RunDue runs every connection due now, a few at a time, and returns when
// they are done.
func (s *SyncScheduler) RunDue(ctx context.Context) error {
	rows, err := s.conns.pool.Query(ctx, `SELECT tenant_id, id FROM connections
		WHERE active AND secrets IS NOT NULL AND next_run_at <= now() ORDER BY next_run_at LIMIT 100`)
	if err != nil {
		return fmt.Errorf("find due syncs: %w", err)
	}
	var due []dueConnection
	for rows.Next() {
		var d dueConnection
		if err := rows.Scan(&d.tenantID, &d.id); err != nil {
			rows.Close()
			return fmt.Errorf("find due syncs: %w", err)
		}
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find due syncs: %w", err)
	}
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for _, d := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			started := time.Now()
			err := s.runner.RunDue(ctx, d.tenantID, d.id)
			switch {
			case errors.Is(err, domain.ErrSyncAlreadyRunning):
			case err != nil && ctx.Err() == nil:
				s.logger.Warn("sync run failed", "tenant_id", d.tenantID, "connection_id", d.id, "error", err)
			default:
				s.logger.Debug("sync run done", "tenant_id", d.tenantID, "connection_id", d.id, "took", time.Since(started).Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
	return nil
}
