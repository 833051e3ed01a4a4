package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const importColumns = `id, version, position, status, label, file_name, file_sha256, file_size, actor,
	analysis, execution, undo, failure, created_at, updated_at, executed_at, undone_at`

func scanImport(row pgx.Row) (ImportView, error) {
	var v ImportView
	err := row.Scan(&v.ID, &v.Version, &v.Position, &v.Status, &v.Label, &v.FileName, &v.FileSHA256, &v.FileSize,
		&v.Actor, &v.Analysis, &v.Execution, &v.Undo, &v.Failure, &v.CreatedAt, &v.UpdatedAt, &v.ExecutedAt, &v.UndoneAt)
	return v, err
}

// Import returns one import of the tenant from the history.
func (r *Queries) Import(ctx context.Context, tenantID, id uuid.UUID) (ImportView, error) {
	v, err := scanImport(r.db.QueryRow(ctx, `SELECT `+importColumns+` FROM rm_imports WHERE tenant_id = $1 AND id = $2`, tenantID, id))
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
func (r *Queries) Imports(ctx context.Context, tenantID uuid.UUID, f ImportFilter) (ImportPage, error) {
	limit := PageLimit(f.Limit)
	var after *importCursor
	if f.Cursor != "" {
		after = &importCursor{}
		if err := DecodeCursor(f.Cursor, after); err != nil {
			return ImportPage{}, err
		}
	}
	args := []any{tenantID, f.Status, limit + 1}
	cond := ""
	if after != nil {
		cond = ` AND (created_at, id) < ($4, $5)`
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := r.db.Query(ctx, `SELECT `+importColumns+` FROM rm_imports
		WHERE tenant_id = $1 AND ($2 = '' OR status = $2)`+cond+`
		ORDER BY created_at DESC, id DESC LIMIT $3`, args...)
	if err != nil {
		return ImportPage{}, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	page := ImportPage{Items: []ImportView{}}
	for rows.Next() {
		v, err := scanImport(rows)
		if err != nil {
			return ImportPage{}, fmt.Errorf("list imports: %w", err)
		}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return ImportPage{}, fmt.Errorf("list imports: %w", err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = EncodeCursor(importCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}
