package web

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

var funcs = template.FuncMap{
	"clientName": clientName,
	"date":       func(t time.Time) string { return t.Local().Format("2006-01-02") },
	"datetime":   func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"listName": func(lists []projections.ListView, id any) string {
		for _, l := range lists {
			if l.ID.String() == toString(id) {
				return l.Name
			}
		}
		return ""
	},
	"query": url.QueryEscape,
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"sourceNames": func(p *page, sources []string) string {
		names := make([]string, len(sources))
		for i, s := range sources {
			names[i] = p.T("source." + s)
		}
		return strings.Join(names, ", ")
	},
	"field":          inputOf,
	"accessStatuses": func() []string { return accessStatuses },
	"roles":          func() []string { return []string{domain.RoleViewer, domain.RoleEditor, domain.RoleAdmin} },
	// sortState is a column header's aria-sort for the table's order.
	"sortState": func(sort, col string) string {
		switch {
		case sort == col || sort == "" && col == "name":
			return "ascending"
		case sort == "-"+col:
			return "descending"
		}
		return ""
	},
	"sortArrow": func(sort, col string) string {
		switch {
		case sort == col || sort == "" && col == "name":
			return "↑"
		case sort == "-"+col:
			return "↓"
		}
		return ""
	},
	"statusOf": func(p *page, status string) struct{ Class, Label string } {
		class := map[string]string{"executed": "badge-ok", "running": "badge-accent", "analyzed": "badge-accent",
			"failed": "badge-danger", "refused": "badge-danger", "undone": "badge-warn"}[status]
		return struct{ Class, Label string }{class, p.T("import.status." + status)}
	},
	"delimiterWords": func(p *page, d string) string {
		if d == "\t" {
			return p.T("import.tab")
		}
		return d
	},
	"addressLines": func(p *page, a projections.Address) []string {
		var lines []string
		street := strings.TrimSpace(a.Street + " " + a.HouseNumber)
		if a.Box != "" {
			street += " " + p.T("label.box") + " " + a.Box
		}
		for _, l := range []string{street, strings.TrimSpace(a.PostalCode + " " + a.City), a.Country} {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		return lines
	},
	"customField":   customInputOf,
	"contactField":  contactInputOf,
	"contactFields": func() []string { return domain.ContactFields },
	"contactName": func(p *page, c map[string]string) string {
		if n := strings.TrimSpace(c["first_name"] + " " + c["last_name"]); n != "" {
			return n
		}
		return p.T("contact.unnamed")
	},
	// sources a client can come from, for the filter.
	"sources": func() []string {
		return []string{domain.ProviderAdminPulse, domain.ProviderAdminIS, domain.ProviderERP}
	},
}

func toString(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	s, _ := v.(string)
	return s
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// input is one labelled text input of a form, with its hint and error.
type input struct {
	Name, Type, Autocomplete, Label, Value, Error, Hint string
	Required                                            bool
	RequiredWord                                        string
}

// required marks the fields a client registered by hand needs (the
// company name only for companies, the names only for persons).
var required = map[string]bool{"email": true, "first_name": true, "last_name": true}

func inputOf(p *page, name, typ, autocomplete string) input {
	in := input{Name: name, Type: typ, Autocomplete: autocomplete, Label: p.T("label." + name),
		Value: p.Val(name), Error: p.Err(name), Required: required[name], RequiredWord: p.T("form.required")}
	if hasMessage("hint." + name) {
		in.Hint = p.T("hint." + name)
	}
	return in
}

func customInputOf(p *page, f projections.CustomFieldView) input {
	name := "custom_fields." + f.Name
	in := input{Name: name, Type: "text", Autocomplete: "off", Label: f.Name, Value: p.Val(name), Error: p.Err(name)}
	if len(f.Options) > 0 {
		in.Hint = p.T("hint.options", strings.Join(f.Options, ", "))
	}
	return in
}

// contactInput is one field of a contact person's form on the client's
// page: its input is named after the field alone, its id and its error
// after the form (key "contact.new." or "contact.<id>." plus the field).
type contactInput struct {
	ID, Name, Type, Autocomplete, Label, Value, Error string
}

var contactInputTypes = map[string][2]string{"first_name": {"text", "given-name"}, "last_name": {"text", "family-name"},
	"email": {"email", "email"}, "phone": {"tel", "tel"}, "role": {"text", "organization-title"}}

func contactInputOf(p *page, key, field string, current map[string]string) contactInput {
	name := key + field
	in := contactInput{ID: "f-" + strings.ReplaceAll(name, ".", "-"), Name: field, Type: contactInputTypes[field][0],
		Autocomplete: contactInputTypes[field][1], Label: p.T("label." + field), Value: current[field], Error: p.Err(name)}
	if v, typed := p.Form[name]; typed {
		in.Value = v
	}
	return in
}
