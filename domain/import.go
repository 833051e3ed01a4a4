package domain

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Import errors.
var (
	ErrImportNotFound        = errors.New("import not found")
	ErrImportAlreadyExecuted = errors.New("import was already executed")
	ErrImportNotExecuted     = errors.New("import was not executed")
	ErrImportAlreadyUndone   = errors.New("import was already undone")
	ErrImportRunning         = errors.New("import is running")
	// ErrImportFileErased: the uploaded file was removed because it held
	// personal data of a client whose data was erased.
	ErrImportFileErased = errors.New("import file was removed by an erasure")
	// ErrImportHasNoFile: a refused file is not kept, so it has no rows to give back.
	ErrImportHasNoFile = errors.New("a refused import has no file")
)

// StreamImport is the stream type of imports.
const StreamImport = "import"

// Import statuses, as the history shows them.
const (
	ImportStatusAnalyzed = "analyzed"
	ImportStatusRunning  = "running"
	ImportStatusExecuted = "executed"
	ImportStatusFailed   = "failed"
	ImportStatusUndone   = "undone"
	ImportStatusRefused  = "refused"
)

// Import modes.
const (
	ModeCreateOnly      = "create_only"
	ModeCreateAndUpdate = "create_and_update"
)

// ParseImportMode checks a mode; "" means create_and_update.
func ParseImportMode(s string) (string, error) {
	switch s {
	case "":
		return ModeCreateAndUpdate, nil
	case ModeCreateOnly, ModeCreateAndUpdate:
		return s, nil
	}
	return "", ValidationErrors{{Field: "mode", Code: "invalid_mode",
		Message: `mode must be "create_only" or "create_and_update"`}}
}

// DefaultImportSource is the external-reference source of an import's
// external_id column when the file has no source column.
const DefaultImportSource = "import"

// RefusedError is a file refused as a whole: over a limit, unreadable or
// hostile. Nothing of it is stored but the refusal.
type RefusedError struct {
	Code   string
	Detail string
	Params map[string]string
}

func (e *RefusedError) Error() string { return "file refused: " + e.Detail }

// ByMapping tells a refusal of how the columns were mapped, not of the
// file: the file is readable, and a mapping given by the user (POST
// /v1/imports/{id}/mapping) may make it importable, so it is kept.
func (e *RefusedError) ByMapping() bool {
	return e.Code == "no_email_column" || e.Code == "duplicate_header"
}

// FileFacts is what the analysis detected about a file (or was told), kept
// so execution reads the file exactly the same way.
type FileFacts struct {
	Format     string `json:"format"`
	Encoding   string `json:"encoding,omitempty"`
	BOM        bool   `json:"bom,omitempty"`
	Delimiter  string `json:"delimiter,omitempty"`
	LineEnding string `json:"line_ending,omitempty"`
	Sheet      string `json:"sheet,omitempty"`
	// Sheets are all the workbook's sheets, for the user to pick another.
	Sheets []string `json:"sheets,omitempty"`
}

// ImportSummary counts the rows of an analysis.
type ImportSummary struct {
	Rows     int `json:"rows"`
	Valid    int `json:"valid"`
	Invalid  int `json:"invalid"`
	ToCreate int `json:"to_create"`
	ToUpdate int `json:"to_update"`
	ToSkip   int `json:"to_skip"`
	Warnings int `json:"warnings"`
}

// ImportCounts is what an execution did.
type ImportCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	// TakenOffLists counts the memberships a list_mode "replace" ended.
	TakenOffLists int `json:"taken_off_lists,omitempty"`
}

// How an import treats the lists it names: "add" puts the file's clients on
// them; "replace" also takes off every other client, so that each list
// holds exactly the file's valid clients.
const (
	ListModeAdd     = "add"
	ListModeReplace = "replace"
)

// TakenOff is a client a list_mode "replace" took off a list.
type TakenOff struct {
	ClientID uuid.UUID `json:"client_id"`
	ListID   uuid.UUID `json:"list_id"`
}

