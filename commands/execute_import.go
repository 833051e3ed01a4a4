package commands

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ExecuteImport queues the valid rows of an analysed file for import.
type ExecuteImport struct {
	Origin   domain.Origin
	ImportID uuid.UUID
	Mode     string
	Lists    []domain.ImportListRef
	// ListMode "replace" leaves each list holding exactly the file's clients.
	ListMode string
}

type ExecuteImportHandler struct {
	store  EventStore
	repo   ImportRepository
	queued *Wakeup
}

// Handle records the request and queues it; a worker runs it (RunImport).
func (h ExecuteImportHandler) Handle(ctx context.Context, cmd ExecuteImport) (Result, error) {
	imp, err := loadImport(ctx, h.store, cmd.Origin.TenantID, cmd.ImportID)
	if err != nil {
		return Result{}, err
	}
	for _, l := range cmd.Lists {
		if l.ID == uuid.Nil {
			continue
		}
		list, err := loadList(ctx, h.store, cmd.Origin.TenantID, l.ID)
		if err != nil {
			return Result{}, err
		}
		if list.Deleted() {
			return Result{}, domain.ErrListDeleted
		}
	}
	mode := cmd.Mode
	if mode == "" {
		mode = imp.Analysis().Mode // what the analysis counted for
	}
	if err := imp.RequestExecution(mode, cmd.Lists, cmd.ListMode); err != nil {
		return Result{}, err
	}
	pos, err := h.repo.QueueExecution(ctx, cmd.Origin, imp)
	if err != nil {
		return Result{}, err
	}
	h.queued.Notify()
	return Result{ID: imp.StreamID(), Version: imp.Version() + len(imp.PendingEvents()), Position: pos}, nil
}

// RunImportHandler executes a queued import inside one transaction: every
// client event of the import and ImportExecuted commit together, or none.
type RunImportHandler struct {
	store  EventStore
	repo   ImportRepository
	opener FileOpener
	now    func() time.Time
}

// Run executes the import in tx. A row that cannot be imported now is
// reported and left out; only a failure of the whole run returns an error.
func (h RunImportHandler) Run(ctx context.Context, tx ImportTx, tenantID, importID uuid.UUID) error {
	imp, err := loadImport(ctx, h.store, tenantID, importID)
	if err != nil {
		return err
	}
	if imp.Status() != domain.ImportStatusRunning {
		return nil // already finished by an earlier run: nothing left to do
	}
	run, err := h.prepare(ctx, tx, imp)
	if err != nil {
		return err
	}
	defer run.close()
	if err := run.importRows(ctx); err != nil {
		return err
	}
	takenOff, err := run.replaceLists(ctx)
	if err != nil {
		return err
	}
	seq, err := tx.NextImportSeq(ctx)
	if err != nil {
		return err
	}
	if err := imp.Complete(domain.ImportLabel(h.now(), seq), seq, run.counts, run.listIDs(), takenOff); err != nil {
		return err
	}
	_, err = tx.Append(ctx, run.origin, []RowChange{{Aggregate: imp}})
	return err
}

// Fail records that the import could not be executed, after the run's
// transaction rolled back.
func (h RunImportHandler) Fail(ctx context.Context, tenantID, importID uuid.UUID, cause error) error {
	imp, err := loadImport(ctx, h.store, tenantID, importID)
	if err != nil {
		return err
	}
	if imp.Status() != domain.ImportStatusRunning {
		return nil
	}
	if err := imp.Fail(cause.Error()); err != nil {
		return err
	}
	origin := imp.RequestedBy()
	origin.TenantID, origin.ImportID = tenantID, importID
	_, err = h.store.Save(ctx, origin, imp)
	return err
}

// importRun is the state of one execution.
type importRun struct {
	tx       ImportTx
	store    EventStore
	imp      *domain.Import
	origin   domain.Origin
	custom   *domain.CustomFieldSet
	scan     *rowScanner
	closer   io.Closer
	rules    *fileRules
	rejected map[int]bool // rows the analysis rejected: never imported
	lists    []*domain.List
	counts   domain.ImportCounts
	done     int
	// pending holds the clients changed since the last flush; groups finds
	// a client by its key in the file (contacts layout).
	pending []pendingClient
	groups  map[string]*domain.Client
	touched map[uuid.UUID]int  // existing clients already changed, by first row
	inFile  map[uuid.UUID]bool // the clients of the file's valid rows, for list_mode replace
	issues  []domain.ImportIssue
}

