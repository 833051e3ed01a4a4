package web

import (
	"html/template"
	"net/url"
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
