// Package i18n renders import issues and refusals as plain sentences in the
// user's language. Issues travel as codes with parameters; only the edge
// that shows them to a person turns them into words.
package i18n

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clientreg/clientreg/domain"
)

// Languages are the languages messages exist in; the first is the default.
var Languages = []string{"en", "fr", "nl", "de", "cs"}

// Lang picks a supported language from a query value ("fr", "fr-BE") or,
// failing that, an Accept-Language header ("fr-BE,fr;q=0.9,en;q=0.8" ->
// "fr"); default "en". An explicit query wins: it is what the user chose.
func Lang(query, acceptLanguage string) string {
	if l, ok := supported(query); ok {
		return l
	}
	for _, tag := range byPreference(acceptLanguage) {
		if l, ok := supported(tag); ok {
			return l
		}
	}
	return Languages[0]
}

// supported reduces a language tag to its primary subtag ("fr-BE",
// "fr_BE" -> "fr") and reports whether messages exist in it.
func supported(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag, slices.Contains(Languages, tag)
}

// byPreference orders the tags of an Accept-Language header by their q
// weight, keeping the header's order among equals and dropping q=0 (which
// means "not this one").
func byPreference(header string) []string {
	type weighted struct {
		tag string
		q   float64
	}
	var tags []weighted
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		if tag = strings.TrimSpace(tag); tag != "" && tag != "*" && q > 0 {
			tags = append(tags, weighted{tag, q})
		}
	}
	slices.SortStableFunc(tags, func(a, b weighted) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.tag
	}
	return out
}

// IssueMessage renders an import issue: its own parameters, plus where it
// is (column, header, field) for the sentences that name it.
func IssueMessage(lang string, i domain.ImportIssue) string {
	params := map[string]string{"column": i.Column, "header": i.Header, "field": i.Field}
	for k, v := range i.Params {
		params[k] = v
	}
	return Message(lang, i.Code, params)
}

// Message renders an import issue or refusal in lang. Params are the
// issue's: "value", "header", "column", "first_row", "first_column",
// "limit", "length", "max", "field", "options", "row", "contact",
// "reason". A code may have several sentences, from the most precise to
// the most general; the first whose parameters are all given is used, so
// a missing parameter never leaves a hole. "field" holds a column key
// ("email", "contact2_phone", "custom:vip") or a comma-separated list of
// them, and is rendered in words. An unknown code gets a generic sentence
// that names it; a language without a sentence falls back to English.
func Message(lang, code string, params map[string]string) string {
	lang, ok := supported(lang)
	if !ok {
		lang = Languages[0]
	}
	values := expand(lang, code, params)
	byLang, known := messages[code]
	if !known {
		byLang = unknownCode
	}
	variants := byLang[lang]
	if len(variants) == 0 {
		variants = byLang["en"]
	}
	for _, v := range variants {
		if s, ok := render(v, values); ok {
			return s
		}
	}
	// Every code's last sentence needs no parameter; this is a safety net.
	return code
}

// expand adds to the params what the sentences use besides them: the
// field in words ({field}, {Field} at the start of a sentence), its column
// label ({label}), and the code.
func expand(lang, code string, params map[string]string) map[string]string {
	values := make(map[string]string, len(params)+4)
	for k, v := range params {
		if v != "" {
			values[k] = v
		}
	}
	// Contact 0 is the contacts layout's single person, row 0 a kept
	// client the undo could not place: no number to show.
	for _, k := range []string{"contact", "row"} {
		if values[k] == "0" {
			delete(values, k)
		}
	}
	values["code"] = code
	if f := values["field"]; f != "" {
		values["field"] = fieldWords(lang, f)
		values["Field"] = capitalize(values["field"])
		values["label"] = fieldLabel(lang, f)
	}
	return values
}

var placeholder = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// render fills a sentence, or reports false when a parameter it needs is
// missing.
func render(sentence string, values map[string]string) (string, bool) {
	ok := true
	out := placeholder.ReplaceAllStringFunc(sentence, func(m string) string {
		v, found := values[m[1:len(m)-1]]
		if !found {
			ok = false
		}
		return v
	})
	return out, ok
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// columnOf reads a field key as the issues carry it: a column key of
// either layout, or the domain's "custom_fields.vip" and "external_refs".
func columnOf(key string) (domain.Column, bool) {
	if name, ok := strings.CutPrefix(key, "custom_fields."); ok {
		return domain.Column{Kind: domain.ColumnCustom, Custom: name}, true
	}
	if strings.HasPrefix(key, "external_refs") {
		return domain.Column{Kind: domain.ColumnExternalID}, true
	}
	if c, ok := domain.ParseColumnKey(key, domain.LayoutClients); ok {
		return c, true
	}
	return domain.ParseColumnKey(key, domain.LayoutContacts)
}

// fieldWords names one field, or a comma-separated list of them, the way a
// sentence does: "the email address of contact person 2".
func fieldWords(lang, keys string) string {
	var out []string
	for k := range strings.SplitSeq(keys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, oneFieldWords(lang, k))
		}
	}
	return strings.Join(out, ", ")
}

func oneFieldWords(lang, key string) string {
	w := wordsFor(lang)
	c, ok := columnOf(key)
	if !ok {
		return strings.ReplaceAll(w.unknown, "{name}", key)
	}
	switch c.Kind {
	case domain.ColumnCustom:
		return strings.ReplaceAll(w.custom, "{name}", c.Custom)
	case domain.ColumnContact:
		of := w.ofContact
		if c.Contact > 0 {
			of = strings.ReplaceAll(w.ofContactN, "{n}", strconv.Itoa(c.Contact))
		}
		return w.fields["contact."+c.ContactField] + of
	}
	return w.fields[c.Key()]
}

// fieldLabel is the field's column header in lang, as the template has it.
func fieldLabel(lang, keys string) string {
	var out []string
	for k := range strings.SplitSeq(keys, ",") {
		k = strings.TrimSpace(k)
		if c, ok := columnOf(k); ok {
			out = append(out, domain.ColumnHeader(c, lang))
		} else if k != "" {
			out = append(out, k)
		}
	}
	return strings.Join(out, ", ")
}

// words are the names of fields in one language, each with its article as
// it stands in a sentence.
type words struct {
	fields     map[string]string
	ofContactN string // " of contact person {n}"
	ofContact  string // " of the contact person" (contacts layout)
	custom     string // "the custom field “{name}”"
	unknown    string // "the field “{name}”"
}

func wordsFor(lang string) words {
	if w, ok := fieldNames[lang]; ok {
		return w
	}
	return fieldNames["en"]
}

