package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// PendingRegistrations tells whether an app registration that matched no
// client waits for the office.
type PendingRegistrations interface {
	ClientMatcher
	IsPending(ctx context.Context, tenantID uuid.UUID, email string) (bool, error)
}

// AppAccessQuery answers the app's backend: may this person come in? It
// reads the write side (the email's reservation, the client's stream), so
// a validation or a revocation counts on the very next call.
type AppAccessQuery struct {
	store EventStore
	repo  PendingRegistrations
}

// NewAppAccessQuery builds the query.
func NewAppAccessQuery(store EventStore, repo PendingRegistrations) AppAccessQuery {
	return AppAccessQuery{store: store, repo: repo}
}

// Handle matches the email as a registration does (case-insensitive,
// normalised) and answers domain.AppAccessGranted, AppAccessPending or
// AppAccessNone.
func (q AppAccessQuery) Handle(ctx context.Context, tenantID uuid.UUID, rawEmail string) (string, error) {
	email, err := domain.AppEmail(rawEmail)
	if err != nil {
		return "", err
	}
	key := domain.EmailLookupKey(domain.EmailKey(email))
	found, err := q.repo.MatchClients(ctx, tenantID, []domain.UniqueKey{key})
	if err != nil {
		return "", err
	}
	if id, ok := found[key]; ok {
		c, err := loadClient(ctx, q.store, tenantID, id)
		switch {
		case errors.Is(err, domain.ErrPersonalDataErased), errors.Is(err, domain.ErrClientNotFound):
			return domain.AppAccessNone, nil
		case err != nil:
			return "", err
		}
		return c.AppAccess(), nil
	}
	pending, err := q.repo.IsPending(ctx, tenantID, email)
	if err != nil || !pending {
		return domain.AppAccessNone, err
	}
	return domain.AppAccessPending, nil
}

// AppViewQuery reads a client's app access with its dates (device, when
// it registered, invitations sent) from its stream: the device is sealed
// personal data, kept out of the read models.
type AppViewQuery struct{ store EventStore }

func (q AppViewQuery) Handle(ctx context.Context, tenantID, clientID uuid.UUID) (domain.AppAccessView, error) {
	c, err := loadClient(ctx, q.store, tenantID, clientID)
	if err != nil {
		return domain.AppAccessView{}, err
	}
	return c.AppView(), nil
}
