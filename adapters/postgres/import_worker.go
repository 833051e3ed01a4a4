package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/commands"
)

// ImportRunner executes one queued import in the transaction it is given.
type ImportRunner interface {
	Run(ctx context.Context, tx commands.ImportTx, tenantID, importID uuid.UUID) error
	Fail(ctx context.Context, tenantID, importID uuid.UUID, cause error) error
}

// ImportWorker runs queued executions. The job row stays locked for the
// whole execution transaction and is deleted in it, so one import runs at
// most once at a time across every serve instance, and a crash leaves the
// job queued with nothing of it written.
type ImportWorker struct {
	imports *Imports
	runner  ImportRunner
	logger  *slog.Logger
	queued  *commands.Wakeup
	poll    time.Duration
}

// NewImportWorker builds a worker; Run starts it.
// queued is the import commands' wakeup, notified when an execution is queued.
func NewImportWorker(imports *Imports, runner ImportRunner, queued *commands.Wakeup, logger *slog.Logger) *ImportWorker {
	return &ImportWorker{imports: imports, runner: runner, queued: queued, logger: logger.With("worker", "imports"), poll: time.Second}
}

// Run works through the queue until ctx ends.
func (w *ImportWorker) Run(ctx context.Context) error {
	backoff := w.poll
	for {
		ran, err := w.RunNext(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.logger.Warn("import run interrupted, will retry", "error", err)
			backoff = min(backoff*2, time.Minute)
		case ran:
			backoff = w.poll
			continue
		default:
			backoff = w.poll
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.queued.C():
		case <-time.After(backoff):
		}
	}
}

var errNoJob = errors.New("no import queued")

// RunNext runs the oldest queued import nobody else is running. It reports
// whether there was one. A failure that retrying cannot fix is recorded on
// the import (ImportFailed) and the job dropped; a transient one (lost
// connection, shutdown) leaves the job for the next try.
func (w *ImportWorker) RunNext(ctx context.Context) (bool, error) {
	var tenantID, importID uuid.UUID
	err := pgx.BeginFunc(ctx, w.imports.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT tenant_id, import_id FROM import_jobs
			ORDER BY requested_at FOR UPDATE SKIP LOCKED LIMIT 1`).Scan(&tenantID, &importID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoJob
		}
		if err != nil {
			return fmt.Errorf("take import job: %w", err)
		}
		started := time.Now()
		w.logger.Info("import started", "tenant_id", tenantID, "import_id", importID)
		itx := w.imports.newTx(tx, tenantID)
		err = w.runner.Run(ctx, itx, tenantID, importID)
		itx.waitProgress()
		if err != nil {
			return err
		}
		if err := finishJob(ctx, tx, tenantID, importID); err != nil {
			return err
		}
		w.logger.Info("import finished", "tenant_id", tenantID, "import_id", importID, "took", time.Since(started).Round(time.Millisecond))
		return nil
	})
	switch {
	case errors.Is(err, errNoJob):
		return false, nil
	case err == nil:
		return true, nil
	case ctx.Err() != nil || isTransient(err):
		return true, err
	}
	w.logger.Error("import failed", "tenant_id", tenantID, "import_id", importID, "error", err)
	if ferr := w.fail(ctx, tenantID, importID, err); ferr != nil {
		return true, errors.Join(err, ferr)
	}
	return true, nil
}

// fail records the failure and drops the job, unless another worker holds it.
func (w *ImportWorker) fail(ctx context.Context, tenantID, importID uuid.UUID, cause error) error {
	return pgx.BeginFunc(ctx, w.imports.pool, func(tx pgx.Tx) error {
		var held uuid.UUID
		err := tx.QueryRow(ctx, `SELECT import_id FROM import_jobs WHERE tenant_id = $1 AND import_id = $2
			FOR UPDATE SKIP LOCKED`, tenantID, importID).Scan(&held)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := w.runner.Fail(ctx, tenantID, importID, cause); err != nil {
			return err
		}
		return finishJob(ctx, tx, tenantID, importID)
	})
}

func finishJob(ctx context.Context, tx pgx.Tx, tenantID, importID uuid.UUID) error {
	if _, err := tx.Exec(ctx, `DELETE FROM import_jobs WHERE tenant_id = $1 AND import_id = $2`, tenantID, importID); err != nil {
		return fmt.Errorf("finish import job: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM import_progress WHERE tenant_id = $1 AND import_id = $2`, tenantID, importID); err != nil {
		return fmt.Errorf("finish import job: %w", err)
	}
	return nil
}