// ImportListRef names a list to put imported clients on: an existing one by
// id, or one to create (or reuse) by name.
type ImportListRef struct {
	ID   uuid.UUID `json:"id,omitzero"`
	Name string    `json:"name,omitempty"`
}

// KeptClient is a client undo left alone, and why.
type KeptClient struct {
	ClientID uuid.UUID `json:"client_id"`
	Row      int       `json:"row"`
	Reason   string    `json:"reason"`
	Fields   []string  `json:"fields,omitempty"`
}

// ImportAnalyzed: a file was read and checked; nothing changed in the registry.
type ImportAnalyzed struct {
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256"`
	FileSize   int64     `json:"file_size"`
	File       FileFacts `json:"file"`
	Layout     Layout    `json:"layout"`
	HasHeader  bool      `json:"has_header"`
	// HeaderRow is the header's row number (title rows may be above it);
	// 0 without a header, and in analyses recorded before it was kept,
	// whose header was row 1.
	HeaderRow int           `json:"header_row,omitempty"`
	Columns   []string      `json:"columns"` // column key per column of the file, "" when not imported
	Headers   []string      `json:"headers,omitempty"`
	Source    string        `json:"source"`
	Mode      string        `json:"mode"`
	Summary   ImportSummary `json:"summary"`
	Language  string        `json:"language,omitempty"`
}

// HeaderRowNumber is the row the header is on, 0 without a header: the
// rows up to it are not data.
func (a ImportAnalyzed) HeaderRowNumber() int {
	if !a.HasHeader {
		return 0
	}
	return max(a.HeaderRow, 1)
}

// ImportRefused: a file was refused as a whole (over a limit, unreadable,
// hostile); nothing of it was kept.
type ImportRefused struct {
	FileName string            `json:"file_name"`
	FileSize int64             `json:"file_size"`
	Code     string            `json:"code"`
	Detail   string            `json:"detail"`
	Params   map[string]string `json:"params,omitempty"`
	// FileKept: the refusal is of the mapping (RefusedError.ByMapping), so
	// the file is kept for the user to map its columns.
	FileKept bool `json:"file_kept,omitempty"`
}

// ImportExecutionRequested: an admin asked for the valid rows to be imported.
type ImportExecutionRequested struct {
	Mode     string          `json:"mode"`
	Lists    []ImportListRef `json:"lists,omitempty"`
	ListMode string          `json:"list_mode,omitempty"` // "" is ListModeAdd
}

// ImportExecuted: the import's client events were appended with this one,
// in the same transaction.
type ImportExecuted struct {
	Label  string       `json:"label"`
	Seq    int          `json:"seq"`
	Mode   string       `json:"mode"`
	Counts ImportCounts `json:"counts"`
	Lists  []uuid.UUID  `json:"lists,omitempty"`
	// ListMode and TakenOff: the clients list_mode "replace" took off the lists.
	ListMode string     `json:"list_mode,omitempty"`
	TakenOff []TakenOff `json:"taken_off,omitempty"`
}

// ImportFailed: an execution stopped on something other than a row's data;
// nothing of it was written.
type ImportFailed struct {
	Reason string `json:"reason"`
}

// ImportUndone: the import's effects were compensated.
type ImportUndone struct {
	Deleted  int          `json:"deleted"`
	Restored int          `json:"restored"`
	Kept     []KeptClient `json:"kept,omitempty"`
}

func (ImportAnalyzed) EventName() string           { return "ImportAnalyzed" }
func (ImportRefused) EventName() string            { return "ImportRefused" }
func (ImportExecutionRequested) EventName() string { return "ImportExecutionRequested" }
func (ImportExecuted) EventName() string           { return "ImportExecuted" }
func (ImportFailed) EventName() string             { return "ImportFailed" }
func (ImportUndone) EventName() string             { return "ImportUndone" }

func (ImportAnalyzed) SchemaVersion() int           { return 1 }
func (ImportRefused) SchemaVersion() int            { return 1 }
func (ImportExecutionRequested) SchemaVersion() int { return 1 }
func (ImportExecuted) SchemaVersion() int           { return 1 }
func (ImportFailed) SchemaVersion() int             { return 1 }
func (ImportUndone) SchemaVersion() int             { return 1 }

