package commands

import (
	"context"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// FileRow is one non-empty row of an uploaded file; Number is the row number
// the user's spreadsheet shows.
type FileRow struct {
	Number int
	Cells  []string
	// Cut names the cells the reader cut (0-based column -> the length
	// they had, in characters).
	Cut map[int]int
}

// RowReader yields a file's rows in order, io.EOF after the last.
type RowReader interface {
	Next() (FileRow, error)
	Close() error
}

// FileOptions override what the reader would detect.
type FileOptions struct {
	Format    string `json:"format,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	Sheet     string `json:"sheet,omitempty"`
}

// FileOpener reads an uploaded file as rows. A problem with the whole file
// is a *domain.RefusedError; a problem with one row comes from Next.
type FileOpener interface {
	Open(content io.ReaderAt, size int64, name string, opts FileOptions) (RowReader, domain.FileFacts, error)
}

// ImportLimits bound what one import of a tenant may bring.
type ImportLimits struct {
	MaxRows    int
	MaxBytes   int64
	MaxColumns int
}

// StoredFile is an uploaded file and its fingerprint.
type StoredFile struct {
	Name    string
	Size    int64
	SHA256  string
	Content io.ReaderAt
}

// ClientMatcher finds the live clients holding unique values (emails,
// external references): the write side's reservations, exact and current.
type ClientMatcher interface {
	MatchClients(ctx context.Context, tenantID uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error)
}

// ImportRepository stores imports outside the per-row transaction.
type ImportRepository interface {
	ClientMatcher
	Limits(ctx context.Context, tenantID uuid.UUID) (ImportLimits, error)
	// SaveAnalysis stores the file, the issues and the import's events in
	// one transaction.
	SaveAnalysis(ctx context.Context, origin domain.Origin, imp *domain.Import, file StoredFile, issues []domain.ImportIssue) (int64, error)
	// SaveRemap replaces the analysis issues of an import whose file was
	// analysed again and appends its events, in one transaction.
	SaveRemap(ctx context.Context, origin domain.Origin, imp *domain.Import, issues []domain.ImportIssue) (int64, error)
	// StoredFiles lists the imports of the tenant whose file is kept.
	StoredFiles(ctx context.Context, tenantID uuid.UUID) ([]uuid.UUID, error)
	// OpenFile gives the stored file back; close it when done.
	OpenFile(ctx context.Context, tenantID, importID uuid.UUID) (io.ReaderAt, int64, io.Closer, error)
	// QueueExecution appends the import's pending events and queues it for a
	// worker, in one transaction.
	QueueExecution(ctx context.Context, origin domain.Origin, imp *domain.Import) (int64, error)
	// RejectedRows lists the rows the analysis found errors in.
	RejectedRows(ctx context.Context, tenantID, importID uuid.UUID) (map[int]bool, error)
	// RejectedReasons gives the errors of every row not imported, in row order.
	RejectedReasons(ctx context.Context, tenantID, importID uuid.UUID) (map[int][]domain.ImportIssue, error)
	// InTransaction runs fn in one transaction: all of it commits or nothing.
	InTransaction(ctx context.Context, tenantID uuid.UUID, fn func(ImportTx) error) error
}

// RowChange is an aggregate changed because of one row of an import file.
type RowChange struct {
	Row       int
	Aggregate domain.Aggregate
}

// ImportTx is the one transaction an import's execution or undo runs in.
type ImportTx interface {
	ClientMatcher
	// LoadStreams reads whole client streams, for many clients at once.
	LoadStreams(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error)
	// LoadStreamsToUndo is LoadStreams for the import's undo: a client the
	// import created and nothing touched since comes without its personal
	// data (deleting it needs none). It reads what is committed, outside
	// the transaction, and may run while the transaction writes: an undo
	// never reads a stream it wrote, and writing a stream read stale is a
	// concurrency conflict.
	LoadStreamsToUndo(ctx context.Context, importID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error)
	// ImportedStreams lists the client streams an import wrote to.
	ImportedStreams(ctx context.Context, importID uuid.UUID) ([]uuid.UUID, error)
	// Reserve claims the unique values the aggregates now hold. An aggregate
	// whose value another stream holds claims nothing and is returned with
	// the conflict; the caller leaves it out.
	Reserve(ctx context.Context, aggs []domain.Aggregate) (map[uuid.UUID]*domain.DuplicateError, error)
	// Append writes the changes' pending events; it does not reserve.
	Append(ctx context.Context, origin domain.Origin, changes []RowChange) (int64, error)
	// ListMembers proposes the clients on a list (at least every one that
	// is); each one's stream decides.
	ListMembers(ctx context.Context, tenantID, listID uuid.UUID) ([]uuid.UUID, error)
	// NextImportSeq takes the tenant's next import sequence number.
	NextImportSeq(ctx context.Context) (int, error)
	// RecordIssues stores what execution found wrong with rows.
	RecordIssues(ctx context.Context, importID uuid.UUID, issues []domain.ImportIssue) error
	// Progress tells other sessions how far the execution is (outside the
	// transaction, best effort).
	Progress(ctx context.Context, importID uuid.UUID, done, total int)
}

// foldClients folds each loaded client stream into its client.
func foldClients(streams map[uuid.UUID][]domain.RecordedEvent) map[uuid.UUID]*domain.Client {
	clients := make(map[uuid.UUID]*domain.Client, len(streams))
	for id, events := range streams {
		clients[id] = foldClient(id, events)
	}
	return clients
}

// foldClient folds a client's stream, in version order.
func foldClient(id uuid.UUID, events []domain.RecordedEvent) *domain.Client {
	c := domain.NewClient(id)
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

// loadImport folds an import's stream.
func loadImport(ctx context.Context, store EventStore, tenantID, id uuid.UUID) (*domain.Import, error) {
	imp := domain.NewImport(id)
	if err := store.Load(ctx, tenantID, imp); err != nil {
		return nil, err
	}
	if imp.Version() == 0 {
		return nil, domain.ErrImportNotFound
	}
	return imp, nil
}

// rowKeys are the lookup keys of a row's client: external reference first,
// then email, the order matching follows.
func rowKeys(r domain.ImportRow) []domain.UniqueKey {
	// Room for both up front: inlined, the keys stay on the caller's
	// stack instead of a slice allocated every time a row is looked at.
	keys := make([]domain.UniqueKey, 0, 2)
	if r.Ref != nil {
		keys = append(keys, domain.RefKey(*r.Ref))
	}
	if r.EmailKey != "" {
		keys = append(keys, domain.EmailLookupKey(r.EmailKey))
	}
	return keys
}

// groupKey identifies a row's client within one file.
func groupKey(r domain.ImportRow) string {
	if r.Ref != nil {
		return "ref\x00" + r.Ref.Source + "\x00" + r.Ref.ExternalID
	}
	return "email\x00" + r.EmailKey
}

func matchRow(r domain.ImportRow, found map[domain.UniqueKey]uuid.UUID) (uuid.UUID, bool) {
	for _, k := range rowKeys(r) {
		if id, ok := found[k]; ok {
			return id, true
		}
	}
	return uuid.Nil, false
}

// ImportHandlers groups the handlers of bulk imports.
type ImportHandlers struct {
	Analyze AnalyzeImportHandler
	Remap   RemapImportHandler
	Execute ExecuteImportHandler
	Run     RunImportHandler
	Undo    UndoImportHandler
	// Erase belongs here because an erasure must find the client in the
	// files imports keep.
	Erase EraseClientHandler
	// Rejected gives back the rows an import left out.
	Rejected ExportRejectedRowsHandler
	// Preview reads a stored file's first rows, for a person to map them.
	Preview PreviewImportFileHandler
	// Queued wakes the import worker when an execution is queued.
	Queued *Wakeup
}

// NewImportHandlers wires the import handlers to the event store, the
// import storage and the reader of uploaded files.
func NewImportHandlers(store EventStore, repo ImportRepository, files FileOpener) ImportHandlers {
	queued := NewWakeup()
	return ImportHandlers{
		Queued:   queued,
		Analyze:  AnalyzeImportHandler{store: store, repo: repo, opener: files},
		Remap:    RemapImportHandler{AnalyzeImportHandler{store: store, repo: repo, opener: files}},
		Execute:  ExecuteImportHandler{store: store, repo: repo, queued: queued},
		Run:      RunImportHandler{store: store, repo: repo, opener: files, now: time.Now},
		Undo:     UndoImportHandler{store: store, repo: repo},
		Erase:    EraseClientHandler{store: store, repo: repo, opener: files},
		Rejected: ExportRejectedRowsHandler{store: store, repo: repo, opener: files},
		Preview:  PreviewImportFileHandler{store: store, repo: repo, opener: files},
	}
}
