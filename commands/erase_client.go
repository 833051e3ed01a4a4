package commands

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// EraseClient forgets a client's personal data (right to be forgotten).
// The log keeps every event; their personal fields become unreadable.
type EraseClient struct {
	Origin   domain.Origin
	ClientID uuid.UUID
	Reason   string
}

// Erasure is what an erasure destroys besides the client's data key: the
// uploaded files that mention the client, and the values analyses quoted.
type Erasure struct {
	Files          []uuid.UUID
	PersonalValues []string
}

type EraseClientHandler struct {
	store  EventStore
	repo   ImportRepository
	opener FileOpener
}

// Handle loads the client with every personal value it ever held, lets the
// domain decide, finds the uploaded files that mention it, and appends the
// erasure with the key and those copies destroyed, in one transaction.
func (h EraseClientHandler) Handle(ctx context.Context, cmd EraseClient) (Result, error) {
	c := domain.NewClientErasure(cmd.ClientID)
	if err := h.store.Load(ctx, cmd.Origin.TenantID, c); err != nil {
		return Result{}, err
	}
	if c.Version() == 0 {
		return Result{}, domain.ErrClientNotFound
	}
	if err := c.Erase(cmd.Reason); err != nil {
		return Result{}, err
	}
	files, err := h.filesMentioning(ctx, cmd.Origin.TenantID, c)
	if err != nil {
		return Result{}, err
	}
	pos, err := h.store.SaveErasure(ctx, cmd.Origin, c.Client, Erasure{Files: files, PersonalValues: c.PersonalValues()})
	if err != nil {
		return Result{}, err
	}
	return Result{ID: c.ID(), Version: c.Version() + 1, Position: pos}, nil
}

// filesMentioning reads every file the tenant's imports keep, cell by cell:
// a client's data may sit in a file that never touched it (a rejected row,
// an import not executed yet). A file that cannot be read any more is
// removed too: nothing could show it was clean.
func (h EraseClientHandler) filesMentioning(ctx context.Context, tenantID uuid.UUID, c *domain.ClientErasure) ([]uuid.UUID, error) {
	ids, err := h.repo.StoredFiles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []uuid.UUID
	for _, id := range ids {
		found, err := h.fileMentions(ctx, tenantID, id, c)
		if err != nil && !errors.Is(err, domain.ErrImportFileErased) {
			return nil, fmt.Errorf("search import %s for the client: %w", id, err)
		}
		if found {
			out = append(out, id)
		}
	}
	return out, nil
}

func (h EraseClientHandler) fileMentions(ctx context.Context, tenantID, importID uuid.UUID, c *domain.ClientErasure) (bool, error) {
	imp, err := loadImport(ctx, h.store, tenantID, importID)
	if err != nil {
		return false, err
	}
	content, size, closer, err := h.repo.OpenFile(ctx, tenantID, importID)
	if err != nil {
		return false, err
	}
	defer closer.Close()
	a := imp.Analysis()
	rows, _, err := h.opener.Open(content, size, a.FileName, FileOptions{
		Format: a.File.Format, Encoding: a.File.Encoding, Delimiter: a.File.Delimiter, Sheet: a.File.Sheet})
	if err != nil {
		return true, nil
	}
	defer rows.Close()
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return true, nil
		}
		for _, cell := range row.Cells {
			if c.Mentions(cell) {
				return true, nil
			}
		}
	}
}