var fieldNames = map[string]words{
	"en": {
		fields: map[string]string{
			"kind": "the kind (person or company)", "first_name": "the first name", "last_name": "the last name",
			"company_name": "the company name", "display_name": "the display name", "email": "the email address",
			"language": "the language", "phone": "the phone number", "vat_number": "the VAT or enterprise number",
			"street": "the street", "house_number": "the house number", "box": "the box number",
			"postal_code": "the postal code", "city": "the city", "country": "the country", "notes": "the notes",
			"external_id": "the external ID", "source": "the source",
			"contact.first_name": "the first name", "contact.last_name": "the last name", "contact.email": "the email address",
			"contact.phone": "the phone number", "contact.role": "the role",
		},
		ofContactN: " of contact person {n}", ofContact: " of the contact person",
		custom: "the custom field “{name}”", unknown: "the field “{name}”",
	},
	"fr": {
		fields: map[string]string{
			"kind": "le type (personne ou société)", "first_name": "le prénom", "last_name": "le nom",
			"company_name": "le nom de la société", "display_name": "le nom d'affichage", "email": "l'adresse e-mail",
			"language": "la langue", "phone": "le numéro de téléphone", "vat_number": "le numéro de TVA ou d'entreprise",
			"street": "la rue", "house_number": "le numéro de maison", "box": "la boîte",
			"postal_code": "le code postal", "city": "la localité", "country": "le pays", "notes": "les remarques",
			"external_id": "la référence externe", "source": "la source",
			"contact.first_name": "le prénom", "contact.last_name": "le nom", "contact.email": "l'adresse e-mail",
			"contact.phone": "le numéro de téléphone", "contact.role": "la fonction",
		},
		ofContactN: " de la personne de contact {n}", ofContact: " de la personne de contact",
		custom: "le champ personnalisé « {name} »", unknown: "le champ « {name} »",
	},
	"nl": {
		fields: map[string]string{
			"kind": "de soort (persoon of bedrijf)", "first_name": "de voornaam", "last_name": "de achternaam",
			"company_name": "de bedrijfsnaam", "display_name": "de weergavenaam", "email": "het e-mailadres",
			"language": "de taal", "phone": "het telefoonnummer", "vat_number": "het btw- of ondernemingsnummer",
			"street": "de straat", "house_number": "het huisnummer", "box": "het busnummer",
			"postal_code": "de postcode", "city": "de gemeente", "country": "het land", "notes": "de opmerkingen",
			"external_id": "de externe referentie", "source": "de bron",
			"contact.first_name": "de voornaam", "contact.last_name": "de achternaam", "contact.email": "het e-mailadres",
			"contact.phone": "het telefoonnummer", "contact.role": "de functie",
		},
		ofContactN: " van contactpersoon {n}", ofContact: " van de contactpersoon",
		custom: "het eigen veld “{name}”", unknown: "het veld “{name}”",
	},
	"de": {
		fields: map[string]string{
			"kind": "die Art (Person oder Firma)", "first_name": "der Vorname", "last_name": "der Nachname",
			"company_name": "der Firmenname", "display_name": "der Anzeigename", "email": "die E-Mail-Adresse",
			"language": "die Sprache", "phone": "die Telefonnummer", "vat_number": "die USt-IdNr. oder Unternehmensnummer",
			"street": "die Straße", "house_number": "die Hausnummer", "box": "die Box",
			"postal_code": "die Postleitzahl", "city": "der Ort", "country": "das Land", "notes": "die Bemerkungen",
			"external_id": "die externe ID", "source": "die Quelle",
			"contact.first_name": "der Vorname", "contact.last_name": "der Nachname", "contact.email": "die E-Mail-Adresse",
			"contact.phone": "die Telefonnummer", "contact.role": "die Funktion",
		},
		ofContactN: " von Kontaktperson {n}", ofContact: " der Kontaktperson",
		custom: "das eigene Feld „{name}“", unknown: "das Feld „{name}“",
	},
	"cs": {
		fields: map[string]string{
			"kind": "typ (osoba nebo firma)", "first_name": "jméno", "last_name": "příjmení",
			"company_name": "název firmy", "display_name": "zobrazované jméno", "email": "e-mailová adresa",
			"language": "jazyk", "phone": "telefonní číslo", "vat_number": "DIČ",
			"street": "ulice", "house_number": "číslo popisné", "box": "číslo boxu",
			"postal_code": "PSČ", "city": "město", "country": "země", "notes": "poznámka",
			"external_id": "externí ID", "source": "zdroj",
			"contact.first_name": "jméno", "contact.last_name": "příjmení", "contact.email": "e-mailová adresa",
			"contact.phone": "telefonní číslo", "contact.role": "funkce",
		},
		ofContactN: " kontaktní osoby {n}", ofContact: " kontaktní osoby",
		custom: "vlastní pole „{name}“", unknown: "pole „{name}“",
	},
}

// sentences holds a code's sentences per language, most precise first; the
// last one of each language needs no parameter.
type sentences map[string][]string

var unknownCode = sentences{
	"en": {"There is a problem with “{value}” (code {code}).", "There is a problem (code {code})."},
	"fr": {"Il y a un problème avec « {value} » (code {code}).", "Il y a un problème (code {code})."},
	"nl": {"Er is een probleem met “{value}” (code {code}).", "Er is een probleem (code {code})."},
	"de": {"Es gibt ein Problem mit „{value}“ (Code {code}).", "Es gibt ein Problem (Code {code})."},
	"cs": {"S hodnotou „{value}“ je problém (kód {code}).", "Vyskytl se problém (kód {code})."},
}