type pendingClient struct {
	row    int
	client *domain.Client
	isNew  bool
}

func (h RunImportHandler) prepare(ctx context.Context, tx ImportTx, imp *domain.Import) (*importRun, error) {
	tenantID, a := imp.RequestedBy().TenantID, imp.Analysis()
	custom, err := loadCustomFields(ctx, h.store, tenantID)
	if err != nil {
		return nil, err
	}
	rejected, err := h.repo.RejectedRows(ctx, tenantID, imp.StreamID())
	if err != nil {
		return nil, err
	}
	content, size, closer, err := h.repo.OpenFile(ctx, tenantID, imp.StreamID())
	if err != nil {
		return nil, err
	}
	rows, _, err := h.opener.Open(content, size, a.FileName, FileOptions{
		Format: a.File.Format, Encoding: a.File.Encoding, Delimiter: a.File.Delimiter, Sheet: a.File.Sheet})
	if err != nil {
		closer.Close()
		return nil, err
	}
	mapping := domain.RestoreMapping(a.Layout, a.Columns, a.Headers, a.HasHeader, a.Source, custom)
	_, past, err := skipHeader(rows, a)
	if err != nil {
		rows.Close()
		closer.Close()
		return nil, err
	}
	scan := &rowScanner{rows: rows, mapping: mapping, custom: custom, pending: past}
	// Rows are matched against the registry as committed, on connections of
	// their own, while the transaction writes the rows before them (the
	// lookups were a third of its time in the database). Its own writes
	// change no outcome but one: a value an earlier row claimed makes a
	// later row a duplicate in the file whatever it matches, a value taken
	// by another client since is refused when reserved, and a value an
	// earlier row's client gave up still names that client, as in the
	// analysis.
	scan.match = func(rows []domain.ImportRow) (map[domain.UniqueKey]uuid.UUID, error) {
		return matchChunk(ctx, h.repo, tenantID, rows)
	}
	origin := imp.RequestedBy()
	origin.ImportID = imp.StreamID()
	origin.CausationID = "import:" + imp.StreamID().String()
	run := &importRun{tx: tx, store: h.store, imp: imp, origin: origin, custom: custom, scan: scan, closer: closer,
		rules: newFileRules(mapping, imp.Request().Mode), rejected: rejected,
		groups: map[string]*domain.Client{}, touched: map[uuid.UUID]int{}, inFile: map[uuid.UUID]bool{}}
	if err := run.resolveLists(ctx); err != nil {
		run.close()
		return nil, err
	}
	return run, nil
}

func (r *importRun) close() {
	r.scan.close()
	r.closer.Close()
}

// resolveLists finds the lists to put clients on, creating those named
// that do not exist yet (in the import's transaction).
func (r *importRun) resolveLists(ctx context.Context) error {
	for _, ref := range r.imp.Request().Lists {
		if ref.ID != uuid.Nil {
			list, err := loadList(ctx, r.store, r.origin.TenantID, ref.ID)
			if err != nil {
				return err
			}
			r.lists = append(r.lists, list)
			continue
		}
		key := domain.UniqueKey{Kind: "list_name", Value: strings.ToLower(ref.Name)}
		found, err := r.tx.MatchClients(ctx, r.origin.TenantID, []domain.UniqueKey{key})
		if err != nil {
			return err
		}
		if id, ok := found[key]; ok {
			list, err := loadList(ctx, r.store, r.origin.TenantID, id)
			if err != nil {
				return err
			}
			r.lists = append(r.lists, list)
			continue
		}
		list, err := domain.CreateList(uuid.New(), ref.Name)
		if err != nil {
			return err
		}
		if taken, err := r.tx.Reserve(ctx, []domain.Aggregate{list}); err != nil {
			return err
		} else if len(taken) > 0 {
			return &domain.DuplicateError{Field: "lists", OwnerID: taken[list.StreamID()].OwnerID}
		}
		if _, err := r.tx.Append(ctx, r.origin, []RowChange{{Aggregate: list}}); err != nil {
			return err
		}
		r.lists = append(r.lists, list)
	}
	return nil
}

