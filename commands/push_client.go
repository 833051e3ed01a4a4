package commands

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ReplayWindow is how far a push's timestamp may be from the server's clock.
const ReplayWindow = 5 * time.Minute

// PushRepository is what ERP pushes need beside the sync storage.
type PushRepository interface {
	// ConnectionTenant names the tenant of a connection.
	ConnectionTenant(ctx context.Context, connectionID uuid.UUID) (uuid.UUID, error)
	// RememberSignature records a push signature; false when it was seen
	// already (a replayed request).
	RememberSignature(ctx context.Context, connectionID uuid.UUID, signature []byte, window time.Duration) (bool, error)
}

// PushRequest is a signed request of an ERP.
type PushRequest struct {
	ConnectionID uuid.UUID
	Timestamp    string // unix seconds, as sent
	Signature    string // "sha256=" + hex HMAC
	Method       string
	Path         string
	Body         []byte
}

// SignPush is the signature an ERP sends: HMAC-SHA256 with the connection
// secret of "<timestamp>.<METHOD> <path>\n<body>", hex, prefixed "sha256=".
// Method and path are signed so a body cannot be replayed onto another
// client or turned into a DELETE.
func SignPush(secret, timestamp, method, path string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s %s\n", timestamp, method, path)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// PushClient is one client an ERP created, changed (Deleted false) or
// deleted.
type PushClient struct {
	ConnectionID uuid.UUID
	Record       domain.SourceRecord
	UpdatedAt    *time.Time
}

// PushResult tells the ERP what its push did.
type PushResult struct {
	ClientID uuid.UUID `json:"client_id,omitzero"`
	Outcome  string    `json:"outcome"` // created, updated, linked, removed, unchanged, ignored_older
	Position int64     `json:"position,omitempty"`
}

type PushClientHandler struct {
	store EventStore
	repo  ConnectionRepository
	syncs SyncRepository
	push  PushRepository
	now   func() time.Time
}

// Authenticate checks a push's signature, timestamp and freshness and
// returns the connection's tenant. Every failure is the same
// domain.ErrUnauthenticatedPush, wrapped with what failed.
func (h PushClientHandler) Authenticate(ctx context.Context, req PushRequest) (uuid.UUID, error) {
	tenantID, err := h.push.ConnectionTenant(ctx, req.ConnectionID)
	if err != nil {
		return uuid.Nil, err
	}
	conn, err := loadConnection(ctx, h.store, tenantID, req.ConnectionID)
	if err != nil {
		return uuid.Nil, err
	}
	if conn.Provider() != domain.ProviderERP {
		return uuid.Nil, domain.ErrConnectionNotFound
	}
	if err := conn.CheckActive(); err != nil {
		return uuid.Nil, fmt.Errorf("%w: connection revoked", domain.ErrUnauthenticatedPush)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(req.Timestamp), 10, 64)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: timestamp missing or not unix seconds", domain.ErrUnauthenticatedPush)
	}
	if d := h.now().Sub(time.Unix(secs, 0)); d > ReplayWindow || d < -ReplayWindow {
		return uuid.Nil, fmt.Errorf("%w: timestamp outside the %s window", domain.ErrUnauthenticatedPush, ReplayWindow)
	}
	secrets, err := h.repo.Secrets(ctx, tenantID, req.ConnectionID)
	if err != nil {
		return uuid.Nil, err
	}
	want := SignPush(secrets.ERPSecret, req.Timestamp, req.Method, req.Path, req.Body)
	if secrets.ERPSecret == "" || !hmac.Equal([]byte(want), []byte(strings.TrimSpace(req.Signature))) {
		return uuid.Nil, fmt.Errorf("%w: bad signature", domain.ErrUnauthenticatedPush)
	}
	fresh, err := h.push.RememberSignature(ctx, req.ConnectionID, []byte(want), 2*ReplayWindow)
	if err != nil {
		return uuid.Nil, err
	}
	if !fresh {
		return uuid.Nil, fmt.Errorf("%w: replayed request", domain.ErrUnauthenticatedPush)
	}
	return tenantID, nil
}

// Handle applies one pushed record, like one record of a pulled page.
func (h PushClientHandler) Handle(ctx context.Context, tenantID uuid.UUID, cmd PushClient) (PushResult, error) {
	if err := domain.CheckPushedText(cmd.Record.Details); err != nil {
		return PushResult{}, err
	}
	// Each push is a sync run of one record: its events carry the run id.
	runID := uuid.New()
	origin := domain.Origin{TenantID: tenantID, Actor: "push:" + cmd.ConnectionID.String(),
		CorrelationID: runID.String(), SyncRunID: runID}
	var out PushResult
	// A client edited while the push is applied: decide again on its new
	// state.
	_, err := retryOnConflict(ctx, func() (Result, error) {
		out = PushResult{}
		return Result{}, h.apply(ctx, tenantID, origin, cmd, &out)
	})
	return out, err
}

func (h PushClientHandler) apply(ctx context.Context, tenantID uuid.UUID, origin domain.Origin, cmd PushClient, out *PushResult) error {
	return h.syncs.InTransaction(ctx, tenantID, func(tx SyncTx) error {
		ps := &pageSync{tx: tx, origin: origin, source: domain.SourceName(domain.ProviderERP), updatedAt: cmd.UpdatedAt}
		if err := ps.apply(ctx, []domain.SourceRecord{cmd.Record}); err != nil {
			return err
		}
		if len(ps.issues) > 0 {
			return domain.ValidationErrors{{Field: "client", Code: "not_taken", Message: ps.issues[0].Reason}}
		}
		links, err := tx.Links(ctx, ps.source, []string{cmd.Record.ExternalID})
		if err != nil {
			return err
		}
		out.ClientID = links[strings.TrimSpace(cmd.Record.ExternalID)].ClientID
		c := ps.counts
		switch {
		case ps.ignored > 0:
			out.Outcome = "ignored_older"
		case c.Created > 0:
			out.Outcome = "created"
		case c.Removed > 0:
			out.Outcome = "removed"
		case c.Linked > 0:
			out.Outcome = "linked"
		case c.Updated > 0:
			out.Outcome = "updated"
		default:
			out.Outcome = "unchanged"
		}
		return nil
	})
}
