package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/clientreg/clientreg/adapters/i18n"
	"github.com/clientreg/clientreg/adapters/spreadsheet"
	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// ImportStore is what the import endpoints read beside the read models:
// the tenant's limits, the stored file, a running import's progress.
type ImportStore interface {
	Limits(ctx context.Context, tenantID uuid.UUID) (commands.ImportLimits, error)
	OpenFile(ctx context.Context, tenantID, importID uuid.UUID) (io.ReaderAt, int64, io.Closer, error)
	Progress(ctx context.Context, tenantID, importID uuid.UUID) (*projections.ImportProgress, error)
}

// ImportDeps is what the import endpoints need besides the read models.
type ImportDeps struct {
	Commands commands.ImportHandlers
	Store    ImportStore
	Files    commands.FileOpener
	// MaxAnalyses bounds the analyses that run at once, each holding what
	// the reader keeps of its file; one more is 429. 0: no bound.
	MaxAnalyses int
}

// issuesPerPage is how many issues an analysis answer carries; the rest
// are paged with GET /v1/imports/{id}/errors.
const issuesPerPage = 100

// issueBody is an import issue as the API shows it.
type issueBody struct {
	Row      int    `json:"row"`
	Column   string `json:"column,omitempty"`
	Header   string `json:"header,omitempty"`
	Field    string `json:"field,omitempty"`
	Value    string `json:"value,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

func renderIssue(lang string, i domain.ImportIssue) issueBody {
	return issueBody{Row: i.Row, Column: i.Column, Header: i.Header, Field: i.Field, Value: i.Value,
		Code: i.Code, Message: i18n.IssueMessage(lang, i), Severity: i.Severity()}
}

func messageLang(r *http.Request) string {
	return i18n.Lang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
}

// analyzeImport: POST /v1/imports, multipart with the file and options.
// The file streams to a temporary file (never whole in memory) while its
// SHA-256 is computed; past the tenant's size limit reading stops.
func (s *Server) analyzeImport(w http.ResponseWriter, r *http.Request) {
	if s.analyses != nil {
		select {
		case s.analyses <- struct{}{}:
			defer func() { <-s.analyses }()
		default:
			w.Header().Set("Retry-After", "5")
			writeError(w, r, newError(http.StatusTooManyRequests, "too_many_analyses",
				"the server is analysing as many files as it may at once; send the file again in a few seconds"))
			return
		}
	}
	ctx := r.Context()
	p := principalFrom(ctx)
	limits, err := s.imports.Store.Limits(ctx, p.TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	upload, err := readUpload(r, limits.MaxBytes)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer upload.close()
	lang := i18n.Lang(upload.fields["lang"], r.Header.Get("Accept-Language"))
	cmd := commands.AnalyzeImport{Origin: origin(r), File: upload.file, Language: lang, Mode: upload.fields["mode"],
		Options: commands.FileOptions{Format: upload.fields["format"], Encoding: upload.fields["encoding"],
			Delimiter: upload.fields["delimiter"], Sheet: upload.fields["sheet"]},
		Mapping: domain.MappingOptions{Source: upload.fields["source"]}}
	if cmd.Mapping.Layout, err = domain.ParseLayout(upload.fields["layout"]); err != nil {
		writeError(w, r, err)
		return
	}
	if m := upload.fields["mapping"]; m != "" {
		if err := json.Unmarshal([]byte(m), &cmd.Mapping.Explicit); err != nil {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_mapping",
				`mapping must be a JSON object from a header or column letter to a field, e.g. {"Mail":"email","C":"language"}`))
			return
		}
	}
	if v := upload.fields["no_header"]; v != "" {
		if cmd.Mapping.NoHeader, err = strconv.ParseBool(v); err != nil {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_no_header", "no_header must be true or false"))
			return
		}
	}
	if h := upload.fields["header_row"]; h != "" {
		if cmd.Mapping.HeaderRow, err = strconv.Atoi(h); err != nil || cmd.Mapping.HeaderRow < 1 {
			writeError(w, r, newError(http.StatusBadRequest, "invalid_header_row", "header_row must be a row number, 1 or more"))
			return
		}
	}
	began := time.Now()
	a, err := s.imports.Commands.Analyze.Handle(ctx, cmd)
	if s.metrics != nil {
		s.metrics.Observe("import_analysis", analysisOutcome(err), time.Since(began))
	}
	s.writeAnalysis(w, r, lang, a, err, http.StatusCreated)
}

// writeAnalysis answers an analysis: the refusal of the file, or what
// execution would do with each row (the first issues; the rest are paged).
func (s *Server) writeAnalysis(w http.ResponseWriter, r *http.Request, lang string, a commands.Analysis, err error, status int) {
	var refused *domain.RefusedError
	if errors.As(err, &refused) {
		code := http.StatusUnprocessableEntity
		if refused.Code == "file_too_large" {
			code = http.StatusRequestEntityTooLarge
		}
		api := newError(code, refused.Code, i18n.Message(lang, refused.Code, refused.Params))
		api.Details = map[string]any{"import_id": a.ImportID, "params": refused.Params}
		writeError(w, r, api)
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	issues := make([]issueBody, 0, min(len(a.Issues), issuesPerPage))
	for _, i := range a.Issues[:min(len(a.Issues), issuesPerPage)] {
		issues = append(issues, renderIssue(lang, i))
	}
	body := map[string]any{
		"id": a.ImportID, "status": domain.ImportStatusAnalyzed, "position": a.Position,
		"file":     map[string]any{"name": a.Event.FileName, "size": a.Event.FileSize, "sha256": a.Event.FileSHA256},
		"detected": detectedBody(a.Event),
		"summary":  a.Event.Summary,
		"errors":   issues,
	}
	if len(a.Issues) > issuesPerPage {
		body["errors_next"] = "/v1/imports/" + a.ImportID.String() + "/errors"
	}
	w.Header().Set("Location", "/v1/imports/"+a.ImportID.String())
	writeJSON(w, status, body)
}

// remapBody is a new mapping of an import's file; what it leaves out is
// as the last analysis had it.
type remapBody struct {
	Mapping   map[string]string `json:"mapping"`
	HeaderRow int               `json:"header_row"`
	NoHeader  bool              `json:"no_header"`
	Layout    string            `json:"layout"`
	Source    string            `json:"source"`
	Mode      string            `json:"mode"`
	Sheet     string            `json:"sheet"`
	Format    string            `json:"format"`
	Encoding  string            `json:"encoding"`
	Delimiter string            `json:"delimiter"`
	Lang      string            `json:"lang"`
}

// remapImport: POST /v1/imports/{id}/mapping analyses the stored file again
// with the user's column mapping, which wins over the detected one.
func (s *Server) remapImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body remapBody
	if err := decodeJSON(r, &body, false); err != nil {
		writeError(w, r, err)
		return
	}
	if body.HeaderRow < 0 {
		writeError(w, r, newError(http.StatusBadRequest, "invalid_header_row", "header_row must be a row number, 1 or more"))
		return
	}
	cmd := commands.RemapImport{Origin: origin(r), ImportID: id, Mode: body.Mode, Language: body.Lang,
		Options: commands.FileOptions{Format: body.Format, Encoding: body.Encoding, Delimiter: body.Delimiter, Sheet: body.Sheet},
		Mapping: domain.MappingOptions{Explicit: body.Mapping, HeaderRow: body.HeaderRow, NoHeader: body.NoHeader, Source: body.Source}}
	if body.Layout != "" {
		if cmd.Mapping.Layout, err = domain.ParseLayout(body.Layout); err != nil {
			writeError(w, r, err)
			return
		}
	}
	lang := i18n.Lang(body.Lang, r.Header.Get("Accept-Language"))
	a, err := s.imports.Commands.Remap.Handle(r.Context(), cmd)
	s.writeAnalysis(w, r, lang, a, err, http.StatusOK)
}

func analysisOutcome(err error) string {
	var refused *domain.RefusedError
	switch {
	case err == nil:
		return "analyzed"
	case errors.As(err, &refused):
		return "refused"
	case errors.Is(err, domain.ErrValidation):
		return "invalid"
	}
	return "failed"
}

// mappingEntry says what one column of the file became.
type mappingEntry struct {
	Column string `json:"column"`
	Header string `json:"header,omitempty"`
	Field  string `json:"field"`
}

func detectedBody(a domain.ImportAnalyzed) map[string]any {
	mapping := make([]mappingEntry, len(a.Columns))
	for i, key := range a.Columns {
		e := mappingEntry{Column: domain.ColumnLetter(i), Field: key}
		if i < len(a.Headers) {
			e.Header = a.Headers[i]
		}
		if key == "" {
			e.Field = "(not imported)"
		}
		mapping[i] = e
	}
	sheets := a.File.Sheets
	if sheets == nil {
		sheets = []string{}
	}
	return map[string]any{
		"format": a.File.Format, "encoding": a.File.Encoding, "bom": a.File.BOM, "delimiter": a.File.Delimiter,
		"line_ending": a.File.LineEnding, "sheet": a.File.Sheet, "sheets": sheets, "layout": a.Layout, "header": a.HasHeader,
		"header_row": a.HeaderRowNumber(), "source": a.Source, "mapping": mapping,
	}
}

// upload is a multipart upload: the file spooled to disk, the other fields.
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

// readUpload reads the multipart body. A file over maxBytes is not read
// further: its size is reported as maxBytes+1 so the refusal names the limit.
func readUpload(r *http.Request, maxBytes int64) (*upload, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, newError(http.StatusBadRequest, "invalid_upload", "send the file as multipart/form-data in a field named file")
	}
	u := &upload{fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			u.close()
			return nil, newError(http.StatusBadRequest, "invalid_upload", "the multipart body is malformed")
		}
		if part.FormName() == "file" && u.tmp == nil {
			if err := u.spool(part, maxBytes); err != nil {
				u.close()
				return nil, err
			}
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, 64<<10))
		if err != nil {
			u.close()
			return nil, newError(http.StatusBadRequest, "invalid_upload", "the multipart body is malformed")
		}
		name, v := part.FormName(), strings.TrimSpace(string(value))
		if name == "mapping" {
			err = checkJSONText(value)
		} else {
			err = domain.CheckText(name, v, domain.MaxParamLength)
		}
		if err != nil {
			u.close()
			return nil, err
		}
		u.fields[name] = v
	}
	if u.tmp == nil {
		return nil, newError(http.StatusBadRequest, "invalid_upload", "the upload has no field named file")
	}
	return u, nil
}

func (u *upload) spool(part io.Reader, maxBytes int64) error {
	tmp, err := os.CreateTemp("", "clientreg-upload-*")
	if err != nil {
		return err
	}
	u.tmp = tmp
	name := "upload"
	if p, ok := part.(interface{ FileName() string }); ok && p.FileName() != "" {
		name = p.FileName()
	}
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hash), io.LimitReader(part, maxBytes+1))
	if err != nil {
		return newError(http.StatusBadRequest, "invalid_upload", "the upload was interrupted")
	}
	u.file = commands.StoredFile{Name: name, Size: n, SHA256: hex.EncodeToString(hash.Sum(nil)), Content: tmp}
	return nil
}

// executeBody is the execute request; a list is an id, {"id":...} or {"name":...}.
type executeBody struct {
	Mode     string     `json:"mode"`
	Lists    []listSpec `json:"lists"`
	ListMode string     `json:"list_mode"`
}

type listSpec domain.ImportListRef

func (l *listSpec) UnmarshalJSON(b []byte) error {
	var id uuid.UUID
	if err := json.Unmarshal(b, &id); err == nil {
		l.ID = id
		return nil
	}
	var obj struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		return errors.New(`a list is an id or {"name": "..."}`)
	}
	l.ID, l.Name = obj.ID, obj.Name
	return nil
}

func (s *Server) executeImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body executeBody
	if err := decodeJSON(r, &body, true); err != nil {
		writeError(w, r, err)
		return
	}
	lists := make([]domain.ImportListRef, len(body.Lists))
	for i, l := range body.Lists {
		lists[i] = domain.ImportListRef(l)
	}
	res, err := s.imports.Commands.Execute.Handle(r.Context(), commands.ExecuteImport{Origin: origin(r), ImportID: id, Mode: body.Mode, Lists: lists, ListMode: body.ListMode})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/imports/"+id.String())
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": domain.ImportStatusRunning, "version": res.Version, "position": res.Position})
}

func (s *Server) undoImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	rep, err := s.imports.Commands.Undo.Handle(r.Context(), commands.UndoImport{Origin: origin(r), ImportID: id})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "status": domain.ImportStatusUndone, "version": rep.Version,
		"position": rep.Position, "undo": undoBody(messageLang(r), rep.Undone)})
}

type keptBody struct {
	domain.KeptClient
	Message string `json:"message"`
}

func undoBody(lang string, u domain.ImportUndone) map[string]any {
	kept := make([]keptBody, len(u.Kept))
	for i, k := range u.Kept {
		kept[i] = keptBody{KeptClient: k, Message: i18n.Message(lang, k.Reason,
			map[string]string{"field": strings.Join(k.Fields, ", "), "row": strconv.Itoa(k.Row)})}
	}
	return map[string]any{"deleted": u.Deleted, "restored": u.Restored, "kept": kept}
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, err := s.reads.Imports(r.Context(), principalFrom(r.Context()).TenantID,
		projections.ImportFilter{Status: q.Get("status"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		writeError(w, r, err)
		return
	}
	lang := messageLang(r)
	items := make([]map[string]any, len(page.Items))
	for i, v := range page.Items {
		items[i] = s.importBody(r, lang, v, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor})
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.awaitPosition(r); err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.reads.Import(r.Context(), principalFrom(r.Context()).TenantID, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeVersioned(w, http.StatusOK, v.Version, s.importBody(r, messageLang(r), v, true))
}

// importBody is an import as GET shows it: the analysis, what execution did
// (with progress while it runs) and what undo did.
func (s *Server) importBody(r *http.Request, lang string, v projections.ImportView, detail bool) map[string]any {
	body := map[string]any{
		"id": v.ID, "version": v.Version, "position": v.Position, "status": v.Status, "label": v.Label,
		"file":  map[string]any{"name": v.FileName, "size": v.FileSize, "sha256": v.FileSHA256},
		"actor": v.Actor, "created_at": v.CreatedAt, "executed_at": v.ExecutedAt, "undone_at": v.UndoneAt,
		"failure": v.Failure,
	}
	var analysis domain.ImportAnalyzed
	if v.Status == domain.ImportStatusRefused {
		var refused domain.ImportRefused
		if json.Unmarshal(v.Analysis, &refused) == nil {
			body["failure"] = i18n.Message(lang, refused.Code, refused.Params)
			body["refusal_code"] = refused.Code
		}
	} else if json.Unmarshal(v.Analysis, &analysis) == nil {
		body["summary"] = analysis.Summary
		if detail {
			body["detected"] = detectedBody(analysis)
		}
	}
	if len(v.Execution) > 0 {
		var exec struct {
			domain.ImportExecuted
			Lists any `json:"lists"`
		}
		if json.Unmarshal(v.Execution, &exec) == nil {
			body["mode"] = exec.Mode
			body["lists"] = exec.Lists
			if exec.ListMode != "" {
				body["list_mode"] = exec.ListMode
			}
			if v.Status != domain.ImportStatusRunning {
				body["counts"] = exec.Counts
				if exec.TakenOff != nil {
					body["taken_off"] = exec.TakenOff
				}
			}
		}
	}
	if v.Status == domain.ImportStatusRunning && detail {
		if p, err := s.imports.Store.Progress(r.Context(), principalFrom(r.Context()).TenantID, v.ID); err == nil && p != nil {
			body["progress"] = map[string]int{"rows_done": p.Done, "rows_total": p.Total}
		}
	}
	if len(v.Undo) > 0 {
		var undone domain.ImportUndone
		if json.Unmarshal(v.Undo, &undone) == nil {
			body["undo"] = undoBody(lang, undone)
		}
	}
	return body
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	tenantID := principalFrom(r.Context()).TenantID
	if _, err := s.reads.Import(r.Context(), tenantID, id); err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, err := s.reads.ImportIssues(r.Context(), tenantID, id, q.Get("cursor"), limit, q.Get("severity") == "error")
	if err != nil {
		writeError(w, r, err)
		return
	}
	lang := messageLang(r)
	items := make([]issueBody, len(page.Items))
	for i, v := range page.Items {
		items[i] = renderIssue(lang, v.ImportIssue)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": page.NextCursor})
}

// rejectedRows: GET /v1/imports/{id}/rejected.csv|.xlsx, the rows that were
// not imported, exactly as the file had them, with the reasons last.
func (s *Server) rejectedRows(w http.ResponseWriter, r *http.Request) {
	id, err := pathUUID(r, "id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	file := chi.URLParam(r, "file")
	format, ok := strings.CutPrefix(file, "rejected.")
	if !ok || format != "csv" && format != "xlsx" {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "use rejected.csv or rejected.xlsx"))
		return
	}
	rejected, err := s.imports.Commands.Rejected.Handle(r.Context(),
		commands.ExportRejectedRows{TenantID: principalFrom(r.Context()).TenantID, ImportID: id})
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer rejected.Close()
	lang := messageLang(r)
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
	writeRejected(w, format, rejected.FileName, rejected.Header, i18n.Message(lang, "rejected_reason_header", nil), rows)
}

func writeRejected(w http.ResponseWriter, format, fileName string, header []string, reasonHeader string, rows iter.Seq2[spreadsheet.RejectedRow, error]) {
	base := strings.TrimSuffix(fileName, "."+lastExt(fileName))
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": base + "-rejected." + format})
	w.Header().Set("Content-Disposition", disposition)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_ = spreadsheet.WriteRejectedCSV(w, header, reasonHeader, rows)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	_ = spreadsheet.WriteRejectedXLSX(w, header, reasonHeader, rows)
}

func lastExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// template: GET /v1/templates/clients.xlsx|.csv?layout=&lang=
func (s *Server) template(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if name != "clients.xlsx" && name != "clients.csv" {
		writeError(w, r, newError(http.StatusNotFound, "route_not_found", "templates are clients.xlsx and clients.csv"))
		return
	}
	layout, err := domain.ParseLayout(r.URL.Query().Get("layout"))
	if err == nil {
		err = s.awaitPosition(r)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	fields, err := s.reads.CustomFields(r.Context(), principalFrom(r.Context()).TenantID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	spec := spreadsheet.TemplateSpec{Layout: layout, Lang: i18n.Lang(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))}
	for _, f := range fields {
		spec.Custom = append(spec.Custom, spreadsheet.CustomColumn{Name: f.Name, Type: f.Type, Options: f.Options})
	}
	var buf bytes.Buffer
	if strings.HasSuffix(name, ".csv") {
		err = spreadsheet.WriteTemplateCSV(&buf, spec)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		err = spreadsheet.WriteTemplateXLSX(&buf, spec)
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, _ = w.Write(buf.Bytes())
}
