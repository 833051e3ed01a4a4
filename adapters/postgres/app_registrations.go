package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// AppRegistrations keeps the app registrations whose email matched no
// client: email and device sealed under the master key, found by a keyed
// hash of the email.
type AppRegistrations struct {
	pool  *pgxpool.Pool
	store *eventlog.EventStore
}

var _ commands.AppRegistrationRepository = (*AppRegistrations)(nil)

// NewAppRegistrations builds the store.
func NewAppRegistrations(pool *pgxpool.Pool, store *eventlog.EventStore) *AppRegistrations {
	return &AppRegistrations{pool: pool, store: store}
}

type sealedRegistration struct {
	Email  string `json:"email"`
	Device string `json:"device,omitempty"`
}

func (s *AppRegistrations) MatchClients(ctx context.Context, tenantID uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error) {
	return matchClients(ctx, s.pool, s.store.Keys(), tenantID, keys)
}

func (s *AppRegistrations) emailHash(tenantID uuid.UUID, email string) []byte {
	return s.store.Keys().ReservationHash(tenantID, "app_registration", domain.EmailKey(email))
}

// KeepPending stores the registration, or refreshes the pending one of the
// same email.
func (s *AppRegistrations) KeepPending(ctx context.Context, tenantID uuid.UUID, email, device string) (uuid.UUID, error) {
	hash := s.emailHash(tenantID, email)
	id := uuid.New()
	var existing uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM app_registrations WHERE tenant_id = $1 AND email_hash = $2 AND client_id IS NULL
		ORDER BY created_at LIMIT 1`, tenantID, hash).Scan(&existing)
	switch {
	case err == nil:
		id = existing
	case !errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, fmt.Errorf("find pending registration: %w", err)
	}
	raw, err := json.Marshal(sealedRegistration{Email: email, Device: device})
	if err != nil {
		return uuid.Nil, err
	}
	sealed, err := s.store.Keys().SealSecret(id, "app registration", raw)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO app_registrations (tenant_id, id, email_hash, sealed) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, id) DO UPDATE SET sealed = excluded.sealed`, tenantID, id, hash, sealed); err != nil {
		return uuid.Nil, fmt.Errorf("keep pending registration: %w", err)
	}
	return id, nil
}

// Resolve drops the pending registrations of an email that now linked.
func (s *AppRegistrations) Resolve(ctx context.Context, tenantID uuid.UUID, email string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM app_registrations WHERE tenant_id = $1 AND email_hash = $2 AND client_id IS NULL`,
		tenantID, s.emailHash(tenantID, email)); err != nil {
		return fmt.Errorf("resolve pending registration: %w", err)
	}
	return nil
}

// PendingByID reads one registration that matched no client.
func (s *AppRegistrations) PendingByID(ctx context.Context, tenantID, id uuid.UUID) (commands.PendingRegistration, error) {
	var sealed []byte
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT sealed, created_at FROM app_registrations
		WHERE tenant_id = $1 AND id = $2 AND client_id IS NULL`, tenantID, id).Scan(&sealed, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.PendingRegistration{}, commands.ErrRegistrationNotFound
	}
	if err != nil {
		return commands.PendingRegistration{}, fmt.Errorf("read pending registration: %w", err)
	}
	plain, err := s.store.Keys().OpenSecret(id, "app registration", sealed)
	if err != nil {
		return commands.PendingRegistration{}, err
	}
	var r sealedRegistration
	if err := json.Unmarshal(plain, &r); err != nil {
		return commands.PendingRegistration{}, err
	}
	return commands.PendingRegistration{ID: id, Email: r.Email, Device: r.Device, CreatedAt: at}, nil
}

// Drop forgets a registration that matched no client.
func (s *AppRegistrations) Drop(ctx context.Context, tenantID, id uuid.UUID) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM app_registrations WHERE tenant_id = $1 AND id = $2 AND client_id IS NULL`, tenantID, id)
	if err != nil {
		return fmt.Errorf("drop pending registration: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return commands.ErrRegistrationNotFound
	}
	return nil
}

// Pending lists the registrations that matched no client, oldest first.
func (s *AppRegistrations) Pending(ctx context.Context, tenantID uuid.UUID) ([]commands.PendingRegistration, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, sealed, created_at FROM app_registrations
		WHERE tenant_id = $1 AND client_id IS NULL ORDER BY created_at, id LIMIT 1000`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list pending registrations: %w", err)
	}
	out := []commands.PendingRegistration{}
	var id uuid.UUID
	var sealed []byte
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &sealed, &at}, func() error {
		plain, err := s.store.Keys().OpenSecret(id, "app registration", sealed)
		if err != nil {
			return err
		}
		var r sealedRegistration
		if err := json.Unmarshal(plain, &r); err != nil {
			return err
		}
		out = append(out, commands.PendingRegistration{ID: id, Email: r.Email, Device: r.Device, CreatedAt: at})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list pending registrations: %w", err)
	}
	return out, nil
}