// replaceLists takes off the import's lists every client the file does
// not hold (list_mode replace), in the import's transaction: the lists then
// hold exactly the file's valid clients, and the import's undo puts the
// others back.
func (r *importRun) replaceLists(ctx context.Context) ([]domain.TakenOff, error) {
	if r.imp.Request().ListMode != domain.ListModeReplace {
		return nil, nil
	}
	takenOff := []domain.TakenOff{}
	for _, l := range r.lists {
		members, err := r.tx.ListMembers(ctx, r.origin.TenantID, l.StreamID())
		if err != nil {
			return nil, err
		}
		var others []uuid.UUID
		for _, id := range members {
			if !r.inFile[id] {
				others = append(others, id)
			}
		}
		streams, err := r.tx.LoadStreams(ctx, others)
		if err != nil {
			return nil, err
		}
		clients := foldClients(streams)
		var changes []RowChange
		for _, id := range others {
			c, ok := clients[id]
			if !ok || c.Deleted() || c.Erased() {
				continue
			}
			if err := c.RemoveFromList(l.StreamID()); err != nil {
				return nil, err
			}
			if len(c.PendingEvents()) > 0 {
				changes = append(changes, RowChange{Aggregate: c})
				takenOff = append(takenOff, domain.TakenOff{ClientID: c.ID(), ListID: l.StreamID()})
			}
		}
		if _, err := r.tx.Append(ctx, r.origin, changes); err != nil {
			return nil, err
		}
	}
	return takenOff, nil
}

func (r *importRun) listIDs() []uuid.UUID {
	ids := make([]uuid.UUID, len(r.lists))
	for i, l := range r.lists {
		ids[i] = l.StreamID()
	}
	return ids
}

