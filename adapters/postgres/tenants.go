package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/clientreg/clientreg/domain"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	ErrTenantNotFound = errors.New("tenant not found")
	ErrTenantExists   = errors.New("tenant already exists")
)

// tokenPrefix makes a leaked token recognisable to secret scanners.
const tokenPrefix = "crt_"

// Tenants manages tenants and their API tokens. Only a SHA-256 of each token
// is stored; the token itself is shown once, at creation.
type Tenants struct {
	pool  *pgxpool.Pool
	cache tokenCache // see token_cache.go
}

func NewTenants(pool *pgxpool.Pool) *Tenants { return &Tenants{pool: pool} }

// Create makes a tenant and its first admin token.
func (t *Tenants) Create(ctx context.Context, name string) (tenantID uuid.UUID, token string, err error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return uuid.Nil, "", errors.New("a tenant needs a name")
	}
	tenantID = uuid.New()
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name) VALUES ($1, $2)`, tenantID, name); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return fmt.Errorf("%w: %q", ErrTenantExists, name)
			}
			return fmt.Errorf("create tenant: %w", err)
		}
		token, err = insertToken(ctx, tx, tenantID, domain.RoleAdmin)
		return err
	})
	return tenantID, token, err
}

// CreateToken issues a token with a role for the named tenant.
func (t *Tenants) CreateToken(ctx context.Context, tenantName, role string) (string, error) {
	tenantID, err := t.ID(ctx, tenantName)
	if err != nil {
		return "", err
	}
	return insertToken(ctx, t.pool, tenantID, role)
}

// ID finds a tenant by name.
func (t *Tenants) ID(ctx context.Context, name string) (uuid.UUID, error) {
	var tenantID uuid.UUID
	err := t.pool.QueryRow(ctx, `SELECT id FROM tenants WHERE name = $1`, name).Scan(&tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("%w: %q", ErrTenantNotFound, name)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find tenant: %w", err)
	}
	return tenantID, nil
}

// Count returns how many tenants exist.
func (t *Tenants) Count(ctx context.Context) (int, error) {
	var n int
	err := t.pool.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&n)
	return n, err
}

// Authenticate resolves a bearer token to its principal. It notes when the
// token was last used in the same round trip, at most once a minute per
// token, so the tokens page can say it without a write on every request; a
// token it remembers (token_cache.go) is read again after a minute for that.
func (t *Tenants) Authenticate(ctx context.Context, token string) (domain.Principal, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return domain.Principal{}, domain.ErrInvalidToken
	}
	hash := hashToken(token)
	p, gen, ok := t.cache.get(hash)
	if ok {
		return p, nil
	}
	err := t.pool.QueryRow(ctx, `WITH found AS (
			SELECT id, tenant_id, role, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL),
		used AS (
			UPDATE api_tokens SET last_used_at = now() FROM found
			WHERE api_tokens.id = found.id AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute'))
		SELECT id, tenant_id, role FROM found`, hash).Scan(&p.TokenID, &p.TenantID, &p.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Principal{}, domain.ErrInvalidToken
	}
	if err != nil {
		return domain.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	t.cache.put(hash, p, gen)
	return p, nil
}

// Tokens lists a tenant's API tokens, the ones in use first, newest first.
func (t *Tenants) Tokens(ctx context.Context, tenantID uuid.UUID) ([]domain.APIToken, error) {
	rows, err := t.pool.Query(ctx, `SELECT id, tenant_id, name, role, coalesce(created_by, ''), created_at, last_used_at, revoked_at
		FROM api_tokens WHERE tenant_id = $1 ORDER BY revoked_at IS NOT NULL, created_at DESC, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.APIToken, error) {
		var k domain.APIToken
		err := row.Scan(&k.ID, &k.TenantID, &k.Name, &k.Role, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// IssueToken makes a token for the tenant with a role and a name, recording
// who made it (an actor). The token is returned once; only its hash is kept.
func (t *Tenants) IssueToken(ctx context.Context, tenantID uuid.UUID, role, name, createdBy string) (domain.APIToken, string, error) {
	name, err := domain.TokenName(name)
	if err != nil {
		return domain.APIToken{}, "", err
	}
	if !domain.ValidRole(role) {
		return domain.APIToken{}, "", fmt.Errorf("%w: %q", domain.ErrInvalidRole, role)
	}
	token, hash, err := newToken()
	if err != nil {
		return domain.APIToken{}, "", err
	}
	k := domain.APIToken{ID: uuid.New(), TenantID: tenantID, Name: name, Role: role, CreatedBy: createdBy}
	var by *string
	if createdBy != "" {
		by = &createdBy
	}
	err = t.pool.QueryRow(ctx, `INSERT INTO api_tokens (id, tenant_id, role, token_hash, name, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`, k.ID, tenantID, role, hash, name, by).Scan(&k.CreatedAt)
	if err != nil {
		return domain.APIToken{}, "", fmt.Errorf("store token: %w", err)
	}
	return k, token, nil
}

// RevokeToken ends a token of the tenant: from now on it answers 401. This
// instance forgets the tokens it remembers at once, the others when the
// revocation's notification reaches them (token_cache.go). Revoking it again is no
// error; an id the tenant does not have is domain.ErrTokenNotFound.
func (t *Tenants) RevokeToken(ctx context.Context, tenantID, id uuid.UUID) (domain.APIToken, error) {
	var k domain.APIToken
	err := t.pool.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
		WHERE tenant_id = $1 AND id = $2
		RETURNING id, tenant_id, name, role, coalesce(created_by, ''), created_at, last_used_at, revoked_at`, tenantID, id).
		Scan(&k.ID, &k.TenantID, &k.Name, &k.Role, &k.CreatedBy, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.APIToken{}, domain.ErrTokenNotFound
	}
	if err != nil {
		return domain.APIToken{}, fmt.Errorf("revoke token: %w", err)
	}
	t.cache.forgetAll()
	return k, nil
}

// tokenWriter is what inserts a token: the pool, or the transaction that
// creates its tenant.
type tokenWriter interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertToken(ctx context.Context, q tokenWriter, tenantID uuid.UUID, role string) (string, error) {
	if !domain.ValidRole(role) {
		return "", fmt.Errorf("%w: %q", domain.ErrInvalidRole, role)
	}
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	if _, err := q.Exec(ctx, `INSERT INTO api_tokens (id, tenant_id, role, token_hash) VALUES ($1, $2, $3, $4)`,
		uuid.New(), tenantID, role, hash); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// newToken makes a secret token and the hash that is stored of it.
func newToken() (token string, hash []byte, err error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", nil, fmt.Errorf("generate token: %w", err)
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	return token, hashToken(token), nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
