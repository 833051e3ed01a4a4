package commands

import (
	"cmp"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// AnalyzeImport is a dry run of a file: what would be created, updated,
// skipped, and every error with its row and column. Nothing changes in the
// registry; the file and the analysis are kept for execution.
type AnalyzeImport struct {
	Origin  domain.Origin
	File    StoredFile
	Options FileOptions
	Mapping domain.MappingOptions
	Mode    string
	// Language the user reads messages in, kept for the CLI and exports.
	Language string
}

// Analysis is the outcome of an analysis.
type Analysis struct {
	ImportID uuid.UUID
	Position int64
	Event    domain.ImportAnalyzed
	Issues   []domain.ImportIssue
}

type AnalyzeImportHandler struct {
	store  EventStore
	repo   ImportRepository
	opener FileOpener
}

// Handle analyses the file. A file refused as a whole returns a
// *domain.RefusedError, and only the refusal is recorded.
func (h AnalyzeImportHandler) Handle(ctx context.Context, cmd AnalyzeImport) (Analysis, error) {
	mode, err := domain.ParseImportMode(cmd.Mode)
	if err != nil {
		return Analysis{}, err
	}
	if err := domain.CheckImportRequest(cmd.Mapping, map[string]string{"format": cmd.Options.Format,
		"encoding": cmd.Options.Encoding, "delimiter": cmd.Options.Delimiter, "sheet": cmd.Options.Sheet}); err != nil {
		return Analysis{}, err
	}
	id := uuid.New()
	a, err := h.analyze(ctx, id, cmd, mode)
	var refused *domain.RefusedError
	if errors.As(err, &refused) {
		imp := domain.RefuseImport(id, cmd.File.Name, cmd.File.Size, refused)
		var pos int64
		var saveErr error
		if refused.ByMapping() {
			// Readable, but no column was taken for the email: kept for
			// the user to map its columns (POST /v1/imports/{id}/mapping).
			pos, saveErr = h.repo.SaveAnalysis(ctx, cmd.Origin, imp, cmd.File, nil)
		} else {
			pos, saveErr = h.store.Save(ctx, cmd.Origin, imp)
		}
		if saveErr != nil {
			return Analysis{}, errors.Join(err, saveErr)
		}
		return Analysis{ImportID: id, Position: pos}, err
	}
	if err != nil {
		return Analysis{}, err
	}
	imp, err := domain.AnalyzeImport(id, a.Event)
	if err != nil {
		return Analysis{}, err
	}
	a.ImportID = id
	if a.Position, err = h.repo.SaveAnalysis(ctx, cmd.Origin, imp, cmd.File, a.Issues); err != nil {
		return Analysis{}, err
	}
	return a, nil
}

func (h AnalyzeImportHandler) analyze(ctx context.Context, id uuid.UUID, cmd AnalyzeImport, mode string) (Analysis, error) {
	limits, err := h.repo.Limits(ctx, cmd.Origin.TenantID)
	if err != nil {
		return Analysis{}, err
	}
	if limits.MaxBytes > 0 && cmd.File.Size > limits.MaxBytes {
		mb := strconv.FormatInt(limits.MaxBytes/(1<<20), 10)
		return Analysis{}, &domain.RefusedError{Code: "file_too_large",
			Detail: "the file is larger than " + mb + " MB, the limit of one import", Params: map[string]string{"limit": mb}}
	}
	custom, err := loadCustomFields(ctx, h.store, cmd.Origin.TenantID)
	if err != nil {
		return Analysis{}, err
	}
	scan, facts, issues, err := openScan(h.opener, cmd.File, cmd.Options, cmd.Mapping, custom, limits)
	if err != nil {
		return Analysis{}, err
	}
	defer scan.close()

	scan.match = func(rows []domain.ImportRow) (map[domain.UniqueKey]uuid.UUID, error) {
		return matchChunk(ctx, h.repo, cmd.Origin.TenantID, rows)
	}
	rules := newFileRules(scan.mapping, mode)
	var summary domain.ImportSummary
	count := func(r domain.ImportRow, out rowOutcome) {
		summary.Rows++
		switch out {
		case rowInvalid:
			summary.Invalid++
		case rowCreate:
			summary.ToCreate++
		case rowUpdate:
			summary.ToUpdate++
		case rowSkip:
			summary.ToSkip++
		}
		if out != rowInvalid && out != rowOrphan {
			summary.Valid++
		}
		issues = append(issues, r.Issues...)
	}
	for {
		chunk, found, err := scan.readChunk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Analysis{}, err
		}
		done := make([]map[domain.Field]string, 0, len(chunk))
		for i := range chunk {
			_, matched := matchRow(chunk[i], found)
			out := rules.classify(&chunk[i], matched)
			if out == rowOrphan {
				summary.Rows++ // counted as valid or invalid once settled
				continue
			}
			count(chunk[i], out)
			done = append(done, chunk[i].Client.Details)
		}
		// A counted row is done with: its issues were copied. An orphan
		// is kept until settled, its details with it.
		scan.recycle(done)
	}
	adopted, rejected := rules.settleOrphans()
	summary.Valid += len(adopted)
	for _, r := range adopted {
		issues = append(issues, r.Issues...)
	}
	summary.Invalid += len(rejected)
	for _, r := range rejected {
		issues = append(issues, r.Issues...)
	}
	if summary.Rows == 0 {
		return Analysis{}, &domain.RefusedError{Code: "no_rows", Detail: "the file has a header but no rows", Params: map[string]string{}}
	}
	for _, iss := range issues {
		if iss.Warning {
			summary.Warnings++
		}
	}
	sortIssues(issues)
	return Analysis{Issues: issues, Event: domain.ImportAnalyzed{
		FileName: cmd.File.Name, FileSHA256: cmd.File.SHA256, FileSize: cmd.File.Size, File: facts,
		Layout: scan.mapping.Layout(), HasHeader: scan.mapping.HasHeader(), HeaderRow: scan.mapping.HeaderRow(), Columns: scan.mapping.Keys(),
		Headers: scan.mapping.Headers(), Source: cmd.Mapping.Source, Mode: mode, Summary: summary, Language: cmd.Language,
	}}, nil
}

