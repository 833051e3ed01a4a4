package domain

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Layout says how a spreadsheet lays clients out in rows.
type Layout string

const (
	// LayoutClients: one row per client, with up to MaxContactsPerRow
	// contact persons in numbered columns (contact1_first_name ..
	// contact6_role).
	LayoutClients Layout = "clients"
	// LayoutContacts: one row per contact person, grouped under its client
	// by the client's email or external id (contact_first_name ..).
	LayoutContacts Layout = "contacts"
)

// MaxContactsPerRow is how many contact persons a row of the clients layout
// can carry. More than that makes the sheet too wide to fill by hand; the
// contacts layout has no such limit.
const MaxContactsPerRow = 6

// ParseLayout reads a layout name; empty means the clients layout, the one
// most files have.
func ParseLayout(s string) (Layout, error) {
	switch l := Layout(strings.ToLower(strings.TrimSpace(s))); l {
	case "":
		return LayoutClients, nil
	case LayoutClients, LayoutContacts:
		return l, nil
	}
	return "", ValidationErrors{{Field: "layout", Code: "invalid_layout",
		Message: strconv.Quote(s) + ` is not a layout: use "clients" or "contacts"`}}
}

// ColumnKind says what kind of value a column holds.
type ColumnKind int

const (
	ColumnClient     ColumnKind = iota + 1 // a client detail Field
	ColumnExternalID                       // the client's id in the import's source
	ColumnSource                           // the source that external id belongs to
	ColumnContact                          // one field of a contact person
	ColumnCustom                           // a tenant custom field
)

// ContactFields are the fields of a contact person, in template order.
var ContactFields = []string{"first_name", "last_name", "email", "phone", "role"}

// Column is what one spreadsheet column holds.
type Column struct {
	Kind  ColumnKind
	Field Field // ColumnClient
	// Contact numbers the contact person, 1..MaxContactsPerRow in the
	// clients layout; 0 in the contacts layout, where a row is one person.
	Contact      int
	ContactField string // ColumnContact: one of ContactFields
	Custom       string // ColumnCustom: the custom field name
}

// Key is the column's canonical name: "email", "external_id", "source",
// "contact3_email" (clients layout), "contact_email" (contacts layout),
// "custom:vip". It is what mappings store; ParseColumnKey reads it back.
func (c Column) Key() string {
	switch c.Kind {
	case ColumnClient:
		return string(c.Field)
	case ColumnExternalID:
		return "external_id"
	case ColumnSource:
		return "source"
	case ColumnContact:
		if c.Contact == 0 {
			return "contact_" + c.ContactField
		}
		return "contact" + strconv.Itoa(c.Contact) + "_" + c.ContactField
	case ColumnCustom:
		return "custom:" + c.Custom
	}
	return ""
}

// ParseColumnKey is the inverse of Key for the given layout: numbered
// contact keys exist only in the clients layout, unnumbered ones only in
// the contacts layout. A bare custom field name is not a key; the caller,
// who knows the tenant's custom fields, resolves those.
func ParseColumnKey(key string, layout Layout) (Column, bool) {
	switch key {
	case "external_id":
		return Column{Kind: ColumnExternalID}, true
	case "source":
		return Column{Kind: ColumnSource}, true
	}
	if IsClientField(key) {
		return Column{Kind: ColumnClient, Field: Field(key)}, true
	}
	if name, ok := strings.CutPrefix(key, "custom:"); ok {
		if !customFieldName.MatchString(name) {
			return Column{}, false
		}
		return Column{Kind: ColumnCustom, Custom: name}, true
	}
	rest, ok := strings.CutPrefix(key, "contact")
	if !ok {
		return Column{}, false
	}
	num, field, ok := strings.Cut(rest, "_")
	if !ok || !isContactField(field) {
		return Column{}, false
	}
	if num == "" {
		if layout != LayoutContacts {
			return Column{}, false
		}
		return Column{Kind: ColumnContact, ContactField: field}, true
	}
	n, err := strconv.Atoi(num)
	// Only the form Key writes: "contact3", never "contact03" or "contact+3".
	if err != nil || layout != LayoutClients || n < 1 || n > MaxContactsPerRow || strconv.Itoa(n) != num {
		return Column{}, false
	}
	return Column{Kind: ColumnContact, Contact: n, ContactField: field}, true
}

