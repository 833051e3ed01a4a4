package domain

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ImportIssue is one problem found in a row of an import file. Row is the
// number the user's spreadsheet shows (header = 1), Column its letter.
// Messages are rendered from Code and Params in the reader's language.
type ImportIssue struct {
	Row     int               `json:"row"`
	Column  string            `json:"column,omitempty"`
	Header  string            `json:"header,omitempty"`
	Field   string            `json:"field,omitempty"`
	Value   string            `json:"value,omitempty"`
	Code    string            `json:"code"`
	Params  map[string]string `json:"params,omitempty"`
	Warning bool              `json:"warning,omitempty"`
}

// maxIssueValue bounds the value an issue quotes back: a 10 MB cell is
// reported, not echoed.
const maxIssueValue = 100

// ColumnLetter turns a 0-based column index into its spreadsheet letter.
func ColumnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// columnIndex parses a column letter ("A", "ab"); -1 when it is not one.
func columnIndex(s string) int {
	if s == "" || len(s) > 3 {
		return -1
	}
	n := 0
	for _, r := range strings.ToUpper(s) {
		if r < 'A' || r > 'Z' {
			return -1
		}
		n = n*26 + int(r-'A'+1)
	}
	return n - 1
}

// ImportMapping says what each column of a file holds.
type ImportMapping struct {
	layout    Layout
	columns   []*Column // per file column; nil when the column is not imported
	headers   []string
	hasHeader bool
	headerRow int // the header's row number; rows above it are not data
	source    string
}

// MappingOptions are the user's choices for reading columns.
type MappingOptions struct {
	Layout Layout
	// Explicit maps a header (as written, or normalised) or a column letter
	// to a column key ("email", "contact2_phone", "custom:vip"); "" or
	// "ignore" leaves the column out. It wins over recognition.
	Explicit map[string]string
	// Source names the system the external_id column refers to.
	Source string
	// HeaderRow is the number of the row the header is on, as the
	// spreadsheet shows it: the user's choice, or what FindHeaderRow
	// found. 0 is row 1.
	HeaderRow int
	// NoHeader says the file has no header row: its first row is data and
	// its columns are mapped by letter (Explicit), else read by position
	// as a header-less newsletter list is (A the email, B the language).
	NoHeader bool
}

// HeaderSearchRows is how far down a sheet the header is looked for:
// exports from accounting software put a title, a date and blank rows
// above it.
const HeaderSearchRows = 20

// MaxHeaderRow is the lowest row a user may name as the header: the rows
// above it are read into memory before the header is.
const MaxHeaderRow = 1000