// openScan opens the file and reads its header into a column mapping: the
// row the user named, else the best of the first rows (a title, a date and
// blank rows above the header are not data).
func openScan(opener FileOpener, file StoredFile, opts FileOptions, mopts domain.MappingOptions,
	custom *domain.CustomFieldSet, limits ImportLimits) (scan *rowScanner, facts domain.FileFacts, issues []domain.ImportIssue, err error) {
	rows, facts, err := opener.Open(file.Content, file.Size, file.Name, opts)
	if err != nil {
		return nil, facts, nil, err
	}
	defer func() {
		if err != nil {
			rows.Close()
		}
	}()
	if mopts.HeaderRow > domain.MaxHeaderRow {
		return nil, facts, nil, domain.ValidationErrors{{Field: "header_row", Code: "invalid_header_row",
			Message: "the header must be on one of the first " + strconv.Itoa(domain.MaxHeaderRow) + " rows"}}
	}
	head, err := readHead(rows, mopts.HeaderRow)
	if err != nil {
		return nil, facts, nil, err
	}
	at := 0
	switch {
	case mopts.NoHeader:
		// The first row is data: every row is read.
	case mopts.HeaderRow > 0:
		at = slices.IndexFunc(head, func(r FileRow) bool { return r.Number == mopts.HeaderRow })
		if at < 0 {
			return nil, facts, nil, domain.ValidationErrors{{Field: "header_row", Code: "invalid_header_row",
				Message: "row " + strconv.Itoa(mopts.HeaderRow) + " of the file is empty or beyond its end"}}
		}
	default:
		var cells [][]string
		for i, r := range head {
			if i > 0 && r.Number > domain.HeaderSearchRows {
				break
			}
			cells = append(cells, r.Cells)
		}
		at = domain.FindHeaderRow(cells, mopts, custom)
	}
	header := head[at]
	if limits.MaxColumns > 0 && len(header.Cells) > limits.MaxColumns {
		limit := strconv.Itoa(limits.MaxColumns)
		return nil, facts, nil, &domain.RefusedError{Code: "too_many_columns",
			Detail: "the file has more than " + limit + " columns, the limit of one import", Params: map[string]string{"limit": limit}}
	}
	mopts.HeaderRow = header.Number
	mapping, issues, err := domain.MapColumns(header.Cells, mopts, custom)
	if err != nil {
		return nil, facts, nil, err
	}
	scan = &rowScanner{rows: rows, mapping: mapping, custom: custom, maxRows: limits.MaxRows, pending: head[at:]}
	if mapping.HasHeader() {
		scan.pending = head[at+1:]
	}
	return scan, facts, issues, nil
}

// readHead reads the rows the header may be on: the first rows as far as
// row HeaderSearchRows, or as far as the row the user named, and the
// first row after them (data, read anyway to know where they end).
func readHead(rows RowReader, headerRow int) ([]FileRow, error) {
	last := max(headerRow, domain.HeaderSearchRows)
	var head []FileRow
	for len(head) == 0 || head[len(head)-1].Number <= last {
		r, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		head = append(head, r)
	}
	if len(head) == 0 {
		return nil, &domain.RefusedError{Code: "empty_file", Detail: "the file holds no rows", Params: map[string]string{}}
	}
	return head, nil
}

// skipHeader reads a file reopened after its analysis up to its header,
// which it returns (nil without a header), with any row read past it.
func skipHeader(rows RowReader, a domain.ImportAnalyzed) (header []string, past []FileRow, err error) {
	n := a.HeaderRowNumber()
	if n == 0 {
		return nil, nil, nil
	}
	for {
		r, err := rows.Next()
		if err != nil {
			return nil, nil, err
		}
		switch {
		case r.Number == n:
			return r.Cells, nil, nil
		case r.Number > n:
			return nil, []FileRow{r}, nil
		}
	}
}

func sortIssues(issues []domain.ImportIssue) {
	slices.SortStableFunc(issues, func(a, b domain.ImportIssue) int {
		return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(len(a.Column), len(b.Column)), cmp.Compare(a.Column, b.Column))
	})
}
