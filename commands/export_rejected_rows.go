package commands

import (
	"context"
	"errors"
	"io"
	"iter"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ExportRejectedRows asks for the rows of an import's file that were not
// imported, exactly as the file had them, so the user can fix and upload
// them again.
type ExportRejectedRows struct {
	TenantID uuid.UUID
	ImportID uuid.UUID
}

// RejectedRow is a row of the user's file with the errors that kept it out.
type RejectedRow struct {
	Number int
	Cells  []string
	Issues []domain.ImportIssue
}

// RejectedFile is the file's header (nil when it had none) and its rejected
// rows, read as they are consumed; Close releases the stored file.
type RejectedFile struct {
	FileName string
	Header   []string
	Rows     iter.Seq2[RejectedRow, error]
	closers  []io.Closer
}

// Close releases the file the rows are read from.
func (f *RejectedFile) Close() error {
	var errs []error
	for i := len(f.closers) - 1; i >= 0; i-- {
		errs = append(errs, f.closers[i].Close())
	}
	return errors.Join(errs...)
}

// ExportRejectedRowsHandler reads the import's stored file again and keeps
// the rows its analysis rejected.
type ExportRejectedRowsHandler struct {
	store  EventStore
	repo   ImportRepository
	opener FileOpener
}

func (h ExportRejectedRowsHandler) Handle(ctx context.Context, q ExportRejectedRows) (*RejectedFile, error) {
	imp, err := loadImport(ctx, h.store, q.TenantID, q.ImportID)
	if err != nil {
		return nil, err
	}
	if imp.Status() == domain.ImportStatusRefused {
		return nil, domain.ErrImportHasNoFile
	}
	analysis := imp.Analysis()
	reasons, err := h.repo.RejectedReasons(ctx, q.TenantID, q.ImportID)
	if err != nil {
		return nil, err
	}
	content, size, stored, err := h.repo.OpenFile(ctx, q.TenantID, q.ImportID)
	if err != nil {
		return nil, err
	}
	out := &RejectedFile{FileName: analysis.FileName, closers: []io.Closer{stored}}
	rows, _, err := h.opener.Open(content, size, analysis.FileName, FileOptions{Format: analysis.File.Format,
		Encoding: analysis.File.Encoding, Delimiter: analysis.File.Delimiter, Sheet: analysis.File.Sheet})
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	out.closers = append(out.closers, rows)
	header, past, err := skipHeader(rows, analysis)
	if err != nil {
		return nil, errors.Join(err, out.Close())
	}
	out.Header = header
	out.Rows = func(yield func(RejectedRow, error) bool) {
		for {
			var row FileRow
			var err error
			if len(past) > 0 {
				row, past = past[0], past[1:]
			} else {
				row, err = rows.Next()
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(RejectedRow{}, err)
				return
			}
			if issues, ok := reasons[row.Number]; ok && !yield(RejectedRow{Number: row.Number, Cells: row.Cells, Issues: issues}, nil) {
				return
			}
		}
	}
	return out, nil
}