func (r *importRun) importRows(ctx context.Context) error {
	total := r.imp.Analysis().Summary.Rows
	contactsLayout := r.rules.mapping.Layout() == domain.LayoutContacts
	for {
		chunk, found, err := r.scan.readChunk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := r.importChunk(ctx, chunk, found); err != nil {
			return err
		}
		if !contactsLayout {
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
		r.done += len(chunk)
		r.tx.Progress(ctx, r.imp.StreamID(), r.done, total)
	}
	adopted, rejected := r.rules.settleOrphans()
	for _, row := range adopted {
		r.addToGroup(row)
	}
	for _, row := range rejected {
		r.fail(row, nil)
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	return r.tx.RecordIssues(ctx, r.imp.StreamID(), r.issues)
}

// importChunk classifies and takes up the rows of a chunk; found is what
// matching them found in the registry.
func (r *importRun) importChunk(ctx context.Context, chunk []domain.ImportRow, found map[domain.UniqueKey]uuid.UUID) error {
	existing, err := r.loadMatched(ctx, chunk, found)
	if err != nil {
		return err
	}
	for i := range chunk {
		row := &chunk[i]
		if r.rejected[row.Number] {
			r.counts.Failed++
			continue
		}
		id, matched := matchRow(*row, found)
		switch r.rules.classify(row, matched) {
		case rowInvalid:
			r.fail(*row, nil)
		case rowSkip:
			r.inFile[id] = true
			r.counts.Skipped++
			r.issues = append(r.issues, domain.ImportIssue{Row: row.Number, Code: "existing_client_skipped", Warning: true})
		case rowCreate:
			r.start(*row, domain.ImportClient(uuid.New(), *row), true)
		case rowUpdate:
			if first, dup := r.touched[id]; dup {
				r.fail(*row, &domain.DuplicateError{Field: "email", OwnerID: id.String()}, first)
				continue
			}
			r.touched[id] = row.Number
			c := existing[id]
			if err := c.ChangeDetails(row.Client, r.custom); err != nil {
				r.fail(*row, err)
				continue
			}
			r.start(*row, c, false)
		case rowContact:
			r.addToGroup(*row)
		}
	}
	return nil
}

// loadMatched folds the streams of the existing clients the chunk matched.
func (r *importRun) loadMatched(ctx context.Context, chunk []domain.ImportRow, found map[domain.UniqueKey]uuid.UUID) (map[uuid.UUID]*domain.Client, error) {
	var ids []uuid.UUID
	for _, row := range chunk {
		if id, ok := matchRow(row, found); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	streams, err := r.tx.LoadStreams(ctx, ids)
	if err != nil {
		return nil, err
	}
	return foldClients(streams), nil
}

// start takes a row's client into the pending set, with its contacts and lists.
func (r *importRun) start(row domain.ImportRow, c *domain.Client, isNew bool) {
	if err := r.addContacts(c, row); err != nil {
		r.fail(row, err)
		return
	}
	for _, l := range r.lists {
		if err := c.AddToList(l); err != nil {
			r.fail(row, err)
			return
		}
	}
	r.pending = append(r.pending, pendingClient{row: row.Number, client: c, isNew: isNew})
	r.inFile[c.ID()] = true
	r.groups[groupKey(row)] = c
}

// addToGroup adds a contact row to the client an earlier row named; a
// client skipped (create_only) takes no contacts either.
func (r *importRun) addToGroup(row domain.ImportRow) {
	c, ok := r.groups[groupKey(row)]
	if !ok {
		r.counts.Skipped++
		return
	}
	if err := r.addContacts(c, row); err != nil {
		r.fail(row, err)
	}
}

func (r *importRun) addContacts(c *domain.Client, row domain.ImportRow) error {
	for _, contact := range row.Contacts {
		if err := c.AddImportedContact(uuid.New(), contact); err != nil {
			return err
		}
	}
	return nil
}

// flush reserves and appends the pending clients. A client whose email or
// external id was taken since the analysis is reported, not imported.
func (r *importRun) flush(ctx context.Context) error {
	if len(r.pending) == 0 {
		return nil
	}
	aggs := make([]domain.Aggregate, 0, len(r.pending))
	for _, p := range r.pending {
		if len(p.client.PendingEvents()) > 0 {
			aggs = append(aggs, p.client)
		}
	}
	taken, err := r.tx.Reserve(ctx, aggs)
	if err != nil {
		return err
	}
	changes := make([]RowChange, 0, len(aggs))
	for _, p := range r.pending {
		switch dup := taken[p.client.StreamID()]; {
		case dup != nil:
			r.counts.Failed++
			r.issues = append(r.issues, takenIssue(r.rules.mapping, p.row, dup))
		case len(p.client.PendingEvents()) == 0:
			r.counts.Unchanged++
		default:
			changes = append(changes, RowChange{Row: p.row, Aggregate: p.client})
			if p.isNew {
				r.counts.Created++
			} else {
				r.counts.Updated++
			}
		}
	}
	r.pending = r.pending[:0]
	clear(r.groups)
	if _, err := r.tx.Append(ctx, r.origin, changes); err != nil {
		return err
	}
	return nil
}

// fail reports a row that cannot be imported now. err explains it (nil:
// the row's own issues do); a duplicate may name the row it repeats.
func (r *importRun) fail(row domain.ImportRow, err error, firstRow ...int) {
	r.counts.Failed++
	var verr domain.ValidationErrors
	var dup *domain.DuplicateError
	switch {
	case err == nil:
		r.issues = append(r.issues, row.Issues...)
	case errors.As(err, &verr):
		for _, fe := range verr {
			iss := domain.ImportIssue{Row: row.Number, Field: fe.Field, Code: fe.Code, Params: map[string]string{"field": fe.Field}}
			iss.Column, iss.Header = columnOf(r.rules.mapping, fe.Field)
			r.issues = append(r.issues, iss)
		}
	case errors.As(err, &dup) && len(firstRow) > 0:
		// Two rows led to one client, by whichever key: name the row's
		// reference first, as matching does.
		r.issues = append(r.issues, duplicateIssue(r.rules.mapping, row, "", firstRow[0]))
	default:
		r.issues = append(r.issues, domain.ImportIssue{Row: row.Number, Code: "not_imported",
			Params: map[string]string{"reason": err.Error()}})
	}
}

func takenIssue(m domain.ImportMapping, row int, dup *domain.DuplicateError) domain.ImportIssue {
	field := dup.Field
	if field == "external_refs" {
		field = "external_id"
	}
	iss := domain.ImportIssue{Row: row, Field: field, Code: "email_taken", Params: map[string]string{"field": field}}
	if field == "external_id" {
		iss.Code = "external_id_taken"
	}
	iss.Column, iss.Header = columnOf(m, field)
	return iss
}