var messages = map[string]sentences{
	// Values of a row.
	"required": {
		"en": {"{Field} is missing.", "A required value is missing."},
		"fr": {"Il manque {field}.", "Une valeur obligatoire manque."},
		"nl": {"{Field} ontbreekt.", "Een verplichte waarde ontbreekt."},
		"de": {"{Field} fehlt.", "Ein Pflichtwert fehlt."},
		"cs": {"Chybí {field}.", "Chybí povinná hodnota."},
	},
	"invalid_email": {
		"en": {"“{value}” is not a valid email address.", "This is not a valid email address."},
		"fr": {"« {value} » n'est pas une adresse e-mail valable.", "Ce n'est pas une adresse e-mail valable."},
		"nl": {"“{value}” is geen geldig e-mailadres.", "Dit is geen geldig e-mailadres."},
		"de": {"„{value}“ ist keine gültige E-Mail-Adresse.", "Das ist keine gültige E-Mail-Adresse."},
		"cs": {"„{value}“ není platná e-mailová adresa.", "Toto není platná e-mailová adresa."},
	},
	"unknown_language": {
		"en": {"“{value}” is not a language code: use two letters, for example fr, nl, en, de or cs.",
			"This is not a language code: use two letters, for example fr, nl, en, de or cs."},
		"fr": {"« {value} » n'est pas un code de langue : utilisez deux lettres, par exemple fr, nl, en, de ou cs.",
			"Ce n'est pas un code de langue : utilisez deux lettres, par exemple fr, nl, en, de ou cs."},
		"nl": {"“{value}” is geen taalcode: gebruik twee letters, bijvoorbeeld fr, nl, en, de of cs.",
			"Dit is geen taalcode: gebruik twee letters, bijvoorbeeld fr, nl, en, de of cs."},
		"de": {"„{value}“ ist kein Sprachcode: Verwenden Sie zwei Buchstaben, zum Beispiel fr, nl, en, de oder cs.",
			"Das ist kein Sprachcode: Verwenden Sie zwei Buchstaben, zum Beispiel fr, nl, en, de oder cs."},
		"cs": {"„{value}“ není kód jazyka: použijte dvě písmena, například fr, nl, en, de nebo cs.",
			"Toto není kód jazyka: použijte dvě písmena, například fr, nl, en, de nebo cs."},
	},
	"too_long": {
		"en": {"The text is {length} characters long; at most {max} are allowed.",
			"The text is too long: at most {max} characters are allowed.", "The text is too long: at most 255 characters are allowed."},
		"fr": {"Le texte compte {length} caractères ; {max} au maximum sont permis.",
			"Le texte est trop long : {max} caractères au maximum.", "Le texte est trop long : 255 caractères au maximum."},
		"nl": {"De tekst is {length} tekens lang; hoogstens {max} zijn toegestaan.",
			"De tekst is te lang: hoogstens {max} tekens.", "De tekst is te lang: hoogstens 255 tekens."},
		"de": {"Der Text ist {length} Zeichen lang; erlaubt sind höchstens {max}.",
			"Der Text ist zu lang: höchstens {max} Zeichen.", "Der Text ist zu lang: höchstens 255 Zeichen."},
		"cs": {"Text má {length} znaků; povoleno je nejvýše {max}.",
			"Text je příliš dlouhý: nejvýše {max} znaků.", "Text je příliš dlouhý: nejvýše 255 znaků."},
	},
	"invalid_vat_number": {
		"en": {"“{value}” is not a Belgian enterprise or VAT number: write it like BE0123.456.749.",
			"This is not a Belgian enterprise or VAT number: write it like BE0123.456.749."},
		"fr": {"« {value} » n'est pas un numéro d'entreprise ou de TVA belge : écrivez-le comme BE0123.456.749.",
			"Ce n'est pas un numéro d'entreprise ou de TVA belge : écrivez-le comme BE0123.456.749."},
		"nl": {"“{value}” is geen Belgisch ondernemings- of btw-nummer: schrijf het als BE0123.456.749.",
			"Dit is geen Belgisch ondernemings- of btw-nummer: schrijf het als BE0123.456.749."},
		"de": {"„{value}“ ist keine belgische Unternehmens- oder USt-Nummer: Schreiben Sie sie wie BE0123.456.749.",
			"Das ist keine belgische Unternehmens- oder USt-Nummer: Schreiben Sie sie wie BE0123.456.749."},
		"cs": {"„{value}“ není belgické číslo podniku ani DIČ: zapište ho ve tvaru BE0123.456.749.",
			"Toto není belgické číslo podniku ani DIČ: zapište ho ve tvaru BE0123.456.749."},
	},
	"invalid_vat_check_digits": {
		"en": {"The check digits of “{value}” are wrong: the number probably has a typing error.",
			"The check digits of this number are wrong: it probably has a typing error."},
		"fr": {"Les chiffres de contrôle de « {value} » sont incorrects : le numéro contient sans doute une faute de frappe.",
			"Les chiffres de contrôle de ce numéro sont incorrects : il contient sans doute une faute de frappe."},
		"nl": {"De controlecijfers van “{value}” kloppen niet: het nummer bevat waarschijnlijk een tikfout.",
			"De controlecijfers van dit nummer kloppen niet: het bevat waarschijnlijk een tikfout."},
		"de": {"Die Prüfziffern von „{value}“ stimmen nicht: Die Nummer enthält wahrscheinlich einen Tippfehler.",
			"Die Prüfziffern dieser Nummer stimmen nicht: Sie enthält wahrscheinlich einen Tippfehler."},
		"cs": {"Kontrolní číslice čísla „{value}“ nesedí: číslo nejspíš obsahuje překlep.",
			"Kontrolní číslice tohoto čísla nesedí: nejspíš obsahuje překlep."},
	},
	// A warning: the row is imported without the phone number.
	"invalid_phone": {
		"en": {"“{value}” was not recognised as a phone number; it will be left out.",
			"The phone number was not recognised; it will be left out."},
		"fr": {"« {value} » n'a pas été reconnu comme numéro de téléphone ; il sera laissé de côté.",
			"Le numéro de téléphone n'a pas été reconnu ; il sera laissé de côté."},
		"nl": {"“{value}” werd niet herkend als telefoonnummer; het wordt weggelaten.",
			"Het telefoonnummer werd niet herkend; het wordt weggelaten."},
		"de": {"„{value}“ wurde nicht als Telefonnummer erkannt und wird weggelassen.",
			"Die Telefonnummer wurde nicht erkannt und wird weggelassen."},
		"cs": {"„{value}“ nebylo rozpoznáno jako telefonní číslo; bude vynecháno.",
			"Telefonní číslo nebylo rozpoznáno; bude vynecháno."},
	},
	"unknown_country": {
		"en": {"“{value}” is not a country code: use the two-letter ISO code, for example BE, NL or FR.",
			"This is not a country code: use the two-letter ISO code, for example BE, NL or FR."},
		"fr": {"« {value} » n'est pas un code de pays : utilisez le code ISO à deux lettres, par exemple BE, NL ou FR.",
			"Ce n'est pas un code de pays : utilisez le code ISO à deux lettres, par exemple BE, NL ou FR."},
		"nl": {"“{value}” is geen landcode: gebruik de ISO-code van twee letters, bijvoorbeeld BE, NL of FR.",
			"Dit is geen landcode: gebruik de ISO-code van twee letters, bijvoorbeeld BE, NL of FR."},
		"de": {"„{value}“ ist kein Ländercode: Verwenden Sie den zweistelligen ISO-Code, zum Beispiel BE, NL oder FR.",
			"Das ist kein Ländercode: Verwenden Sie den zweistelligen ISO-Code, zum Beispiel BE, NL oder FR."},
		"cs": {"„{value}“ není kód země: použijte dvoupísmenný kód ISO, například BE, NL nebo FR.",
			"Toto není kód země: použijte dvoupísmenný kód ISO, například BE, NL nebo FR."},
	},
	"invalid_kind": {
		"en": {"“{value}” is not a kind of client: use “person” or “company”.",
			"This is not a kind of client: use “person” or “company”."},
		"fr": {"« {value} » n'est pas un type de client : utilisez « person » (personne) ou « company » (société).",
			"Ce n'est pas un type de client : utilisez « person » (personne) ou « company » (société)."},
		"nl": {"“{value}” is geen soort klant: gebruik “person” (persoon) of “company” (bedrijf).",
			"Dit is geen soort klant: gebruik “person” (persoon) of “company” (bedrijf)."},
		"de": {"„{value}“ ist keine Kundenart: Verwenden Sie „person“ (Person) oder „company“ (Firma).",
			"Das ist keine Kundenart: Verwenden Sie „person“ (Person) oder „company“ (Firma)."},
		"cs": {"„{value}“ není typ klienta: použijte „person“ (osoba) nebo „company“ (firma).",
			"Toto není typ klienta: použijte „person“ (osoba) nebo „company“ (firma)."},
	},
	// The value itself is not quoted: it holds what cannot be shown.
	"invalid_text": {
		"en": {"The value contains characters that cannot be stored (control characters or invalid text)."},
		"fr": {"La valeur contient des caractères qui ne peuvent pas être enregistrés (caractères de contrôle ou texte invalide)."},
		"nl": {"De waarde bevat tekens die niet bewaard kunnen worden (stuurtekens of ongeldige tekst)."},
		"de": {"Der Wert enthält Zeichen, die nicht gespeichert werden können (Steuerzeichen oder ungültiger Text)."},
		"cs": {"Hodnota obsahuje znaky, které nelze uložit (řídicí znaky nebo neplatný text)."},
	},
	"invalid_number": {
		"en": {"“{value}” is not a number.", "This is not a number."},
		"fr": {"« {value} » n'est pas un nombre.", "Ce n'est pas un nombre."},
		"nl": {"“{value}” is geen getal.", "Dit is geen getal."},
		"de": {"„{value}“ ist keine Zahl.", "Das ist keine Zahl."},
		"cs": {"„{value}“ není číslo.", "Toto není číslo."},
	},
	"invalid_date": {
		"en": {"“{value}” is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.", "This is not a date: write it as YYYY-MM-DD or DD/MM/YYYY."},
		"fr": {"« {value} » n'est pas une date : écrivez-la sous la forme AAAA-MM-JJ ou JJ/MM/AAAA.",
			"Ce n'est pas une date : écrivez-la sous la forme AAAA-MM-JJ ou JJ/MM/AAAA."},
		"nl": {"“{value}” is geen datum: schrijf ze als JJJJ-MM-DD of DD/MM/JJJJ.", "Dit is geen datum: schrijf ze als JJJJ-MM-DD of DD/MM/JJJJ."},
		"de": {"„{value}“ ist kein Datum: Schreiben Sie es als JJJJ-MM-TT oder TT.MM.JJJJ.",
			"Das ist kein Datum: Schreiben Sie es als JJJJ-MM-TT oder TT.MM.JJJJ."},
		"cs": {"„{value}“ není datum: zapište ho jako RRRR-MM-DD nebo DD.MM.RRRR.", "Toto není datum: zapište ho jako RRRR-MM-DD nebo DD.MM.RRRR."},
	},
	"invalid_choice": {
		"en": {"“{value}” is not one of the options: {options}.", "This is not one of the options: {options}.",
			"This is not one of the field's options."},
		"fr": {"« {value} » ne fait pas partie des options : {options}.", "Cette valeur ne fait pas partie des options : {options}.",
			"Cette valeur ne fait pas partie des options du champ."},
		"nl": {"“{value}” is geen van de opties: {options}.", "Dit is geen van de opties: {options}.",
			"Dit is geen van de opties van het veld."},
		"de": {"„{value}“ ist keine der Optionen: {options}.", "Das ist keine der Optionen: {options}.",
			"Das ist keine der Optionen des Feldes."},
		"cs": {"„{value}“ není žádná z možností: {options}.", "Toto není žádná z možností: {options}.",
			"Toto není žádná z možností pole."},
	},
	"unknown_custom_field": {
		"en": {"The custom field “{label}” does not exist in this registry: define it first or remove the column.",
			"Column {column} (“{header}”) is not a custom field of this registry: define it first or remove the column.",
			"This custom field does not exist in this registry: define it first or remove the column."},
		"fr": {"Le champ personnalisé « {label} » n'existe pas dans ce registre : créez-le d'abord ou supprimez la colonne.",
			"La colonne {column} (« {header} ») n'est pas un champ personnalisé de ce registre : créez-le d'abord ou supprimez la colonne.",
			"Ce champ personnalisé n'existe pas dans ce registre : créez-le d'abord ou supprimez la colonne."},
		"nl": {"Het eigen veld “{label}” bestaat niet in dit register: maak het eerst aan of verwijder de kolom.",
			"Kolom {column} (“{header}”) is geen eigen veld van dit register: maak het eerst aan of verwijder de kolom.",
			"Dit eigen veld bestaat niet in dit register: maak het eerst aan of verwijder de kolom."},
		"de": {"Das eigene Feld „{label}“ gibt es in diesem Register nicht: Legen Sie es zuerst an oder entfernen Sie die Spalte.",
			"Spalte {column} („{header}“) ist kein eigenes Feld dieses Registers: Legen Sie es zuerst an oder entfernen Sie die Spalte.",
			"Dieses eigene Feld gibt es in diesem Register nicht: Legen Sie es zuerst an oder entfernen Sie die Spalte."},
		"cs": {"Vlastní pole „{label}“ v tomto registru neexistuje: nejprve ho vytvořte, nebo sloupec odstraňte.",
			"Sloupec {column} („{header}“) není vlastní pole tohoto registru: nejprve ho vytvořte, nebo sloupec odstraňte.",
			"Toto vlastní pole v tomto registru neexistuje: nejprve ho vytvořte, nebo sloupec odstraňte."},
	},
	"invalid_source": {
		"en": {"“{value}” is not a source name: use lower-case letters, digits and _ . : -",
			"This is not a source name: use lower-case letters, digits and _ . : -"},
		"fr": {"« {value} » n'est pas un nom de source : utilisez des minuscules, des chiffres et _ . : -",
			"Ce n'est pas un nom de source : utilisez des minuscules, des chiffres et _ . : -"},
		"nl": {"“{value}” is geen bronnaam: gebruik kleine letters, cijfers en _ . : -",
			"Dit is geen bronnaam: gebruik kleine letters, cijfers en _ . : -"},
		"de": {"„{value}“ ist kein Quellenname: Verwenden Sie Kleinbuchstaben, Ziffern und _ . : -",
			"Das ist kein Quellenname: Verwenden Sie Kleinbuchstaben, Ziffern und _ . : -"},
		"cs": {"„{value}“ není název zdroje: použijte malá písmena, číslice a _ . : -",
			"Toto není název zdroje: použijte malá písmena, číslice a _ . : -"},
	},
	"contact_name_required": {
		"en": {"Contact person {contact} needs a first or a last name.", "The contact person needs a first or a last name."},
		"fr": {"La personne de contact {contact} doit avoir un prénom ou un nom.", "La personne de contact doit avoir un prénom ou un nom."},
		"nl": {"Contactpersoon {contact} heeft een voornaam of een achternaam nodig.", "De contactpersoon heeft een voornaam of een achternaam nodig."},
		"de": {"Kontaktperson {contact} braucht einen Vor- oder Nachnamen.", "Die Kontaktperson braucht einen Vor- oder Nachnamen."},
		"cs": {"Kontaktní osoba {contact} musí mít jméno nebo příjmení.", "Kontaktní osoba musí mít jméno nebo příjmení."},
	},

	// Rows against each other and against the registry.
	"duplicate_in_file": {
		"en": {"“{value}” ({label}) is already used on row {first_row}.", "“{value}” is already used on row {first_row}.",
			"This value is already used on row {first_row}.", "This value is already used on another row of the file."},
		"fr": {"« {value} » ({label}) figure déjà à la ligne {first_row}.", "« {value} » figure déjà à la ligne {first_row}.",
			"Cette valeur figure déjà à la ligne {first_row}.", "Cette valeur figure déjà sur une autre ligne du fichier."},
		"nl": {"“{value}” ({label}) komt al voor op rij {first_row}.", "“{value}” komt al voor op rij {first_row}.",
			"Deze waarde komt al voor op rij {first_row}.", "Deze waarde komt al voor op een andere rij van het bestand."},
		"de": {"„{value}“ ({label}) steht bereits in Zeile {first_row}.", "„{value}“ steht bereits in Zeile {first_row}.",
			"Dieser Wert steht bereits in Zeile {first_row}.", "Dieser Wert steht bereits in einer anderen Zeile der Datei."},
		"cs": {"Hodnota „{value}“ ({label}) je už uvedena na řádku {first_row}.", "Hodnota „{value}“ je už uvedena na řádku {first_row}.",
			"Tato hodnota je už uvedena na řádku {first_row}.", "Tato hodnota je už uvedena na jiném řádku souboru."},
	},
	"email_taken": {
		"en": {"The email address “{value}” already belongs to another client in the registry: it was taken after the analysis.",
			"This email address already belongs to another client in the registry: it was taken after the analysis."},
		"fr": {"L'adresse e-mail « {value} » appartient déjà à un autre client du registre : elle a été prise après l'analyse.",
			"Cette adresse e-mail appartient déjà à un autre client du registre : elle a été prise après l'analyse."},
		"nl": {"Het e-mailadres “{value}” hoort al bij een andere klant in het register: het werd na de analyse in gebruik genomen.",
			"Dit e-mailadres hoort al bij een andere klant in het register: het werd na de analyse in gebruik genomen."},
		"de": {"Die E-Mail-Adresse „{value}“ gehört bereits einem anderen Kunden im Register: Sie wurde nach der Analyse vergeben.",
			"Diese E-Mail-Adresse gehört bereits einem anderen Kunden im Register: Sie wurde nach der Analyse vergeben."},
		"cs": {"E-mailová adresa „{value}“ už patří jinému klientovi v registru: byla obsazena až po analýze.",
			"Tato e-mailová adresa už patří jinému klientovi v registru: byla obsazena až po analýze."},
	},
	"external_id_taken": {
		"en": {"The external ID “{value}” already belongs to another client in the registry: it was taken after the analysis.",
			"This external ID already belongs to another client in the registry: it was taken after the analysis."},
		"fr": {"La référence externe « {value} » appartient déjà à un autre client du registre : elle a été prise après l'analyse.",
			"Cette référence externe appartient déjà à un autre client du registre : elle a été prise après l'analyse."},
		"nl": {"De externe referentie “{value}” hoort al bij een andere klant in het register: ze werd na de analyse in gebruik genomen.",
			"Deze externe referentie hoort al bij een andere klant in het register: ze werd na de analyse in gebruik genomen."},
		"de": {"Die externe ID „{value}“ gehört bereits einem anderen Kunden im Register: Sie wurde nach der Analyse vergeben.",
			"Diese externe ID gehört bereits einem anderen Kunden im Register: Sie wurde nach der Analyse vergeben."},
		"cs": {"Externí ID „{value}“ už patří jinému klientovi v registru: bylo obsazeno až po analýze.",
			"Toto externí ID už patří jinému klientovi v registru: bylo obsazeno až po analýze."},
	},
	"client_not_found": {
		"en": {"No client with the email address or external ID “{value}” is in this file or in the registry: add the client first.",
			"The client of this contact person is neither in this file nor in the registry: add the client first."},
		"fr": {"Aucun client avec l'adresse e-mail ou la référence externe « {value} » ne se trouve dans ce fichier ni dans le registre : ajoutez d'abord le client.",
			"Le client de cette personne de contact ne se trouve ni dans ce fichier ni dans le registre : ajoutez d'abord le client."},
		"nl": {"Geen klant met het e-mailadres of de externe referentie “{value}” staat in dit bestand of in het register: voeg eerst de klant toe.",
			"De klant van deze contactpersoon staat niet in dit bestand en niet in het register: voeg eerst de klant toe."},
		"de": {"Kein Kunde mit der E-Mail-Adresse oder externen ID „{value}“ ist in dieser Datei oder im Register: Legen Sie zuerst den Kunden an.",
			"Der Kunde dieser Kontaktperson ist weder in dieser Datei noch im Register: Legen Sie zuerst den Kunden an."},
		"cs": {"Klient s e-mailovou adresou nebo externím ID „{value}“ není v tomto souboru ani v registru: nejprve klienta přidejte.",
			"Klient této kontaktní osoby není v tomto souboru ani v registru: nejprve klienta přidejte."},
	},
	"existing_client_skipped": {
		"en": {"The client “{value}” already exists in the registry and was skipped: this import only creates new clients.",
			"This client already exists in the registry and was skipped: this import only creates new clients."},
		"fr": {"Le client « {value} » existe déjà dans le registre et a été ignoré : cet import crée uniquement de nouveaux clients.",
			"Ce client existe déjà dans le registre et a été ignoré : cet import crée uniquement de nouveaux clients."},
		"nl": {"De klant “{value}” bestaat al in het register en werd overgeslagen: deze import maakt alleen nieuwe klanten aan.",
			"Deze klant bestaat al in het register en werd overgeslagen: deze import maakt alleen nieuwe klanten aan."},
		"de": {"Der Kunde „{value}“ existiert bereits im Register und wurde übersprungen: Dieser Import legt nur neue Kunden an.",
			"Dieser Kunde existiert bereits im Register und wurde übersprungen: Dieser Import legt nur neue Kunden an."},
		"cs": {"Klient „{value}“ už v registru existuje a byl přeskočen: tento import vytváří jen nové klienty.",
			"Tento klient už v registru existuje a byl přeskočen: tento import vytváří jen nové klienty."},
	},
	"not_imported": {
		"en": {"This row was not imported: {reason}.", "This row was not imported because of an unexpected error."},
		"fr": {"Cette ligne n'a pas été importée : {reason}.", "Cette ligne n'a pas été importée à cause d'une erreur inattendue."},
		"nl": {"Deze rij werd niet geïmporteerd: {reason}.", "Deze rij werd niet geïmporteerd door een onverwachte fout."},
		"de": {"Diese Zeile wurde nicht importiert: {reason}.", "Diese Zeile wurde wegen eines unerwarteten Fehlers nicht importiert."},
		"cs": {"Tento řádek nebyl importován: {reason}.", "Tento řádek nebyl importován kvůli neočekávané chybě."},
	},

	// Columns.
	"line_breaks_joined": {
		"en": {"{Field} was written on several lines; the lines were joined with spaces: “{value}”.",
			"A value written on several lines was joined with spaces."},
		"fr": {"{Field} était écrit sur plusieurs lignes ; les lignes ont été jointes par des espaces : « {value} ».",
			"Une valeur écrite sur plusieurs lignes a été jointe par des espaces."},
		"nl": {"{Field} stond op meerdere regels; de regels werden met spaties samengevoegd: “{value}”.",
			"Een waarde op meerdere regels werd met spaties samengevoegd."},
		"de": {"{Field} stand auf mehreren Zeilen; die Zeilen wurden mit Leerzeichen verbunden: „{value}“.",
			"Ein Wert auf mehreren Zeilen wurde mit Leerzeichen verbunden."},
		"cs": {"{Field} bylo zapsáno na více řádcích; řádky byly spojeny mezerami: „{value}“.",
			"Hodnota zapsaná na více řádcích byla spojena mezerami."},
	},
	"phone_zero_restored": {
		"en": {"“{value}” lost its leading zero (the spreadsheet stored it as a number); it is imported as 0{value}.",
			"A mobile number lost its leading zero in the spreadsheet; the zero was put back."},
		"fr": {"« {value} » a perdu son zéro initial (le tableur l'a enregistré comme un nombre) ; il est importé comme 0{value}.",
			"Un numéro de GSM a perdu son zéro initial dans le tableur ; le zéro a été remis."},
		"nl": {"“{value}” verloor zijn voorloopnul (het rekenblad bewaarde het als getal); het wordt geïmporteerd als 0{value}.",
			"Een gsm-nummer verloor zijn voorloopnul in het rekenblad; de nul werd teruggezet."},
		"de": {"„{value}“ hat seine führende Null verloren (die Tabelle speicherte es als Zahl); es wird als 0{value} importiert.",
			"Eine Handynummer hat in der Tabelle ihre führende Null verloren; die Null wurde ergänzt."},
		"cs": {"„{value}“ ztratilo úvodní nulu (tabulka ho uložila jako číslo); importuje se jako 0{value}.",
			"Mobilní číslo ztratilo v tabulce úvodní nulu; nula byla doplněna."},
	},
	"decimal_dropped": {
		"en": {"“{value}” was written as a decimal number; it is imported as {restored}.",
			"A number written with decimals was imported without them."},
		"fr": {"« {value} » était écrit comme un nombre décimal ; il est importé comme {restored}.",
			"Un nombre écrit avec des décimales a été importé sans elles."},
		"nl": {"“{value}” stond er als decimaal getal; het wordt geïmporteerd als {restored}.",
			"Een getal met decimalen werd zonder decimalen geïmporteerd."},
		"de": {"„{value}“ stand als Dezimalzahl da; es wird als {restored} importiert.",
			"Eine Zahl mit Nachkommastellen wurde ohne sie importiert."},
		"cs": {"„{value}“ bylo zapsáno jako desetinné číslo; importuje se jako {restored}.",
			"Číslo zapsané s desetinnými místy bylo importováno bez nich."},
	},
	"kept_aside": {
		"en": {"Column {column} (“{header}”) also holds {field}; column {first_column} comes first (business, then mobile, then home), so column {column} is kept aside and not imported.",
			"A column holding the same field as a preferred one is kept aside and not imported."},
		"fr": {"La colonne {column} (« {header} ») contient aussi {field} ; la colonne {first_column} passe avant (professionnel, puis GSM, puis privé), la colonne {column} est donc mise de côté et n'est pas importée.",
			"Une colonne contenant le même champ qu'une colonne prioritaire est mise de côté et n'est pas importée."},
		"nl": {"Kolom {column} (“{header}”) bevat ook {field}; kolom {first_column} gaat voor (werk, dan gsm, dan thuis), dus kolom {column} wordt opzij gezet en niet geïmporteerd.",
			"Een kolom met hetzelfde veld als een voorrangskolom wordt opzij gezet en niet geïmporteerd."},
		"de": {"Spalte {column} („{header}“) enthält ebenfalls {field}; Spalte {first_column} hat Vorrang (geschäftlich, dann mobil, dann privat), daher wird Spalte {column} beiseitegelegt und nicht importiert.",
			"Eine Spalte mit demselben Feld wie eine vorrangige Spalte wird beiseitegelegt und nicht importiert."},
		"cs": {"Sloupec {column} („{header}“) obsahuje také {field}; přednost má sloupec {first_column} (pracovní, pak mobilní, pak domácí), proto je sloupec {column} odložen a nebude importován.",
			"Sloupec se stejným polem jako přednostní sloupec je odložen a nebude importován."},
	},
	"header_row": {
		"en": {"The header is on row {row}; the rows above it are not read.", "The header is not on the first row; the rows above it are not read."},
		"fr": {"L'en-tête est à la ligne {row} ; les lignes au-dessus ne sont pas lues.", "L'en-tête n'est pas sur la première ligne ; les lignes au-dessus ne sont pas lues."},
		"nl": {"De kop staat op rij {row}; de rijen erboven worden niet gelezen.", "De kop staat niet op de eerste rij; de rijen erboven worden niet gelezen."},
		"de": {"Die Kopfzeile steht in Zeile {row}; die Zeilen darüber werden nicht gelesen.", "Die Kopfzeile steht nicht in der ersten Zeile; die Zeilen darüber werden nicht gelesen."},
		"cs": {"Záhlaví je na řádku {row}; řádky nad ním se nečtou.", "Záhlaví není na prvním řádku; řádky nad ním se nečtou."},
	},
	"unknown_column": {
		"en": {"Column {column} (“{header}”) was not recognised and will not be imported.",
			"Column {column} was not recognised and will not be imported.", "A column was not recognised and will not be imported."},
		"fr": {"La colonne {column} (« {header} ») n'a pas été reconnue et ne sera pas importée.",
			"La colonne {column} n'a pas été reconnue et ne sera pas importée.", "Une colonne n'a pas été reconnue et ne sera pas importée."},
		"nl": {"Kolom {column} (“{header}”) werd niet herkend en wordt niet geïmporteerd.",
			"Kolom {column} werd niet herkend en wordt niet geïmporteerd.", "Een kolom werd niet herkend en wordt niet geïmporteerd."},
		"de": {"Spalte {column} („{header}“) wurde nicht erkannt und wird nicht importiert.",
			"Spalte {column} wurde nicht erkannt und wird nicht importiert.", "Eine Spalte wurde nicht erkannt und wird nicht importiert."},
		"cs": {"Sloupec {column} („{header}“) nebyl rozpoznán a nebude importován.",
			"Sloupec {column} nebyl rozpoznán a nebude importován.", "Jeden sloupec nebyl rozpoznán a nebude importován."},
	},
	"duplicate_field_column": {
		"en": {"Column {column} (“{header}”) holds the same field as column {first_column}; only column {first_column} is imported.",
			"A column holds the same field as an earlier one and is not imported."},
		"fr": {"La colonne {column} (« {header} ») contient le même champ que la colonne {first_column} ; seule la colonne {first_column} est importée.",
			"Une colonne contient le même champ qu'une colonne précédente et n'est pas importée."},
		"nl": {"Kolom {column} (“{header}”) bevat hetzelfde veld als kolom {first_column}; alleen kolom {first_column} wordt geïmporteerd.",
			"Een kolom bevat hetzelfde veld als een eerdere kolom en wordt niet geïmporteerd."},
		"de": {"Spalte {column} („{header}“) enthält dasselbe Feld wie Spalte {first_column}; nur Spalte {first_column} wird importiert.",
			"Eine Spalte enthält dasselbe Feld wie eine frühere und wird nicht importiert."},
		"cs": {"Sloupec {column} („{header}“) obsahuje stejné pole jako sloupec {first_column}; importuje se jen sloupec {first_column}.",
			"Sloupec obsahuje stejné pole jako dřívější sloupec a nebude importován."},
	},
	"duplicate_header": {
		"en": {"Columns {first_column} and {column} (“{header}”) both hold the field “{label}”: keep only one of them.",
			"Column {column} (“{header}”) holds the same field as an earlier column: keep only one of them.",
			"Two columns hold the same field: keep only one of them."},
		"fr": {"Les colonnes {first_column} et {column} (« {header} ») contiennent toutes deux le champ « {label} » : n'en gardez qu'une.",
			"La colonne {column} (« {header} ») contient le même champ qu'une colonne précédente : n'en gardez qu'une.",
			"Deux colonnes contiennent le même champ : n'en gardez qu'une."},
		"nl": {"De kolommen {first_column} en {column} (“{header}”) bevatten allebei het veld “{label}”: behoud er maar één.",
			"Kolom {column} (“{header}”) bevat hetzelfde veld als een eerdere kolom: behoud er maar één.",
			"Twee kolommen bevatten hetzelfde veld: behoud er maar één."},
		"de": {"Die Spalten {first_column} und {column} („{header}“) enthalten beide das Feld „{label}“: Behalten Sie nur eine davon.",
			"Spalte {column} („{header}“) enthält dasselbe Feld wie eine frühere Spalte: Behalten Sie nur eine davon.",
			"Zwei Spalten enthalten dasselbe Feld: Behalten Sie nur eine davon."},
		"cs": {"Sloupce {first_column} a {column} („{header}“) obsahují stejné pole „{label}“: ponechte jen jeden z nich.",
			"Sloupec {column} („{header}“) obsahuje stejné pole jako některý předchozí sloupec: ponechte jen jeden z nich.",
			"Dva sloupce obsahují stejné pole: ponechte jen jeden z nich."},
	},
	"no_email_column": {
		"en": {"No column holds the email address (or an external ID): add one, or say which column holds it."},
		"fr": {"Aucune colonne ne contient l'adresse e-mail (ou une référence externe) : ajoutez-en une ou indiquez quelle colonne la contient."},
		"nl": {"Geen enkele kolom bevat het e-mailadres (of een externe referentie): voeg er een toe of geef aan welke kolom het bevat."},
		"de": {"Keine Spalte enthält die E-Mail-Adresse (oder eine externe ID): Fügen Sie eine hinzu oder geben Sie an, welche Spalte sie enthält."},
		"cs": {"Žádný sloupec neobsahuje e-mailovou adresu (ani externí ID): přidejte ho, nebo určete, který sloupec ji obsahuje."},
	},
	"unknown_column_key": {
		"en": {"“{value}” is not a field an import can fill.", "The column mapping names a field an import cannot fill."},
		"fr": {"« {value} » n'est pas un champ qu'un import peut remplir.", "La correspondance des colonnes désigne un champ qu'un import ne peut pas remplir."},
		"nl": {"“{value}” is geen veld dat een import kan invullen.", "De kolomtoewijzing noemt een veld dat een import niet kan invullen."},
		"de": {"„{value}“ ist kein Feld, das ein Import füllen kann.", "Die Spaltenzuordnung nennt ein Feld, das ein Import nicht füllen kann."},
		"cs": {"„{value}“ není pole, které může import vyplnit.", "Přiřazení sloupců uvádí pole, které import nemůže vyplnit."},
	},

	// The whole file.
	"too_many_rows": {
		"en": {"The file has more than {limit} rows: split it into smaller files.", "The file has too many rows: split it into smaller files."},
		"fr": {"Le fichier compte plus de {limit} lignes : divisez-le en fichiers plus petits.", "Le fichier compte trop de lignes : divisez-le en fichiers plus petits."},
		"nl": {"Het bestand heeft meer dan {limit} rijen: splits het op in kleinere bestanden.", "Het bestand heeft te veel rijen: splits het op in kleinere bestanden."},
		"de": {"Die Datei hat mehr als {limit} Zeilen: Teilen Sie sie in kleinere Dateien auf.", "Die Datei hat zu viele Zeilen: Teilen Sie sie in kleinere Dateien auf."},
		"cs": {"Soubor má více než {limit} řádků: rozdělte ho na menší soubory.", "Soubor má příliš mnoho řádků: rozdělte ho na menší soubory."},
	},
	"file_too_large": {
		"en": {"The file is larger than {limit} MB: split it into smaller files.", "The file is too large: split it into smaller files."},
		"fr": {"Le fichier dépasse {limit} Mo : divisez-le en fichiers plus petits.", "Le fichier est trop volumineux : divisez-le en fichiers plus petits."},
		"nl": {"Het bestand is groter dan {limit} MB: splits het op in kleinere bestanden.", "Het bestand is te groot: splits het op in kleinere bestanden."},
		"de": {"Die Datei ist größer als {limit} MB: Teilen Sie sie in kleinere Dateien auf.", "Die Datei ist zu groß: Teilen Sie sie in kleinere Dateien auf."},
		"cs": {"Soubor je větší než {limit} MB: rozdělte ho na menší soubory.", "Soubor je příliš velký: rozdělte ho na menší soubory."},
	},
	"too_many_columns": {
		"en": {"The file has more than {limit} columns: remove the columns you do not need.", "The file has too many columns: remove the columns you do not need."},
		"fr": {"Le fichier compte plus de {limit} colonnes : supprimez les colonnes inutiles.", "Le fichier compte trop de colonnes : supprimez les colonnes inutiles."},
		"nl": {"Het bestand heeft meer dan {limit} kolommen: verwijder de kolommen die u niet nodig hebt.",
			"Het bestand heeft te veel kolommen: verwijder de kolommen die u niet nodig hebt."},
		"de": {"Die Datei hat mehr als {limit} Spalten: Entfernen Sie die Spalten, die Sie nicht brauchen.",
			"Die Datei hat zu viele Spalten: Entfernen Sie die Spalten, die Sie nicht brauchen."},
		"cs": {"Soubor má více než {limit} sloupců: odstraňte sloupce, které nepotřebujete.", "Soubor má příliš mnoho sloupců: odstraňte sloupce, které nepotřebujete."},
	},
	"row_too_large": {
		"en": {"Row {row} holds more than 1 MB of text: a client's data is far less. Check the file, or split it.",
			"A row holds more than 1 MB of text: a client's data is far less. Check the file, or split it."},
		"fr": {"La ligne {row} contient plus de 1 Mo de texte, bien plus que les données d'un client. Vérifiez le fichier ou divisez-le.",
			"Une ligne contient plus de 1 Mo de texte, bien plus que les données d'un client. Vérifiez le fichier ou divisez-le."},
		"nl": {"Rij {row} bevat meer dan 1 MB tekst, veel meer dan de gegevens van een klant. Controleer het bestand of splits het op.",
			"Een rij bevat meer dan 1 MB tekst, veel meer dan de gegevens van een klant. Controleer het bestand of splits het op."},
		"de": {"Zeile {row} enthält mehr als 1 MB Text, weit mehr als die Daten eines Kunden. Prüfen Sie die Datei oder teilen Sie sie auf.",
			"Eine Zeile enthält mehr als 1 MB Text, weit mehr als die Daten eines Kunden. Prüfen Sie die Datei oder teilen Sie sie auf."},
		"cs": {"Řádek {row} obsahuje více než 1 MB textu, mnohem víc než údaje klienta. Zkontrolujte soubor nebo ho rozdělte.",
			"Řádek obsahuje více než 1 MB textu, mnohem víc než údaje klienta. Zkontrolujte soubor nebo ho rozdělte."},
	},
	// The header itself is not quoted: it holds what cannot be shown.
	"invalid_header": {
		"en": {"The header of column {column} holds control characters or invalid text, or is too long: retype it.",
			"A header holds control characters or invalid text, or is too long: retype it."},
		"fr": {"L'en-tête de la colonne {column} contient des caractères de contrôle ou du texte invalide, ou est trop long : retapez-le.",
			"Un en-tête contient des caractères de contrôle ou du texte invalide, ou est trop long : retapez-le."},
		"nl": {"De koptekst van kolom {column} bevat stuurtekens of ongeldige tekst, of is te lang: typ hem opnieuw.",
			"Een koptekst bevat stuurtekens of ongeldige tekst, of is te lang: typ hem opnieuw."},
		"de": {"Die Überschrift der Spalte {column} enthält Steuerzeichen oder ungültigen Text oder ist zu lang: Geben Sie sie neu ein.",
			"Eine Überschrift enthält Steuerzeichen oder ungültigen Text oder ist zu lang: Geben Sie sie neu ein."},
		"cs": {"Záhlaví sloupce {column} obsahuje řídicí znaky nebo neplatný text, nebo je příliš dlouhé: napište ho znovu.",
			"Záhlaví obsahuje řídicí znaky nebo neplatný text, nebo je příliš dlouhé: napište ho znovu."},
	},
	"empty_file": {
		"en": {"The file is empty."}, "fr": {"Le fichier est vide."}, "nl": {"Het bestand is leeg."},
		"de": {"Die Datei ist leer."}, "cs": {"Soubor je prázdný."},
	},
	"no_rows": {
		"en": {"The file has a header row but no data below it."},
		"fr": {"Le fichier a une ligne d'en-têtes mais aucune donnée en dessous."},
		"nl": {"Het bestand heeft een rij met kopteksten maar geen gegevens eronder."},
		"de": {"Die Datei hat eine Überschriftenzeile, aber keine Daten darunter."},
		"cs": {"Soubor má řádek se záhlavím, ale pod ním žádná data."},
	},
	"binary_content": {
		"en": {"The file does not contain text: upload an XLSX, XLS, CSV or TXT file."},
		"fr": {"Le fichier ne contient pas de texte : chargez un fichier XLSX, XLS, CSV ou TXT."},
		"nl": {"Het bestand bevat geen tekst: laad een XLSX-, XLS-, CSV- of TXT-bestand op."},
		"de": {"Die Datei enthält keinen Text: Laden Sie eine XLSX-, XLS-, CSV- oder TXT-Datei hoch."},
		"cs": {"Soubor neobsahuje text: nahrajte soubor XLSX, XLS, CSV nebo TXT."},
	},
	"invalid_encoding": {
		"en": {"The text encoding of the file was not recognised: save it as “CSV UTF-8” and upload it again."},
		"fr": {"L'encodage du texte du fichier n'a pas été reconnu : enregistrez-le au format « CSV UTF-8 » et chargez-le à nouveau."},
		"nl": {"De tekstcodering van het bestand werd niet herkend: sla het op als “CSV UTF-8” en laad het opnieuw op."},
		"de": {"Die Textkodierung der Datei wurde nicht erkannt: Speichern Sie sie als „CSV UTF-8“ und laden Sie sie erneut hoch."},
		"cs": {"Kódování textu souboru nebylo rozpoznáno: uložte ho jako „CSV UTF-8“ a nahrajte ho znovu."},
	},
	"malformed_csv": {
		"en": {"The file could not be read as CSV near row {row}: check the quotation marks and separators there.",
			"The file could not be read as CSV: check the quotation marks and separators."},
		"fr": {"Le fichier n'a pas pu être lu comme CSV vers la ligne {row} : vérifiez-y les guillemets et les séparateurs.",
			"Le fichier n'a pas pu être lu comme CSV : vérifiez les guillemets et les séparateurs."},
		"nl": {"Het bestand kon rond rij {row} niet als CSV gelezen worden: controleer daar de aanhalingstekens en scheidingstekens.",
			"Het bestand kon niet als CSV gelezen worden: controleer de aanhalingstekens en scheidingstekens."},
		"de": {"Die Datei konnte um Zeile {row} nicht als CSV gelesen werden: Prüfen Sie dort die Anführungszeichen und Trennzeichen.",
			"Die Datei konnte nicht als CSV gelesen werden: Prüfen Sie die Anführungszeichen und Trennzeichen."},
		"cs": {"Soubor se kolem řádku {row} nepodařilo přečíst jako CSV: zkontrolujte tam uvozovky a oddělovače.",
			"Soubor se nepodařilo přečíst jako CSV: zkontrolujte uvozovky a oddělovače."},
	},
	"unbalanced_quotes": {
		"en": {"A quotation mark opened on row {row} is never closed: check that row.", "A quotation mark in the file is never closed."},
		"fr": {"Un guillemet ouvert à la ligne {row} n'est jamais fermé : vérifiez cette ligne.", "Un guillemet du fichier n'est jamais fermé."},
		"nl": {"Een aanhalingsteken dat op rij {row} geopend wordt, wordt nooit gesloten: controleer die rij.",
			"Een aanhalingsteken in het bestand wordt nooit gesloten."},
		"de": {"Ein in Zeile {row} geöffnetes Anführungszeichen wird nie geschlossen: Prüfen Sie diese Zeile.",
			"Ein Anführungszeichen in der Datei wird nie geschlossen."},
		"cs": {"Uvozovky otevřené na řádku {row} nejsou nikdy uzavřeny: zkontrolujte tento řádek.", "Uvozovky v souboru nejsou nikdy uzavřeny."},
	},
	"unsupported_format": {
		"en": {"This file format is not supported: upload an XLSX, XLS, CSV or TXT file."},
		"fr": {"Ce format de fichier n'est pas pris en charge : chargez un fichier XLSX, XLS, CSV ou TXT."},
		"nl": {"Dit bestandsformaat wordt niet ondersteund: laad een XLSX-, XLS-, CSV- of TXT-bestand op."},
		"de": {"Dieses Dateiformat wird nicht unterstützt: Laden Sie eine XLSX-, XLS-, CSV- oder TXT-Datei hoch."},
		"cs": {"Tento formát souboru není podporován: nahrajte soubor XLSX, XLS, CSV nebo TXT."},
	},
	"password_protected": {
		"en": {"The workbook is protected by a password: remove the password and upload it again."},
		"fr": {"Le classeur est protégé par un mot de passe : retirez le mot de passe et chargez-le à nouveau."},
		"nl": {"De werkmap is beveiligd met een wachtwoord: verwijder het wachtwoord en laad ze opnieuw op."},
		"de": {"Die Arbeitsmappe ist durch ein Kennwort geschützt: Entfernen Sie das Kennwort und laden Sie sie erneut hoch."},
		"cs": {"Sešit je chráněn heslem: odstraňte heslo a nahrajte ho znovu."},
	},
	"corrupt_workbook": {
		"en": {"The workbook is damaged and could not be opened: open it in your spreadsheet program, save it again and upload it."},
		"fr": {"Le classeur est endommagé et n'a pas pu être ouvert : ouvrez-le dans votre tableur, enregistrez-le à nouveau et chargez-le."},
		"nl": {"De werkmap is beschadigd en kon niet geopend worden: open ze in uw rekenbladprogramma, sla ze opnieuw op en laad ze op."},
		"de": {"Die Arbeitsmappe ist beschädigt und konnte nicht geöffnet werden: Öffnen Sie sie in Ihrer Tabellenkalkulation, speichern Sie sie erneut und laden Sie sie hoch."},
		"cs": {"Sešit je poškozený a nepodařilo se ho otevřít: otevřete ho v tabulkovém programu, znovu ho uložte a nahrajte."},
	},
	"workbook_too_large": {
		"en": {"The workbook is too large once unpacked (more than {limit} MB): remove unused sheets, images or formatting, or save it as CSV.",
			"The workbook is too large to read: remove unused sheets, images or formatting, or save it as CSV."},
		"fr": {"Le classeur est trop volumineux une fois décompressé (plus de {limit} Mo) : supprimez les feuilles, images ou mises en forme inutiles, ou enregistrez-le en CSV.",
			"Le classeur est trop volumineux pour être lu : supprimez les feuilles, images ou mises en forme inutiles, ou enregistrez-le en CSV."},
		"nl": {"De werkmap is uitgepakt te groot (meer dan {limit} MB): verwijder overbodige bladen, afbeeldingen of opmaak, of sla ze op als CSV.",
			"De werkmap is te groot om te lezen: verwijder overbodige bladen, afbeeldingen of opmaak, of sla ze op als CSV."},
		"de": {"Die Arbeitsmappe ist entpackt zu groß (mehr als {limit} MB): Entfernen Sie unnötige Blätter, Bilder oder Formatierungen, oder speichern Sie sie als CSV.",
			"Die Arbeitsmappe ist zu groß zum Lesen: Entfernen Sie unnötige Blätter, Bilder oder Formatierungen, oder speichern Sie sie als CSV."},
		"cs": {"Sešit je po rozbalení příliš velký (více než {limit} MB): odstraňte nepotřebné listy, obrázky nebo formátování, nebo ho uložte jako CSV.",
			"Sešit je příliš velký na načtení: odstraňte nepotřebné listy, obrázky nebo formátování, nebo ho uložte jako CSV."},
	},
	"unknown_sheet": {
		"en": {"The workbook has no sheet named “{value}”.", "The workbook does not have the chosen sheet."},
		"fr": {"Le classeur n'a pas de feuille nommée « {value} ».", "Le classeur n'a pas la feuille choisie."},
		"nl": {"De werkmap heeft geen blad met de naam “{value}”.", "De werkmap heeft het gekozen blad niet."},
		"de": {"Die Arbeitsmappe hat kein Blatt namens „{value}“.", "Die Arbeitsmappe hat das gewählte Blatt nicht."},
		"cs": {"Sešit nemá list s názvem „{value}“.", "Sešit nemá zvolený list."},
	},
	"empty_workbook": {
		"en": {"The workbook has no sheet with data."}, "fr": {"Le classeur n'a aucune feuille avec des données."},
		"nl": {"De werkmap heeft geen blad met gegevens."}, "de": {"Die Arbeitsmappe hat kein Blatt mit Daten."},
		"cs": {"Sešit nemá žádný list s daty."},
	},
	"invalid_option": {
		"en": {"“{value}” is not a valid reading option (format, encoding or delimiter).", "A reading option (format, encoding or delimiter) is not valid."},
		"fr": {"« {value} » n'est pas une option de lecture valable (format, encodage ou séparateur).", "Une option de lecture (format, encodage ou séparateur) n'est pas valable."},
		"nl": {"“{value}” is geen geldige leesoptie (formaat, codering of scheidingsteken).", "Een leesoptie (formaat, codering of scheidingsteken) is ongeldig."},
		"de": {"„{value}“ ist keine gültige Leseoption (Format, Kodierung oder Trennzeichen).", "Eine Leseoption (Format, Kodierung oder Trennzeichen) ist ungültig."},
		"cs": {"„{value}“ není platná volba čtení (formát, kódování nebo oddělovač).", "Volba čtení (formát, kódování nebo oddělovač) není platná."},
	},
	"read_failed": {
		"en": {"The file could not be read because of a problem on our side: please try again."},
		"fr": {"Le fichier n'a pas pu être lu à cause d'un problème de notre côté : veuillez réessayer."},
		"nl": {"Het bestand kon niet gelezen worden door een probleem aan onze kant: probeer het opnieuw."},
		"de": {"Die Datei konnte wegen eines Problems auf unserer Seite nicht gelesen werden: Bitte versuchen Sie es erneut."},
		"cs": {"Soubor se kvůli problému na naší straně nepodařilo přečíst: zkuste to prosím znovu."},
	},
	"invalid_mode": {
		"en": {"The import mode must be “create_only” or “create_and_update”."},
		"fr": {"Le mode d'import doit être « create_only » ou « create_and_update »."},
		"nl": {"De importmodus moet “create_only” of “create_and_update” zijn."},
		"de": {"Der Importmodus muss „create_only“ oder „create_and_update“ sein."},
		"cs": {"Režim importu musí být „create_only“ nebo „create_and_update“."},
	},
	"invalid_layout": {
		"en": {"The layout must be “clients” (one row per client) or “contacts” (one row per contact person)."},
		"fr": {"La disposition doit être « clients » (une ligne par client) ou « contacts » (une ligne par personne de contact)."},
		"nl": {"De indeling moet “clients” (één rij per klant) of “contacts” (één rij per contactpersoon) zijn."},
		"de": {"Das Layout muss „clients“ (eine Zeile pro Kunde) oder „contacts“ (eine Zeile pro Kontaktperson) sein."},
		"cs": {"Rozložení musí být „clients“ (jeden řádek na klienta) nebo „contacts“ (jeden řádek na kontaktní osobu)."},
	},

	// Undo.
	"kept_changed_since": {
		"en": {"The client of row {row} was kept: it was changed after the import, so undoing the import did not delete it.",
			"This client was kept: it was changed after the import, so undoing the import did not delete it."},
		"fr": {"Le client de la ligne {row} a été conservé : il a été modifié après l'import, l'annulation ne l'a donc pas supprimé.",
			"Ce client a été conservé : il a été modifié après l'import, l'annulation ne l'a donc pas supprimé."},
		"nl": {"De klant van rij {row} werd behouden: hij werd na de import gewijzigd, dus het ongedaan maken heeft hem niet verwijderd.",
			"Deze klant werd behouden: hij werd na de import gewijzigd, dus het ongedaan maken heeft hem niet verwijderd."},
		"de": {"Der Kunde aus Zeile {row} wurde behalten: Er wurde nach dem Import geändert, daher hat das Rückgängigmachen ihn nicht gelöscht.",
			"Dieser Kunde wurde behalten: Er wurde nach dem Import geändert, daher hat das Rückgängigmachen ihn nicht gelöscht."},
		"cs": {"Klient z řádku {row} byl zachován: po importu byl změněn, proto ho zrušení importu nesmazalo.",
			"Tento klient byl zachován: po importu byl změněn, proto ho zrušení importu nesmazalo."},
	},
	"kept_field_changed_since": {
		"en": {"Row {row}: these fields were changed again after the import and keep their current value: {field}.",
			"These fields were changed again after the import and keep their current value: {field}.",
			"Some fields were changed again after the import and keep their current value."},
		"fr": {"Ligne {row} : ces champs ont été modifiés après l'import et gardent leur valeur actuelle : {field}.",
			"Ces champs ont été modifiés après l'import et gardent leur valeur actuelle : {field}.",
			"Certains champs ont été modifiés après l'import et gardent leur valeur actuelle."},
		"nl": {"Rij {row}: deze velden werden na de import opnieuw gewijzigd en behouden hun huidige waarde: {field}.",
			"Deze velden werden na de import opnieuw gewijzigd en behouden hun huidige waarde: {field}.",
			"Sommige velden werden na de import opnieuw gewijzigd en behouden hun huidige waarde."},
		"de": {"Zeile {row}: Diese Felder wurden nach dem Import erneut geändert und behalten ihren aktuellen Wert: {field}.",
			"Diese Felder wurden nach dem Import erneut geändert und behalten ihren aktuellen Wert: {field}.",
			"Einige Felder wurden nach dem Import erneut geändert und behalten ihren aktuellen Wert."},
		"cs": {"Řádek {row}: tato pole byla po importu znovu změněna a ponechávají si současnou hodnotu: {field}.",
			"Tato pole byla po importu znovu změněna a ponechávají si současnou hodnotu: {field}.",
			"Některá pole byla po importu znovu změněna a ponechávají si současnou hodnotu."},
	},
	"kept_deleted_since": {
		"en": {"The client of row {row} was deleted after the import; undoing the import left it as it is.",
			"This client was deleted after the import; undoing the import left it as it is."},
		"fr": {"Le client de la ligne {row} a été supprimé après l'import ; l'annulation l'a laissé tel quel.",
			"Ce client a été supprimé après l'import ; l'annulation l'a laissé tel quel."},
		"nl": {"De klant van rij {row} werd na de import verwijderd; het ongedaan maken heeft hem zo gelaten.",
			"Deze klant werd na de import verwijderd; het ongedaan maken heeft hem zo gelaten."},
		"de": {"Der Kunde aus Zeile {row} wurde nach dem Import gelöscht; das Rückgängigmachen hat ihn so belassen.",
			"Dieser Kunde wurde nach dem Import gelöscht; das Rückgängigmachen hat ihn so belassen."},
		"cs": {"Klient z řádku {row} byl po importu smazán; zrušení importu ho ponechalo beze změny.",
			"Tento klient byl po importu smazán; zrušení importu ho ponechalo beze změny."},
	},
	"kept_email_taken": {
		"en": {"The client of row {row} was kept as it is: its earlier email address now belongs to another client.",
			"This client was kept as it is: its earlier email address now belongs to another client."},
		"fr": {"Le client de la ligne {row} a été gardé tel quel : son ancienne adresse e-mail appartient maintenant à un autre client.",
			"Ce client a été gardé tel quel : son ancienne adresse e-mail appartient maintenant à un autre client."},
		"nl": {"De klant van rij {row} bleef zoals hij is: zijn vroegere e-mailadres hoort nu bij een andere klant.",
			"Deze klant bleef zoals hij is: zijn vroegere e-mailadres hoort nu bij een andere klant."},
		"de": {"Der Kunde aus Zeile {row} bleibt unverändert: Seine frühere E-Mail-Adresse gehört jetzt einem anderen Kunden.",
			"Dieser Kunde bleibt unverändert: Seine frühere E-Mail-Adresse gehört jetzt einem anderen Kunden."},
		"cs": {"Klient z řádku {row} zůstal beze změny: jeho dřívější e-mailová adresa teď patří jinému klientovi.",
			"Tento klient zůstal beze změny: jeho dřívější e-mailová adresa teď patří jinému klientovi."},
	},

	// Labels.
	"rejected_reason_header": {
		"en": {"Reason"}, "fr": {"Raison"}, "nl": {"Reden"}, "de": {"Grund"}, "cs": {"Důvod"},
	},
}
