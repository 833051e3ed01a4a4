package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// IsPending tells whether a registration of this email waits, matched to
// no client.
func (s *AppRegistrations) IsPending(ctx context.Context, tenantID uuid.UUID, email string) (bool, error) {
	var pending bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM app_registrations
		WHERE tenant_id = $1 AND email_hash = $2 AND client_id IS NULL)`, tenantID, s.emailHash(tenantID, email)).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("find pending registration: %w", err)
	}
	return pending, nil
}