func isContactField(s string) bool {
	for _, f := range ContactFields {
		if f == s {
			return true
		}
	}
	return false
}

// TemplateColumns lists the columns of a blank template, in order: the
// client fields, the external id, then the contact persons (six numbered
// groups in the clients layout, one group in the contacts layout). Custom
// fields are the caller's to append: they are per tenant.
func TemplateColumns(layout Layout) []Column {
	cols := make([]Column, 0, len(ClientFields)+1+MaxContactsPerRow*len(ContactFields))
	for _, f := range ClientFields {
		cols = append(cols, Column{Kind: ColumnClient, Field: f})
	}
	cols = append(cols, Column{Kind: ColumnExternalID})
	if layout == LayoutContacts {
		for _, f := range ContactFields {
			cols = append(cols, Column{Kind: ColumnContact, ContactField: f})
		}
		return cols
	}
	for n := 1; n <= MaxContactsPerRow; n++ {
		for _, f := range ContactFields {
			cols = append(cols, Column{Kind: ColumnContact, Contact: n, ContactField: f})
		}
	}
	return cols
}

// TemplateLanguages are the languages templates have headers in.
var TemplateLanguages = []string{"en", "fr", "nl", "de", "cs"}

// headerWords are the template headers per language, in the order en, fr,
// nl, de, cs. Each must stay recognisable by MatchHeader (a test checks).
var headerWords = map[string][5]string{
	string(FieldKind):        {"Kind", "Type", "Soort", "Art", "Typ"},
	string(FieldFirstName):   {"First name", "Prénom", "Voornaam", "Vorname", "Jméno"},
	string(FieldLastName):    {"Last name", "Nom", "Achternaam", "Nachname", "Příjmení"},
	string(FieldCompanyName): {"Company name", "Société", "Bedrijfsnaam", "Firmenname", "Název firmy"},
	string(FieldDisplayName): {"Display name", "Nom d'affichage", "Weergavenaam", "Anzeigename", "Zobrazované jméno"},
	string(FieldEmail):       {"Email", "E-mail", "E-mailadres", "E-Mail", "E-mail"},
	string(FieldLanguage):    {"Language", "Langue", "Taal", "Sprache", "Jazyk"},
	string(FieldPhone):       {"Phone", "Téléphone", "Telefoon", "Telefon", "Telefon"},
	string(FieldVATNumber):   {"VAT number", "N° TVA", "Btw-nummer", "USt-IdNr.", "DIČ"},
	string(FieldStreet):      {"Street", "Rue", "Straat", "Straße", "Ulice"},
	string(FieldHouseNumber): {"House number", "Numéro", "Huisnummer", "Hausnummer", "Číslo popisné"},
	string(FieldBox):         {"Box", "Boîte", "Bus", "Box", "Box"},
	string(FieldPostalCode):  {"Postal code", "Code postal", "Postcode", "Postleitzahl", "PSČ"},
	string(FieldCity):        {"City", "Localité", "Gemeente", "Ort", "Město"},
	string(FieldCountry):     {"Country", "Pays", "Land", "Land", "Země"},
	string(FieldNotes):       {"Notes", "Remarques", "Opmerkingen", "Bemerkungen", "Poznámka"},
	"external_id":            {"External ID", "Référence externe", "Externe referentie", "Externe ID", "Externí ID"},
	"source":                 {"Source", "Source", "Bron", "Quelle", "Zdroj"},
	"contact":                {"Contact", "Contact", "Contactpersoon", "Kontakt", "Kontakt"},
	"contact.first_name":     {"first name", "prénom", "voornaam", "Vorname", "jméno"},
	"contact.last_name":      {"last name", "nom", "achternaam", "Nachname", "příjmení"},
	"contact.email":          {"email", "e-mail", "e-mailadres", "E-Mail", "e-mail"},
	"contact.phone":          {"phone", "téléphone", "telefoon", "Telefon", "telefon"},
	"contact.role":           {"role", "fonction", "functie", "Funktion", "funkce"},
}

