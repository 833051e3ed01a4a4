package domain

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestTextRule(t *testing.T) {
	for _, c := range []struct {
		field, v, code string
	}{
		{"last_name", "Peeters", ""},
		{"last_name", "Pee\x00ters", "invalid_text"},
		{"last_name", "Pee\xffters", "invalid_text"},
		{"last_name", "Pee\u0085ters", "invalid_text"},
		{"last_name", "Ali\u202Eecila", "invalid_text"},
		{"city", "\u2066Gent\u2069", "invalid_text"},
		{"last_name", "Pee\nters", "invalid_text"},
		{"street", "Kerkstraat 7\nbus 2", ""},
		{"street", "Kerkstraat\u202E 7", "invalid_text"},
		{"last_name", strings.Repeat("é", 255), ""},
		{"last_name", strings.Repeat("é", 256), "too_long"},
		{"last_name", "Pee\x1fters", "invalid_text"},
		{"last_name", "Pee\x7fters", "invalid_text"},
		{"last_name", "Pee\tters", "invalid_text"},
		{"street", "Kerkstraat 7\r\nbus 2", "invalid_text"},
		{"last_name", " !~", ""},
		{"last_name", strings.Repeat("e", 255), ""},
		{"last_name", strings.Repeat("e", 256), "too_long"},
		{"notes", strings.Repeat("e", 4000), ""},
		{"notes", strings.Repeat("e", 4001), "too_long"},
	} {
		got := ""
		if fe := checkText(c.field, c.v); fe != nil {
			got = fe.Code
			if fe.Field != c.field {
				t.Errorf("%q: names %q", c.v, fe.Field)
			}
		}
		if got != c.code {
			t.Errorf("%s %q: %q, want %q", c.field, c.v, got, c.code)
		}
	}
}

func TestEmailKeyIsOneFormPerAddress(t *testing.T) {
	nfc := "josé@bücher.be"
	for _, v := range []string{norm.NFD.String(nfc), " JOSÉ@BÜCHER.BE", "josé@xn--bcher-kva.be", "José@XN--BCHER-KVA.be"} {
		if EmailKey(v) != EmailKey(nfc) {
			t.Errorf("%q keys as %q, %q as %q", v, EmailKey(v), nfc, EmailKey(nfc))
		}
	}
	if EmailKey("a@example.be") == EmailKey("b@example.be") {
		t.Error("two addresses, one key")
	}
	v, fe := normalizeField(FieldEmail, norm.NFD.String(nfc))
	if fe != nil || v != nfc {
		t.Errorf("an NFD address is stored as %q (%v), not in NFC", v, fe)
	}
	if _, fe := normalizeField(FieldEmail, "a@bü⒈.be"); fe == nil {
		t.Error("a domain with no IDNA form is accepted")
	}
}

func TestCheckEventTextFindsTheMember(t *testing.T) {
	ok := ClientRegistered{Details: map[Field]string{FieldStreet: "Kerkstraat 7\nbus 2"}}
	if err := CheckEventText(ok); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e    Event
		path string
	}{
		{ClientRegistered{Details: map[Field]string{FieldLastName: "a\x00"}}, "details.last_name"},
		{ImportAnalyzed{Headers: []string{"email", "x\xff"}}, "headers[1]"},
		{ImportAnalyzed{File: FileFacts{Sheet: "s\x01"}}, "file.sheet"},
		{&ImportRefused{Params: map[string]string{"sheet": "\x00"}}, "params.sheet"},
	} {
		err := CheckEventText(c.e)
		verr, _ := err.(ValidationErrors)
		if len(verr) != 1 || verr[0].Field != c.path {
			t.Errorf("%T: %v, want %s", c.e, err, c.path)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 100, "plain"},
		{"a\x00b\xffc\nd", 100, "a b c d"},
		{"éééé", 5, "éé"},
	} {
		got := CleanText(c.in, c.max)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("CleanText(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestScrubEventReplacesWhatPostgreSQLCannotStore(t *testing.T) {
	in := ClientRegistered{Details: map[Field]string{FieldLastName: "Pe\x00ters", FieldStreet: "Kerk\nstraat"},
		ExternalRefs: []ExternalRef{{Source: "s\x00x", ExternalID: "7"}}}
	out, changed := ScrubEvent(in)
	got := out.(ClientRegistered)
	if !changed || got.Details[FieldLastName] != "Pe\uFFFDters" || got.Details[FieldStreet] != "Kerk\nstraat" ||
		got.ExternalRefs[0].Source != "s\uFFFDx" {
		t.Fatalf("scrubbed: %+v", got)
	}
	if in.Details[FieldLastName] != "Pe\x00ters" || in.ExternalRefs[0].Source != "s\x00x" {
		t.Fatal("the event scrubbed was changed in place")
	}
	p, changed := ScrubEvent(&ListCreated{Name: "V\x00IP"})
	if !changed || p.(*ListCreated).Name != "V\uFFFDIP" {
		t.Fatalf("pointer event: %+v", p)
	}
	if _, changed := ScrubEvent(ListCreated{Name: "VIP"}); changed {
		t.Fatal("a clean event is changed")
	}
}
