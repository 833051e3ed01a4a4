package spreadsheet

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/clientreg/clientreg/domain"
	"github.com/xuri/excelize/v2"
)

// CustomColumn is a tenant custom field as a template column.
type CustomColumn struct {
	Name    string
	Type    string // text | number | date | choice
	Options []string
}

// TemplateSpec says which template to write.
type TemplateSpec struct {
	Layout domain.Layout
	Lang   string // en, fr, nl, de, cs; anything else gets English
	Custom []CustomColumn
}

// TemplateSheet is the data sheet's name. The reader prefers this sheet,
// so a template (or an export of rejected rows) comes back from it.
const TemplateSheet = "Clients"

// listsSheet holds drop-down options too long or too odd (commas, quotes)
// for an inline list. It is hidden: it is the template's, not the user's.
const listsSheet = "Lists"

// templateRows is how many data rows carry the drop-downs and checks:
// rows 2..100001, as many as an import takes.
const templateRows = 100000

// templateLanguages are the codes the language drop-down offers. Any ISO
// 639-1 code is accepted; the list only keeps the usual ones at hand.
var templateLanguages = []string{"fr", "nl", "en", "de", "cs", "it", "es", "pl", "sk", "pt"}

// templateColumn is one column of the template: its header in the
// template's language and what it holds.
type templateColumn struct {
	header string
	column domain.Column
	custom *CustomColumn
}

// columns lists the template's columns: the standard ones, then the
// tenant's custom fields, last, so the standard part is the same for all.
func (s TemplateSpec) columns() []templateColumn {
	var out []templateColumn
	for _, c := range domain.TemplateColumns(s.Layout) {
		out = append(out, templateColumn{header: domain.ColumnHeader(c, s.Lang), column: c})
	}
	for i := range s.Custom {
		c := domain.Column{Kind: domain.ColumnCustom, Custom: s.Custom[i].Name}
		out = append(out, templateColumn{header: domain.ColumnHeader(c, s.Lang), column: c, custom: &s.Custom[i]})
	}
	return out
}

func (s TemplateSpec) headers() []string {
	cols := s.columns()
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = EscapeFormula(c.header)
	}
	return out
}

// WriteTemplateCSV writes the template's header row as a CSV file Excel
// opens as columns in Belgium, France and the Netherlands: UTF-8 with a
// BOM, ";" between cells, CRLF.
func WriteTemplateCSV(w io.Writer, spec TemplateSpec) error {
	cw, err := newCSVWriter(w)
	if err != nil {
		return err
	}
	if err := cw.Write(spec.headers()); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteTemplateXLSX writes the template workbook: the data sheet
// (TemplateSheet, first and active) with a bold frozen header, column
// formats and drop-downs, then an instructions sheet in the spec's
// language.
func WriteTemplateXLSX(w io.Writer, spec TemplateSpec) error {
	f := excelize.NewFile()
	defer f.Close()
	t := textsFor(spec.Lang)
	if err := f.SetSheetName(f.GetSheetName(0), TemplateSheet); err != nil {
		return err
	}
	// Instructions before the data sheet's drop-downs, which may add the
	// hidden lists sheet: the user sees data, then instructions.
	if err := writeInstructions(f, spec, t); err != nil {
		return err
	}
	if err := writeDataSheet(f, spec, t); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func writeDataSheet(f *excelize.File, spec TemplateSpec, t templateTexts) error {
	cols := spec.columns()
	if err := formatColumns(f, cols); err != nil {
		return err
	}
	if err := writeHeaderRow(f, cols); err != nil {
		return err
	}
	if err := f.SetPanes(TemplateSheet, frozenHeader()); err != nil {
		return err
	}
	return addValidations(f, cols, t)
}

// formatColumns gives every column a width and a number format: text for
// all but custom numbers and dates, so Excel keeps "0470 12 34 56",
// "0123.456.749" and "1-2" as typed instead of turning them into numbers
// or dates.
func formatColumns(f *excelize.File, cols []templateColumn) error {
	text, err := f.NewStyle(&excelize.Style{NumFmt: textFormat})
	if err != nil {
		return err
	}
	dateFormat := "yyyy-mm-dd"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFormat})
	if err != nil {
		return err
	}
	for i, c := range cols {
		name, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		style := text
		switch customType(c) {
		case domain.CustomNumber:
			style = 0
		case domain.CustomDate:
			style = date
		}
		if err := f.SetColStyle(TemplateSheet, name, style); err != nil {
			return err
		}
		if err := f.SetColWidth(TemplateSheet, name, name, columnWidth(c.header)); err != nil {
			return err
		}
	}
	return nil
}

