package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// SourcePage is one page read from a source.
type SourcePage struct {
	Records []domain.SourceRecord
	// Cursor is the source position after this page; it commits with the
	// page's events, so a failed run resumes right after the last page that
	// committed.
	Cursor string
	// Last: nothing more to read in this run.
	Last bool
	// Listing: the page is part of a complete listing of the source.
	// PullStart marks its first page, ListingEnd its last. When the last
	// page of a complete listing commits, linked records it did not contain
	// are marked removed at source; a listing interrupted half-way marks
	// nothing (the next run resumes it).
	Listing    bool
	PullStart  bool
	ListingEnd bool
}

// Puller reads a source page by page.
type Puller interface {
	Next(ctx context.Context, cursor string) (SourcePage, error)
}

// PullerFactory builds the puller of a connection. saveSecrets persists
// renewed credentials (a refreshed OAuth2 token).
type PullerFactory interface {
	Puller(ctx context.Context, conn *domain.Connection, secrets ConnectionSecrets,
		saveSecrets func(context.Context, ConnectionSecrets) error) (Puller, error)
}

// SyncState is where a connection's sync stands.
type SyncState struct {
	Cursor string
	PullID uuid.UUID // the complete listing in progress, if any
	RunID  uuid.UUID // the run that last committed a page
	Counts domain.SyncCounts
}

// SourceLink is what the registry knows of one source record.
type SourceLink struct {
	ExternalID    string
	ClientID      uuid.UUID
	Digest        []byte
	ClientVersion int
	PullID        uuid.UUID
	Removed       bool
	UpdatedAt     *time.Time // the source's own version (ERP pushes)
}

// SyncRepository stores what syncs need beside the log.
type SyncRepository interface {
	// WithRunLock runs fn while holding the connection's run lock, across
	// every serve instance; domain.ErrSyncAlreadyRunning if another holds it.
	WithRunLock(ctx context.Context, connectionID uuid.UUID, fn func(context.Context) error) error
	State(ctx context.Context, tenantID, connectionID uuid.UUID) (SyncState, error)
	// InTransaction runs fn in one transaction: a page's events and the
	// cursor after it commit together.
	InTransaction(ctx context.Context, tenantID uuid.UUID, fn func(SyncTx) error) error
	// Claim takes the connection's due run, under the run lock: it returns
	// why it was due and false when it is not due (another instance ran it).
	// retryAt is when it is due again if this run dies without finishing.
	Claim(ctx context.Context, tenantID, connectionID uuid.UUID, retryAt time.Time) (trigger string, due bool, err error)
	// AwaitClients waits (bounded) until the client read model, which
	// first contacts are matched against by enterprise number, has every
	// event up to position.
	AwaitClients(ctx context.Context, tenantID uuid.UUID, position int64) error
	// RunFinished schedules the next run, unless a manual one was asked
	// for meanwhile.
	RunFinished(ctx context.Context, tenantID, connectionID uuid.UUID, next time.Time) error
}

// SyncTx is the transaction one page (or one push) commits in.
type SyncTx interface {
	ClientMatcher
	LoadStreams(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error)
	Reserve(ctx context.Context, aggs []domain.Aggregate) (map[uuid.UUID]*domain.DuplicateError, error)
	Append(ctx context.Context, origin domain.Origin, changes []RowChange) (int64, error)
	// Links reads the source records known by external id.
	Links(ctx context.Context, source string, externalIDs []string) (map[string]SourceLink, error)
	// Versions gives the current stream version of clients.
	Versions(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]int, error)
	// MatchVAT finds live clients by their (normalized) enterprise number,
	// leaving out those already linked to a record of source.
	MatchVAT(ctx context.Context, source string, vats []string) (map[string]uuid.UUID, error)
	// Digest is a keyed digest of a record's details.
	Digest(details map[domain.Field]string) []byte
	PutLinks(ctx context.Context, source string, links []SourceLink) error
	// Unseen lists the linked, not removed records the listing pullID did
	// not see.
	Unseen(ctx context.Context, source string, pullID uuid.UUID) ([]SourceLink, error)
	// SaveState stores the cursor and counts of the run.
	SaveState(ctx context.Context, connectionID uuid.UUID, state SyncState) error
}

