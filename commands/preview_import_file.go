package commands

import (
	"context"
	"errors"
	"io"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// PreviewImportFile asks for the first rows of an import's stored file as
// the reader sees them with the options given: what a person maps the
// columns of a file from when no header was recognised.
type PreviewImportFile struct {
	TenantID uuid.UUID
	ImportID uuid.UUID
	Options  FileOptions
	// Rows is how many rows to read (at most MaxPreviewRows).
	Rows int
}

// MaxPreviewRows bounds a preview: a few rows show what a column holds.
const MaxPreviewRows = 20

// FilePreview is the first rows of a file and what the reader found.
type FilePreview struct {
	File  domain.FileFacts
	Rows  []FileRow
	Width int // the widest row's cell count
}

type PreviewImportFileHandler struct {
	store  EventStore
	repo   ImportRepository
	opener FileOpener
}

func (h PreviewImportFileHandler) Handle(ctx context.Context, q PreviewImportFile) (FilePreview, error) {
	imp, err := loadImport(ctx, h.store, q.TenantID, q.ImportID)
	if err != nil {
		return FilePreview{}, err
	}
	if err := imp.CanRemap(); err != nil {
		return FilePreview{}, err // executed: its file is no longer to be mapped
	}
	if err := domain.CheckImportRequest(domain.MappingOptions{}, map[string]string{"format": q.Options.Format,
		"encoding": q.Options.Encoding, "delimiter": q.Options.Delimiter, "sheet": q.Options.Sheet}); err != nil {
		return FilePreview{}, err
	}
	content, size, closer, err := h.repo.OpenFile(ctx, q.TenantID, q.ImportID)
	if err != nil {
		return FilePreview{}, err
	}
	defer closer.Close()
	rows, facts, err := h.opener.Open(content, size, imp.FileName(), q.Options)
	if err != nil {
		return FilePreview{}, err
	}
	defer rows.Close()
	out := FilePreview{File: facts}
	for len(out.Rows) < min(max(q.Rows, 1), MaxPreviewRows) {
		r, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return FilePreview{}, err
		}
		out.Rows = append(out.Rows, r)
		out.Width = max(out.Width, len(r.Cells))
	}
	return out, nil
}
