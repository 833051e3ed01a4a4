package spreadsheet

import (
	"errors"
	"io"
	"strconv"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// Opener reads uploaded files for the import commands.
type Opener struct{}

var _ commands.FileOpener = Opener{}

// Open detects the file's format (unless told) and returns its rows. A
// problem with the whole file becomes a *domain.RefusedError.
func (Opener) Open(content io.ReaderAt, size int64, name string, opts commands.FileOptions) (commands.RowReader, domain.FileFacts, error) {
	f, err := Open(content, size, name, Options{Format: Format(opts.Format), Encoding: opts.Encoding,
		Delimiter: opts.Delimiter, Sheet: opts.Sheet, PreferredSheet: TemplateSheet})
	if err != nil {
		return nil, domain.FileFacts{}, refusal(err)
	}
	d := f.Detected()
	facts := domain.FileFacts{Format: string(d.Format), Encoding: d.Encoding, BOM: d.BOM, Delimiter: d.Delimiter,
		LineEnding: d.LineEnding, Sheet: d.Sheet, Sheets: d.Sheets}
	return rowReader{f}, facts, nil
}

type rowReader struct{ f *File }

func (r rowReader) Next() (commands.FileRow, error) {
	row, err := r.f.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return commands.FileRow{}, io.EOF
		}
		return commands.FileRow{}, refusal(err)
	}
	// A file handed back by the rejected-rows export has its formula-like
	// cells escaped; they come back as the user typed them.
	for i, c := range row.Cells {
		row.Cells[i] = UnescapeFormula(c)
	}
	return commands.FileRow{Number: row.Number, Cells: row.Cells, Cut: r.f.Cut()}, nil
}

func (r rowReader) Close() error { return r.f.Close() }

// refusal turns a reader error into the refusal of the whole file: a file
// that cannot be read to its end is not imported at all.
func refusal(err error) error {
	var fe *FileError
	if !errors.As(err, &fe) {
		return err
	}
	params := map[string]string{}
	if fe.Row > 0 {
		params["row"] = strconv.Itoa(fe.Row)
	}
	return &domain.RefusedError{Code: fe.Code, Detail: fe.Detail, Params: params}
}
