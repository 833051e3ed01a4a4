package domain

import (
	"net/mail"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Field names a client detail. Details travel as flat field -> value maps so
// that a change carries exactly the fields it changed and history can show
// each one old -> new.
type Field string

const (
	FieldKind        Field = "kind"
	FieldFirstName   Field = "first_name"
	FieldLastName    Field = "last_name"
	FieldCompanyName Field = "company_name"
	FieldDisplayName Field = "display_name"
	FieldEmail       Field = "email"
	FieldLanguage    Field = "language"
	FieldPhone       Field = "phone"
	FieldVATNumber   Field = "vat_number"
	FieldStreet      Field = "street"
	FieldHouseNumber Field = "house_number"
	FieldBox         Field = "box"
	FieldPostalCode  Field = "postal_code"
	FieldCity        Field = "city"
	FieldCountry     Field = "country"
	FieldNotes       Field = "notes" // free text, several lines; not searched
)

// ClientFields lists every detail field in display order.
var ClientFields = []Field{
	FieldKind, FieldFirstName, FieldLastName, FieldCompanyName, FieldDisplayName,
	FieldEmail, FieldLanguage, FieldPhone, FieldVATNumber,
	FieldStreet, FieldHouseNumber, FieldBox, FieldPostalCode, FieldCity, FieldCountry, FieldNotes,
}

// IsClientField reports whether name is a known detail field.
func IsClientField(name string) bool {
	for _, f := range ClientFields {
		if string(f) == name {
			return true
		}
	}
	return false
}

// MaxTextLength is the longest text any field accepts. Longer input is
// rejected, never truncated: a cut-off name is worse than an error.
const MaxTextLength = 255

// Client kinds.
const (
	KindPerson  = "person"
	KindCompany = "company"
)

// normalizeField validates one detail value and returns its canonical form.
// An empty value is valid for every field here; required fields are checked
// where the whole client is known.
func normalizeField(f Field, raw string) (string, *FieldError) {
	v := strings.TrimSpace(raw)
	if err := checkText(string(f), v); err != nil {
		return "", err
	}
	if v == "" {
		return "", nil
	}
	switch f {
	case FieldKind:
		k := strings.ToLower(v)
		if k != KindPerson && k != KindCompany {
			return "", &FieldError{string(f), "invalid_kind", `must be "person" or "company"`}
		}
		return k, nil
	case FieldEmail:
		return normalizeEmail(string(f), v)
	case FieldLanguage:
		l := strings.ToLower(v)
		if !isLanguage(l) {
			return "", &FieldError{string(f), "unknown_language", "\"" + v + "\" is not an ISO 639-1 language code (for example fr, nl, en, de, cs)"}
		}
		return l, nil
	case FieldPhone:
		return normalizePhone(string(f), v)
	case FieldVATNumber:
		return NormalizeVATNumber(string(f), v)
	case FieldCountry:
		c := strings.ToUpper(v)
		if !isCountry(c) {
			return "", &FieldError{string(f), "unknown_country", "\"" + v + "\" is not an ISO 3166 country code (for example BE, NL, FR)"}
		}
		return c, nil
	}
	return v, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// normalizeEmail checks an address and returns it in NFC. A domain in
// Unicode must have an ASCII (IDNA) form, which is how it is compared.
func normalizeEmail(field, v string) (string, *FieldError) {
	v = norm.NFC.String(v)
	invalid := func() *FieldError {
		return &FieldError{field, "invalid_email", "\"" + v + "\" is not a valid email address"}
	}
	if !isDotAtomAddress(v) {
		addr, err := mail.ParseAddress(v)
		if err != nil || addr.Address != v || addr.Name != "" {
			return "", invalid()
		}
	}
	at := strings.LastIndexByte(v, '@')
	domainPart := v[at+1:]
	if at < 1 || !strings.Contains(domainPart, ".") || strings.HasSuffix(domainPart, ".") {
		return "", invalid()
	}
	if !isASCII(domainPart) {
		if _, err := idna.Lookup.ToASCII(domainPart); err != nil {
			return "", invalid()
		}
	}
	return v, nil
}

// isDotAtomAddress reports whether v is local@domain, both plain ASCII
// dot-atoms (RFC 5322 3.2.3): the form nearly every address has, which
// net/mail accepts as it is. Checking it by hand first spares net/mail's
// parser, which was most of the cost of checking a file's rows.
func isDotAtomAddress(v string) bool {
	at := strings.IndexByte(v, '@')
	return at > 0 && isDotAtom(v[:at]) && isDotAtom(v[at+1:])
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// EmailKey is the form under which emails are compared: trimmed, lower
// case, in Unicode's composed form (NFC: "é" typed as e and an accent is
// "é"), the domain in its ASCII (IDNA) form, so that josé@bücher.be and
// josé@xn--bcher-kva.be are one address.
func EmailKey(email string) string {
	v := strings.ToLower(strings.TrimSpace(email))
	if isASCII(v) {
		return v
	}
	v = norm.NFC.String(v)
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return v
	}
	if ascii, err := idna.Lookup.ToASCII(v[at+1:]); err == nil {
		v = v[:at+1] + strings.ToLower(ascii)
	}
	return v
}

func normalizePhone(field, v string) (string, *FieldError) {
	digits := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+ ()./-", r):
		default:
			return "", &FieldError{field, "invalid_phone", "\"" + v + "\" is not a phone number: only digits, spaces and + ( ) . / - are allowed"}
		}
	}
	if digits < 6 {
		return "", &FieldError{field, "invalid_phone", "\"" + v + "\" has too few digits for a phone number"}
	}
	return v, nil
}

// NormalizeVATNumber turns a Belgian enterprise or VAT number in any common
// notation (BE0123.456.749, 0123 456 749, 123456749) into its 10 digits and
// checks them: the last two digits equal 97 - (the first eight mod 97).
func NormalizeVATNumber(field, v string) (string, *FieldError) {
	s := strings.ToUpper(v)
	s = strings.TrimPrefix(s, "BE")
	digits := make([]byte, 0, 11) // on the stack: the 10 digits, and one to find too many
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '.' || r == ' ' || r == '-' || r == '/':
		default:
			return "", &FieldError{field, "invalid_vat_number", "\"" + v + "\" is not a Belgian enterprise number (expected like BE0123.456.749)"}
		}
	}
	if len(digits) == 9 {
		digits = append(digits, 0)
		copy(digits[1:], digits)
		digits[0] = '0'
	}
	if len(digits) != 10 || (digits[0] != '0' && digits[0] != '1') {
		return "", &FieldError{field, "invalid_vat_number", "\"" + v + "\" is not a Belgian enterprise number: it needs 10 digits starting with 0 or 1"}
	}
	base := 0
	for _, d := range digits[:8] {
		base = base*10 + int(d-'0')
	}
	check := int(digits[8]-'0')*10 + int(digits[9]-'0')
	if check != 97-base%97 {
		return "", &FieldError{field, "invalid_vat_check_digits", "\"" + v + "\" has wrong check digits: the last two digits must be 97 minus the first eight modulo 97"}
	}
	return string(digits), nil
}