func customType(c templateColumn) string {
	if c.custom == nil {
		return ""
	}
	return c.custom.Type
}

func writeHeaderRow(f *excelize.File, cols []templateColumn) error {
	style, err := f.NewStyle(&excelize.Style{
		Font:   &excelize.Font{Bold: true},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Border: []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}},
		NumFmt: textFormat,
	})
	if err != nil {
		return err
	}
	for i, c := range cols {
		cell, err := excelize.CoordinatesToCellName(i+1, 1)
		if err != nil {
			return err
		}
		if err := f.SetCellStr(TemplateSheet, cell, EscapeFormula(c.header)); err != nil {
			return err
		}
		if err := f.SetCellStyle(TemplateSheet, cell, cell, style); err != nil {
			return err
		}
	}
	return nil
}

// addValidations puts drop-downs on the kind and language columns and on
// choice fields, number and date checks on custom numbers and dates, and
// the 255-character limit on every other column. Checks only warn where
// the import accepts more than the check knows (any ISO language code,
// numbers typed as text).
func addValidations(f *excelize.File, cols []templateColumn, t templateTexts) error {
	textLimit := excelize.NewDataValidation(true)
	lists := 0
	for i, c := range cols {
		sqref, err := dataRange(i)
		if err != nil {
			return err
		}
		title := promptTitle(c.header)
		var dv *excelize.DataValidation
		switch {
		case c.column.Kind == domain.ColumnClient && c.column.Field == domain.FieldKind:
			dv, err = listValidation(f, []string{domain.KindPerson, domain.KindCompany}, &lists)
			if err == nil {
				dv.SetInput(title, t.kindPrompt)
				dv.SetError(excelize.DataValidationErrorStyleStop, title, t.listError)
			}
		case c.column.Kind == domain.ColumnClient && c.column.Field == domain.FieldLanguage:
			dv, err = listValidation(f, templateLanguages, &lists)
			if err == nil {
				dv.SetInput(title, t.languagePrompt)
				dv.SetError(excelize.DataValidationErrorStyleWarning, title, t.languageError)
			}
		case c.column.Kind == domain.ColumnClient && c.column.Field == domain.FieldNotes:
			continue // notes take up to 4,000 characters; the import checks them
		case customType(c) == domain.CustomChoice && len(c.custom.Options) > 0:
			dv, err = listValidation(f, c.custom.Options, &lists)
			if err == nil {
				dv.SetInput(title, t.choicePrompt)
				dv.SetError(excelize.DataValidationErrorStyleStop, title, t.listError)
			}
		case customType(c) == domain.CustomNumber:
			dv = excelize.NewDataValidation(true)
			err = dv.SetRange(-999999999999999, 999999999999999, excelize.DataValidationTypeDecimal, excelize.DataValidationOperatorBetween)
			dv.SetInput(title, t.numberPrompt)
			dv.SetError(excelize.DataValidationErrorStyleWarning, title, t.numberError)
		case customType(c) == domain.CustomDate:
			// Excel dates are day numbers: 1 is 1900-01-01, 2958465 is 9999-12-31.
			dv = excelize.NewDataValidation(true)
			err = dv.SetRange(1, 2958465, excelize.DataValidationTypeDate, excelize.DataValidationOperatorBetween)
			dv.SetInput(title, t.datePrompt)
			dv.SetError(excelize.DataValidationErrorStyleWarning, title, t.dateError)
		default:
			textLimit.SetSqref(sqref)
			continue
		}
		if err != nil {
			return err
		}
		dv.SetSqref(sqref)
		if err := f.AddDataValidation(TemplateSheet, dv); err != nil {
			return err
		}
	}
	if textLimit.Sqref == "" {
		return nil
	}
	if err := textLimit.SetRange(0, domain.MaxTextLength, excelize.DataValidationTypeTextLength, excelize.DataValidationOperatorBetween); err != nil {
		return err
	}
	textLimit.SetError(excelize.DataValidationErrorStyleStop, "", t.textError)
	return f.AddDataValidation(TemplateSheet, textLimit)
}

