package eventlog

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// SaveErasure appends the client's erasure and, in the same transaction,
// deletes its data key (its sealed fields in the log become unreadable for
// good; SaveInTx releases its unique values), the uploaded files that
// mention it, the cell values analyses quoted from it, and what syncs and
// app registrations keep about it; again after a deadlock, like Save. The
// read models drop its data when the clients projection applies
// ClientErased.
func (s *EventStore) SaveErasure(ctx context.Context, origin domain.Origin, c *domain.Client, copies commands.Erasure) (int64, error) {
	return s.saveWith(ctx, origin, func(tx pgx.Tx) (int64, error) {
		position, err := s.SaveInTx(ctx, tx, origin, c)
		if err != nil {
			return 0, err
		}
		return position, eraseBesideLog(ctx, tx, origin.TenantID, c.ID(), copies)
	})
}

func eraseBesideLog(ctx context.Context, tx pgx.Tx, tenantID, clientID uuid.UUID, copies commands.Erasure) error {
	if _, err := tx.Exec(ctx, `DELETE FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2`, tenantID, clientID); err != nil {
		return fmt.Errorf("erase data key: %w", err)
	}
	// A sync's record of the client holds a digest of its data, an app
	// registration its email (sealed under the master key, not the
	// client's): both go. A later sync brings the client back as new if the
	// source still has it.
	if _, err := tx.Exec(ctx, `DELETE FROM source_records WHERE tenant_id = $1 AND client_id = $2`, tenantID, clientID); err != nil {
		return fmt.Errorf("erase source records: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM app_registrations WHERE tenant_id = $1 AND client_id = $2`, tenantID, clientID); err != nil {
		return fmt.Errorf("erase app registrations: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM import_files WHERE tenant_id = $1 AND import_id = ANY($2)`,
		tenantID, copies.Files); err != nil {
		return fmt.Errorf("erase uploaded files: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE import_issues SET value = '', params = params - 'value'
		WHERE tenant_id = $1 AND value <> '' AND lower(trim(value)) = ANY($2)`, tenantID, copies.PersonalValues); err != nil {
		return fmt.Errorf("erase quoted values: %w", err)
	}
	return nil
}