// SyncTriggers.
const (
	TriggerConnect  = "connect"
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// RunSyncHandler runs one sync of a connection.
type RunSyncHandler struct {
	store    EventStore
	repo     ConnectionRepository
	syncs    SyncRepository
	sources  PullerFactory
	interval time.Duration
	now      func() time.Time
	// Observe, when set, hears how long each run took and how it ended
	// (kind "sync", outcome completed or failed), for the metrics.
	Observe func(kind, outcome string, took time.Duration)
}

// RunDue syncs the connection if a run is due, unless another run holds it
// (domain.ErrSyncAlreadyRunning). A failing source is recorded
// (SyncFailed) and not returned: the run did its job of reporting it.
func (h RunSyncHandler) RunDue(ctx context.Context, tenantID, connectionID uuid.UUID) error {
	return h.syncs.WithRunLock(ctx, connectionID, func(ctx context.Context) error {
		trigger, due, err := h.syncs.Claim(ctx, tenantID, connectionID, h.now().Add(h.interval))
		if err != nil || !due {
			return err
		}
		return h.run(ctx, tenantID, connectionID, trigger)
	})
}

func (h RunSyncHandler) run(ctx context.Context, tenantID, connectionID uuid.UUID, trigger string) error {
	began := h.now()
	conn, err := loadConnection(ctx, h.store, tenantID, connectionID)
	if err != nil {
		return err
	}
	runID := uuid.New()
	origin := domain.Origin{TenantID: tenantID, Actor: "sync:" + connectionID.String(),
		CorrelationID: runID.String(), SyncRunID: runID}
	if err := conn.StartSync(runID, trigger); err != nil {
		return err
	}
	pos, err := h.store.Save(ctx, origin, conn)
	if err != nil {
		return err
	}
	var counts domain.SyncCounts
	var issues []domain.SyncIssue
	runErr := h.syncs.AwaitClients(ctx, tenantID, pos)
	if runErr == nil {
		counts, issues, runErr = h.pull(ctx, origin, conn)
	}
	if h.Observe != nil {
		outcome := "completed"
		if runErr != nil {
			outcome = "failed"
		}
		h.Observe("sync", outcome, h.now().Sub(began))
	}
	finish := func(c *domain.Connection) error {
		if runErr != nil {
			c.FailSync(runID, plainReason(runErr), counts, issues)
		} else {
			c.CompleteSync(runID, counts, issues)
		}
		return nil
	}
	// Record the outcome even when ctx ended (shutdown): the run is over.
	saveCtx := context.WithoutCancel(ctx)
	if _, err := change(saveCtx, h.store, origin, nil, func() (*domain.Connection, error) {
		return loadConnection(saveCtx, h.store, tenantID, connectionID)
	}, finish); err != nil {
		return errors.Join(runErr, err)
	}
	return h.syncs.RunFinished(saveCtx, tenantID, connectionID, h.now().Add(h.interval))
}

// pull reads the source from the stored cursor to its end, committing each
// page with the cursor after it.
func (h RunSyncHandler) pull(ctx context.Context, origin domain.Origin, conn *domain.Connection) (domain.SyncCounts, []domain.SyncIssue, error) {
	var counts domain.SyncCounts
	var issues []domain.SyncIssue
	state, err := h.syncs.State(ctx, origin.TenantID, conn.ID())
	if err != nil {
		return counts, nil, err
	}
	secrets, err := h.repo.Secrets(ctx, origin.TenantID, conn.ID())
	if err != nil {
		return counts, nil, err
	}
	save := func(ctx context.Context, s ConnectionSecrets) error {
		return h.repo.SaveSecrets(ctx, origin.TenantID, conn.ID(), s)
	}
	puller, err := h.sources.Puller(ctx, conn, secrets, save)
	if err != nil {
		return counts, nil, err
	}
	source := domain.SourceName(conn.Provider())
	for {
		page, err := puller.Next(ctx, state.Cursor)
		if err != nil {
			return counts, issues, err
		}
		var next SyncState
		var ps *pageSync
		// A client edited while the page is applied makes the page lose
		// its race: it rolled back entirely, so it is decided again.
		for attempt := 0; ; attempt++ {
			next, ps = state, &pageSync{origin: origin, source: source}
			err = h.syncs.InTransaction(ctx, origin.TenantID, func(tx SyncTx) error {
				return h.applyPage(ctx, tx, conn.ID(), page, &next, ps)
			})
			if !errors.Is(err, domain.ErrConcurrencyConflict) || attempt == maxConflictRetries || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			return counts, issues, err
		}
		state = next
		counts = counts.Add(ps.counts)
		issues = appendIssues(issues, ps.issues)
		if page.Last {
			return counts, issues, nil
		}
	}
}

// applyPage applies one page and stores the cursor after it, in tx.
func (h RunSyncHandler) applyPage(ctx context.Context, tx SyncTx, connectionID uuid.UUID, page SourcePage, next *SyncState, ps *pageSync) error {
	if page.PullStart || (page.Listing && next.PullID == uuid.Nil) {
		next.PullID = uuid.New()
	}
	ps.tx = tx
	if page.Listing {
		ps.pullID = next.PullID
	}
	if err := ps.apply(ctx, page.Records); err != nil {
		return err
	}
	if page.Listing && page.ListingEnd {
		if err := ps.removeUnseen(ctx); err != nil {
			return err
		}
		next.PullID = uuid.Nil
	}
	next.Cursor, next.RunID = page.Cursor, ps.origin.SyncRunID
	return tx.SaveState(ctx, connectionID, *next)
}

// maxIssues bounds the issues a run keeps in its event.
const maxIssues = 50

func appendIssues(to, more []domain.SyncIssue) []domain.SyncIssue {
	for _, i := range more {
		if len(to) == maxIssues {
			break
		}
		to = append(to, i)
	}
	return to
}

// plainReason turns a run's error into words for the office. Source
// adapters word their own errors (without secrets); anything else is an
// internal problem.
func plainReason(err error) string {
	var se *SourceError
	switch {
	case errors.As(err, &se):
		return se.Message
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "the sync was interrupted (server shutting down); the next run continues where it stopped"
	case errors.Is(err, domain.ErrPersonalDataErased):
		return "a client of this source had its personal data erased; the sync stopped before it"
	}
	return "the sync stopped on an internal error; the next run continues where it stopped"
}

// SourceError is a failure of the source system, worded for the office.
// It never carries a secret.
type SourceError struct {
	Message string
	Err     error
}

func (e *SourceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}
func (e *SourceError) Unwrap() error { return e.Err }
