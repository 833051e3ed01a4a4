package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clientreg/clientreg/commands"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// abandonAfter frees a key whose first request never finished (a crash
// between claiming the key and storing the answer).
const abandonAfter = 2 * time.Minute

// Idempotency remembers the answer to each (tenant, key) so a retried
// command returns it again instead of running twice.
type Idempotency struct {
	pool *pgxpool.Pool
}

func NewIdempotency(pool *pgxpool.Pool) *Idempotency { return &Idempotency{pool: pool} }

// Claim takes the key for a request. It returns the stored response when the
// same request already completed, commands.ErrIdempotencyKeyReused when the key
// belongs to another request, commands.ErrIdempotencyInProgress while the first is
// still running, or a claim when the caller owns the key now. A claim
// abandoned by a crash is taken over only by the same request.
func (s *Idempotency) Claim(ctx context.Context, tenantID uuid.UUID, key string, requestHash []byte) (*commands.IdempotencyClaim, *commands.StoredResponse, error) {
	claim := &commands.IdempotencyClaim{TenantID: tenantID, Key: key, Owner: uuid.New()}
	tag, err := s.pool.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, owner) VALUES ($1, $2, $3, $5)
		ON CONFLICT (tenant_id, key) DO UPDATE SET owner = excluded.owner, created_at = now()
		WHERE idempotency_keys.status IS NULL AND idempotency_keys.request_hash = excluded.request_hash
		  AND idempotency_keys.created_at < now() - $4::interval`,
		tenantID, key, requestHash, abandonAfter.String(), claim.Owner)
	if err != nil {
		return nil, nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return claim, nil, nil
	}
	var hash []byte
	var status *int
	var stored commands.StoredResponse
	err = s.pool.QueryRow(ctx, `SELECT request_hash, status, response_body, etag, location FROM idempotency_keys
		WHERE tenant_id = $1 AND key = $2`, tenantID, key).Scan(&hash, &status, &stored.Body, &stored.ETag, &stored.Location)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.Claim(ctx, tenantID, key, requestHash) // released meanwhile
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if string(hash) != string(requestHash) {
		return nil, nil, commands.ErrIdempotencyKeyReused
	}
	if status == nil {
		return nil, nil, commands.ErrIdempotencyInProgress
	}
	stored.Status = *status
	return nil, &stored, nil
}

// Complete stores the answer for a claimed key, if the claim still holds.
func (s *Idempotency) Complete(ctx context.Context, c *commands.IdempotencyClaim, resp commands.StoredResponse) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, response_body = $4, etag = $5, location = $6
		WHERE tenant_id = $1 AND key = $2 AND owner = $7`, c.TenantID, c.Key, resp.Status, resp.Body, resp.ETag, resp.Location, c.Owner)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release frees a claimed key after a refused or failed request.
func (s *Idempotency) Release(ctx context.Context, c *commands.IdempotencyClaim) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND owner = $3 AND status IS NULL`,
		c.TenantID, c.Key, c.Owner)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