// dataRange is the data rows of the 0-based column i: "G2:G100001".
func dataRange(i int) (string, error) {
	first, err := excelize.CoordinatesToCellName(i+1, 2)
	if err != nil {
		return "", err
	}
	last, err := excelize.CoordinatesToCellName(i+1, templateRows+1)
	if err != nil {
		return "", err
	}
	return first + ":" + last, nil
}

// listValidation makes a drop-down of options. Short, plain lists are
// written into the validation itself; others (over Excel's 255 characters,
// or with commas, quotes or a leading "=" that the inline form would
// misread) go to a column of the hidden lists sheet, which has no limit.
func listValidation(f *excelize.File, options []string, lists *int) (*excelize.DataValidation, error) {
	dv := excelize.NewDataValidation(true)
	if inlineList(options) {
		return dv, dv.SetDropList(options)
	}
	if *lists == 0 {
		if _, err := f.NewSheet(listsSheet); err != nil {
			return nil, err
		}
		if err := f.SetSheetVisible(listsSheet, false); err != nil {
			return nil, err
		}
	}
	*lists++
	col, err := excelize.ColumnNumberToName(*lists)
	if err != nil {
		return nil, err
	}
	for i, o := range options {
		// A string cell is never run as a formula, and the option must
		// stay exactly as defined for the import to accept it: no escape.
		if err := f.SetCellStr(listsSheet, fmt.Sprintf("%s%d", col, i+1), o); err != nil {
			return nil, err
		}
	}
	dv.SetSqrefDropList(fmt.Sprintf("%s!$%s$1:$%s$%d", listsSheet, col, col, len(options)))
	return dv, nil
}

func inlineList(options []string) bool {
	total := 0
	for _, o := range options {
		if strings.ContainsAny(o, `,"`) || strings.HasPrefix(o, "=") {
			return false
		}
		total += utf8.RuneCountInString(o) + 1
	}
	// Excel counts UTF-16 units; runes undercount only outside the BMP,
	// which the margin covers for any real list.
	return total <= excelize.MaxFieldLength-8
}

// promptTitle: Excel refuses prompt and error titles over 32 characters.
func promptTitle(header string) string {
	r := []rune(header)
	if len(r) > 32 {
		return string(r[:31]) + "…"
	}
	return string(r)
}

func writeInstructions(f *excelize.File, spec TemplateSpec, t templateTexts) error {
	if _, err := f.NewSheet(t.sheet); err != nil {
		return err
	}
	if err := f.SetColWidth(t.sheet, "A", "A", 110); err != nil {
		return err
	}
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	if err := f.SetCellStr(t.sheet, "A1", t.title); err != nil {
		return err
	}
	if err := f.SetCellStyle(t.sheet, "A1", "A1", title); err != nil {
		return err
	}
	for i, line := range instructionLines(spec, t) {
		cell := fmt.Sprintf("A%d", i+3)
		if err := f.SetCellStr(t.sheet, cell, "• "+line); err != nil {
			return err
		}
		if err := f.SetCellStyle(t.sheet, cell, cell, wrap); err != nil {
			return err
		}
	}
	return nil
}

// instructionLines are the rules of the template, in the spec's language.
func instructionLines(spec TemplateSpec, t templateTexts) []string {
	rows, contacts := t.rowsClients, fmt.Sprintf(t.contactsClients, domain.MaxContactsPerRow, domain.MaxContactsPerRow)
	if spec.Layout == domain.LayoutContacts {
		rows, contacts = t.rowsContacts, t.contactsContacts
	}
	custom := t.customNone
	if len(spec.Custom) > 0 {
		custom = fmt.Sprintf(t.customSome, describeCustom(spec, t))
	}
	return []string{
		rows, t.required, t.kind, t.language, t.country, t.vat, t.phone,
		fmt.Sprintf(t.length, domain.MaxTextLength), contacts, custom, t.externalID, t.dryRun, t.sheetsRead,
	}
}

// describeCustom lists the custom columns as "vip (choice: Gold, Silver)".
func describeCustom(spec TemplateSpec, t templateTexts) string {
	parts := make([]string, len(spec.Custom))
	for i, c := range spec.Custom {
		col := domain.Column{Kind: domain.ColumnCustom, Custom: c.Name}
		kind := t.types[c.Type]
		if kind == "" {
			kind = t.types[domain.CustomText]
		}
		switch c.Type {
		case domain.CustomChoice:
			kind += t.colon + strings.Join(c.Options, ", ")
		case domain.CustomDate:
			kind += ", " + t.dateFormat
		}
		parts[i] = domain.ColumnHeader(col, spec.Lang) + " (" + kind + ")"
	}
	return strings.Join(parts, t.separator)
}

