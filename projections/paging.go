package projections

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/jackc/pgx/v5"
)

// Queries answers from the read models this package writes, each query next
// to the projection that keeps its table. Every query is scoped by tenant.
type Queries struct {
	db Querier
	// walkWindow replaces the constant of the same name in tests.
	walkWindow int
	// wordLimit replaces the constant of the same name in tests.
	wordLimit int
}

// Querier runs the queries: a pool, or a transaction that must see its own
// writes.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func NewQueries(db Querier) *Queries { return &Queries{db: db} }

// PageLimit bounds a page size: 50 unless asked for, at most 200.
func PageLimit(limit int) int {
	if limit <= 0 || limit > 200 {
		return 50
	}
	return limit
}

// EncodeCursor makes a page's cursor from where the page ended: opaque to
// clients, so its fields may change.
func EncodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads back what EncodeCursor made (ErrInvalidCursor when
// this server did not hand it out).
func DecodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, v) != nil {
		return ErrInvalidCursor
	}
	return nil
}
