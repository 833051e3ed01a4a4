package i18n

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestLang(t *testing.T) {
	cases := []struct{ query, header, want string }{
		{"", "", "en"},
		{"fr", "", "fr"},
		{"NL", "", "nl"},
		{"fr-BE", "", "fr"},
		{"nl_BE", "", "nl"},
		{"", "fr-BE,fr;q=0.9,en;q=0.8", "fr"},
		{"", "da, nl-BE;q=0.7, fr;q=0.9", "fr"}, // weights win over order
		{"", "en-US;q=0.5, nl;q=0.5", "en"},     // ties keep the header's order
		{"", "fr;q=0, nl;q=0.1", "nl"},          // q=0 means "not this one"
		{"", "*", "en"},
		{"", "cs-CZ", "cs"},
		{"", "de-DE,de;q=0.9", "de"},
		{"", "es, it;q=0.8", "en"},
		{"", ";;;,q=,fr;q=abc", "en"},
		{"es", "nl", "nl"}, // an unsupported choice falls back to the header
		{"fr", "nl", "fr"}, // an explicit choice wins
	}
	for _, c := range cases {
		if got := Lang(c.query, c.header); got != c.want {
			t.Errorf("Lang(%q, %q) = %q; want %q", c.query, c.header, got, c.want)
		}
	}
}

// params every test renders with; values are distinct so each can be found.
var fullParams = map[string]string{
	"value": "VAL-x1", "header": "HDR-x2", "column": "Q", "first_row": "37", "first_column": "BB",
	"limit": "100000", "length": "312", "max": "255", "field": "email", "options": "Gold, Silver",
	"row": "41", "contact": "5", "reason": "REASON-x3", "restored": "RST-x4",
}

// shown lists, per code, the params its full sentence must show. "field"
// is checked in words or as its column label.
var shown = map[string][]string{
	"required": {"field"}, "invalid_email": {"value"}, "unknown_language": {"value"},
	"too_long": {"length", "max"}, "invalid_vat_number": {"value"}, "invalid_vat_check_digits": {"value"},
	"invalid_phone": {"value"}, "unknown_country": {"value"}, "invalid_kind": {"value"}, "invalid_text": {},
	"invalid_number": {"value"}, "invalid_date": {"value"}, "invalid_choice": {"value", "options"},
	"unknown_custom_field": {"field"}, "invalid_source": {"value"}, "contact_name_required": {"contact"},
	"duplicate_in_file": {"value", "first_row", "field"}, "email_taken": {"value"}, "external_id_taken": {"value"},
	"client_not_found": {"value"}, "existing_client_skipped": {"value"}, "not_imported": {"reason"},
	"unknown_column": {"column", "header"}, "duplicate_header": {"column", "header", "first_column", "field"},
	"duplicate_field_column": {"column", "header", "first_column"},
	"kept_aside":             {"column", "header", "first_column", "field"},
	"line_breaks_joined":     {"field", "value"}, "phone_zero_restored": {"value"}, "header_row": {"row"},
	"decimal_dropped": {"value", "restored"},
	"no_email_column": {}, "unknown_column_key": {"value"},
	"too_many_rows": {"limit"}, "file_too_large": {"limit"}, "too_many_columns": {"limit"}, "empty_file": {}, "invalid_header": {"column"}, "row_too_large": {"row"},
	"no_rows": {}, "binary_content": {}, "invalid_encoding": {}, "malformed_csv": {"row"}, "unbalanced_quotes": {"row"},
	"unsupported_format": {}, "password_protected": {}, "corrupt_workbook": {}, "workbook_too_large": {"limit"},
	"unknown_sheet": {"value"}, "empty_workbook": {}, "invalid_option": {"value"}, "read_failed": {},
	"invalid_mode": {}, "invalid_layout": {},
	"kept_changed_since": {"row"}, "kept_field_changed_since": {"row", "field"}, "kept_deleted_since": {"row"},
	"kept_email_taken": {"row"}, "rejected_reason_header": {},
}

func TestEveryCodeIsCovered(t *testing.T) {
	for code := range messages {
		if _, ok := shown[code]; !ok {
			t.Errorf("code %s has no test expectations", code)
		}
	}
	for code := range shown {
		if _, ok := messages[code]; !ok {
			t.Errorf("code %s has no sentences", code)
		}
	}
}

