package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/i18n"
	"github.com/clientreg/clientreg/adapters/spreadsheet"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// issuesPerPage is how many issues the analysis page shows at once.
const issuesPerPage = 50

func (c *Console) importRoutes(r chi.Router) {
	r.Get("/imports", c.importsPage)
	r.Get("/imports/{id}", c.importPage)
	r.Get("/imports/{id}/progress", c.importProgress)
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleEditor))
		r.Get("/imports/new", c.newImportPage)
		r.Get("/imports/template", c.importTemplate)
		r.Get("/imports/{id}/rejected.{format}", c.rejectedRows)
		r.Post("/imports/{id}/mapping", c.remapImport)
	})
	r.Group(func(r chi.Router) {
		r.Use(requireRole(c, domain.RoleAdmin))
		r.Post("/imports/{id}/execute", c.executeImport)
		r.Post("/imports/{id}/undo", c.undoImport)
	})
}

// importHistory is the imports page: newest first, a page at a time.
type importHistory struct {
	Items   []importRow
	NextURL string
	Cursor  string
}

type importRow struct {
	projections.ImportView
	Who     string
	Summary domain.ImportSummary
	Counts  *domain.ImportCounts
}

func (c *Console) importsPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	u, _ := userFrom(r.Context())
	cursor := r.URL.Query().Get("cursor")
	page, err := c.Reads.Imports(r.Context(), u.TenantID, projections.ImportFilter{Cursor: cursor, Limit: 25})
	if err != nil {
		c.orFail(w, r, err)
		return
	}
	p := c.newPage(r, "imports", "imports.title", nil)
	people := c.people(r)
	d := importHistory{Cursor: cursor}
	for _, v := range page.Items {
		row := importRow{ImportView: v, Who: actorWords(p, people, v.Actor)}
		var a domain.ImportAnalyzed
		if json.Unmarshal(v.Analysis, &a) == nil {
			row.Summary = a.Summary
		}
		row.Counts = executedCounts(v)
		d.Items = append(d.Items, row)
	}
	if page.NextCursor != "" {
		d.NextURL = "/imports?cursor=" + urlQueryEscape(page.NextCursor)
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "imports", p)
}

func executedCounts(v projections.ImportView) *domain.ImportCounts {
	if len(v.Execution) == 0 || v.Status == domain.ImportStatusRunning {
		return nil
	}
	var e domain.ImportExecuted
	if json.Unmarshal(v.Execution, &e) != nil {
		return nil
	}
	return &e.Counts
}

// people maps the actors of console users to their email.
func (c *Console) people(r *http.Request) map[string]string {
	u, _ := userFrom(r.Context())
	out := map[string]string{}
	if users, err := c.Users.Users(r.Context(), u.TenantID); err == nil {
		for _, x := range users {
			out["user:"+x.ID.String()] = x.Email
		}
	}
	return out
}

func actorWords(p *page, people map[string]string, actor string) string {
	switch {
	case people[actor] != "":
		return people[actor]
	case strings.HasPrefix(actor, "token:"):
		return p.T("timeline.api")
	case strings.HasPrefix(actor, "user:"):
		return p.T("timeline.former_user")
	}
	return p.T("timeline.system")
}

// newImportData is the wizard's first page: the template and the upload.
type newImportData struct {
	MaxMB   int64
	Layouts []string
	Langs   []string
}

func (c *Console) newImportPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	limits, err := c.ImportStore.Limits(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "imports", "import.new_title", &newImportData{MaxMB: (limits.MaxBytes + 1<<20 - 1) >> 20,
		Layouts: []string{string(domain.LayoutClients), string(domain.LayoutContacts)}, Langs: domain.TemplateLanguages})
	if e := r.URL.Query().Get("error"); e != "" && hasMessage("import.error."+e) {
		p.Errors["file"] = p.T("import.error." + e)
	}
	c.render(w, r, http.StatusOK, "import_new", p)
}

