package commands

import (
	"context"
	"errors"
	"slices"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// UndoImport compensates an executed import: clients it created are
// deleted, fields it changed restored, unless changed since; what is kept
// is reported. Nothing in the log is removed.
type UndoImport struct {
	Origin   domain.Origin
	ImportID uuid.UUID
}

type UndoImportHandler struct {
	store EventStore
	repo  ImportRepository
}

// UndoReport is what an undo did.
type UndoReport struct {
	Result
	Undone domain.ImportUndone
}

func (h UndoImportHandler) Handle(ctx context.Context, cmd UndoImport) (UndoReport, error) {
	imp, err := loadImport(ctx, h.store, cmd.Origin.TenantID, cmd.ImportID)
	if err != nil {
		return UndoReport{}, err
	}
	if err := imp.CanUndo(); err != nil {
		return UndoReport{}, err
	}
	custom, err := loadCustomFields(ctx, h.store, cmd.Origin.TenantID)
	if err != nil {
		return UndoReport{}, err
	}
	origin := cmd.Origin
	origin.ImportID = cmd.ImportID
	origin.CausationID = domain.UndoCausationPrefix + cmd.ImportID.String()

	var report UndoReport
	err = h.repo.InTransaction(ctx, cmd.Origin.TenantID, func(tx ImportTx) error {
		ids, err := tx.ImportedStreams(ctx, cmd.ImportID)
		if err != nil {
			return err
		}
		var undone domain.ImportUndone
		chunks := slices.Collect(slices.Chunk(ids, importChunk))
		// The next chunk is read while this one is written.
		load := func(chunk []uuid.UUID) func() (map[uuid.UUID][]domain.RecordedEvent, error) {
			return inBackground(func() (map[uuid.UUID][]domain.RecordedEvent, error) {
				return tx.LoadStreamsToUndo(ctx, cmd.ImportID, chunk)
			})
		}
		var next func() (map[uuid.UUID][]domain.RecordedEvent, error)
		if len(chunks) > 0 {
			next = load(chunks[0])
		}
		defer func() {
			if next != nil {
				_, _ = next() // a read still running ends before the transaction does
			}
		}()
		done := 0
		for i, chunk := range chunks {
			streams, err := next() // waiting again, in the defer, returns at once
			if err != nil {
				return err
			}
			if i+1 < len(chunks) {
				next = load(chunks[i+1])
			}
			if err := undoChunk(ctx, tx, origin, custom, chunk, streams, &undone); err != nil {
				return err
			}
			done += len(chunk)
			tx.Progress(ctx, cmd.ImportID, done, len(ids))
		}
		if err := imp.Undo(undone.Deleted, undone.Restored, undone.Kept); err != nil {
			return err
		}
		pos, err := tx.Append(ctx, origin, []RowChange{{Aggregate: imp}})
		report = UndoReport{Result: Result{ID: imp.StreamID(), Version: imp.Version() + 1, Position: pos}, Undone: undone}
		return err
	})
	if err != nil {
		return UndoReport{}, err
	}
	return report, nil
}

func undoChunk(ctx context.Context, tx ImportTx, origin domain.Origin, custom *domain.CustomFieldSet,
	ids []uuid.UUID, streams map[uuid.UUID][]domain.RecordedEvent, undone *domain.ImportUndone) error {
	var aggs []domain.Aggregate
	rows := map[uuid.UUID]int{}
	deleted := map[uuid.UUID]bool{}
	for _, id := range ids {
		events := streams[id]
		c := foldClient(id, events)
		wasDeleted, kept, err := c.UndoImport(origin.ImportID, events, custom)
		if err != nil {
			var verr domain.ValidationErrors
			if !errors.As(err, &verr) && !errors.Is(err, domain.ErrClientDeleted) {
				return err
			}
			kept = &domain.KeptClient{ClientID: id, Reason: domain.KeptChangedSince}
		}
		if kept != nil {
			undone.Kept = append(undone.Kept, *kept)
		}
		if len(c.PendingEvents()) > 0 {
			aggs = append(aggs, c)
			rows[id] = importRowOf(origin.ImportID, events)
			deleted[id] = wasDeleted
		}
	}
	taken, err := tx.Reserve(ctx, aggs)
	if err != nil {
		return err
	}
	changes := make([]RowChange, 0, len(aggs))
	for _, a := range aggs {
		id := a.StreamID()
		if dup := taken[id]; dup != nil {
			// Restoring the earlier email would take someone else's.
			undone.Kept = append(undone.Kept, domain.KeptClient{ClientID: id, Row: rows[id], Reason: "kept_email_taken"})
			continue
		}
		changes = append(changes, RowChange{Row: rows[id], Aggregate: a})
		if deleted[id] {
			undone.Deleted++
		} else {
			undone.Restored++
		}
	}
	_, err = tx.Append(ctx, origin, changes)
	return err
}

func importRowOf(importID uuid.UUID, events []domain.RecordedEvent) int {
	for _, e := range events {
		if e.ImportID == importID {
			return e.ImportRow
		}
	}
	return 0
}
