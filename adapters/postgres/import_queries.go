package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

const importColumns = `id, version, position, status, label, file_name, file_sha256, file_size, actor,
	analysis, execution, undo, failure, created_at, updated_at, executed_at, undone_at`

func scanImport(row pgx.Row) (projections.ImportView, error) {
	var v projections.ImportView
	err := row.Scan(&v.ID, &v.Version, &v.Position, &v.Status, &v.Label, &v.FileName, &v.FileSHA256, &v.FileSize,
		&v.Actor, &v.Analysis, &v.Execution, &v.Undo, &v.Failure, &v.CreatedAt, &v.UpdatedAt, &v.ExecutedAt, &v.UndoneAt)
	return v, err
}

// Import returns one import of the tenant from the history.
func (r *ReadModels) Import(ctx context.Context, tenantID, id uuid.UUID) (projections.ImportView, error) {
	v, err := scanImport(r.pool.QueryRow(ctx, `SELECT `+importColumns+` FROM rm_imports WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, domain.ErrImportNotFound
	}
	if err != nil {
		return v, fmt.Errorf("read import: %w", err)
	}
	return v, nil
}

type importCursor struct {
	CreatedAt time.Time `json:"t"`
	ID        uuid.UUID `json:"i"`
}

// Imports lists the tenant's imports, newest first.
func (r *ReadModels) Imports(ctx context.Context, tenantID uuid.UUID, f projections.ImportFilter) (projections.ImportPage, error) {
	limit := clampLimit(f.Limit)
	var after *importCursor
	if f.Cursor != "" {
		after = &importCursor{}
		if err := decodeCursor(f.Cursor, after); err != nil {
			return projections.ImportPage{}, err
		}
	}
	args := []any{tenantID, f.Status, limit + 1}
	cond := ""
	if after != nil {
		cond = ` AND (created_at, id) < ($4, $5)`
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := r.pool.Query(ctx, `SELECT `+importColumns+` FROM rm_imports
		WHERE tenant_id = $1 AND ($2 = '' OR status = $2)`+cond+`
		ORDER BY created_at DESC, id DESC LIMIT $3`, args...)
	if err != nil {
		return projections.ImportPage{}, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	page := projections.ImportPage{Items: []projections.ImportView{}}
	for rows.Next() {
		v, err := scanImport(rows)
		if err != nil {
			return projections.ImportPage{}, fmt.Errorf("list imports: %w", err)
		}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return projections.ImportPage{}, fmt.Errorf("list imports: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeCursor(importCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

type issueCursor struct {
	Row   int    `json:"r"`
	Phase string `json:"p"`
	Seq   int    `json:"s"`
}

// ImportIssues pages through an import's issues (analysis and execution)
// in row order; errorsOnly leaves warnings out.
func (r *ReadModels) ImportIssues(ctx context.Context, tenantID, importID uuid.UUID, cursor string, limit int, errorsOnly bool) (projections.IssuePage, error) {
	limit = clampLimit(limit)
	after := issueCursor{Row: -1}
	if cursor != "" {
		if err := decodeCursor(cursor, &after); err != nil {
			return projections.IssuePage{}, err
		}
	}
	rows, err := r.pool.Query(ctx, `SELECT phase, seq, severity, row, col, header, field, value, code, params FROM import_issues
		WHERE tenant_id = $1 AND import_id = $2 AND (row, phase, seq) > ($3, $4, $5)
		AND (NOT $6 OR severity = 'error')
		ORDER BY row, phase, seq LIMIT $7`, tenantID, importID, after.Row, after.Phase, after.Seq, errorsOnly, limit+1)
	if err != nil {
		return projections.IssuePage{}, fmt.Errorf("list import issues: %w", err)
	}
	defer rows.Close()
	var page projections.IssuePage
	for rows.Next() {
		var v projections.IssueView
		var severity string
		if err := rows.Scan(&v.Phase, &v.Seq, &severity, &v.Row, &v.Column, &v.Header, &v.Field, &v.Value, &v.Code, &v.Params); err != nil {
			return projections.IssuePage{}, fmt.Errorf("list import issues: %w", err)
		}
		v.Warning = severity == "warning"
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return projections.IssuePage{}, fmt.Errorf("list import issues: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeCursor(issueCursor{Row: last.Row, Phase: last.Phase, Seq: last.Seq})
	}
	return page, nil
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return projections.ErrInvalidCursor
	}
	return nil
}
