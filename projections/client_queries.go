package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const clientColumns = `id, version, position, status, kind, first_name, last_name, company_name, display_name,
	email, language, phone, vat_number, street, house_number, box, postal_code, city, country,
	external_refs, custom_fields, contact_persons, list_ids, created_at, updated_at, deleted_at, sort_name,
	removed_at_source, access_status, notes`

func scanClient(row pgx.Row) (ClientView, string, error) {
	var c ClientView
	var sortName string
	a := &c.Address
	err := row.Scan(&c.ID, &c.Version, &c.Position, &c.Status, &c.Kind, &c.FirstName, &c.LastName, &c.CompanyName,
		&c.DisplayName, &c.Email, &c.Language, &c.Phone, &c.VATNumber, &a.Street, &a.HouseNumber, &a.Box,
		&a.PostalCode, &a.City, &a.Country, &c.ExternalRefs, &c.CustomFields, &c.ContactPersons, &c.Lists,
		&c.CreatedAt, &c.UpdatedAt, &c.DeletedAt, &sortName, &c.RemovedAtSource, &c.AccessStatus, &c.Notes)
	return c, sortName, err
}

// Client returns one client of the tenant.
func (r *Queries) Client(ctx context.Context, tenantID, id uuid.UUID) (ClientView, error) {
	c, _, err := scanClient(r.db.QueryRow(ctx, `SELECT `+clientColumns+` FROM rm_clients WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, domain.ErrClientNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read client: %w", err)
	}
	return c, nil
}

type clientCursor struct {
	Sort     string     `json:"o,omitempty"` // the order it pages through
	SortName string     `json:"s,omitempty"`
	Updated  *time.Time `json:"u,omitempty"`
	ID       uuid.UUID  `json:"i"`
}

// SearchClients pages through the tenant's clients in a stable order (name
// or last update, then id) with keyset pagination, so pages neither skip
// nor repeat rows while others write.
func (r *Queries) SearchClients(ctx context.Context, tenantID uuid.UUID, f ClientFilter) (ClientPage, error) {
	limit := PageLimit(f.Limit)
	if f.Sort == "" {
		f.Sort = "name"
	}
	key, desc, ok := sortKey(f.Sort)
	if !ok {
		return ClientPage{}, fmt.Errorf("%w: sort must be one of %s", ErrInvalidSort, strings.Join(ClientSorts, ", "))
	}
	where := []string{"tenant_id = $1"}
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	switch f.Status {
	case "", "active":
		where = append(where, "status = 'active'")
	case "deleted", "erased":
		where = append(where, "status = "+arg(f.Status))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		cond := "search LIKE " + arg("%"+escapeLike(strings.ToLower(q))+"%")
		if vat, err := domain.NormalizeVATNumber("q", q); err == nil {
			cond = "(" + cond + " OR vat_number = " + arg(vat) + ")"
		}
		where = append(where, cond)
	}
	if f.ListID != nil {
		where = append(where, "list_ids @> ARRAY["+arg(*f.ListID)+"::uuid]")
	}
	if f.Source != "" {
		where = append(where, "sources @> ARRAY["+arg(f.Source)+"::text]")
	}
	if f.ImportID != nil {
		where = append(where, "import_ids @> ARRAY["+arg(*f.ImportID)+"::uuid]")
	}
	if f.Access != "" {
		where = append(where, "access_status = "+arg(f.Access))
	}
	cmp, dir := ">", ""
	if desc {
		cmp, dir = "<", " DESC"
	}
	if f.Cursor != "" {
		var c clientCursor
		if err := DecodeCursor(f.Cursor, &c); err != nil {
			return ClientPage{}, err
		}
		if c.Sort == "" {
			c.Sort = "name" // cursors from before sorting
		}
		if c.Sort != f.Sort || (key == "updated_at") != (c.Updated != nil) {
			return ClientPage{}, ErrInvalidCursor
		}
		var after any = c.SortName
		if c.Updated != nil {
			after = *c.Updated
		}
		where = append(where, "("+key+", id) "+cmp+" ("+arg(after)+", "+arg(c.ID)+")")
	}
	q := `SELECT ` + clientColumns + ` FROM rm_clients WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + key + dir + `, id` + dir + ` LIMIT ` + fmt.Sprint(limit+1)
	rows, err := r.db.Query(ctx, q, args...)
	if err != nil {
		return ClientPage{}, fmt.Errorf("search clients: %w", err)
	}
	defer rows.Close()
	page := ClientPage{Items: []ClientView{}}
	var lastSort string
	for rows.Next() {
		c, sortName, err := scanClient(rows)
		if err != nil {
			return ClientPage{}, fmt.Errorf("scan client: %w", err)
		}
		if len(page.Items) == limit {
			last := page.Items[limit-1]
			cur := clientCursor{Sort: f.Sort, SortName: lastSort, ID: last.ID}
			if key == "updated_at" {
				cur.SortName, cur.Updated = "", &last.UpdatedAt
			}
			page.NextCursor = EncodeCursor(cur)
			break
		}
		page.Items = append(page.Items, c)
		lastSort = sortName
	}
	return page, rows.Err()
}

// sortKey is the column a sort orders by, and its direction.
func sortKey(sort string) (column string, desc, ok bool) {
	switch sort {
	case "name", "-name":
		return "sort_name", sort == "-name", true
	case "updated", "-updated":
		return "updated_at", sort == "-updated", true
	}
	return "", false, false
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ClientsByID returns those of the tenant's clients that have a row, by id.
func (r *Queries) ClientsByID(ctx context.Context, tenantID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]ClientView, error) {
	rows, err := r.db.Query(ctx, `SELECT `+clientColumns+` FROM rm_clients WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]ClientView, len(ids))
	for rows.Next() {
		c, _, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("read clients: %w", err)
		}
		out[c.ID] = c
	}
	return out, rows.Err()
}

// MatchVAT looks enterprise numbers up among the tenant's live clients not
// yet linked to source (the write side keeps no VAT index); the oldest
// client wins. Two records of one source with one enterprise number are two
// clients.
func (r *Queries) MatchVAT(ctx context.Context, tenantID uuid.UUID, source string, vats []string) (map[string]uuid.UUID, error) {
	rows, err := r.db.Query(ctx, `SELECT DISTINCT ON (c.vat_number) c.vat_number, c.id
		FROM unnest($2::text[]) AS x(vat)
		JOIN rm_clients c ON c.tenant_id = $1 AND c.vat_number = x.vat
		WHERE c.status = 'active' AND NOT ($3 = ANY(c.sources))
		ORDER BY c.vat_number, c.created_at, c.id`, tenantID, vats, source)
	if err != nil {
		return nil, fmt.Errorf("match enterprise numbers: %w", err)
	}
	out := map[string]uuid.UUID{}
	var vat string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&vat, &id}, func() error {
		out[vat] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("match enterprise numbers: %w", err)
	}
	return out, nil
}

// CountDrift is one dashboard counter that differs from a fresh count.
type CountDrift struct {
	Dimension, Key string
	Fresh, Kept    int64
}

// CountDrifts compares the dashboard counters with a fresh count of the
// clients read model.
func (r *Queries) CountDrifts(ctx context.Context, tenantID uuid.UUID) ([]CountDrift, error) {
	rows, err := r.db.Query(ctx, `
		WITH fresh AS (
			SELECT k.dimension, k.key, count(*) AS n
			FROM rm_clients c, rm_client_count_keys(c.status, c.origin, c.language, c.list_ids) k
			WHERE c.tenant_id = $1 GROUP BY 1, 2),
		kept AS (SELECT dimension, key, n FROM rm_client_counts WHERE tenant_id = $1 AND n <> 0)
		SELECT coalesce(f.dimension, k.dimension), coalesce(f.key, k.key), coalesce(f.n, 0), coalesce(k.n, 0)
		FROM fresh f FULL JOIN kept k ON k.dimension = f.dimension AND k.key = f.key
		WHERE coalesce(f.n, 0) <> coalesce(k.n, 0)`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("check counts: %w", err)
	}
	drifts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CountDrift, error) {
		var d CountDrift
		err := row.Scan(&d.Dimension, &d.Key, &d.Fresh, &d.Kept)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("check counts: %w", err)
	}
	return drifts, nil
}
