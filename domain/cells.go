package domain

import "strings"

// MaxNotesLength is the longest note a client may carry: room for a
// paragraph or two of free text, not for documents.
const MaxNotesLength = 4000

// IsMultiLine reports whether a field (by name) keeps line breaks: an
// address written on two lines ("Kerkstraat 7" and "bus 2"), a note. Every
// other text is one line. (Two comparisons, not a map: it runs for every
// cell of an import.)
func IsMultiLine(field string) bool {
	return field == string(FieldStreet) || field == string(FieldNotes)
}

// MaxLength is the longest text a field (by name) accepts, in characters.
func MaxLength(field string) int {
	if field == string(FieldNotes) {
		return MaxNotesLength
	}
	return MaxTextLength
}

// CellText prepares a spreadsheet cell for a field of a client (by name):
// line breaks typed in a cell (Alt+Enter, or CR LF from Windows) stay, as
// "\n", where the field holds several lines; elsewhere each run of them,
// with the blanks and tabs around it, becomes one space, as does a tab.
// changed reports that the value now reads differently from the cell
// (ends of the cell aside, which are trimmed anyway), so the analysis can
// say so.
func CellText(field, cell string) (v string, changed bool) {
	if !hasBreakOrTab(cell) {
		return cell, false
	}
	multi := IsMultiLine(field)
	b := make([]byte, 0, len(cell))
	for i := 0; i < len(cell); i++ {
		switch c := cell[i]; {
		case c == '\r' && multi:
			b = append(b, '\n')
			if i+1 < len(cell) && cell[i+1] == '\n' {
				i++
			}
		case c == '\n' && multi:
			b = append(b, '\n')
		case c == '\t' && multi:
			b = append(b, ' ')
			changed = true
		case c == '\r' || c == '\n' || c == '\t':
			// The run of breaks and blanks becomes one space; at either
			// end of the cell, nothing.
			for len(b) > 0 && b[len(b)-1] == ' ' {
				b = b[:len(b)-1]
			}
			for i+1 < len(cell) && strings.IndexByte("\r\n\t ", cell[i+1]) >= 0 {
				i++
			}
			if len(b) > 0 && i+1 < len(cell) {
				b = append(b, ' ')
				changed = true
			}
		default:
			b = append(b, c)
		}
	}
	return string(b), changed
}

// fieldName is the name the text rules know a column's values by: the
// client field, else the column key.
func (c Column) fieldName() string {
	if c.Kind == ColumnClient {
		return string(c.Field)
	}
	return c.Key()
}

// holdsDigits tells the columns whose values are digits people write
// with spaces and signs, never with decimals: postal codes and phones.
func (c Column) holdsDigits() bool {
	return c.Kind == ColumnClient && (c.Field == FieldPostalCode || c.Field == FieldPhone) ||
		c.Kind == ColumnContact && c.ContactField == "phone"
}

// hasBreakOrTab is strings.IndexAny(cell, "\r\n\t") >= 0 without
// IndexAny's set-up, which cost more than the scan on cells this short.
func hasBreakOrTab(cell string) bool {
	for i := 0; i < len(cell); i++ {
		if c := cell[i]; c <= '\r' && (c == '\r' || c == '\n' || c == '\t') {
			return true
		}
	}
	return false
}

// lostDecimals is wholeNumber of a cell of a column that holds digits;
// other columns are not looked at.
func lostDecimals(c *Column, raw string) (string, bool) {
	if !c.holdsDigits() {
		return "", false
	}
	return wholeNumber(strings.TrimSpace(raw))
}

// wholeNumber reads a whole number a program wrote as a decimal one
// ("1000.0", "475123456,00": an export that went through a floating-point
// column) and gives its digits. Three zeros ("1.000") may be a thousands
// separator: left alone.
func wholeNumber(v string) (string, bool) {
	i := strings.IndexByte(v, '.') // not IndexAny: its set-up cost more than the scan
	if j := strings.IndexByte(v, ','); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 1 || len(v)-i-1 < 1 || len(v)-i-1 > 2 || strings.Trim(v[i+1:], "0") != "" {
		return "", false
	}
	for _, c := range v[:i] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return v[:i], true
}

// lostMobileZero reports a Belgian mobile number whose leading zero a
// spreadsheet dropped by storing it as a number: nine digits and nothing
// else, starting 45 to 49 (mobiles are 045x to 049x). Eight digits (a
// landline without its zero) could be many things and are left alone.
func lostMobileZero(v string) bool {
	if len(v) != 9 || v[0] != '4' || v[1] < '5' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// restoreMobileZeros puts back the zero of Belgian mobile numbers stored as
// numbers, unless the row says the client is not in Belgium, with a
// warning naming the value that changed.
func (m ImportMapping) restoreMobileZeros(row *ImportRow, contacts map[int]map[string]string) {
	if c := row.Client.Details[FieldCountry]; c != "" && c != "BE" {
		return
	}
	restore := func(key, v string) string {
		iss := ImportIssue{Row: row.Number, Field: key, Value: v, Code: "phone_zero_restored",
			Params: map[string]string{"value": v, "restored": "0" + v}, Warning: true}
		if i := m.column(key); i >= 0 {
			iss.Column, iss.Header = ColumnLetter(i), m.header(i)
		}
		row.Issues = append(row.Issues, iss)
		return "0" + v
	}
	if v := row.Client.Details[FieldPhone]; lostMobileZero(v) {
		row.Client.Details[FieldPhone] = restore(string(FieldPhone), v)
	}
	for n, c := range contacts {
		if v := c["phone"]; lostMobileZero(v) {
			c["phone"] = restore((&Column{Kind: ColumnContact, Contact: n, ContactField: "phone"}).Key(), v)
		}
	}
}