func TestMessagesInEveryLanguage(t *testing.T) {
	for _, code := range slices.Sorted(maps.Keys(shown)) {
		rendered := map[string]string{}
		for _, lang := range Languages {
			if len(messages[code][lang]) == 0 {
				t.Errorf("%s: no %s sentence", code, lang)
				continue
			}
			msg := Message(lang, code, fullParams)
			rendered[lang] = msg
			if strings.TrimSpace(msg) == "" || strings.ContainsAny(msg, "{}") {
				t.Errorf("%s/%s: %q", code, lang, msg)
			}
			for _, p := range shown[code] {
				want := fullParams[p]
				if p == "field" {
					if !strings.Contains(msg, fieldWords(lang, want)) && !strings.Contains(msg, fieldLabel(lang, want)) &&
						!strings.Contains(msg, capitalize(fieldWords(lang, want))) {
						t.Errorf("%s/%s does not name the field: %q", code, lang, msg)
					}
					continue
				}
				if !strings.Contains(msg, want) {
					t.Errorf("%s/%s does not show %s %q: %q", code, lang, p, want, msg)
				}
			}
			// Without any parameter a sentence still reads whole.
			bare := Message(lang, code, nil)
			if bare == "" || strings.ContainsAny(bare, "{}") || strings.Contains(bare, "“”") || strings.Contains(bare, "«  »") {
				t.Errorf("%s/%s without params: %q", code, lang, bare)
			}
		}
		for i, a := range Languages {
			for _, b := range Languages[i+1:] {
				if rendered[a] != "" && rendered[a] == rendered[b] {
					t.Errorf("%s: %s and %s say the same: %q", code, a, b, rendered[a])
				}
			}
		}
	}
}

func TestSentencesUseKnownPlaceholders(t *testing.T) {
	known := map[string]bool{"Field": true, "label": true, "code": true}
	for k := range fullParams {
		known[k] = true
	}
	for code, byLang := range messages {
		for lang, variants := range byLang {
			if !slices.Contains(Languages, lang) {
				t.Errorf("%s: unsupported language %q", code, lang)
			}
			for _, v := range variants {
				for _, m := range placeholder.FindAllStringSubmatch(v, -1) {
					if !known[m[1]] {
						t.Errorf("%s/%s: unknown placeholder %s in %q", code, lang, m[0], v)
					}
				}
			}
			if last := variants[len(variants)-1]; placeholder.MatchString(last) {
				t.Errorf("%s/%s: the last sentence needs parameters: %q", code, lang, last)
			}
		}
	}
}

func TestMessageExamples(t *testing.T) {
	cases := []struct {
		lang, code string
		params     map[string]string
		want       string
	}{
		{"en", "required", map[string]string{"field": "email"}, "The email address is missing."},
		{"fr", "required", map[string]string{"field": "email"}, "Il manque l'adresse e-mail."},
		{"nl", "required", map[string]string{"field": "email"}, "Het e-mailadres ontbreekt."},
		{"fr", "required", map[string]string{"field": "contact2_first_name"}, "Il manque le prénom de la personne de contact 2."},
		{"nl", "required", map[string]string{"field": "contact_email"}, "Het e-mailadres van de contactpersoon ontbreekt."},
		{"en", "required", map[string]string{"field": "custom:vip"}, "The custom field “vip” is missing."},
		{"en", "required", map[string]string{"field": "custom_fields.vip"}, "The custom field “vip” is missing."},
		{"en", "required", map[string]string{"field": "nickname"}, "The field “nickname” is missing."},
		{"en", "duplicate_in_file", map[string]string{"field": "email", "value": "a@b.be", "first_row": "3"},
			"“a@b.be” (Email) is already used on row 3."},
		{"fr", "duplicate_in_file", map[string]string{"value": "a@b.be", "first_row": "3"}, "« a@b.be » figure déjà à la ligne 3."},
		{"en", "unknown_column", map[string]string{"column": "F", "header": ""}, "Column F was not recognised and will not be imported."},
		{"en", "contact_name_required", map[string]string{"contact": "0"}, "The contact person needs a first or a last name."},
		{"en", "kept_field_changed_since", map[string]string{"field": "first_name, email", "row": "0"},
			"These fields were changed again after the import and keep their current value: the first name, the email address."},
		{"en", "too_long", map[string]string{}, "The text is too long: at most 255 characters are allowed."},
		{"xx", "empty_file", nil, "The file is empty."},
		{"fr-BE", "empty_file", nil, "Le fichier est vide."},
		{"en", "no_such_code", map[string]string{"value": "x"}, "There is a problem with “x” (code no_such_code)."},
		{"fr", "no_such_code", nil, "Il y a un problème (code no_such_code)."},
	}
	for _, c := range cases {
		if got := Message(c.lang, c.code, c.params); got != c.want {
			t.Errorf("Message(%s, %s, %v) =\n %q; want\n %q", c.lang, c.code, c.params, got, c.want)
		}
	}
}

// Every field of the registry has words in every language.
func TestFieldWordsComplete(t *testing.T) {
	keys := []string{"kind", "first_name", "last_name", "company_name", "display_name", "email", "language", "phone",
		"vat_number", "street", "house_number", "box", "postal_code", "city", "country", "notes", "external_id", "source",
		"contact1_first_name", "contact6_last_name", "contact3_email", "contact2_phone", "contact4_role", "contact_role"}
	for _, lang := range Languages {
		seen := map[string]string{}
		for _, k := range keys {
			w := fieldWords(lang, k)
			if w == "" || strings.Contains(w, "“") || strings.Contains(w, "«") || strings.Contains(w, "„") {
				t.Errorf("%s: no words for %s: %q", lang, k, w)
			}
			if prev, dup := seen[w]; dup && !strings.HasPrefix(k, "contact") {
				t.Errorf("%s: %s and %s are both %q", lang, prev, k, w)
			}
			seen[w] = k
		}
	}
}