func init() {
	registerEvent(func() Event { return &ImportAnalyzed{} })
	registerEvent(func() Event { return &ImportRefused{} })
	registerEvent(func() Event { return &ImportExecutionRequested{} })
	registerEvent(func() Event { return &ImportExecuted{} })
	registerEvent(func() Event { return &ImportFailed{} })
	registerEvent(func() Event { return &ImportUndone{} })
}

// Import is the aggregate behind one import's stream: its lifecycle from
// analysis to undo.
type Import struct {
	id       uuid.UUID
	version  int
	status   string
	analysis ImportAnalyzed
	request  ImportExecutionRequested
	executed ImportExecuted
	// requestedBy is who asked for the execution: the import's events are
	// recorded in their name.
	requestedBy Origin
	fileKept    bool
	refusedName string
	pending     []Event
}

// NewImport returns an empty import to fold a stream into.
func NewImport(id uuid.UUID) *Import { return &Import{id: id} }

// AnalyzeImport records the analysis of an uploaded file.
func AnalyzeImport(id uuid.UUID, analysis ImportAnalyzed) (*Import, error) {
	var errs ValidationErrors
	analysis.FileName = strings.TrimSpace(analysis.FileName)
	if err := checkText("file_name", analysis.FileName); err != nil {
		errs = append(errs, *err)
	}
	if _, err := ParseImportMode(analysis.Mode); err != nil {
		errs = append(errs, err.(ValidationErrors)...)
	}
	if err := errs.orNil(); err != nil {
		return nil, err
	}
	imp := NewImport(id)
	imp.record(analysis)
	return imp, nil
}

// RefuseImport records a file refused as a whole.
func RefuseImport(id uuid.UUID, fileName string, size int64, refusal *RefusedError) *Import {
	imp := NewImport(id)
	name := strings.TrimSpace(fileName)
	if checkText("file_name", name) != nil {
		name = "(unreadable file name)"
	}
	imp.record(ImportRefused{FileName: name, FileSize: size, Code: refusal.Code, Detail: refusal.Detail, Params: refusal.Params,
		FileKept: refusal.ByMapping()})
	return imp
}

// Remap records a new analysis of the import's file, read with a mapping
// the user gave: before execution, or after one that failed, or of a file
// refused for its mapping alone.
func (i *Import) Remap(analysis ImportAnalyzed) error {
	if err := i.CanRemap(); err != nil {
		return err
	}
	if _, err := ParseImportMode(analysis.Mode); err != nil {
		return err
	}
	analysis.FileName = i.FileName()
	i.record(analysis)
	return nil
}

// CanRemap tells whether the import's file can be analysed again.
func (i *Import) CanRemap() error {
	switch i.status {
	case ImportStatusRunning:
		return ErrImportRunning
	case ImportStatusExecuted, ImportStatusUndone:
		return ErrImportAlreadyExecuted
	case ImportStatusRefused:
		if !i.fileKept {
			return ErrImportHasNoFile
		}
	}
	return nil
}

// FileName is the uploaded file's name.
func (i *Import) FileName() string {
	if i.status == ImportStatusRefused {
		return i.refusedName
	}
	return i.analysis.FileName
}

