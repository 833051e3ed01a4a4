package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestAliasTableReads(t *testing.T) {
	for _, e := range aliasErrors {
		t.Error("aliases.tsv", e)
	}
	// An alias listed twice must name the same key with the same rank, or
	// which one applies would depend on the line order.
	type claim struct {
		key  string
		rank int
		line int
	}
	seen := map[string]claim{}
	for _, a := range aliasTable {
		n := NormalizeHeader(a.alias)
		if prev, ok := seen[n]; ok && (prev.key != a.key || prev.rank != a.rank) {
			t.Errorf("aliases.tsv line %d: %q is %s rank %d; line %d says %s rank %d", a.line, a.alias, a.key, a.rank, prev.line, prev.key, prev.rank)
		}
		seen[n] = claim{a.key, a.rank, a.line}
	}
}

// exportCase is the header row of a well-known export, what each header
// becomes ("" = not imported) and the columns kept aside for another.
type exportCase struct {
	headers []string
	want    map[string]string // header -> key
	aside   []string          // headers kept aside (a better-ranked column holds the field)
}

func checkExport(t *testing.T, c exportCase) {
	t.Helper()
	m, issues, err := MapColumns(c.headers, MappingOptions{}, NewCustomFieldSet(uuid.New()))
	if err != nil {
		t.Fatalf("MapColumns: %v", err)
	}
	keys := m.Keys()
	for i, h := range c.headers {
		if want, ok := c.want[h]; ok && keys[i] != want {
			t.Errorf("%q -> %q; want %q", h, keys[i], want)
		}
	}
	var aside []string
	for _, iss := range issues {
		if iss.Code == "kept_aside" {
			aside = append(aside, iss.Header)
		}
	}
	if strings.Join(aside, "|") != strings.Join(c.aside, "|") {
		t.Errorf("kept aside %q; want %q", aside, c.aside)
	}
}

func TestGoogleContactsExport(t *testing.T) {
	t.Run("2023 layout", func(t *testing.T) {
		checkExport(t, exportCase{
			headers: []string{"First Name", "Middle Name", "Last Name", "Nickname", "File As", "Organization Name",
				"Organization Title", "Birthday", "Notes", "Labels", "E-mail 1 - Label", "E-mail 1 - Value",
				"Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Address 1 - Label",
				"Address 1 - Country", "Address 1 - Street", "Address 1 - City", "Address 1 - Postal Code"},
			want: map[string]string{"First Name": "first_name", "Last Name": "last_name", "Organization Name": "company_name",
				"Notes": "notes", "E-mail 1 - Value": "email", "E-mail 1 - Label": "", "Phone 1 - Value": "phone",
				"Phone 2 - Value": "", "Address 1 - Country": "country", "Address 1 - Street": "street",
				"Address 1 - City": "city", "Address 1 - Postal Code": "postal_code", "Middle Name": ""},
			aside: []string{"Phone 2 - Value"},
		})
	})
	t.Run("older layout", func(t *testing.T) {
		checkExport(t, exportCase{
			headers: []string{"Name", "Given Name", "Additional Name", "Family Name", "Notes", "Group Membership",
				"E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value", "Address 1 - Formatted",
				"Address 1 - Street", "Address 1 - City", "Address 1 - Postal Code", "Address 1 - Country",
				"Organization 1 - Name", "Organization 1 - Title"},
			want: map[string]string{"Name": "", "Given Name": "first_name", "Family Name": "last_name",
				"E-mail 1 - Value": "email", "Phone 1 - Value": "phone", "Address 1 - Street": "street",
				"Organization 1 - Name": "company_name", "Notes": "notes"},
			aside: []string{"Name"}, // the full name, behind Family Name
		})
	})
}

func TestOutlookExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"First Name", "Middle Name", "Last Name", "Company", "Job Title", "Business Street",
			"Business City", "Business Postal Code", "Business Country/Region", "Home Street", "Home City",
			"Home Postal Code", "Home Phone", "Mobile Phone", "Business Phone", "E-mail Address", "E-mail 2 Address", "Notes"},
		want: map[string]string{"First Name": "first_name", "Last Name": "last_name", "Company": "company_name",
			"Business Street": "street", "Business City": "city", "Business Postal Code": "postal_code",
			"Business Country/Region": "country", "Business Phone": "phone", "Mobile Phone": "", "Home Phone": "",
			"Home Street": "", "E-mail Address": "email", "E-mail 2 Address": "", "Notes": "notes"},
		// Business before mobile before home, whatever the column order.
		aside: []string{"Home Street", "Home City", "Home Postal Code", "Home Phone", "Mobile Phone", "E-mail 2 Address"},
	})
}

func TestMailchimpExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"Email Address", "First Name", "Last Name", "Address", "Phone Number", "Birthday",
			"MEMBER_RATING", "OPTIN_TIME", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"},
		want: map[string]string{"Email Address": "email", "First Name": "first_name", "Last Name": "last_name",
			"Address": "street", "Phone Number": "phone", "CC": "country", "NOTES": "notes", "TAGS": "", "LEID": ""},
	})
}

func TestHubSpotExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number",
			"Street Address", "City", "Postal Code", "Country/Region", "Company Name", "Contact owner", "Lifecycle Stage"},
		want: map[string]string{"Record ID": "external_id", "Email": "email", "Phone Number": "phone",
			"Mobile Phone Number": "", "Street Address": "street", "Country/Region": "country",
			"Company Name": "company_name", "Lifecycle Stage": ""},
		aside: []string{"Mobile Phone Number"},
	})
}

func TestOdooExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"Name", "Email", "Phone", "Mobile", "Street", "Street2", "City", "Zip", "Country",
			"Tax ID", "Company Type", "Notes", "Language"},
		want: map[string]string{"Name": "last_name", "Email": "email", "Phone": "phone", "Mobile": "",
			"Street": "street", "Street2": "", "Zip": "postal_code", "Tax ID": "vat_number", "Company Type": "",
			"Notes": "notes", "Language": "language"},
		aside: []string{"Mobile"},
	})
}

func TestTeamleaderExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"First name", "Last name", "Email", "Telephone", "GSM", "Street", "Number", "Postal code",
			"City", "Country", "Language", "VAT number", "Tags", "Remarks"},
		want: map[string]string{"Telephone": "phone", "GSM": "", "Number": "house_number", "Postal code": "postal_code",
			"VAT number": "vat_number", "Remarks": "notes", "Tags": ""},
		aside: []string{"GSM"},
	})
}

func TestExactOnlineExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"Code", "Naam", "Adresregel 1", "Postcode", "Plaats", "Land", "Telefoon", "E-mail", "Btw-nummer", "Opmerkingen"},
		want: map[string]string{"Code": "external_id", "Naam": "last_name", "Adresregel 1": "street", "Postcode": "postal_code",
			"Plaats": "city", "Land": "country", "Telefoon": "phone", "E-mail": "email", "Btw-nummer": "vat_number",
			"Opmerkingen": "notes"},
	})
}

func TestBelgianPracticeManagementExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"CustomerId", "Name", "Firstname", "VatNumber", "Street", "HouseNumber", "Box", "ZipCode",
			"City", "CountryCode", "LanguageCode", "Email", "Poznámka"},
		want: map[string]string{"CustomerId": "external_id", "Name": "last_name", "Firstname": "first_name",
			"VatNumber": "vat_number", "HouseNumber": "house_number", "ZipCode": "postal_code",
			"CountryCode": "country", "LanguageCode": "language", "Email": "email", "Poznámka": "notes"},
	})
}

func TestVCardDerivedExport(t *testing.T) {
	checkExport(t, exportCase{
		headers: []string{"FN", "Given Name", "Family Name", "ORG", "EMAIL;TYPE=INTERNET", "TEL;TYPE=HOME",
			"TEL;TYPE=CELL", "TEL;TYPE=WORK", "NOTE"},
		want: map[string]string{"FN": "display_name", "ORG": "company_name", "EMAIL;TYPE=INTERNET": "email",
			"TEL;TYPE=WORK": "phone", "TEL;TYPE=CELL": "", "TEL;TYPE=HOME": "", "NOTE": "notes"},
		aside: []string{"TEL;TYPE=HOME", "TEL;TYPE=CELL"},
	})
}

// Ranks only order columns of one field; columns of equal rank keep the
// file's order (the first is imported), as before the table had ranks.
func TestEqualRanksKeepTheFirstColumn(t *testing.T) {
	m, issues, err := MapColumns([]string{"Email", "Téléphone", "Telefoon"}, MappingOptions{}, NewCustomFieldSet(uuid.New()))
	if err != nil {
		t.Fatal(err)
	}
	if k := m.Keys(); k[1] != "phone" || k[2] != "" || len(issues) != 1 || issues[0].Code != "duplicate_field_column" {
		t.Errorf("keys %q, issues %+v", k, issues)
	}
}

func TestFindHeaderRow(t *testing.T) {
	custom := NewCustomFieldSet(uuid.New())
	cases := []struct {
		name string
		rows [][]string
		opts MappingOptions
		want int
	}{
		{"header on row 1", [][]string{{"Email", "Name"}, {"a@example.be", "A"}}, MappingOptions{}, 0},
		{"title, date and blank row above", [][]string{{"Client list"}, {"2024-05-01"}, {"Voornaam", "Naam", "E-mail", "Postcode"}, {"Jan", "Peeters", "jan@example.be", "1000"}}, MappingOptions{}, 2},
		{"the row that maps best", [][]string{{"Clients", "Email"}, {"Voornaam", "Naam", "E-mail"}}, MappingOptions{}, 1},
		{"ties go to the first", [][]string{{"Email"}, {"Phone"}}, MappingOptions{}, 0},
		{"a header-less list", [][]string{{"jan@example.be", "nl"}, {"Email", "Language"}}, MappingOptions{}, 0},
		{"nothing maps", [][]string{{"Report"}, {"Col1", "Col2"}}, MappingOptions{}, 0},
		{"headers the user mapped", [][]string{{"Report"}, {"Adres", "Post"}}, MappingOptions{Explicit: map[string]string{"Post": "email", "adres": "street"}}, 1},
	}
	for _, tc := range cases {
		if got := FindHeaderRow(tc.rows, tc.opts, custom); got != tc.want {
			t.Errorf("%s: row %d, want %d", tc.name, got, tc.want)
		}
	}
}