func langIndex(lang string) int {
	for i, l := range TemplateLanguages {
		if strings.EqualFold(l, lang) {
			return i
		}
	}
	return 0
}

// ColumnHeader is the column's template header in lang (en, fr, nl, de,
// cs; anything else gets English). A custom column is headed by the custom
// field's name, which is how the import recognises it; a name that reads
// as a built-in header ("type", "reference") gets its key "custom:type"
// instead, or the template would fill the built-in field twice.
func ColumnHeader(c Column, lang string) string {
	i := langIndex(lang)
	switch c.Kind {
	case ColumnCustom:
		if _, taken := MatchHeader(c.Custom, LayoutClients); taken {
			return c.Key()
		}
		if _, taken := MatchHeader(c.Custom, LayoutContacts); taken {
			return c.Key()
		}
		return c.Custom
	case ColumnContact:
		label := headerWords["contact"][i]
		if c.Contact > 0 {
			label += " " + strconv.Itoa(c.Contact)
		}
		return label + " " + headerWords["contact."+c.ContactField][i]
	}
	if w, ok := headerWords[c.Key()]; ok {
		return w[i]
	}
	return c.Key()
}

// headerAliases are the headers people actually write, per column key,
// from aliases.tsv: English, French, Dutch, German and Czech, and the
// headers of well-known exports (Google Contacts, Outlook, Mailchimp,
// HubSpot, Odoo, Teamleader, Exact Online, vCard). They are compared after
// NormalizeHeader, so case, accents, spaces and punctuation do not matter.
var headerAliases = aliasesByKey(aliasTable)

// contactPrefixes introduce a contact person column: "Contact 2 e-mail".
var contactPrefixes = []string{
	"contact", "contact person", "contactperson",
	"personne de contact", "personne contact",
	"contactpersoon",
	"kontakt", "kontaktperson", "ansprechpartner", "ansprechperson",
	"kontaktní osoba",
}

// contactRoleAliases: the role exists only for contact persons, so in the
// contacts layout the bare words mean the contact's role.
var contactRoleAliases = []string{
	"role", "function", "job title", "position",
	"rôle", "fonction",
	"rol", "functie",
	"rolle", "funktion",
	"funkce", "pozice",
}

// contactFieldAliases are the words naming a contact field after (or
// before) a contact prefix: the client field's own aliases, and the role.
var contactFieldAliases = map[string][]string{
	"first_name": headerAliases[string(FieldFirstName)],
	"last_name":  headerAliases[string(FieldLastName)],
	"email":      headerAliases[string(FieldEmail)],
	"phone":      headerAliases[string(FieldPhone)],
	"role":       contactRoleAliases,
}

// The recognised headers, normalised: client columns (the same in both
// layouts), contact field words, contact prefixes, and the bare role words
// the contacts layout accepts. Built as variable initialisers, not in init,
// so Go orders them after foldLetters, which NormalizeHeader needs.
var (
	clientHeaders     = buildClientHeaders()
	contactField      = buildContactFields()
	normalizedPrefix  = buildContactPrefixes()
	contactRoleHeader = normalizedSet(contactRoleAliases)
	headerRanks       = aliasRanks(aliasTable)
)

func buildClientHeaders() map[string]Column {
	m := map[string]Column{}
	for key, aliases := range headerAliases {
		col, _ := ParseColumnKey(key, LayoutClients)
		for _, a := range aliases {
			m[NormalizeHeader(a)] = col
		}
		// Template headers in every language are recognised too.
		for _, h := range headerWords[key] {
			m[NormalizeHeader(h)] = col
		}
	}
	return m
}

func buildContactFields() map[string]string {
	m := map[string]string{}
	for field, aliases := range contactFieldAliases {
		for _, a := range aliases {
			m[NormalizeHeader(a)] = field
		}
		for _, h := range headerWords["contact."+field] {
			m[NormalizeHeader(h)] = field
		}
	}
	return m
}

