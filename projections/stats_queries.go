package projections

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Stats reads the tenant's dashboard from the read models: client counts
// kept by rm_clients' triggers, imports per month from the import history.
func (r *Queries) Stats(ctx context.Context, tenantID uuid.UUID) (Stats, error) {
	st := Stats{Clients: ClientStats{ByStatus: map[string]int64{}, ByOrigin: map[string]int64{},
		ByLanguage: map[string]int64{}, ByList: []ListCount{}}}
	rows, err := r.db.Query(ctx, `SELECT c.dimension, c.key, c.n, coalesce(l.name, '')
		FROM rm_client_counts c
		LEFT JOIN rm_lists l ON c.dimension = 'list' AND l.tenant_id = c.tenant_id AND l.id::text = c.key
		WHERE c.tenant_id = $1 AND c.n > 0
		ORDER BY c.dimension, c.n DESC, c.key`, tenantID)
	if err != nil {
		return st, fmt.Errorf("read client counts: %w", err)
	}
	var dimension, key, listName string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&dimension, &key, &n, &listName}, func() error {
		switch dimension {
		case "status":
			st.Clients.ByStatus[key] = n
			st.Clients.Total += n
		case "origin":
			st.Clients.ByOrigin[key] = n
		case "language":
			st.Clients.ByLanguage[key] = n
		case "list":
			id, err := uuid.Parse(key)
			if err != nil {
				return fmt.Errorf("list count key %q: %w", key, err)
			}
			st.Clients.ByList = append(st.Clients.ByList, ListCount{ID: id, Name: listName, Clients: n})
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("read client counts: %w", err)
	}

	rows, err = r.db.Query(ctx, `SELECT to_char(executed_at, 'YYYY-MM'), count(*),
			coalesce(sum((execution->'counts'->>'created')::bigint), 0),
			coalesce(sum((execution->'counts'->>'updated')::bigint), 0),
			count(undone_at),
			coalesce(sum((undo->>'deleted')::bigint + (undo->>'restored')::bigint), 0)
		FROM rm_imports WHERE tenant_id = $1 AND executed_at IS NOT NULL
		GROUP BY 1 ORDER BY 1 DESC`, tenantID)
	if err != nil {
		return st, fmt.Errorf("read import months: %w", err)
	}
	st.Imports, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ImportMonth, error) {
		var m ImportMonth
		err := row.Scan(&m.Month, &m.Executed, &m.RowsCreated, &m.RowsUpdated, &m.Undone, &m.RowsUndone)
		return m, err
	})
	if err != nil {
		return st, fmt.Errorf("read import months: %w", err)
	}
	return st, nil
}
