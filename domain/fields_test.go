package domain

import (
	"errors"
	"net/mail"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestVATNumbersAreNormalisedAndCheckDigitsVerified(t *testing.T) {
	valid := map[string]string{
		"BE0123.456.749":  "0123456749",
		"be 0123 456 749": "0123456749",
		"123456749":       "0123456749",
		"0403.170.701":    "0403170701",
	}
	for in, want := range valid {
		got, err := NormalizeVATNumber("vat_number", in)
		if err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
	}
	invalid := map[string]string{
		"BE0123.456.748": "invalid_vat_check_digits",
		"BE2123.456.749": "invalid_vat_number",
		"12345":          "invalid_vat_number",
		"BE01234567AB":   "invalid_vat_number",
	}
	for in, code := range invalid {
		if _, err := NormalizeVATNumber("vat_number", in); err == nil || err.Code != code {
			t.Errorf("%q: got %v, want %s", in, err, code)
		}
	}
}

func TestFieldRules(t *testing.T) {
	cases := []struct {
		field Field
		in    string
		want  string
		code  string
	}{
		{FieldLanguage, "FR", "fr", ""},
		{FieldLanguage, "cs", "cs", ""},
		{FieldLanguage, "french", "", "unknown_language"},
		{FieldEmail, " a.b@example.be ", "a.b@example.be", ""},
		{FieldEmail, "Marie <m@example.be>", "", "invalid_email"},
		{FieldEmail, "m@localhost", "", "invalid_email"},
		{FieldCountry, "be", "BE", ""},
		{FieldCountry, "XX", "", "unknown_country"},
		{FieldPhone, "+32 (0)81 22.33.44", "+32 (0)81 22.33.44", ""},
		{FieldPhone, "call me", "", "invalid_phone"},
		{FieldKind, "Company", "company", ""},
		{FieldLastName, strings.Repeat("ř", 255), strings.Repeat("ř", 255), ""},
		{FieldLastName, strings.Repeat("ř", 256), "", "too_long"},
		{FieldCity, "Gent\x00", "", "invalid_text"},
	}
	for _, c := range cases {
		got, err := normalizeField(c.field, c.in)
		switch {
		case c.code == "" && (err != nil || got != c.want):
			t.Errorf("%s %q -> %q, %v; want %q", c.field, c.in, got, err, c.want)
		case c.code != "" && (err == nil || err.Code != c.code || err.Field != string(c.field)):
			t.Errorf("%s %q: got %v, want code %s", c.field, c.in, err, c.code)
		}
	}
}

func TestChangeDetailsRecordsOnlyWhatChanged(t *testing.T) {
	fields := NewCustomFieldSet(uuid.New())
	c, err := RegisterClient(uuid.New(), ClientInput{Details: map[Field]string{
		FieldFirstName: "Jan", FieldLastName: "Peeters", FieldEmail: "jan@example.be", FieldCity: "Gent",
	}}, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ChangeDetails(ClientInput{Details: map[Field]string{FieldCity: "Gent", FieldLanguage: "NL", FieldPhone: ""}}, fields); err != nil {
		t.Fatal(err)
	}
	pending := c.PendingEvents()
	if len(pending) != 2 {
		t.Fatalf("pending %v", pending)
	}
	changed := pending[1].(ClientDetailsChanged)
	if len(changed.Changes) != 1 || changed.Changes[FieldLanguage] != "nl" {
		t.Fatalf("changes %v, want only language", changed.Changes)
	}
	// Nothing new: nothing recorded.
	if err := c.ChangeDetails(ClientInput{Details: map[Field]string{FieldLanguage: "nl"}}, fields); err != nil || len(c.PendingEvents()) != 2 {
		t.Fatalf("no-op change recorded an event: %v %v", err, c.PendingEvents())
	}
	err = c.ChangeDetails(ClientInput{Details: map[Field]string{FieldEmail: ""}}, fields)
	var verr ValidationErrors
	if !errors.As(err, &verr) || verr[0].Field != "email" || !errors.Is(err, ErrValidation) {
		t.Fatalf("clearing the email: %v", err)
	}
}

func TestDeletedClientHoldsNoUniqueKeys(t *testing.T) {
	c, err := RegisterClient(uuid.New(), ClientInput{
		Details:      map[Field]string{FieldKind: "company", FieldCompanyName: "Globex", FieldEmail: "Info@Globex.be"},
		ExternalRefs: []ExternalRef{{Source: "AdminPulse", ExternalID: " 42 "}},
	}, NewCustomFieldSet(uuid.New()))
	if err != nil {
		t.Fatal(err)
	}
	keys := c.UniqueKeys()
	if len(keys) != 2 || keys[0].Value != "info@globex.be" || keys[1].Value != "adminpulse\x0042" {
		t.Fatalf("keys %q", keys)
	}
	if err := c.Delete(""); err != nil || len(c.UniqueKeys()) != 0 {
		t.Fatalf("deleted client keys %v (%v)", c.UniqueKeys(), err)
	}
	if err := c.Restore(); err != nil || len(c.UniqueKeys()) != 2 {
		t.Fatalf("restored client keys %v (%v)", c.UniqueKeys(), err)
	}
}

func TestCustomFieldDefinitions(t *testing.T) {
	if _, err := NewCustomFieldDefinition("Shoe Size", "text", nil); err == nil {
		t.Error("a name with spaces and capitals was accepted")
	}
	if _, err := NewCustomFieldDefinition("email", "text", nil); err == nil {
		t.Error("a built-in field name was accepted")
	}
	if _, err := NewCustomFieldDefinition("tier", "choice", nil); err == nil {
		t.Error("a choice without options was accepted")
	}
	set := NewCustomFieldSet(uuid.New())
	d, err := NewCustomFieldDefinition("since", "date", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Define(d); err != nil {
		t.Fatal(err)
	}
	if err := set.Define(d); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second definition: %v", err)
	}
	got, errs := set.normalizeValues(map[string]string{"since": "21/11/2026"})
	if len(errs) != 0 || got["since"] != "2026-11-21" {
		t.Fatalf("date value %v %v", got, errs)
	}
}

// The hand-written check of plain addresses must accept only what net/mail
// accepts as it is, and the two paths must agree on the answer.
func TestPlainAddressesCheckedByHandAgreeWithNetMail(t *testing.T) {
	for _, v := range []string{
		"a.b@example.be", "o'neil+news@sub.example.co.uk", "x_y-z@a-b.be", "a..b@example.be", ".a@example.be",
		"a.@example.be", "a@b@example.be", "@example.be", "a@", "a@.be", "a@be.", "a b@example.be", "é@example.be",
		"\"a b\"@example.be", "a@[192.168.0.1]", "a(comment)@example.be", "Marie <m@example.be>",
	} {
		addr, err := mail.ParseAddress(v)
		accepted := err == nil && addr.Address == v && addr.Name == ""
		if isDotAtomAddress(v) && !accepted {
			t.Errorf("%q: checked by hand as plain, net/mail refuses it (%v)", v, err)
		}
	}
	if !isDotAtomAddress("o'neil+news@sub.example.co.uk") || isDotAtomAddress("a..b@example.be") {
		t.Error("the plain-address check decides wrongly")
	}
}
