package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Imports maintains rm_imports: the import history.
type Imports struct{}

func (Imports) Tables() []string { return []string{"rm_imports"} }

func (Imports) Name() string { return "imports" }

func (Imports) StreamTypes() []string { return []string{domain.StreamImport} }

// Apply writes one statement per event: imports are few, their events small.
func (Imports) Apply(ctx context.Context, tx pgx.Tx, events []domain.RecordedEvent) error {
	for _, e := range events {
		if err := applyImportEvent(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

func applyImportEvent(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent) error {
	if e.StreamType != domain.StreamImport {
		return nil
	}
	var err error
	switch ev := e.Event.(type) {
	case domain.ImportAnalyzed:
		_, err = tx.Exec(ctx, `INSERT INTO rm_imports (tenant_id, id, version, position, status, file_name, file_sha256,
			file_size, actor, analysis, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (tenant_id, id) DO UPDATE SET
			version = EXCLUDED.version, position = EXCLUDED.position, status = EXCLUDED.status, file_sha256 = EXCLUDED.file_sha256,
			analysis = EXCLUDED.analysis, execution = NULL, failure = '', updated_at = EXCLUDED.updated_at
			WHERE rm_imports.version < EXCLUDED.version`, // analysed again with the user's mapping
			e.TenantID, e.StreamID, e.StreamVersion, e.Position, domain.ImportStatusAnalyzed, ev.FileName, ev.FileSHA256,
			ev.FileSize, e.Actor, ev, e.OccurredAt)
	case domain.ImportRefused:
		_, err = tx.Exec(ctx, `INSERT INTO rm_imports (tenant_id, id, version, position, status, file_name, file_size,
			actor, failure, analysis, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (tenant_id, id) DO NOTHING`,
			e.TenantID, e.StreamID, e.StreamVersion, e.Position, domain.ImportStatusRefused, ev.FileName, ev.FileSize,
			e.Actor, ev.Detail, ev, e.OccurredAt)
	case domain.ImportExecutionRequested:
		err = updateImport(ctx, tx, e, `status = $6, execution = jsonb_build_object('mode', $7::text, 'lists', $8::jsonb), failure = ''`,
			domain.ImportStatusRunning, ev.Mode, ev.Lists)
	case domain.ImportExecuted:
		err = updateImport(ctx, tx, e, `status = $6, label = $7, seq = $8, execution = $9, executed_at = $5`,
			domain.ImportStatusExecuted, ev.Label, ev.Seq, ev)
	case domain.ImportFailed:
		err = updateImport(ctx, tx, e, `status = $6, failure = $7`, domain.ImportStatusFailed, ev.Reason)
	case domain.ImportUndone:
		err = updateImport(ctx, tx, e, `status = $6, undo = $7, undone_at = $5`, domain.ImportStatusUndone, ev)
	}
	if err != nil {
		return fmt.Errorf("apply %s to import %s: %w", e.EventName, e.StreamID, err)
	}
	return nil
}

// updateImport applies a SET clause when the row is behind the event.
// $1..$5 are tenant, import, version, position and time; args follow.
func updateImport(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent, set string, args ...any) error {
	all := append([]any{e.TenantID, e.StreamID, e.StreamVersion, e.Position, e.OccurredAt}, args...)
	_, err := tx.Exec(ctx, `UPDATE rm_imports SET `+set+`, version = $3, position = $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND version < $3`, all...)
	return err
}

// ImportView is an import as the history shows it.
type ImportView struct {
	ID         uuid.UUID `json:"id"`
	Version    int       `json:"version"`
	Position   int64     `json:"position"`
	Status     string    `json:"status"`
	Label      string    `json:"label,omitempty"`
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256,omitempty"`
	FileSize   int64     `json:"file_size"`
	Actor      string    `json:"actor"`
	// Analysis, Execution and Undo are the recorded events (Execution the
	// request while running), decoded by whoever presents them.
	Analysis   json.RawMessage `json:"-"`
	Execution  json.RawMessage `json:"-"`
	Undo       json.RawMessage `json:"-"`
	Failure    string          `json:"failure,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ExecutedAt *time.Time      `json:"executed_at,omitempty"`
	UndoneAt   *time.Time      `json:"undone_at,omitempty"`
}

// ImportFilter narrows the import history.
type ImportFilter struct {
	Status string
	Cursor string
	Limit  int
}

// ImportPage is one page of the import history, newest first.
type ImportPage struct {
	Items      []ImportView `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

// IssueView is an import issue as stored, before its message is rendered.
type IssueView struct {
	Phase string
	Seq   int
	domain.ImportIssue
}