// FindHeaderRow picks, among rows (the first rows of a file, in order),
// the one whose cells map best: the most cells that are a known header, a
// custom field's name or a header the user mapped. Ties go to the first.
// A first row that is data (a header-less list), or no row with a single
// such cell, gives 0: MapColumns decides what the first row is.
func FindHeaderRow(rows [][]string, opts MappingOptions, custom *CustomFieldSet) int {
	if len(rows) == 0 || len(opts.Explicit) == 0 && looksLikeData(rows[0]) {
		return 0
	}
	m := ImportMapping{layout: opts.Layout}
	if m.layout == "" {
		m.layout = LayoutClients
	}
	explicit := map[string]string{}
	for k, v := range opts.Explicit {
		explicit[NormalizeHeader(k)] = v // by header only: a column letter is in every row
	}
	best, bestScore := 0, 0
	for i, cells := range rows {
		score := 0
		for c, h := range cells {
			if NormalizeHeader(h) == "" {
				continue
			}
			if _, ok := explicit[NormalizeHeader(h)]; ok {
				score++
				continue
			}
			if _, known, err := m.resolve(c, h, nil, custom); err == nil && known {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// CheckImportRequest checks the texts of an import request before its file
// is read: the source its external ids belong to, the explicit mapping and
// the other options (by name).
func CheckImportRequest(opts MappingOptions, options map[string]string) error {
	var errs ValidationErrors
	if opts.NoHeader && opts.HeaderRow > 0 {
		errs.add("header_row", "invalid_header_row", "a file without a header row has no header_row; send one or the other")
	}
	if opts.Source != "" && !sourceName.MatchString(opts.Source) {
		errs.add("source", "invalid_source", "source must be a short lower-case name (a-z, 0-9, - and _), like exact or odoo")
	}
	for k, v := range opts.Explicit {
		if fe := textProblem("mapping", k, MaxParamLength, false); fe != nil {
			errs = append(errs, *fe)
		} else if fe := textProblem("mapping", v, MaxParamLength, false); fe != nil {
			errs = append(errs, *fe)
		}
	}
	for name, v := range options {
		if fe := textProblem(name, v, MaxParamLength, false); fe != nil {
			errs = append(errs, *fe)
		}
	}
	return errs.orNil()
}

// MapColumns decides what each column holds from the first row of the file.
// Without a recognisable header, a first row whose first cell is an email
// and second a language code is data, read by position. Unrecognised
// columns go to the custom field of the same name, else are reported
// (warning) and left out. Two columns for the same field refuse the file.
func MapColumns(first []string, opts MappingOptions, custom *CustomFieldSet) (ImportMapping, []ImportIssue, error) {
	m := ImportMapping{layout: opts.Layout, hasHeader: true, source: opts.Source, headerRow: max(opts.HeaderRow, 1)}
	if m.layout == "" {
		m.layout = LayoutClients
	}
	if m.source == "" {
		m.source = DefaultImportSource
	}
	explicit := map[string]string{}
	for k, v := range opts.Explicit {
		explicit[NormalizeHeader(k)] = v
		if columnIndex(k) >= 0 {
			explicit["#"+strings.ToUpper(k)] = v
		}
	}

	if opts.NoHeader || len(explicit) == 0 && looksLikeData(first) {
		return mapByPosition(m, len(first), explicit, custom)
	}

	for i, h := range first {
		// A header is kept in the analysis event: one the log cannot hold
		// refuses the file. Line breaks are the header rules' business.
		if !storable(h) || strings.ContainsFunc(h, isBidiControl) || utf8.RuneCountInString(h) > MaxParamLength {
			return ImportMapping{}, nil, &RefusedError{Code: "invalid_header",
				Detail: "the header of column " + ColumnLetter(i) + " holds control characters, invalid text or is too long",
				Params: map[string]string{"column": ColumnLetter(i)}}
		}
	}
	m.headers = slices.Clone(first)
	m.columns = make([]*Column, len(first))
	var issues []ImportIssue
	if m.headerRow > 1 {
		issues = append(issues, ImportIssue{Row: m.headerRow, Code: "header_row", Warning: true,
			Params: map[string]string{"row": strconv.Itoa(m.headerRow)}})
	}
	seen := map[string]int{}
	for i, h := range first {
		col, known, err := m.resolve(i, h, explicit, custom)
		if err != nil {
			return ImportMapping{}, nil, err
		}
		if !known {
			if strings.TrimSpace(h) != "" {
				issues = append(issues, ImportIssue{Row: m.headerRow, Column: ColumnLetter(i), Header: h, Code: "unknown_column",
					Warning: true, Params: map[string]string{"header": h, "column": ColumnLetter(i)}})
			}
			continue
		}
		key := col.Key()
		if prev, dup := seen[key]; dup {
			params := map[string]string{"header": h, "column": ColumnLetter(i), "first_column": ColumnLetter(prev), "field": key}
			// The same header twice is ambiguous: refuse. Two headers for
			// one field (Tél and GSM) is common: the one ranked first in
			// aliases.tsv (a business phone before a mobile, a mobile
			// before a home phone) is imported, else the first column;
			// the other is kept aside.
			if NormalizeHeader(first[prev]) == NormalizeHeader(h) {
				return ImportMapping{}, nil, &RefusedError{Code: "duplicate_header",
					Detail: "columns " + ColumnLetter(prev) + " and " + ColumnLetter(i) + " have the same header", Params: params}
			}
			aside, kept, code := i, prev, "duplicate_field_column"
			if rp, ri := HeaderRank(first[prev]), HeaderRank(h); rp != ri {
				code = "kept_aside"
				if ri < rp {
					aside, kept = prev, i
					m.columns[prev], m.columns[i] = nil, &col
					seen[key] = i
				}
			}
			issues = append(issues, ImportIssue{Row: m.headerRow, Column: ColumnLetter(aside), Header: first[aside], Field: key,
				Code: code, Warning: true, Params: map[string]string{"header": first[aside], "column": ColumnLetter(aside),
					"first_column": ColumnLetter(kept), "first_header": first[kept], "field": key}})
			continue
		}
		seen[key] = i
		m.columns[i] = &col
	}
	if err := requireEmailColumn(seen); err != nil {
		return ImportMapping{}, nil, err
	}
	return m, issues, nil
}

// requireEmailColumn refuses a mapping (field -> column) in which no column
// names the client: neither the email nor an external id.
func requireEmailColumn(seen map[string]int) error {
	_, email := seen[string(FieldEmail)]
	_, external := seen["external_id"]
	if !email && !external {
		return &RefusedError{Code: "no_email_column",
			Detail: "no column holds the email address (or an external id)", Params: map[string]string{}}
	}
	return nil
}

// mapByPosition maps the columns of a file without a header: by the
// letters the user mapped, else A as the email and B as the language.
func mapByPosition(m ImportMapping, width int, explicit map[string]string, custom *CustomFieldSet) (ImportMapping, []ImportIssue, error) {
	m.hasHeader, m.headerRow = false, 0
	m.headers = make([]string, width)
	m.columns = make([]*Column, width)
	var issues []ImportIssue
	if len(explicit) == 0 && width >= 2 {
		m.columns[0] = &Column{Kind: ColumnClient, Field: FieldEmail}
		m.columns[1] = &Column{Kind: ColumnClient, Field: FieldLanguage}
		for i := 2; i < width; i++ {
			issues = append(issues, ImportIssue{Row: 1, Column: ColumnLetter(i), Code: "unknown_column", Warning: true,
				Params: map[string]string{"column": ColumnLetter(i)}})
		}
		return m, issues, nil
	}
	seen := map[string]int{}
	for i := range width {
		if _, ok := explicit["#"+ColumnLetter(i)]; !ok {
			continue // not mapped: left out, as the user saw it
		}
		col, known, err := m.resolve(i, "", explicit, custom)
		if err != nil {
			return ImportMapping{}, nil, err
		}
		if !known {
			continue
		}
		key := col.Key()
		if prev, dup := seen[key]; dup {
			return ImportMapping{}, nil, ValidationErrors{{Field: "mapping", Code: "duplicate_mapping",
				Message: "columns " + ColumnLetter(prev) + " and " + ColumnLetter(i) + " are both mapped to " + strconv.Quote(key)}}
		}
		seen[key] = i
		m.columns[i] = &col
	}
	if err := requireEmailColumn(seen); err != nil {
		return ImportMapping{}, nil, err
	}
	return m, issues, nil
}

func (m ImportMapping) resolve(i int, header string, explicit map[string]string, custom *CustomFieldSet) (Column, bool, error) {
	norm := NormalizeHeader(header)
	key, ok := explicit["#"+ColumnLetter(i)]
	if !ok && norm != "" {
		key, ok = explicit[norm]
	}
	if ok {
		if key == "" || key == "ignore" {
			return Column{}, false, nil
		}
		if col, ok := ParseColumnKey(key, m.layout); ok {
			return col, true, nil
		}
		if name, ok := strings.CutPrefix(key, "custom:"); ok {
			key = name
		}
		if _, ok := custom.Lookup(key); ok {
			return Column{Kind: ColumnCustom, Custom: key}, true, nil
		}
		return Column{}, false, ValidationErrors{{Field: "mapping", Code: "unknown_column_key",
			Message: strconv.Quote(key) + " is not a field an import can fill"}}
	}
	if col, ok := MatchHeader(header, m.layout); ok {
		if _, defined := custom.Lookup(col.Custom); col.Kind == ColumnCustom && !defined {
			return Column{}, false, nil
		}
		return col, true, nil
	}
	for _, d := range custom.Definitions() {
		if NormalizeHeader(d.name) == norm {
			return Column{Kind: ColumnCustom, Custom: d.name}, true, nil
		}
	}
	return Column{}, false, nil
}

// looksLikeData: a first row of an email and a language code is a row of
// a header-less newsletter list, not a header.
func looksLikeData(first []string) bool {
	if len(first) < 2 {
		return false
	}
	if _, err := normalizeEmail("email", strings.TrimSpace(first[0])); err != nil {
		return false
	}
	return isLanguage(strings.ToLower(strings.TrimSpace(first[1])))
}

// HasHeader tells whether the first row was a header.
func (m ImportMapping) HasHeader() bool { return m.hasHeader }

// HeaderRow is the header's row number, 0 without a header.
func (m ImportMapping) HeaderRow() int { return m.headerRow }

// Layout is the file's layout.
func (m ImportMapping) Layout() Layout { return m.layout }

// Keys lists the column key of each column, "" when it is not imported.
func (m ImportMapping) Keys() []string {
	out := make([]string, len(m.columns))
	for i, c := range m.columns {
		if c != nil {
			out[i] = c.Key()
		}
	}
	return out
}

// Headers are the header cells as the file has them (empty without header).
func (m ImportMapping) Headers() []string { return m.headers }

// RestoreMapping rebuilds a mapping from the keys an analysis recorded, so
// execution reads columns exactly as analysed.
func RestoreMapping(layout Layout, keys, headers []string, hasHeader bool, source string, custom *CustomFieldSet) ImportMapping {
	m := ImportMapping{layout: layout, headers: headers, hasHeader: hasHeader, source: source, columns: make([]*Column, len(keys))}
	for i, k := range keys {
		if col, ok := ParseColumnKey(k, layout); ok {
			m.columns[i] = &col
		} else if name, ok := strings.CutPrefix(k, "custom:"); ok {
			m.columns[i] = &Column{Kind: ColumnCustom, Custom: name}
		}
	}
	return m
}

// ImportRow is one row of the file, read and checked: the values it gives
// (empty cells give nothing) and what is wrong with it.
type ImportRow struct {
	Number   int
	Client   ClientInput
	Contacts []map[string]string
	// EmailKey and Ref identify the client the row is about.
	EmailKey string
	Ref      *ExternalRef
	// Issues: errors reject the row, warnings do not.
	Issues []ImportIssue
}

// CellsCut tells the row which of its cells the file reader cut, keeping
// only their start (0-based column -> the length the cell had, in
// characters): what the row says of their length is their length in the
// file. No field holds as much as a reader keeps, so such a cell is always
// too long where it is read.
func (r *ImportRow) CellsCut(cut map[int]int) {
	for col, n := range cut {
		letter := ColumnLetter(col)
		for i, iss := range r.Issues {
			if iss.Column == letter && iss.Params["length"] != "" {
				r.Issues[i].Params["length"] = strconv.Itoa(n)
			}
		}
	}
}

// Severity is "error" (the row is rejected) or "warning" (imported anyway).
func (i ImportIssue) Severity() string {
	if i.Warning {
		return "warning"
	}
	return "error"
}

// Valid reports whether the row has no errors (warnings allowed).
func (r ImportRow) Valid() bool {
	return !slices.ContainsFunc(r.Issues, func(i ImportIssue) bool { return !i.Warning })
}

// NamesClient reports whether the row says more about its client than the
// key: in the contacts layout, rows that only repeat the key add contacts.
func (r ImportRow) NamesClient() bool {
	for f, v := range r.Client.Details {
		if f != FieldEmail && v != "" {
			return true
		}
	}
	return len(r.Client.CustomFields) > 0
}

// Read checks one row against the mapping and the tenant's custom fields.
func (m ImportMapping) Read(number int, cells []string, custom *CustomFieldSet) ImportRow {
	return m.ReadInto(number, cells, custom, nil)
}

// ReadInto is Read putting the row's details in details, an empty map,
// unless it is nil: the map of a row read earlier and done with, reused
// because a new one for every row was a third of what reading a file
// allocated.
func (m ImportMapping) ReadInto(number int, cells []string, custom *CustomFieldSet, details map[Field]string) ImportRow {
	if details == nil {
		details = make(map[Field]string, len(m.columns))
	}
	row := ImportRow{Number: number, Client: ClientInput{Details: details}}
	var contacts map[int]map[string]string // most files have no contact columns
	for i, col := range m.columns {
		if col == nil || i >= len(cells) || strings.TrimSpace(cells[i]) == "" {
			continue
		}
		raw, joined := CellText(col.fieldName(), cells[i])
		issue := func(fe *FieldError, field string) ImportIssue {
			return m.issue(number, i, field, raw, fe)
		}
		if joined {
			iss := issue(&FieldError{Code: "line_breaks_joined"}, col.Key())
			iss.Warning = true
			row.Issues = append(row.Issues, iss)
		}
		if d, ok := lostDecimals(col, raw); ok {
			iss := issue(&FieldError{Code: "decimal_dropped"}, col.Key())
			iss.Warning, iss.Params["restored"] = true, d
			row.Issues = append(row.Issues, iss)
			raw = d
		}
		switch col.Kind {
		case ColumnClient:
			v, fe := normalizeField(col.Field, raw)
			if fe != nil {
				iss := issue(fe, string(col.Field))
				// A phone number we cannot read is left out, not a reason
				// to refuse the client.
				iss.Warning = fe.Code == "invalid_phone"
				row.Issues = append(row.Issues, iss)
				continue
			}
			row.Client.Details[col.Field] = v
		case ColumnExternalID:
			v := strings.TrimSpace(raw)
			if fe := checkText("external_id", v); fe != nil {
				row.Issues = append(row.Issues, issue(fe, "external_id"))
				continue
			}
			row.Ref = &ExternalRef{Source: m.source, ExternalID: v}
		case ColumnSource:
			src := strings.ToLower(strings.TrimSpace(raw))
			if !sourceName.MatchString(src) {
				row.Issues = append(row.Issues, issue(&FieldError{Field: "source", Code: "invalid_source"}, "source"))
				continue
			}
			if row.Ref == nil {
				row.Ref = &ExternalRef{}
			}
			row.Ref.Source = src
		case ColumnCustom:
			def, ok := custom.Lookup(col.Custom)
			if !ok {
				row.Issues = append(row.Issues, issue(&FieldError{Code: "unknown_custom_field"}, "custom:"+col.Custom))
				continue
			}
			v, fe := def.normalize(raw)
			if fe != nil {
				iss := issue(fe, "custom:"+col.Custom)
				if def.typ == CustomChoice {
					iss.Params["options"] = strings.Join(def.options, ", ")
				}
				row.Issues = append(row.Issues, iss)
				continue
			}
			if row.Client.CustomFields == nil {
				row.Client.CustomFields = map[string]string{}
			}
			row.Client.CustomFields[col.Custom] = v
		case ColumnContact:
			d, errs := normalizeContact(map[string]string{col.ContactField: raw})
			if len(errs) > 0 {
				fe := errs[0]
				iss := issue(&fe, col.Key())
				iss.Warning = fe.Code == "invalid_phone"
				row.Issues = append(row.Issues, iss)
				continue
			}
			if contacts == nil {
				contacts = map[int]map[string]string{}
			}
			if contacts[col.Contact] == nil {
				contacts[col.Contact] = map[string]string{}
			}
			contacts[col.Contact][col.ContactField] = d[col.ContactField]
		}
	}
	if row.Ref != nil && row.Ref.ExternalID == "" {
		row.Ref = nil // a source without an id identifies nothing
	} else if row.Ref != nil && row.Ref.Source == "" {
		row.Ref.Source = m.source
	}
	if e := row.Client.Details[FieldEmail]; e != "" {
		row.EmailKey = EmailKey(e)
	}
	m.restoreMobileZeros(&row, contacts)
	var numbers []int
	if len(contacts) > 0 { // sorting nothing still cost a tenth of reading a row
		numbers = slices.Sorted(maps.Keys(contacts))
	}
	for _, n := range numbers {
		c := contacts[n]
		if c["first_name"] == "" && c["last_name"] == "" {
			row.Issues = append(row.Issues, ImportIssue{Row: number, Field: "contact" + contactSuffix(n) + "last_name",
				Code: "contact_name_required", Params: map[string]string{"contact": strconv.Itoa(n)}})
			continue
		}
		row.Contacts = append(row.Contacts, c)
	}
	if row.EmailKey == "" && row.Ref == nil && row.Valid() {
		row.Issues = append(row.Issues, m.missing(number, FieldEmail))
	}
	return row
}

func contactSuffix(n int) string {
	if n == 0 {
		return "_"
	}
	return strconv.Itoa(n) + "_"
}

func (m ImportMapping) issue(number, col int, field, raw string, fe *FieldError) ImportIssue {
	raw = CleanText(raw, len(raw)) // shown back, so never what cannot be stored
	value := raw
	params := map[string]string{"value": raw}
	if n := utf8.RuneCountInString(raw); n > maxIssueValue {
		value = string([]rune(raw)[:maxIssueValue]) + "…"
		params["value"] = value
		params["length"] = strconv.Itoa(n)
		params["max"] = strconv.Itoa(MaxLength(field))
	}
	return ImportIssue{Row: number, Column: ColumnLetter(col), Header: m.header(col), Field: field,
		Value: value, Code: fe.Code, Params: params}
}

func (m ImportMapping) header(col int) string {
	if col < len(m.headers) {
		return m.headers[col]
	}
	return ""
}

// column finds the file column holding a key, -1 when none does.
func (m ImportMapping) column(key string) int {
	return slices.IndexFunc(m.columns, func(c *Column) bool { return c != nil && c.Key() == key })
}

func (m ImportMapping) missing(number int, f Field) ImportIssue {
	iss := ImportIssue{Row: number, Field: string(f), Code: "required", Params: map[string]string{"field": string(f)}}
	if i := m.column(string(f)); i >= 0 {
		iss.Column, iss.Header = ColumnLetter(i), m.header(i)
	}
	return iss
}

// MissingForNewClient lists what a row lacks to create a client: an email
// always, a company its name. A person may come without names: a
// newsletter list of emails and languages is a real import.
func (m ImportMapping) MissingForNewClient(r ImportRow) []ImportIssue {
	var out []ImportIssue
	if r.Client.Details[FieldEmail] == "" {
		out = append(out, m.missing(r.Number, FieldEmail))
	}
	if r.Client.Details[FieldKind] == KindCompany && r.Client.Details[FieldCompanyName] == "" {
		out = append(out, m.missing(r.Number, FieldCompanyName))
	}
	return out
}

// ImportClient creates a client from a checked row, under the import's
// rules (see MissingForNewClient).
func ImportClient(id uuid.UUID, r ImportRow) *Client {
	details := map[Field]string{}
	for f, v := range r.Client.Details {
		if v != "" {
			details[f] = v
		}
	}
	if details[FieldKind] == "" {
		details[FieldKind] = KindPerson
	}
	var refs []ExternalRef
	if r.Ref != nil {
		refs = []ExternalRef{*r.Ref}
	}
	c := NewClient(id)
	c.record(ClientRegistered{Details: details, CustomFields: emptyAsNil(r.Client.CustomFields), ExternalRefs: refs})
	return c
}