// importTemplate: the blank file to fill, in the chosen layout, language
// and format, with the tenant's custom fields last.
func (c *Console) importTemplate(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	q := r.URL.Query()
	layout, err := domain.ParseLayout(q.Get("layout"))
	if err != nil {
		c.renderError(w, r, http.StatusBadRequest, "error.not_found")
		return
	}
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	spec := spreadsheet.TemplateSpec{Layout: layout, Lang: i18n.Lang(q.Get("lang"), r.Header.Get("Accept-Language"))}
	for _, f := range fields {
		spec.Custom = append(spec.Custom, spreadsheet.CustomColumn{Name: f.Name, Type: f.Type, Options: f.Options})
	}
	var buf bytes.Buffer
	name := "clients.xlsx"
	if q.Get("format") == "csv" {
		name = "clients.csv"
		err = spreadsheet.WriteTemplateCSV(&buf, spec)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		err = spreadsheet.WriteTemplateXLSX(&buf, spec)
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, _ = w.Write(buf.Bytes())
}

// analyzeImport takes the upload: the file streams to a temporary file
// under the tenant's size limit, then the analysis runs. The form is
// multipart, so its CSRF token is checked here, from the part that comes
// before the file, and never by parsing the whole body first.
func (c *Console) analyzeImport(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	p := c.newPage(r, "imports", "import.new_title", nil)
	limits, err := c.ImportStore.Limits(r.Context(), u.TenantID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	up, status, code := c.readUpload(r, limits.MaxBytes)
	if up != nil {
		defer up.close()
	}
	if code != "" {
		if code == "csrf" {
			c.renderError(w, r, http.StatusForbidden, "error.csrf")
			return
		}
		c.backToUpload(w, r, status, code)
		return
	}
	layout, err := domain.ParseLayout(up.fields["layout"])
	if err != nil {
		layout = domain.LayoutClients
	}
	a, err := c.Imports.Analyze.Handle(r.Context(), commands.AnalyzeImport{Origin: origin(r), File: up.file, Language: p.Lang,
		Mapping: domain.MappingOptions{Layout: layout}})
	var refused *domain.RefusedError
	if err != nil && !errors.As(err, &refused) {
		c.fail(w, r, err)
		return
	}
	// A refused file is recorded too: its page says why.
	c.redirectAfter(w, r, "/imports/"+a.ImportID.String(), a.Position, "")
}

// backToUpload answers a failed upload: the script's request gets the
// message, a plain form goes back to the upload page with it.
func (c *Console) backToUpload(w http.ResponseWriter, r *http.Request, status int, code string) {
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": translate(langFrom(r.Context()), "import.error."+code)})
		return
	}
	http.Redirect(w, r, "/imports/new?error="+code, http.StatusSeeOther)
}

// redirectAfter sends the browser to the page showing a command's outcome
// (the script's request gets the address to go to).
func (c *Console) redirectAfter(w http.ResponseWriter, r *http.Request, path string, position int64, flash string) {
	q := "?at=" + strconv.FormatInt(position, 10)
	if flash != "" {
		q += "&flash=" + flash
	}
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"location": path + q})
		return
	}
	http.Redirect(w, r, path+q, http.StatusSeeOther)
}

type upload struct {
	file   commands.StoredFile
	fields map[string]string
	tmp    *os.File
}

func (u *upload) close() {
	if u.tmp != nil {
		u.tmp.Close()
		os.Remove(u.tmp.Name())
	}
}

// readUpload reads the multipart form: a csrf part first, small fields,
// and the file, spooled to disk. Past maxBytes it stops reading.
func (c *Console) readUpload(r *http.Request, maxBytes int64) (*upload, int, string) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, http.StatusBadRequest, "no_file"
	}
	u := &upload{fields: map[string]string{}}
	csrfOK := hmac.Equal([]byte(r.Header.Get("X-CSRF-Token")), []byte(csrfFrom(r.Context())))
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u, http.StatusBadRequest, "interrupted"
		}
		if part.FormName() != "file" || u.tmp != nil {
			value, err := io.ReadAll(io.LimitReader(part, 4<<10))
			if err != nil {
				return u, http.StatusBadRequest, "interrupted"
			}
			if part.FormName() == "csrf" {
				csrfOK = csrfOK || hmac.Equal(value, []byte(csrfFrom(r.Context())))
				continue
			}
			u.fields[part.FormName()] = strings.TrimSpace(string(value))
			continue
		}
		if !csrfOK {
			return u, http.StatusForbidden, "csrf"
		}
		if part.FileName() == "" {
			continue // the form was sent without choosing a file
		}
		if u.tmp, err = os.CreateTemp("", "clientreg-console-upload-*"); err != nil {
			return u, http.StatusInternalServerError, "interrupted"
		}
		hash := sha256.New()
		n, err := io.Copy(io.MultiWriter(u.tmp, hash), io.LimitReader(part, maxBytes+1))
		if err != nil {
			return u, http.StatusBadRequest, "interrupted"
		}
		u.file = commands.StoredFile{Name: part.FileName(), Size: n, SHA256: hex.EncodeToString(hash.Sum(nil)), Content: u.tmp}
	}
	if !csrfOK {
		return u, http.StatusForbidden, "csrf"
	}
	if u.tmp == nil {
		return u, http.StatusBadRequest, "no_file"
	}
	return u, 0, ""
}

