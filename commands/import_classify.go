package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// rowOutcome is what a row of a file amounts to.
type rowOutcome int

const (
	rowInvalid rowOutcome = iota
	rowCreate             // a client new to the registry
	rowUpdate             // an existing client, create_and_update
	rowSkip               // an existing client, create_only
	rowContact            // more contacts for a client named on an earlier row (contacts layout)
	rowOrphan             // a contact row whose client is not known yet (contacts layout)
)

// fileRules applies the rules that span rows: a client appears once per
// file (clients layout) or is named once and gathers contact rows (contacts
// layout). Analysis and execution use the same rules, so execution imports
// what the analysis counted.
type fileRules struct {
	mapping domain.ImportMapping
	mode    string
	first   *firstRows
	orphans []domain.ImportRow
}

func newFileRules(m domain.ImportMapping, mode string) *fileRules {
	return &fileRules{mapping: m, mode: mode, first: newFirstRows()}
}

// match looks the chunk's rows up in the registry.
func matchChunk(ctx context.Context, m ClientMatcher, tenantID uuid.UUID, rows []domain.ImportRow) (map[domain.UniqueKey]uuid.UUID, error) {
	keys := make([]domain.UniqueKey, 0, len(rows)) // most rows have one key
	for _, r := range rows {
		if r.Valid() {
			keys = append(keys, rowKeys(r)...)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return m.MatchClients(ctx, tenantID, keys)
}

// classify decides a row's outcome; the issues it finds are added to the row.
func (f *fileRules) classify(r *domain.ImportRow, matched bool) rowOutcome {
	if !r.Valid() {
		return rowInvalid
	}
	if f.mapping.Layout() == domain.LayoutContacts {
		return f.classifyContactRow(r, matched)
	}
	for _, k := range rowKeys(*r) {
		if first, seen := f.first.get(k.Kind, "\x00", k.Value); seen {
			r.Issues = append(r.Issues, duplicateIssue(f.mapping, *r, k.Kind, first))
			return rowInvalid
		}
	}
	out := f.existingOrNew(r, matched)
	if out != rowInvalid {
		for _, k := range rowKeys(*r) {
			f.first.see(r.Number, k.Kind, "\x00", k.Value)
		}
	}
	return out
}

func (f *fileRules) existingOrNew(r *domain.ImportRow, matched bool) rowOutcome {
	if matched {
		if f.mode == domain.ModeCreateOnly {
			return rowSkip
		}
		return rowUpdate
	}
	if missing := f.mapping.MissingForNewClient(*r); len(missing) > 0 {
		r.Issues = append(r.Issues, missing...)
		return rowInvalid
	}
	return rowCreate
}

func (f *fileRules) classifyContactRow(r *domain.ImportRow, matched bool) rowOutcome {
	key := groupKey(*r)
	if _, seen := f.first.get(key); seen {
		return rowContact
	}
	if !matched && !r.NamesClient() {
		f.orphans = append(f.orphans, *r)
		return rowOrphan
	}
	out := f.existingOrNew(r, matched)
	if out != rowInvalid {
		f.first.see(r.Number, key)
	}
	return out
}

// settleOrphans decides the contact rows whose client was not known when
// they were read: fine if a later row named it, else client_not_found.
func (f *fileRules) settleOrphans() (adopted, rejected []domain.ImportRow) {
	for _, r := range f.orphans {
		if _, ok := f.first.get(groupKey(r)); ok {
			adopted = append(adopted, r)
			continue
		}
		field, value := string(domain.FieldEmail), r.EmailKey
		if r.Ref != nil {
			field, value = "external_id", r.Ref.ExternalID
		}
		iss := domain.ImportIssue{Row: r.Number, Field: field, Value: value, Code: "client_not_found",
			Params: map[string]string{"value": value}}
		iss.Column, iss.Header = columnOf(f.mapping, field)
		r.Issues = append(r.Issues, iss)
		rejected = append(rejected, r)
	}
	f.orphans = nil
	return adopted, rejected
}
