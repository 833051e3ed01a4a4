package domain

import (
	"errors"
	"testing"
)

func clientCol(f Field) Column { return Column{Kind: ColumnClient, Field: f} }

func contactCol(n int, f string) Column {
	return Column{Kind: ColumnContact, Contact: n, ContactField: f}
}

func TestParseLayout(t *testing.T) {
	for in, want := range map[string]Layout{"": LayoutClients, "clients": LayoutClients, " Contacts ": LayoutContacts} {
		if got, err := ParseLayout(in); err != nil || got != want {
			t.Errorf("ParseLayout(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseLayout("rows")
	var verrs ValidationErrors
	if !errors.As(err, &verrs) || len(verrs) != 1 || verrs[0].Field != "layout" || !errors.Is(err, ErrValidation) {
		t.Errorf("ParseLayout(rows) = %v; want a validation error on layout", err)
	}
}

func TestColumnKeysRoundTrip(t *testing.T) {
	cases := []struct {
		col    Column
		layout Layout
		key    string
	}{
		{clientCol(FieldEmail), LayoutClients, "email"},
		{clientCol(FieldKind), LayoutContacts, "kind"},
		{Column{Kind: ColumnExternalID}, LayoutClients, "external_id"},
		{Column{Kind: ColumnSource}, LayoutContacts, "source"},
		{contactCol(3, "email"), LayoutClients, "contact3_email"},
		{contactCol(6, "role"), LayoutClients, "contact6_role"},
		{contactCol(0, "first_name"), LayoutContacts, "contact_first_name"},
		{Column{Kind: ColumnCustom, Custom: "vip"}, LayoutClients, "custom:vip"},
	}
	for _, c := range cases {
		if got := c.col.Key(); got != c.key {
			t.Errorf("%+v.Key() = %q; want %q", c.col, got, c.key)
		}
		if got, ok := ParseColumnKey(c.key, c.layout); !ok || got != c.col {
			t.Errorf("ParseColumnKey(%q, %s) = %+v, %v; want %+v", c.key, c.layout, got, ok, c.col)
		}
	}
	for _, layout := range []Layout{LayoutClients, LayoutContacts} {
		for _, col := range TemplateColumns(layout) {
			if got, ok := ParseColumnKey(col.Key(), layout); !ok || got != col {
				t.Errorf("ParseColumnKey(%q, %s) = %+v, %v", col.Key(), layout, got, ok)
			}
		}
	}
}

func TestParseColumnKeyRefusesWhatKeyNeverWrites(t *testing.T) {
	bad := []struct {
		key    string
		layout Layout
	}{
		{"contact3_email", LayoutContacts}, // numbered contacts only in the clients layout
		{"contact_email", LayoutClients},   // which contact person?
		{"contact7_email", LayoutClients},
		{"contact0_email", LayoutClients},
		{"contact03_email", LayoutClients},
		{"contact1_vat_number", LayoutClients},
		{"contact1", LayoutClients},
		{"custom:", LayoutClients},
		{"custom:VIP", LayoutClients},
		{"vip", LayoutClients}, // a bare custom name is the caller's to resolve
		{"Email", LayoutClients},
		{"", LayoutClients},
	}
	for _, b := range bad {
		if got, ok := ParseColumnKey(b.key, b.layout); ok {
			t.Errorf("ParseColumnKey(%q, %s) = %+v; want false", b.key, b.layout, got)
		}
	}
}

func TestTemplateColumnsOrder(t *testing.T) {
	cols := TemplateColumns(LayoutClients)
	want := []string{"kind", "first_name", "last_name", "company_name", "display_name", "email", "language",
		"phone", "vat_number", "street", "house_number", "box", "postal_code", "city", "country", "notes",
		"external_id", "contact1_first_name", "contact1_last_name", "contact1_email", "contact1_phone", "contact1_role"}
	if len(cols) != len(ClientFields)+1+MaxContactsPerRow*5 {
		t.Fatalf("clients template has %d columns", len(cols))
	}
	for i, k := range want {
		if cols[i].Key() != k {
			t.Errorf("clients column %d = %q; want %q", i, cols[i].Key(), k)
		}
	}
	if last := cols[len(cols)-1].Key(); last != "contact6_role" {
		t.Errorf("last clients column = %q", last)
	}
	contacts := TemplateColumns(LayoutContacts)
	if len(contacts) != len(ClientFields)+1+5 || contacts[len(contacts)-1].Key() != "contact_role" ||
		contacts[17].Key() != "contact_first_name" {
		t.Errorf("contacts template = %v", keys(contacts))
	}
}

func keys(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Key()
	}
	return out
}

func TestColumnHeaders(t *testing.T) {
	cases := []struct {
		col  Column
		lang string
		want string
	}{
		{clientCol(FieldFirstName), "fr", "Prénom"},
		{clientCol(FieldEmail), "nl", "E-mailadres"},
		{clientCol(FieldVATNumber), "cs", "DIČ"},
		{clientCol(FieldPostalCode), "de", "Postleitzahl"},
		{clientCol(FieldCity), "xx", "City"},
		{clientCol(FieldCity), "", "City"},
		{clientCol(FieldCity), "FR", "Localité"},
		{contactCol(2, "email"), "fr", "Contact 2 e-mail"},
		{contactCol(3, "first_name"), "nl", "Contactpersoon 3 voornaam"},
		{contactCol(0, "role"), "en", "Contact role"},
		{Column{Kind: ColumnCustom, Custom: "vip"}, "fr", "vip"},
		// A custom name that reads as a built-in header gets its key, or the
		// template would hold the built-in field twice.
		{Column{Kind: ColumnCustom, Custom: "type"}, "fr", "custom:type"},
		{Column{Kind: ColumnCustom, Custom: "fonction"}, "en", "custom:fonction"},
	}
	for _, c := range cases {
		if got := ColumnHeader(c.col, c.lang); got != c.want {
			t.Errorf("ColumnHeader(%s, %s) = %q; want %q", c.col.Key(), c.lang, got, c.want)
		}
	}
}

// A template filled in and uploaded as is must map every column back.
func TestTemplateHeadersAreRecognised(t *testing.T) {
	for _, layout := range []Layout{LayoutClients, LayoutContacts} {
		for _, col := range TemplateColumns(layout) {
			for _, lang := range TemplateLanguages {
				h := ColumnHeader(col, lang)
				if got, ok := MatchHeader(h, layout); !ok || got != col {
					t.Errorf("%s/%s: MatchHeader(%q) = %q, %v; want %q", layout, lang, h, got.Key(), ok, col.Key())
				}
			}
			if got, ok := MatchHeader(col.Key(), layout); !ok || got != col {
				t.Errorf("%s: MatchHeader(key %q) = %q, %v", layout, col.Key(), got.Key(), ok)
			}
		}
		// A custom field named like a built-in header.
		custom := Column{Kind: ColumnCustom, Custom: "reference"}
		if got, ok := MatchHeader(ColumnHeader(custom, "en"), layout); !ok || got != custom {
			t.Errorf("%s: custom column %q reads back as %q, %v", layout, ColumnHeader(custom, "en"), got.Key(), ok)
		}
	}
}

// Every alias must land on its own column: a header listed twice would
// silently go to whichever list was read last.
func TestAliasesDoNotCollide(t *testing.T) {
	owner := map[string]string{}
	for key, aliases := range headerAliases {
		for _, a := range aliases {
			n := NormalizeHeader(a)
			if prev, ok := owner[n]; ok && prev != key {
				t.Errorf("alias %q is listed for %s and %s", a, prev, key)
			}
			owner[n] = key
			got, ok := MatchHeader(a, LayoutClients)
			if !ok || got.Key() != key {
				t.Errorf("MatchHeader(%q) = %q, %v; want %q", a, got.Key(), ok, key)
			}
		}
	}
	for _, p := range normalizedPrefix {
		if _, ok := clientHeaders[p]; ok {
			t.Errorf("contact prefix %q is also a client header", p)
		}
	}
}

func TestMatchHeaderRealHeaders(t *testing.T) {
	clients := map[string]string{
		// English
		"E-mail": "email", "Email": "email", "EMAIL ADDRESS": "email", "Mail": "email",
		"First name": "first_name", "FirstName": "first_name", "first_name": "first_name",
		"Last name": "last_name", "Surname": "last_name", "Name": "last_name",
		"Company": "company_name", "Company name": "company_name",
		"Display name": "display_name", "Language": "language", "Phone": "phone", "Mobile": "phone",
		"VAT": "vat_number", "VAT number": "vat_number", "Enterprise number": "vat_number",
		"Street": "street", "House number": "house_number", "Number": "house_number", "Box": "box",
		"Postal code": "postal_code", "ZIP": "postal_code", "City": "city", "Country": "country",
		"Type": "kind", "Kind": "kind", "External id": "external_id", "Client ID": "external_id", "ID": "external_id",
		"Source": "source",
		// French
		"Courriel": "email", "Adresse e-mail": "email", "Adresse électronique": "email",
		"Prénom": "first_name", "PRENOM": "first_name", "Nom": "last_name", "Nom de famille": "last_name",
		"Société": "company_name", "Entreprise": "company_name", "Raison sociale": "company_name",
		"Affichage": "display_name", "Nom d'affichage": "display_name",
		"Langue": "language", "Téléphone": "phone", "Tél.": "phone", "GSM": "phone",
		"TVA": "vat_number", "N° TVA": "vat_number", "Numéro d'entreprise": "vat_number",
		"Rue": "street", "Adresse": "street", "Numéro": "house_number", "N°": "house_number", "Nº": "house_number",
		"Boîte": "box", "Bte": "box", "Code postal": "postal_code", "CP": "postal_code",
		"Ville": "city", "Localité": "city", "Commune": "city", "Pays": "country",
		"Référence": "external_id", "Id externe": "external_id", "N° client": "external_id",
		// Dutch
		"E-mailadres": "email", "Voornaam": "first_name", "Achternaam": "last_name", "Familienaam": "last_name",
		"Naam": "last_name", "Bedrijf": "company_name", "Bedrijfsnaam": "company_name",
		"Weergavenaam": "display_name", "Taal": "language", "Telefoon": "phone",
		"BTW": "vat_number", "BTW-nummer": "vat_number", "Ondernemingsnummer": "vat_number",
		"Straat": "street", "Huisnummer": "house_number", "Nummer": "house_number", "Bus": "box",
		"Postcode": "postal_code", "Gemeente": "city", "Stad": "city", "Woonplaats": "city", "Land": "country",
		"Soort": "kind", "Klantnummer": "external_id", "Bron": "source",
		// German
		"E-Mail-Adresse": "email", "E-Mail": "email", "Vorname": "first_name", "Nachname": "last_name",
		"Firma": "company_name", "Firmenname": "company_name", "Anzeigename": "display_name", "Sprache": "language",
		"Telefon": "phone", "USt-IdNr.": "vat_number", "Straße": "street", "Strasse": "street",
		"Hausnummer": "house_number", "Postleitzahl": "postal_code", "PLZ": "postal_code", "Ort": "city",
		"Stadt": "city", "Art": "kind", "Kundennummer": "external_id", "Quelle": "source",
		// Czech
		"E-mailová adresa": "email", "Jméno": "first_name", "Křestní jméno": "first_name", "Příjmení": "last_name",
		"Společnost": "company_name", "Název firmy": "company_name", "Zobrazované jméno": "display_name",
		"Jazyk": "language", "DIČ": "vat_number", "Ulice": "street", "Číslo popisné": "house_number",
		"PSČ": "postal_code", "Město": "city", "Obec": "city", "Stát": "country", "Země": "country",
		"Typ": "kind", "Číslo klienta": "external_id", "Zdroj": "source",
		// Contact persons, numbered
		"contact1_first_name": "contact1_first_name", "Contact 1 prénom": "contact1_first_name",
		"Contact 1 - E-mail": "contact1_email", "Kontakt 2 Příjmení": "contact2_last_name",
		"Contactpersoon 3 voornaam": "contact3_first_name", "Contact #4 Phone": "contact4_phone",
		"Contact 5 Fonction": "contact5_role", "Ansprechpartner 6 Funktion": "contact6_role",
		"Personne de contact 2 - Nom": "contact2_last_name", "Kontaktní osoba 1 telefon": "contact1_phone",
		"Prénom contact 1": "contact1_first_name", "E-mail contactpersoon 2": "contact2_email",
		"CONTACT_2_EMAIL": "contact2_email", "custom:vip": "custom:vip", "Custom:VIP": "custom:vip",
	}
	contacts := map[string]string{
		"Email": "email", "Prénom": "first_name", "Référence": "external_id",
		"contact_email": "contact_email", "Contact prénom": "contact_first_name",
		"Contactpersoon e-mail": "contact_email", "Contact role": "contact_role",
		"Fonction": "contact_role", "Functie": "contact_role", "Funktion": "contact_role",
		"Role": "contact_role", "Funkce": "contact_role", "Kontakt telefon": "contact_phone",
		"Nom contact": "contact_last_name",
	}
	check := func(layout Layout, cases map[string]string) {
		for h, want := range cases {
			if got, ok := MatchHeader(h, layout); !ok || got.Key() != want {
				t.Errorf("%s: MatchHeader(%q) = %q, %v; want %q", layout, h, got.Key(), ok, want)
			}
		}
	}
	check(LayoutClients, clients)
	check(LayoutContacts, contacts)
}

func TestMatchHeaderDoesNotGuess(t *testing.T) {
	unknown := map[Layout][]string{
		LayoutClients: {
			"", "   ", "---",
			"Genre", "Oslovení", "IČO", "Postbus", "Date of birth", "Geboortedatum", "vip",
			"Contact", "Contact 1", "Contact email", "Contact 7 email", "Contact 0 email",
			"Contact 1 VAT", "Fonction", "Role", "E-mail 2", "Téléphone 2", "Email contact",
			"custom:", "Full name", "Jméno a příjmení", "Status", "Name 2",
		},
		LayoutContacts: {
			"Contact 1 email", "contact1_email", "Contact", "Contact VAT",
		},
	}
	for layout, headers := range unknown {
		for _, h := range headers {
			if got, ok := MatchHeader(h, layout); ok {
				t.Errorf("%s: MatchHeader(%q) = %q; want not recognised", layout, h, got.Key())
			}
		}
	}
}

func TestNormalizeHeader(t *testing.T) {
	cases := map[string]string{
		"Adresse e-mail":    "adresseemail",
		"  E-Mail_Adresse ": "emailadresse",
		"Příjmení":          "prijmeni",
		"Číslo popisné":     "cislopopisne",
		"Straße":            "strasse",
		"Ůl. Řeka":          "ulreka",
		"Nº TVA":            "ntva",
		"N° d'entreprise":   "ndentreprise",
		"Œuvre Æ Ø Ł":       "oeuvreaeol",
		"e\u0301te\u0301":   "ete", // decomposed accents
		"contact3_email":    "contact3email",
		"Имя":               "имя",
		"":                  "",
	}
	for in, want := range cases {
		if got := NormalizeHeader(in); got != want {
			t.Errorf("NormalizeHeader(%q) = %q; want %q", in, got, want)
		}
	}
}