// importData is an import's page, whatever its status.
type importData struct {
	View       projections.ImportView
	Who        string
	Analysis   domain.ImportAnalyzed
	Refusal    string
	Mapping    []mappingRow
	Issues     []issueRow
	NextIssues string
	IssuesFrom string
	Lists      []projections.ListView
	Choices    []choice // what a column can become
	Counts     *domain.ImportCounts
	ListNames  []string
	Progress   *projections.ImportProgress
	Undo       *undoReport
	Failure    string
	// Read is how the file was read, which the user may change.
	Read *readChoices
	// Preview is the first rows of a file refused for its mapping, for the
	// user to say what its columns hold.
	Preview *filePreview
}

// readChoices are how a file may be read again: the sheet of a workbook,
// the encoding and delimiter of a text file, the header row.
type readChoices struct {
	Sheets              []string
	Sheet               string
	Text                bool // a delimited text file
	Encoding, Delimiter string
	HeaderRow           int
	NoHeader            bool
	Encodings           []string
	Delimiters          []string
}

// The encodings and delimiters a person may choose (the reader accepts them).
var (
	textEncodings  = []string{"utf-8", "windows-1252", "iso-8859-1", "windows-1250", "utf-16le", "utf-16be"}
	textDelimiters = []string{";", ",", "tab", "|"}
)

func newReadChoices(f domain.FileFacts) *readChoices {
	rc := &readChoices{Sheets: f.Sheets, Sheet: f.Sheet, Text: f.Delimiter != "", Encoding: f.Encoding, Delimiter: f.Delimiter,
		Encodings: textEncodings, Delimiters: textDelimiters}
	if rc.Delimiter == "\t" {
		rc.Delimiter = "tab"
	}
	return rc
}

// filePreview is the first rows of a file, column by column.
type filePreview struct {
	Columns  []previewColumn
	FirstRow int
	NoHeader bool
}

type previewColumn struct {
	Letter, First string
	Samples       []string
	Key           string // what the user chose it becomes
}

// previewColumns are shown at most: a person maps a few columns by hand.
const previewColumns = 40

type mappingRow struct {
	Column, Header, Field, Key string
}

type issueRow struct {
	Row                            int
	Column, Header, Value, Message string
	Warning                        bool
}

type undoReport struct {
	Deleted, Restored int
	Kept              []keptRow
}

type keptRow struct {
	ClientID uuid.UUID
	Row      int
	Message  string
}

func (c *Console) importPage(w http.ResponseWriter, r *http.Request) {
	c.awaitOwnWrite(r)
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	c.showImport(w, r, id, http.StatusOK, "")
}