func buildContactPrefixes() []string {
	words := headerWords["contact"]
	var out []string
	for _, p := range append(slices.Clone(contactPrefixes), words[:]...) {
		if n := NormalizeHeader(p); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func normalizedSet(words []string) map[string]bool {
	m := map[string]bool{}
	for _, w := range words {
		m[NormalizeHeader(w)] = true
	}
	return m
}

// MatchHeader recognises a header as people write it, ignoring case,
// accents, spaces and punctuation: canonical keys ("first_name",
// "contact3_email"), the template headers of every language, and the usual
// headers in English, French, Dutch, German and Czech. A custom field is
// recognised only by its key ("custom:vip"). A header it does not know
// returns false: the caller maps it to a custom field of the same
// name or reports it. It would rather miss a header than guess wrong.
func MatchHeader(header string, layout Layout) (Column, bool) {
	h := strings.TrimSpace(header)
	// Keys as written, "custom:vip" included: it names a custom field
	// explicitly (the caller checks the field exists).
	if c, ok := ParseColumnKey(strings.ToLower(h), layout); ok {
		return c, true
	}
	n := NormalizeHeader(h)
	if n == "" {
		return Column{}, false
	}
	if c, ok := clientHeaders[n]; ok {
		return c, true
	}
	if layout == LayoutContacts && contactRoleHeader[n] {
		return Column{Kind: ColumnContact, ContactField: "role"}, true
	}
	return matchContactHeader(n, layout)
}

// matchContactHeader reads "contact" [number] field, or field "contact"
// [number]: "Contact 2 prénom", "E-mail contactpersoon 3". The number is
// required in the clients layout (which contact person?) and refused in the
// contacts layout (a row is one person).
func matchContactHeader(n string, layout Layout) (Column, bool) {
	for _, p := range normalizedPrefix {
		if rest, ok := strings.CutPrefix(n, p); ok {
			num, field := splitLeadingDigits(rest)
			if c, ok := contactColumn(num, field, layout); ok {
				return c, true
			}
		}
		base, num := splitTrailingDigits(n)
		if field, ok := strings.CutSuffix(base, p); ok {
			if c, ok := contactColumn(num, field, layout); ok {
				return c, true
			}
		}
	}
	return Column{}, false
}

func splitTrailingDigits(s string) (rest, digits string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i], s[i:]
}

func splitLeadingDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}

func contactColumn(num, fieldAlias string, layout Layout) (Column, bool) {
	field, ok := contactField[fieldAlias]
	if !ok {
		return Column{}, false
	}
	if layout == LayoutContacts {
		if num != "" {
			return Column{}, false
		}
		return Column{Kind: ColumnContact, ContactField: field}, true
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxContactsPerRow {
		return Column{}, false
	}
	return Column{Kind: ColumnContact, Contact: n, ContactField: field}, true
}

// foldLetters spells accented and special Latin letters the way people
// type them without accents.
var foldLetters = buildFoldLetters()

func buildFoldLetters() map[rune]string {
	groups := map[string]string{
		"a": "àáâãäåāăąǎ", "c": "çćĉċč", "d": "ďđð", "e": "èéêëēĕėęěẽ",
		"g": "ĝğġģ", "h": "ĥħ", "i": "ìíîïĩīĭįıǐ", "j": "ĵ", "k": "ķ",
		"l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏőǒơ", "r": "ŕŗř",
		"s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűųǔư", "w": "ŵ",
		"y": "ýÿŷ", "z": "źżž", "ae": "æ", "oe": "œ", "ss": "ß", "th": "þ",
	}
	m := map[rune]string{}
	for plain, letters := range groups {
		for _, r := range letters {
			m[r] = plain
		}
	}
	// Ordinal indicators as in "Nº" are punctuation to a reader.
	m['º'] = ""
	m['ª'] = ""
	return m
}

// NormalizeHeader reduces a header to lower-case letters and digits without
// accents, so that "Adresse e-mail", "adresse_email" and "ADRESSE EMAIL"
// compare equal: "adresseemail". Letters of other scripts are kept as they
// are; combining accents, spaces, punctuation and underscores are dropped.
func NormalizeHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if plain, ok := foldLetters[r]; ok {
			b.WriteString(plain)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
