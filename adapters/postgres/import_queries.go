package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/projections"
)

type issueCursor struct {
	Row   int    `json:"r"`
	Phase string `json:"p"`
	Seq   int    `json:"s"`
}

// ImportIssues pages through an import's issues (analysis and execution)
// in row order; errorsOnly leaves warnings out.
func (r *ReadModels) ImportIssues(ctx context.Context, tenantID, importID uuid.UUID, cursor string, limit int, errorsOnly bool) (projections.IssuePage, error) {
	limit = projections.PageLimit(limit)
	after := issueCursor{Row: -1}
	if cursor != "" {
		if err := projections.DecodeCursor(cursor, &after); err != nil {
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
		page.NextCursor = projections.EncodeCursor(issueCursor{Row: last.Row, Phase: last.Phase, Seq: last.Seq})
	}
	return page, nil
}
