package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCellText(t *testing.T) {
	cases := []struct {
		field, cell, want string
		changed           bool
	}{
		{"street", "Kerkstraat 7\nbus 2", "Kerkstraat 7\nbus 2", false},
		{"street", "Kerkstraat 7\r\nbus 2", "Kerkstraat 7\nbus 2", false},
		{"notes", "line 1\rline 2\r\n\r\nline 4", "line 1\nline 2\n\nline 4", false},
		{"notes", "a\tb", "a b", true},
		{"first_name", "Jean\nPierre", "Jean Pierre", true},
		{"first_name", "Jean \r\n  Pierre", "Jean Pierre", true},
		{"last_name", "Dupont", "Dupont", false},
		{"email", "marie@example.be\r\n", "marie@example.be", false},
		{"email", "\nmarie@example.be", "marie@example.be", false},
		{"city", "Sint-Martens-\nLatem", "Sint-Martens- Latem", true},
		{"custom:vip", "yes\n", "yes", false},
	}
	for _, c := range cases {
		got, changed := CellText(c.field, c.cell)
		if got != c.want || changed != c.changed {
			t.Errorf("CellText(%s, %q) = %q, %v; want %q, %v", c.field, c.cell, got, changed, c.want, c.changed)
		}
	}
}

func readRow(t *testing.T, headers, cells []string) ImportRow {
	t.Helper()
	custom := NewCustomFieldSet(uuid.New())
	m, _, err := MapColumns(headers, MappingOptions{}, custom)
	if err != nil {
		t.Fatal(err)
	}
	return m.Read(2, cells, custom)
}

func codes(r ImportRow) []string {
	var out []string
	for _, i := range r.Issues {
		out = append(out, i.Code+"@"+i.Column)
	}
	return out
}

// A cell typed on two lines is never an error: an address keeps its lines,
// a name is joined with a warning that says what it became.
func TestLineBreaksInCells(t *testing.T) {
	r := readRow(t, []string{"Voornaam", "Achternaam", "E-mail", "Straat", "Opmerkingen"},
		[]string{"Jan\nWillem", "Peeters", "jan@example.be\n", "Kerkstraat 7\r\nbus 2", "Belt liever 's avonds.\nSpreekt Frans."})
	if !r.Valid() {
		t.Fatalf("row rejected: %+v", r.Issues)
	}
	d := r.Client.Details
	if d[FieldFirstName] != "Jan Willem" || d[FieldStreet] != "Kerkstraat 7\nbus 2" || d[FieldEmail] != "jan@example.be" ||
		d[FieldNotes] != "Belt liever 's avonds.\nSpreekt Frans." {
		t.Errorf("details = %q", d)
	}
	if got := strings.Join(codes(r), " "); got != "line_breaks_joined@A" {
		t.Errorf("issues = %s; want one warning on column A", got)
	}
	if iss := r.Issues[0]; !iss.Warning || iss.Value != "Jan Willem" || iss.Header != "Voornaam" {
		t.Errorf("warning = %+v", iss)
	}
}

func TestNotesLength(t *testing.T) {
	long := strings.Repeat("é", MaxNotesLength)
	if r := readRow(t, []string{"Email", "Notes"}, []string{"a@example.be", long}); !r.Valid() || r.Client.Details[FieldNotes] != long {
		t.Errorf("a note of %d characters: %v", MaxNotesLength, codes(r))
	}
	r := readRow(t, []string{"Email", "Notes"}, []string{"a@example.be", long + "x"})
	if got := strings.Join(codes(r), " "); got != "too_long@B" || r.Issues[0].Params["max"] != "4000" {
		t.Errorf("a note too long: %s %+v", got, r.Issues)
	}
	if r := readRow(t, []string{"Email", "City"}, []string{"a@example.be", strings.Repeat("x", 256)}); strings.Join(codes(r), " ") != "too_long@B" {
		t.Errorf("a city of 256 characters: %v", codes(r))
	}
	// Only notes and street hold several lines.
	c, err := RegisterClient(uuid.New(), ClientInput{Details: map[Field]string{FieldEmail: "a@example.be", FieldFirstName: "A", FieldLastName: "B",
		FieldNotes: "one\ntwo", FieldStreet: "Rue 1\nbte 2"}}, nil)
	if err != nil || c.Details()[FieldNotes] != "one\ntwo" {
		t.Errorf("RegisterClient with multi-line notes: %v", err)
	}
	if _, err := RegisterClient(uuid.New(), ClientInput{Details: map[Field]string{FieldEmail: "a@example.be", FieldFirstName: "A", FieldLastName: "B",
		FieldCity: "Gent\nCentrum"}}, nil); err == nil {
		t.Error("a city with a line break was accepted through the API")
	}
}

func TestBelgianMobileZeroRestored(t *testing.T) {
	cases := []struct {
		phone, country, want string
		warned               bool
	}{
		{"475123456", "", "0475123456", true},
		{"475123456", "BE", "0475123456", true},
		{"495 12 34 56", "", "495 12 34 56", false}, // text, not a number a spreadsheet stripped
		{"475123456", "NL", "475123456", false},
		{"22123456", "", "22123456", false}, // a landline without its zero: ambiguous
		{"0475123456", "", "0475123456", false},
		{"412345678", "", "412345678", false}, // 041x is not a mobile
	}
	for _, c := range cases {
		r := readRow(t, []string{"Email", "GSM", "Country"}, []string{"a@example.be", c.phone, c.country})
		warned := strings.Join(codes(r), " ") == "phone_zero_restored@B"
		if got := r.Client.Details[FieldPhone]; got != c.want || warned != c.warned {
			t.Errorf("%q (%s) -> %q, warned %v (%v); want %q, %v", c.phone, c.country, got, warned, codes(r), c.want, c.warned)
		}
	}
}

// A postal code or phone a program wrote as a decimal number ("1000.0")
// keeps its digits, with a warning; other columns and real decimals are
// left as they are.
func TestWholeNumbersWrittenAsDecimals(t *testing.T) {
	header := []string{"Email", "Postcode", "GSM", "Ville"}
	r := readRow(t, header, []string{"a@example.be", "1000.0", "475123456.0", "2000.0"})
	if d := r.Client.Details; d[FieldPostalCode] != "1000" || d[FieldPhone] != "0475123456" || d[FieldCity] != "2000.0" {
		t.Errorf("details %v", d)
	}
	if got := strings.Join(codes(r), " "); got != "decimal_dropped@B decimal_dropped@C phone_zero_restored@C" {
		t.Errorf("issues %s", got)
	}
	for v, want := range map[string]string{"1000,00": "1000", "1000.5": "", "1.000": "", ".0": "", "1000.": "", "+32.0": ""} {
		got, ok := wholeNumber(v)
		if got != want || ok != (want != "") {
			t.Errorf("wholeNumber(%q) = %q, %v", v, got, ok)
		}
	}
}