// RequestExecution queues the import. A failed execution may be requested again.
func (i *Import) RequestExecution(mode string, lists []ImportListRef, listMode string) error {
	switch i.status {
	case ImportStatusRunning:
		return ErrImportRunning
	case ImportStatusExecuted, ImportStatusUndone:
		return ErrImportAlreadyExecuted
	}
	mode, err := ParseImportMode(mode)
	if err != nil {
		return err
	}
	var errs ValidationErrors
	for n, l := range lists {
		l.Name = strings.TrimSpace(l.Name)
		lists[n] = l
		if (l.ID == uuid.Nil) == (l.Name == "") {
			errs.add("lists", "invalid_list", "list %d needs either an id or a name", n+1)
		} else if err := checkText("lists", l.Name); err != nil {
			errs = append(errs, *err)
		}
	}
	switch listMode = strings.ToLower(strings.TrimSpace(listMode)); listMode {
	case "", ListModeAdd:
		listMode = ""
	case ListModeReplace:
		if len(lists) == 0 {
			errs.add("list_mode", "lists_required", "list_mode replace needs the lists to replace")
		}
	default:
		errs.add("list_mode", "invalid_list_mode", `list_mode must be "add" or "replace"`)
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	i.record(ImportExecutionRequested{Mode: mode, Lists: lists, ListMode: listMode})
	return nil
}

// Complete records the execution; the caller appends it in the same
// transaction as the client events it counts.
func (i *Import) Complete(label string, seq int, counts ImportCounts, lists []uuid.UUID, takenOff []TakenOff) error {
	if i.status != ImportStatusRunning {
		return ErrImportNotExecuted
	}
	counts.TakenOffLists = len(takenOff)
	i.record(ImportExecuted{Label: label, Seq: seq, Mode: i.request.Mode, Counts: counts, Lists: lists,
		ListMode: i.request.ListMode, TakenOff: takenOff})
	return nil
}

// Fail records why an execution could not finish.
func (i *Import) Fail(reason string) error {
	if i.status != ImportStatusRunning {
		return ErrImportNotExecuted
	}
	i.record(ImportFailed{Reason: CleanText(reason, 1000)})
	return nil
}

// CanUndo tells whether the import can be undone: executed, not undone yet.
func (i *Import) CanUndo() error {
	switch i.status {
	case ImportStatusUndone:
		return ErrImportAlreadyUndone
	case ImportStatusExecuted:
		return nil
	}
	return ErrImportNotExecuted
}

// Undo records the compensation of an executed import. Undo happens once.
func (i *Import) Undo(deleted, restored int, kept []KeptClient) error {
	if err := i.CanUndo(); err != nil {
		return err
	}
	i.record(ImportUndone{Deleted: deleted, Restored: restored, Kept: kept})
	return nil
}

// ImportLabel is how people name an import: its date and the tenant's
// sequence number, "2026-11-21 #3".
func ImportLabel(at time.Time, seq int) string {
	return at.UTC().Format("2006-01-02") + " #" + strconv.Itoa(seq)
}

func (i *Import) StreamID() uuid.UUID               { return i.id }
func (i *Import) StreamType() string                { return StreamImport }
func (i *Import) Version() int                      { return i.version }
func (i *Import) PendingEvents() []Event            { return i.pending }
func (i *Import) UniqueKeys() []UniqueKey           { return nil }
func (i *Import) Status() string                    { return i.status }
func (i *Import) Analysis() ImportAnalyzed          { return i.analysis }
func (i *Import) Request() ImportExecutionRequested { return i.request }
func (i *Import) RequestedBy() Origin               { return i.requestedBy }
func (i *Import) Counts() ImportCounts              { return i.executed.Counts }
func (i *Import) Label() string                     { return i.executed.Label }

func (i *Import) record(e Event) {
	i.when(e)
	i.pending = append(i.pending, e)
}

// Apply folds one recorded event into the import.
func (i *Import) Apply(e RecordedEvent) {
	if _, ok := e.Event.(ImportExecutionRequested); ok {
		i.requestedBy = Origin{TenantID: e.TenantID, Actor: e.Actor, CorrelationID: e.CorrelationID}
	}
	i.when(e.Event)
	i.version = e.StreamVersion
}

func (i *Import) when(e Event) {
	switch ev := e.(type) {
	case ImportAnalyzed:
		i.status, i.analysis = ImportStatusAnalyzed, ev
	case ImportExecutionRequested:
		i.status, i.request = ImportStatusRunning, ev
	case ImportExecuted:
		i.status, i.executed = ImportStatusExecuted, ev
	case ImportRefused:
		i.status, i.fileKept, i.refusedName = ImportStatusRefused, ev.FileKept, ev.FileName
	case ImportFailed:
		i.status = ImportStatusFailed
	case ImportUndone:
		i.status = ImportStatusUndone
	}
}