// showImport renders an import's page; mappingErr says why the mapping the
// user chose was refused.
func (c *Console) showImport(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int, mappingErr string) {
	u, _ := userFrom(r.Context())
	v, err := c.Reads.Import(r.Context(), u.TenantID, id)
	if errors.Is(err, domain.ErrImportNotFound) {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.newPage(r, "imports", "import.title", nil)
	if mappingErr != "" {
		p.Errors["mapping"] = mappingErr
	}
	d := &importData{View: v, Who: actorWords(p, c.people(r), v.Actor), Counts: executedCounts(v), Failure: v.Failure}
	p.Data = d
	if v.Label != "" {
		p.Title = p.T("import.title_label", v.Label)
	}
	if v.Status == domain.ImportStatusRefused {
		var refused domain.ImportRefused
		if json.Unmarshal(v.Analysis, &refused) == nil {
			d.Refusal = i18n.Message(p.Lang, refused.Code, refused.Params)
		}
		if p.Can(domain.RoleEditor) {
			if err := c.previewFile(r, p, d, id); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		c.render(w, r, status, "import", p)
		return
	}
	if err := json.Unmarshal(v.Analysis, &d.Analysis); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Read = newReadChoices(d.Analysis.File)
	d.Read.HeaderRow, d.Read.NoHeader = d.Analysis.HeaderRowNumber(), !d.Analysis.HasHeader
	for i, key := range d.Analysis.Columns {
		m := mappingRow{Column: domain.ColumnLetter(i), Key: key, Field: columnWords(p, key, d.Analysis.Layout)}
		if i < len(d.Analysis.Headers) {
			m.Header = d.Analysis.Headers[i]
		}
		d.Mapping = append(d.Mapping, m)
	}
	if d.Lists, err = c.Reads.Lists(r.Context(), u.TenantID); err != nil {
		c.fail(w, r, err)
		return
	}
	var exec struct {
		Lists []uuid.UUID `json:"lists"`
	}
	if json.Unmarshal(v.Execution, &exec) == nil {
		for _, id := range exec.Lists {
			for _, l := range d.Lists {
				if l.ID == id {
					d.ListNames = append(d.ListNames, l.Name)
				}
			}
		}
	}
	switch v.Status {
	case domain.ImportStatusAnalyzed:
		if d.Choices, err = c.columnChoices(r, p, d.Analysis.Layout); err != nil {
			c.fail(w, r, err)
			return
		}
		from := r.URL.Query().Get("issues")
		issues, err := c.Reads.ImportIssues(r.Context(), u.TenantID, id, from, issuesPerPage, false)
		if err != nil {
			c.orFail(w, r, err)
			return
		}
		for _, iss := range issues.Items {
			d.Issues = append(d.Issues, issueRow{Row: iss.Row, Column: iss.Column, Header: iss.Header, Value: iss.Value,
				Message: i18n.IssueMessage(p.Lang, iss.ImportIssue), Warning: iss.Warning})
		}
		d.IssuesFrom = from
		if issues.NextCursor != "" {
			d.NextIssues = "/imports/" + id.String() + "?issues=" + urlQueryEscape(issues.NextCursor) + "#issues"
		}
	case domain.ImportStatusRunning:
		if d.Progress, err = c.ImportStore.Progress(r.Context(), u.TenantID, id); err != nil {
			c.fail(w, r, err)
			return
		}
	case domain.ImportStatusUndone:
		var undone domain.ImportUndone
		if json.Unmarshal(v.Undo, &undone) == nil {
			d.Undo = &undoReport{Deleted: undone.Deleted, Restored: undone.Restored}
			for _, k := range undone.Kept {
				d.Undo.Kept = append(d.Undo.Kept, keptRow{ClientID: k.ClientID, Row: k.Row, Message: i18n.Message(p.Lang, k.Reason,
					map[string]string{"field": strings.Join(k.Fields, ", "), "row": strconv.Itoa(k.Row)})})
			}
		}
	}
	c.render(w, r, status, "import", p)
}

// previewFile reads the first rows of a file refused for its mapping (a
// file refused for what it is was not kept: no preview), as the page's
// read options say, keeping what the user chose for each column.
func (c *Console) previewFile(r *http.Request, p *page, d *importData, id uuid.UUID) error {
	u, _ := userFrom(r.Context())
	opts := readOptions(r)
	pv, err := c.Imports.Preview.Handle(r.Context(), commands.PreviewImportFile{TenantID: u.TenantID, ImportID: id, Options: opts, Rows: 5})
	var (
		refused *domain.RefusedError
		verr    domain.ValidationErrors
	)
	switch {
	case errors.Is(err, domain.ErrImportHasNoFile):
		return nil
	case errors.As(err, &refused):
		p.Errors["read"] = i18n.Message(p.Lang, refused.Code, refused.Params)
		pv.File = domain.FileFacts{Sheet: opts.Sheet, Encoding: opts.Encoding, Delimiter: opts.Delimiter}
	case errors.As(err, &verr):
		p.Errors["read"] = fieldMessage(p.Lang, verr[0])
	case err != nil:
		return err
	}
	d.Read = newReadChoices(pv.File)
	if d.Choices, err = c.columnChoices(r, p, domain.LayoutClients); err != nil {
		return err
	}
	pre := &filePreview{NoHeader: r.FormValue("first_row") == "data"}
	if len(pv.Rows) > 0 {
		pre.FirstRow = pv.Rows[0].Number
	}
	for i := range min(pv.Width, previewColumns) {
		col := previewColumn{Letter: domain.ColumnLetter(i), Key: r.FormValue("map." + domain.ColumnLetter(i))}
		for n, row := range pv.Rows {
			cell := ""
			if i < len(row.Cells) {
				cell = row.Cells[i]
			}
			if n == 0 {
				col.First = cell
			} else if strings.TrimSpace(cell) != "" {
				col.Samples = append(col.Samples, cell)
			}
		}
		pre.Columns = append(pre.Columns, col)
	}
	d.Preview = pre
	return nil
}

// readOptions are the file options a form or a link chose ("" detects).
func readOptions(r *http.Request) commands.FileOptions {
	return commands.FileOptions{Sheet: strings.TrimSpace(r.FormValue("sheet")),
		Encoding: strings.TrimSpace(r.FormValue("encoding")), Delimiter: r.FormValue("delimiter")}
}

// choice is an option of a select.
type choice struct{ Value, Label string }

// columnChoices are what a column of the file can become: nothing, a
// template column, a custom field.
func (c *Console) columnChoices(r *http.Request, p *page, layout domain.Layout) ([]choice, error) {
	u, _ := userFrom(r.Context())
	fields, err := c.Reads.CustomFields(r.Context(), u.TenantID)
	if err != nil {
		return nil, err
	}
	out := []choice{{"", p.T("import.not_imported")}}
	for _, col := range domain.TemplateColumns(layout) {
		out = append(out, choice{col.Key(), domain.ColumnHeader(col, p.Lang)})
	}
	for _, f := range fields {
		out = append(out, choice{"custom:" + f.Name, f.Name})
	}
	return out, nil
}

// remapImport analyses the stored file again with the mapping the user
// chose, column by column.
func (c *Console) remapImport(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	explicit := map[string]string{}
	for k, vs := range r.PostForm {
		if letter, ok := strings.CutPrefix(k, "map."); ok && len(vs) == 1 {
			explicit[letter] = cmpOr(vs[0], "ignore")
		}
	}
	lang := langFrom(r.Context())
	// The read form says how to read the file (its columns are found
	// again); the mapping forms say what the columns hold.
	cmd := commands.RemapImport{Origin: origin(r), ImportID: id, Options: readOptions(r),
		Mapping:  domain.MappingOptions{Explicit: explicit, NoHeader: r.PostFormValue("no_header") == "1" || r.PostFormValue("first_row") == "data"},
		Language: lang}
	if raw := strings.TrimSpace(r.PostFormValue("header_row")); raw != "" && !cmd.Mapping.NoHeader {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			c.showImport(w, r, id, http.StatusUnprocessableEntity, translate(lang, "import.bad_header_row"))
			return
		}
		cmd.Mapping.HeaderRow = n
	}
	a, err := c.Imports.Remap.Handle(r.Context(), cmd)
	var (
		refused *domain.RefusedError
		verr    domain.ValidationErrors
	)
	switch {
	case err == nil:
		c.redirectAfter(w, r, "/imports/"+id.String(), a.Position, "import_remapped")
	case errors.As(err, &refused):
		c.showImport(w, r, id, http.StatusUnprocessableEntity, i18n.Message(lang, refused.Code, refused.Params))
	case errors.As(err, &verr):
		c.showImport(w, r, id, http.StatusUnprocessableEntity, fieldMessage(lang, verr[0]))
	default:
		c.importRefused(w, r, id, err)
	}
}

func cmpOr(v, otherwise string) string {
	if v == "" {
		return otherwise
	}
	return v
}

// columnWords names a column key in the page's language, as the template's
// header would.
func columnWords(p *page, key string, layout domain.Layout) string {
	if key == "" {
		return p.T("import.not_imported")
	}
	if col, ok := domain.ParseColumnKey(key, layout); ok {
		return domain.ColumnHeader(col, p.Lang)
	}
	return key
}

// importProgress is what the running page's script polls.
func (c *Console) importProgress(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	v, err := c.Reads.Import(r.Context(), u.TenantID, id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	out := map[string]any{"status": v.Status}
	if v.Status == domain.ImportStatusRunning {
		if pr, err := c.ImportStore.Progress(r.Context(), u.TenantID, id); err == nil && pr != nil {
			out["done"], out["total"] = pr.Done, pr.Total
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (c *Console) executeImport(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	var lists []domain.ImportListRef
	for _, raw := range r.PostForm["list"] {
		if lid, err := uuid.Parse(raw); err == nil {
			lists = append(lists, domain.ImportListRef{ID: lid})
		}
	}
	if name := strings.TrimSpace(r.PostFormValue("new_list")); name != "" {
		lists = append(lists, domain.ImportListRef{Name: name})
	}
	res, err := c.Imports.Execute.Handle(r.Context(), commands.ExecuteImport{Origin: origin(r), ImportID: id,
		Mode: r.PostFormValue("mode"), Lists: lists})
	if err != nil {
		c.importRefused(w, r, id, err)
		return
	}
	c.redirectAfter(w, r, "/imports/"+id.String(), res.Position, "")
}

func (c *Console) undoImport(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	if err != nil {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	rep, err := c.Imports.Undo.Handle(r.Context(), commands.UndoImport{Origin: origin(r), ImportID: id})
	if err != nil {
		c.importRefused(w, r, id, err)
		return
	}
	c.redirectAfter(w, r, "/imports/"+id.String(), rep.Position, "import_undone")
}

// importRefused goes back to the import's page with the reason a command
// was refused on top.
func (c *Console) importRefused(w http.ResponseWriter, r *http.Request, id uuid.UUID, err error) {
	var verr domain.ValidationErrors
	for _, known := range []struct {
		err  error
		code string
	}{
		{domain.ErrImportAlreadyExecuted, "import_already_executed"},
		{domain.ErrImportRunning, "import_running"},
		{domain.ErrImportNotExecuted, "import_not_executed"},
		{domain.ErrImportAlreadyUndone, "import_already_undone"},
		{domain.ErrImportFileErased, "import_file_erased"},
	} {
		if errors.Is(err, known.err) {
			http.Redirect(w, r, "/imports/"+id.String()+"?flash="+known.code, http.StatusSeeOther)
			return
		}
	}
	if errors.As(err, &verr) {
		http.Redirect(w, r, "/imports/"+id.String()+"?flash=import_invalid_request", http.StatusSeeOther)
		return
	}
	c.orFail(w, r, err)
}

// rejectedRows: the rows that were not imported, as the file had them,
// with the reasons in a last column, in the user's language.
func (c *Console) rejectedRows(w http.ResponseWriter, r *http.Request) {
	u, _ := userFrom(r.Context())
	id, err := uuid.Parse(chi.URLParam(r, "id"))
	format := chi.URLParam(r, "format")
	if err != nil || format != "csv" && format != "xlsx" {
		c.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	rejected, err := c.Imports.Rejected.Handle(r.Context(), commands.ExportRejectedRows{TenantID: u.TenantID, ImportID: id})
	if err != nil {
		if errors.Is(err, domain.ErrImportNotFound) || errors.Is(err, domain.ErrImportHasNoFile) || errors.Is(err, domain.ErrImportFileErased) {
			c.renderError(w, r, http.StatusNotFound, "error.not_found")
			return
		}
		c.fail(w, r, err)
		return
	}
	defer rejected.Close()
	lang := langFrom(r.Context())
	rows := func(yield func(spreadsheet.RejectedRow, error) bool) {
		for row, err := range rejected.Rows {
			msgs := make([]string, len(row.Issues))
			for i, iss := range row.Issues {
				msgs[i] = i18n.IssueMessage(lang, iss)
			}
			if !yield(spreadsheet.RejectedRow{Number: row.Number, Cells: row.Cells, Reason: strings.Join(msgs, " ")}, err) || err != nil {
				return
			}
		}
	}
	base := rejected.FileName
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": base + "-rejected." + format}))
	reason := i18n.Message(lang, "rejected_reason_header", nil)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_ = spreadsheet.WriteRejectedCSV(w, rejected.Header, reason, rows)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	_ = spreadsheet.WriteRejectedXLSX(w, rejected.Header, reason, rows)
}
