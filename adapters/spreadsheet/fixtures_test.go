package spreadsheet

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/clientreg/clientreg/domain"
)

// corpusCustomFields are the custom fields the template fixtures carry; a
// test importing them defines the same.
var corpusCustomFields = []CustomColumn{{Name: "tier", Type: domain.CustomChoice, Options: []string{"gold", "silver"}}}

// corpusTyped are the rows typed into each template fixture, by column key:
// a company with a contact and a note, a person, and a row with an email
// that is not one.
var corpusTyped = []map[string]string{
	{"kind": "company", "company_name": "ACME", "email": "info@acme.be", "language": "fr", "phone": "0470 12 34 56",
		"vat_number": "BE0403.170.701", "postal_code": "1000", "city": "Bruxelles", "country": "BE", "external_id": "A-1",
		"contact1_first_name": "Marie", "contact1_last_name": "Dupont", "contact1_email": "marie@acme.be",
		"notes": "Client since 2019.\nPays by transfer.", "custom:tier": "gold"},
	{"kind": "person", "first_name": "Jan", "last_name": "Peeters", "email": "jan@peeters.be", "language": "nl",
		"phone": "+32 475 12 34 56", "street": "Kerkstraat", "house_number": "7", "box": "2", "postal_code": "9000",
		"city": "Gent", "country": "BE"},
	{"kind": "person", "first_name": "Els", "last_name": "Maes", "email": "els(at)maes.be", "language": "nl"},
}

// TestWriteTemplateFixtures writes the product's template in every
// language, with the cells to type in it, and checks that every typed
// value has its column in each language's template (a fixture that lost a
// column would silently test less). scripts/make-fixtures.sh runs it with
// CLIENTREG_TEMPLATE_FIXTURES naming where to keep the files; otherwise
// they go to a temporary directory.
func TestWriteTemplateFixtures(t *testing.T) {
	dir := os.Getenv("CLIENTREG_TEMPLATE_FIXTURES")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.MkdirAll(dir, 0o755))
	for _, lang := range domain.TemplateLanguages {
		spec := TemplateSpec{Layout: domain.LayoutClients, Lang: lang, Custom: corpusCustomFields}
		f, err := os.Create(filepath.Join(dir, "template-"+lang+".xlsx"))
		must(t, err)
		must(t, WriteTemplateXLSX(f, spec))
		must(t, f.Close())
		cells := map[string]string{}
		placed := 0
		for i, c := range spec.columns() {
			for r, row := range corpusTyped {
				if v, ok := row[c.column.Key()]; ok {
					ref, err := excelize.CoordinatesToCellName(i+1, r+2)
					must(t, err)
					cells[ref] = v
					placed++
				}
			}
		}
		typed := 0
		for _, row := range corpusTyped {
			typed += len(row)
		}
		if placed != typed {
			t.Errorf("%s template: %d of the %d typed values found a column", lang, placed, typed)
		}
		side, err := json.Marshal(map[string]any{"sheet": TemplateSheet, "cells": cells})
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, "template-"+lang+".json"), side, 0o644))
	}
}