// templateTexts is everything the template says in words, per language.
type templateTexts struct {
	sheet, title                                     string
	rowsClients, rowsContacts, required              string
	kind, language, country, vat, phone, length      string
	contactsClients, contactsContacts                string
	customNone, customSome, externalID, dryRun       string
	sheetsRead, dateFormat                           string
	colon, separator                                 string // French spaces ":" and ";"
	kindPrompt, languagePrompt, choicePrompt         string
	numberPrompt, datePrompt                         string
	listError, languageError, numberError, dateError string
	textError                                        string
	types                                            map[string]string
}

func textsFor(lang string) templateTexts {
	if t, ok := templateTextsByLang[strings.ToLower(lang)]; ok {
		return t
	}
	return templateTextsByLang["en"]
}

var templateTextsByLang = map[string]templateTexts{
	"en": {
		colon:     ": ",
		separator: "; ",
		sheet:     "Instructions",
		title:     "How to fill in this template",
		rowsClients: "Fill in one row per client, starting on row 2 of the sheet “Clients”. Keep the headers of row 1 as they are; " +
			"you may delete the columns you do not need.",
		rowsContacts: "Fill in one row per contact person, starting on row 2 of the sheet “Clients”. Rows with the same client email " +
			"address (or the same external ID) belong to the same client: fill in the client's details on one of them; rows that only " +
			"repeat the email address or external ID add contact persons to that client. Keep the headers of row 1 as they are; " +
			"you may delete the columns you do not need.",
		required: "Required: the client's email address. For a person (kind “person”, the default) also the first name and the " +
			"last name; for a company (kind “company”) the company name.",
		kind:     "Kind: “person” or “company”, chosen from the drop-down list. An empty cell means “person”.",
		language: "Language: the two-letter code of the client's language (fr, nl, en, de, cs, …); the drop-down list has the most common ones.",
		country:  "Country: the two-letter ISO code (BE, NL, FR, DE, CZ, …).",
		vat: "VAT or enterprise number: a Belgian number like BE0123.456.749 (dots, spaces and “BE” are optional). Its check digits " +
			"must be right: a typing error is reported.",
		phone: "Phone: only digits, spaces and + ( ) . / -, for example +32 470 12 34 56. A phone number that is not recognised " +
			"is left out; the rest of the row is imported.",
		length: "At most %d characters per cell.",
		contactsClients: "Contact persons: up to %d per client, in the columns “Contact 1 …” to “Contact %d …” (first name, last name, " +
			"email, phone, role). A contact person needs at least a first or a last name.",
		contactsContacts: "Contact person: the columns “Contact …” (first name, last name, email, phone, role) describe the row's contact " +
			"person, who needs at least a first or a last name.",
		customNone: "Custom fields of your registry come last, after the standard columns.",
		customSome: "The custom fields of your registry are the last columns: %s.",
		externalID: "External ID: your own reference for the client, for example its number in your accounting software. When you " +
			"import again, the client with the same external ID is updated; without one, clients are recognised by their email address.",
		dryRun: "Uploading the file first analyses it: this is a dry run, nothing changes in the registry. The report lists every " +
			"error with its row, column and reason; fix the file and upload it again, or import only the rows without errors.",
		sheetsRead:     "Only the sheet “Clients” is read; this sheet may stay in the file.",
		dateFormat:     "YYYY-MM-DD",
		kindPrompt:     "person or company",
		languagePrompt: "Two-letter code: fr, nl, en, de, cs, …",
		choicePrompt:   "Choose one of the options in the list.",
		numberPrompt:   "A number, for example 12.5",
		datePrompt:     "A date, for example 2026-03-31",
		listError:      "Choose a value from the list.",
		languageError:  "This is not one of the usual codes. Keep it only if it is a two-letter ISO 639-1 language code.",
		numberError:    "This is not a number.",
		dateError:      "This is not a date.",
		textError:      "At most 255 characters per cell.",
		types:          map[string]string{"text": "text", "number": "number", "date": "date", "choice": "choice"},
	},
	"fr": {
		colon:     " : ",
		separator: " ; ",
		sheet:     "Instructions",
		title:     "Comment remplir ce modèle",
		rowsClients: "Remplissez une ligne par client, à partir de la ligne 2 de la feuille « Clients ». Gardez les en-têtes de la " +
			"ligne 1 tels quels ; vous pouvez supprimer les colonnes dont vous n'avez pas besoin.",
		rowsContacts: "Remplissez une ligne par personne de contact, à partir de la ligne 2 de la feuille « Clients ». Les lignes qui " +
			"ont la même adresse e-mail de client (ou la même référence externe) appartiennent au même client : remplissez les " +
			"données du client sur l'une d'elles ; les lignes qui ne reprennent que l'adresse e-mail ou la référence externe " +
			"ajoutent des personnes de contact à ce client. Gardez les en-têtes de la ligne 1 tels quels ; vous pouvez supprimer " +
			"les colonnes dont vous n'avez pas besoin.",
		required: "Obligatoire : l'adresse e-mail du client. Pour une personne (type « person », par défaut), aussi le prénom et " +
			"le nom ; pour une société (type « company »), le nom de la société.",
		kind: "Type : « person » (personne) ou « company » (société), à choisir dans la liste déroulante. Une cellule vide " +
			"signifie « person ».",
		language: "Langue : le code à deux lettres de la langue du client (fr, nl, en, de, cs, …) ; la liste déroulante propose " +
			"les plus courantes.",
		country: "Pays : le code ISO à deux lettres (BE, NL, FR, DE, CZ, …).",
		vat: "Numéro de TVA ou d'entreprise : un numéro belge comme BE0123.456.749 (les points, les espaces et « BE » sont " +
			"facultatifs). Les chiffres de contrôle doivent être corrects : une faute de frappe est signalée.",
		phone: "Téléphone : uniquement des chiffres, des espaces et + ( ) . / -, par exemple +32 470 12 34 56. Un numéro non " +
			"reconnu est laissé de côté ; le reste de la ligne est importé.",
		length: "%d caractères au maximum par cellule.",
		contactsClients: "Personnes de contact : jusqu'à %d par client, dans les colonnes « Contact 1 … » à « Contact %d … » " +
			"(prénom, nom, e-mail, téléphone, fonction). Une personne de contact doit avoir au moins un prénom ou un nom.",
		contactsContacts: "Personne de contact : les colonnes « Contact … » (prénom, nom, e-mail, téléphone, fonction) décrivent " +
			"la personne de contact de la ligne, qui doit avoir au moins un prénom ou un nom.",
		customNone: "Les champs personnalisés de votre registre viennent en dernier, après les colonnes standard.",
		customSome: "Les champs personnalisés de votre registre sont les dernières colonnes : %s.",
		externalID: "Référence externe : votre propre référence du client, par exemple son numéro dans votre logiciel comptable. " +
			"Lors d'un nouvel import, le client qui a la même référence externe est mis à jour ; sans référence, les clients sont " +
			"reconnus par leur adresse e-mail.",
		dryRun: "Quand vous chargez le fichier, il est d'abord analysé : c'est une simulation, rien ne change dans le registre. " +
			"Le rapport donne chaque erreur avec sa ligne, sa colonne et sa raison ; corrigez le fichier et chargez-le à nouveau, " +
			"ou n'importez que les lignes sans erreur.",
		sheetsRead:     "Seule la feuille « Clients » est lue ; cette feuille-ci peut rester dans le fichier.",
		dateFormat:     "AAAA-MM-JJ",
		kindPrompt:     "person ou company",
		languagePrompt: "Code à deux lettres : fr, nl, en, de, cs, …",
		choicePrompt:   "Choisissez une des options de la liste.",
		numberPrompt:   "Un nombre, par exemple 12,5",
		datePrompt:     "Une date, par exemple 31/03/2026",
		listError:      "Choisissez une valeur de la liste.",
		languageError:  "Ce n'est pas un des codes habituels. Gardez-le seulement si c'est un code de langue ISO 639-1 à deux lettres.",
		numberError:    "Ce n'est pas un nombre.",
		dateError:      "Ce n'est pas une date.",
		textError:      "255 caractères au maximum par cellule.",
		types:          map[string]string{"text": "texte", "number": "nombre", "date": "date", "choice": "choix"},
	},
	"nl": {
		colon:     ": ",
		separator: "; ",
		sheet:     "Instructies",
		title:     "Zo vult u dit sjabloon in",
		rowsClients: "Vul één rij per klant in, vanaf rij 2 van het blad “Clients”. Laat de kopteksten in rij 1 zoals ze zijn; " +
			"kolommen die u niet nodig hebt, mag u verwijderen.",
		rowsContacts: "Vul één rij per contactpersoon in, vanaf rij 2 van het blad “Clients”. Rijen met hetzelfde e-mailadres van " +
			"de klant (of dezelfde externe referentie) horen bij dezelfde klant: vul de gegevens van de klant in op één van die " +
			"rijen; rijen die alleen het e-mailadres of de externe referentie herhalen, voegen contactpersonen toe aan die klant. " +
			"Laat de kopteksten in rij 1 zoals ze zijn; kolommen die u niet nodig hebt, mag u verwijderen.",
		required: "Verplicht: het e-mailadres van de klant. Voor een persoon (soort “person”, de standaard) ook de voornaam en de " +
			"achternaam; voor een bedrijf (soort “company”) de bedrijfsnaam.",
		kind:     "Soort: “person” (persoon) of “company” (bedrijf), te kiezen uit de keuzelijst. Een lege cel betekent “person”.",
		language: "Taal: de code van twee letters van de taal van de klant (fr, nl, en, de, cs, …); de keuzelijst bevat de meest gebruikte.",
		country:  "Land: de ISO-code van twee letters (BE, NL, FR, DE, CZ, …).",
		vat: "Btw- of ondernemingsnummer: een Belgisch nummer zoals BE0123.456.749 (punten, spaties en “BE” zijn niet verplicht). " +
			"De controlecijfers moeten kloppen: een tikfout wordt gemeld.",
		phone: "Telefoon: alleen cijfers, spaties en + ( ) . / -, bijvoorbeeld +32 470 12 34 56. Een telefoonnummer dat niet " +
			"herkend wordt, wordt weggelaten; de rest van de rij wordt geïmporteerd.",
		length: "Hoogstens %d tekens per cel.",
		contactsClients: "Contactpersonen: tot %d per klant, in de kolommen “Contactpersoon 1 …” tot “Contactpersoon %d …” " +
			"(voornaam, achternaam, e-mailadres, telefoon, functie). Een contactpersoon heeft minstens een voornaam of een achternaam nodig.",
		contactsContacts: "Contactpersoon: de kolommen “Contactpersoon …” (voornaam, achternaam, e-mailadres, telefoon, functie) " +
			"beschrijven de contactpersoon van de rij, die minstens een voornaam of een achternaam nodig heeft.",
		customNone: "Eigen velden van uw register komen als laatste, na de standaardkolommen.",
		customSome: "De eigen velden van uw register zijn de laatste kolommen: %s.",
		externalID: "Externe referentie: uw eigen referentie voor de klant, bijvoorbeeld zijn nummer in uw boekhoudpakket. Bij een " +
			"nieuwe import wordt de klant met dezelfde externe referentie bijgewerkt; zonder referentie worden klanten herkend aan " +
			"hun e-mailadres.",
		dryRun: "Wanneer u het bestand oplaadt, wordt het eerst geanalyseerd: dat is een proefrun, er verandert niets in het " +
			"register. Het verslag toont elke fout met rij, kolom en reden; verbeter het bestand en laad het opnieuw op, of " +
			"importeer alleen de rijen zonder fouten.",
		sheetsRead:     "Alleen het blad “Clients” wordt gelezen; dit blad mag in het bestand blijven.",
		dateFormat:     "JJJJ-MM-DD",
		kindPrompt:     "person of company",
		languagePrompt: "Code van twee letters: fr, nl, en, de, cs, …",
		choicePrompt:   "Kies een van de opties uit de lijst.",
		numberPrompt:   "Een getal, bijvoorbeeld 12,5",
		datePrompt:     "Een datum, bijvoorbeeld 31/03/2026",
		listError:      "Kies een waarde uit de lijst.",
		languageError:  "Dit is geen van de gebruikelijke codes. Behoud het alleen als het een ISO 639-1-taalcode van twee letters is.",
		numberError:    "Dit is geen getal.",
		dateError:      "Dit is geen datum.",
		textError:      "Hoogstens 255 tekens per cel.",
		types:          map[string]string{"text": "tekst", "number": "getal", "date": "datum", "choice": "keuze"},
	},
	"de": {
		colon:     ": ",
		separator: "; ",
		sheet:     "Anleitung",
		title:     "So füllen Sie diese Vorlage aus",
		rowsClients: "Füllen Sie eine Zeile pro Kunde aus, ab Zeile 2 des Blatts „Clients“. Lassen Sie die Überschriften in " +
			"Zeile 1 unverändert; Spalten, die Sie nicht brauchen, dürfen Sie löschen.",
		rowsContacts: "Füllen Sie eine Zeile pro Kontaktperson aus, ab Zeile 2 des Blatts „Clients“. Zeilen mit derselben " +
			"E-Mail-Adresse des Kunden (oder derselben externen ID) gehören zum selben Kunden: Tragen Sie die Kundendaten in einer " +
			"dieser Zeilen ein; Zeilen, die nur die E-Mail-Adresse oder die externe ID wiederholen, fügen diesem Kunden " +
			"Kontaktpersonen hinzu. Lassen Sie die Überschriften in Zeile 1 unverändert; Spalten, die Sie nicht brauchen, dürfen " +
			"Sie löschen.",
		required: "Pflicht: die E-Mail-Adresse des Kunden. Bei einer Person (Art „person“, Standard) auch Vorname und Nachname; " +
			"bei einer Firma (Art „company“) der Firmenname.",
		kind:     "Art: „person“ (Person) oder „company“ (Firma), aus der Auswahlliste. Eine leere Zelle bedeutet „person“.",
		language: "Sprache: der zweistellige Code der Sprache des Kunden (fr, nl, en, de, cs, …); die Auswahlliste enthält die häufigsten.",
		country:  "Land: der zweistellige ISO-Code (BE, NL, FR, DE, CZ, …).",
		vat: "USt-IdNr. oder Unternehmensnummer: eine belgische Nummer wie BE0123.456.749 (Punkte, Leerzeichen und „BE“ sind " +
			"optional). Die Prüfziffern müssen stimmen: ein Tippfehler wird gemeldet.",
		phone: "Telefon: nur Ziffern, Leerzeichen und + ( ) . / -, zum Beispiel +32 470 12 34 56. Eine nicht erkannte " +
			"Telefonnummer wird weggelassen; der Rest der Zeile wird importiert.",
		length: "Höchstens %d Zeichen pro Zelle.",
		contactsClients: "Kontaktpersonen: bis zu %d pro Kunde, in den Spalten „Kontakt 1 …“ bis „Kontakt %d …“ (Vorname, " +
			"Nachname, E-Mail, Telefon, Funktion). Eine Kontaktperson braucht mindestens einen Vor- oder Nachnamen.",
		contactsContacts: "Kontaktperson: Die Spalten „Kontakt …“ (Vorname, Nachname, E-Mail, Telefon, Funktion) beschreiben die " +
			"Kontaktperson der Zeile, die mindestens einen Vor- oder Nachnamen braucht.",
		customNone: "Eigene Felder Ihres Registers stehen am Ende, nach den Standardspalten.",
		customSome: "Die eigenen Felder Ihres Registers sind die letzten Spalten: %s.",
		externalID: "Externe ID: Ihre eigene Kennung des Kunden, zum Beispiel seine Nummer in Ihrer Buchhaltungssoftware. Bei " +
			"einem erneuten Import wird der Kunde mit derselben externen ID aktualisiert; ohne sie werden Kunden an ihrer " +
			"E-Mail-Adresse erkannt.",
		dryRun: "Beim Hochladen wird die Datei zuerst analysiert: Das ist ein Probelauf, im Register ändert sich nichts. Der " +
			"Bericht nennt jeden Fehler mit Zeile, Spalte und Grund; korrigieren Sie die Datei und laden Sie sie erneut hoch, " +
			"oder importieren Sie nur die fehlerfreien Zeilen.",
		sheetsRead:     "Nur das Blatt „Clients“ wird gelesen; dieses Blatt darf in der Datei bleiben.",
		dateFormat:     "JJJJ-MM-TT",
		kindPrompt:     "person oder company",
		languagePrompt: "Zweistelliger Code: fr, nl, en, de, cs, …",
		choicePrompt:   "Wählen Sie eine Option aus der Liste.",
		numberPrompt:   "Eine Zahl, zum Beispiel 12,5",
		datePrompt:     "Ein Datum, zum Beispiel 31.03.2026",
		listError:      "Wählen Sie einen Wert aus der Liste.",
		languageError:  "Das ist keiner der üblichen Codes. Behalten Sie ihn nur, wenn es ein zweistelliger ISO-639-1-Sprachcode ist.",
		numberError:    "Das ist keine Zahl.",
		dateError:      "Das ist kein Datum.",
		textError:      "Höchstens 255 Zeichen pro Zelle.",
		types:          map[string]string{"text": "Text", "number": "Zahl", "date": "Datum", "choice": "Auswahl"},
	},
	"cs": {
		colon:     ": ",
		separator: "; ",
		sheet:     "Pokyny",
		title:     "Jak vyplnit tuto šablonu",
		rowsClients: "Vyplňte jeden řádek pro každého klienta, od řádku 2 listu „Clients“. Záhlaví v řádku 1 ponechte beze " +
			"změny; sloupce, které nepotřebujete, můžete smazat.",
		rowsContacts: "Vyplňte jeden řádek pro každou kontaktní osobu, od řádku 2 listu „Clients“. Řádky se stejnou e-mailovou " +
			"adresou klienta (nebo stejným externím ID) patří ke stejnému klientovi: údaje klienta vyplňte na jednom z nich; " +
			"řádky, které jen opakují e-mailovou adresu nebo externí ID, přidávají tomuto klientovi kontaktní osoby. Záhlaví " +
			"v řádku 1 ponechte beze změny; sloupce, které nepotřebujete, můžete smazat.",
		required: "Povinné: e-mailová adresa klienta. U osoby (typ „person“, výchozí) také jméno a příjmení; u firmy " +
			"(typ „company“) název firmy.",
		kind:     "Typ: „person“ (osoba) nebo „company“ (firma), vyberte z rozevíracího seznamu. Prázdná buňka znamená „person“.",
		language: "Jazyk: dvoupísmenný kód jazyka klienta (fr, nl, en, de, cs, …); rozevírací seznam nabízí ty nejběžnější.",
		country:  "Země: dvoupísmenný kód ISO (BE, NL, FR, DE, CZ, …).",
		vat: "DIČ / číslo podniku: belgické číslo ve tvaru BE0123.456.749 (tečky, mezery a „BE“ nejsou povinné). Kontrolní " +
			"číslice musí být správné: překlep bude nahlášen.",
		phone: "Telefon: pouze číslice, mezery a + ( ) . / -, například +32 470 12 34 56. Nerozpoznané telefonní číslo se " +
			"vynechá; zbytek řádku se naimportuje.",
		length: "Nejvýše %d znaků v jedné buňce.",
		contactsClients: "Kontaktní osoby: až %d na klienta, ve sloupcích „Kontakt 1 …“ až „Kontakt %d …“ (jméno, příjmení, " +
			"e-mail, telefon, funkce). Kontaktní osoba musí mít alespoň jméno nebo příjmení.",
		contactsContacts: "Kontaktní osoba: sloupce „Kontakt …“ (jméno, příjmení, e-mail, telefon, funkce) popisují kontaktní " +
			"osobu daného řádku, která musí mít alespoň jméno nebo příjmení.",
		customNone: "Vlastní pole vašeho registru jsou na konci, za standardními sloupci.",
		customSome: "Vlastní pole vašeho registru jsou poslední sloupce: %s.",
		externalID: "Externí ID: vaše vlastní označení klienta, například jeho číslo ve vašem účetním programu. Při dalším " +
			"importu se klient se stejným externím ID aktualizuje; bez něj se klienti rozpoznávají podle e-mailové adresy.",
		dryRun: "Po nahrání se soubor nejprve analyzuje: jde o zkušební běh, v registru se nic nezmění. Zpráva uvede každou " +
			"chybu s řádkem, sloupcem a důvodem; opravte soubor a nahrajte ho znovu, nebo naimportujte jen řádky bez chyb.",
		sheetsRead:     "Čte se pouze list „Clients“; tento list může v souboru zůstat.",
		dateFormat:     "RRRR-MM-DD",
		kindPrompt:     "person nebo company",
		languagePrompt: "Dvoupísmenný kód: fr, nl, en, de, cs, …",
		choicePrompt:   "Vyberte jednu z možností seznamu.",
		numberPrompt:   "Číslo, například 12,5",
		datePrompt:     "Datum, například 31.03.2026",
		listError:      "Vyberte hodnotu ze seznamu.",
		languageError:  "Toto není žádný z obvyklých kódů. Ponechte ho, jen pokud jde o dvoupísmenný kód jazyka ISO 639-1.",
		numberError:    "Toto není číslo.",
		dateError:      "Toto není datum.",
		textError:      "Nejvýše 255 znaků v buňce.",
		types:          map[string]string{"text": "text", "number": "číslo", "date": "datum", "choice": "výběr"},
	},
}
