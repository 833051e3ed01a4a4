package commands

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// testMapping maps columns headed by their own keys, external ids of "erp".
func testMapping(t *testing.T, layout domain.Layout, keys ...string) domain.ImportMapping {
	t.Helper()
	explicit := map[string]string{}
	for _, k := range keys {
		explicit[k] = k
	}
	m, _, err := domain.MapColumns(keys, domain.MappingOptions{Layout: layout, Explicit: explicit, Source: "erp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRowKeysGroupKeyAndMatchRow(t *testing.T) {
	m := testMapping(t, domain.LayoutClients, "external_id", "email", "last_name")
	byRef, byEmail := uuid.New(), uuid.New()
	found := map[domain.UniqueKey]uuid.UUID{
		domain.RefKey(domain.ExternalRef{Source: "erp", ExternalID: "K-1"}): byRef,
		domain.EmailLookupKey(domain.EmailKey("known@example.be")):          byEmail,
	}
	tests := []struct {
		name      string
		cells     []string
		wantKeys  []string // kinds, in order
		wantGroup string
		wantMatch uuid.UUID
	}{
		{"email only", []string{"", "Known@Example.be", "Dupont"}, []string{"email"}, "email\x00" + domain.EmailKey("known@example.be"), byEmail},
		{"reference first", []string{"K-1", "known@example.be", "Dupont"}, []string{"external_ref", "email"}, "ref\x00erp\x00K-1", byRef},
		{"unknown reference, known email", []string{"K-9", "known@example.be", ""}, []string{"external_ref", "email"}, "ref\x00erp\x00K-9", byEmail},
		{"reference only", []string{"K-1", "", "Dupont"}, []string{"external_ref"}, "ref\x00erp\x00K-1", byRef},
		{"nobody", []string{"K-2", "new@example.be", ""}, []string{"external_ref", "email"}, "ref\x00erp\x00K-2", uuid.Nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Read(2, tt.cells, nil)
			if !r.Valid() {
				t.Fatalf("row invalid: %+v", r.Issues)
			}
			var kinds []string
			for _, k := range rowKeys(r) {
				kinds = append(kinds, k.Kind)
			}
			if !slices.Equal(kinds, tt.wantKeys) {
				t.Errorf("rowKeys kinds = %v, want %v", kinds, tt.wantKeys)
			}
			if g := groupKey(r); g != tt.wantGroup {
				t.Errorf("groupKey = %q, want %q", g, tt.wantGroup)
			}
			id, ok := matchRow(r, found)
			if id != tt.wantMatch || ok != (tt.wantMatch != uuid.Nil) {
				t.Errorf("matchRow = %v, %v; want %v", id, ok, tt.wantMatch)
			}
		})
	}
}

// classified is what one row of a file came to.
type classified struct {
	out    rowOutcome
	issues []string // codes of the row's errors
}

func TestFileRulesClientsLayout(t *testing.T) {
	keys := []string{"external_id", "email", "kind", "last_name", "company_name"}
	tests := []struct {
		name    string
		mode    string
		rows    [][]string
		known   []string // emails already in the registry
		want    []classified
		wantDup map[int]string // row number -> first_row param of its duplicate_in_file issue
		// wantField is the field the duplicate issues name, when it matters.
		wantField string
	}{
		{
			name: "new, existing and invalid",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"", "new@example.be", "", "Dupont", ""},
				{"", "known@example.be", "", "", ""},
				{"", "not an email", "", "Dupont", ""},
			},
			known: []string{"known@example.be"},
			want:  []classified{{rowCreate, nil}, {rowUpdate, nil}, {rowInvalid, []string{"invalid_email"}}},
		},
		{
			name:  "create only skips existing clients",
			mode:  domain.ModeCreateOnly,
			rows:  [][]string{{"", "known@example.be", "", "Dupont", ""}, {"", "new@example.be", "", "Dupont", ""}},
			known: []string{"known@example.be"},
			want:  []classified{{rowSkip, nil}, {rowCreate, nil}},
		},
		{
			name: "the same email twice: the second row points at the first",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"", "marie@example.be", "", "Dupont", ""},
				{"", "other@example.be", "", "Martin", ""},
				{"", "Marie@Example.BE", "", "Dupont", ""},
			},
			want:    []classified{{rowCreate, nil}, {rowCreate, nil}, {rowInvalid, []string{"duplicate_in_file"}}},
			wantDup: map[int]string{4: "2"},
		},
		{
			name: "the same external id twice, with different emails",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"K-1", "a@example.be", "", "Dupont", ""},
				{"K-1", "b@example.be", "", "Dupont", ""},
			},
			want:      []classified{{rowCreate, nil}, {rowInvalid, []string{"duplicate_in_file"}}},
			wantDup:   map[int]string{3: "2"},
			wantField: "external_id",
		},
		{
			name: "a row repeating only the email is pointed at its email, not its own external id",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"K-1", "a@example.be", "", "Dupont", ""},
				{"K-2", "a@example.be", "", "Dupont", ""},
			},
			want:      []classified{{rowCreate, nil}, {rowInvalid, []string{"duplicate_in_file"}}},
			wantDup:   map[int]string{3: "2"},
			wantField: "email",
		},
		{
			name: "a rejected row claims no email",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"", "acme@example.be", "company", "", ""},
				{"", "acme@example.be", "company", "", "Acme"},
			},
			want: []classified{{rowInvalid, []string{"required"}}, {rowCreate, nil}},
		},
		{
			name: "a new client needs an email, an existing one does not",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"K-7", "", "", "Dupont", ""},
				{"K-8", "", "", "Dupont", ""},
			},
			known: []string{"ref:K-8"},
			want:  []classified{{rowInvalid, []string{"required"}}, {rowUpdate, nil}},
		},
		{
			name: "an existing client named twice is a duplicate too",
			mode: domain.ModeCreateAndUpdate,
			rows: [][]string{
				{"", "known@example.be", "", "", ""},
				{"", "known@example.be", "", "Dupont", ""},
			},
			known:   []string{"known@example.be"},
			want:    []classified{{rowUpdate, nil}, {rowInvalid, []string{"duplicate_in_file"}}},
			wantDup: map[int]string{3: "2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMapping(t, domain.LayoutClients, keys...)
			got := classifyAll(m, tt.mode, tt.rows, tt.known)
			assertClassified(t, got, tt.want)
			for _, r := range got.rows {
				for _, iss := range r.Issues {
					if iss.Code != "duplicate_in_file" {
						continue
					}
					if first, ok := tt.wantDup[r.Number]; !ok || iss.Params["first_row"] != first {
						t.Errorf("row %d: duplicate of row %s, want %q", r.Number, iss.Params["first_row"], first)
					}
					if tt.wantField != "" && iss.Field != tt.wantField {
						t.Errorf("row %d: duplicate issue names %s=%q, want the %s", r.Number, iss.Field, iss.Value, tt.wantField)
					}
					if iss.Column == "" || iss.Value == "" {
						t.Errorf("row %d: duplicate issue names no column or value: %+v", r.Number, iss)
					}
				}
			}
		})
	}
}

func TestFileRulesContactsLayout(t *testing.T) {
	keys := []string{"email", "last_name", "contact_first_name", "contact_last_name"}
	tests := []struct {
		name         string
		rows         [][]string
		known        []string
		want         []classified
		wantAdopted  []int
		wantRejected []int
	}{
		{
			name: "a client then its contacts",
			rows: [][]string{
				{"acme@example.be", "Acme", "Jan", "Peeters"},
				{"acme@example.be", "", "An", "Claes"},
				{"ACME@example.be", "", "Piet", "Maes"},
			},
			want: []classified{{rowCreate, nil}, {rowContact, nil}, {rowContact, nil}},
		},
		{
			name:  "contacts of a client already registered",
			rows:  [][]string{{"known@example.be", "", "Jan", "Peeters"}, {"known@example.be", "", "An", "Claes"}},
			known: []string{"known@example.be"},
			want:  []classified{{rowUpdate, nil}, {rowContact, nil}},
		},
		{
			name: "a contact before the row that names its client is adopted",
			rows: [][]string{
				{"acme@example.be", "", "An", "Claes"},
				{"acme@example.be", "Acme", "Jan", "Peeters"},
			},
			want:        []classified{{rowOrphan, nil}, {rowCreate, nil}},
			wantAdopted: []int{2},
		},
		{
			name:         "a contact of a client nobody names is rejected",
			rows:         [][]string{{"ghost@example.be", "", "An", "Claes"}},
			want:         []classified{{rowOrphan, nil}},
			wantRejected: []int{2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMapping(t, domain.LayoutContacts, keys...)
			got := classifyAll(m, domain.ModeCreateAndUpdate, tt.rows, tt.known)
			assertClassified(t, got, tt.want)
			adopted, rejected := got.rules.settleOrphans()
			if n := numbers(adopted); !slices.Equal(n, tt.wantAdopted) {
				t.Errorf("adopted rows %v, want %v", n, tt.wantAdopted)
			}
			if n := numbers(rejected); !slices.Equal(n, tt.wantRejected) {
				t.Errorf("rejected rows %v, want %v", n, tt.wantRejected)
			}
			for _, r := range rejected {
				if codes := errorCodes(r); !slices.Equal(codes, []string{"client_not_found"}) {
					t.Errorf("row %d rejected with %v, want client_not_found", r.Number, codes)
				}
				if iss := r.Issues[len(r.Issues)-1]; iss.Column != "A" || iss.Value != "ghost@example.be" {
					t.Errorf("row %d: issue points at column %q value %q, want A and the email", r.Number, iss.Column, iss.Value)
				}
			}
			if again, _ := got.rules.settleOrphans(); len(again) > 0 {
				t.Errorf("orphans settled twice: %v", numbers(again))
			}
		})
	}
}

type classifiedFile struct {
	rules *fileRules
	rows  []domain.ImportRow
	outs  []rowOutcome
}

// classifyAll reads rows (numbered from 2, under a header) and classifies
// them in file order against a registry holding known ("ref:ID" for an erp
// reference, else an email).
func classifyAll(m domain.ImportMapping, mode string, cells [][]string, known []string) classifiedFile {
	found := map[domain.UniqueKey]uuid.UUID{}
	for _, k := range known {
		if id, ok := strings.CutPrefix(k, "ref:"); ok {
			found[domain.RefKey(domain.ExternalRef{Source: "erp", ExternalID: id})] = uuid.New()
		} else {
			found[domain.EmailLookupKey(domain.EmailKey(k))] = uuid.New()
		}
	}
	f := classifiedFile{rules: newFileRules(m, mode)}
	for i, c := range cells {
		r := m.Read(i+2, c, nil)
		_, matched := matchRow(r, found)
		f.outs = append(f.outs, f.rules.classify(&r, matched))
		f.rows = append(f.rows, r)
	}
	return f
}

func assertClassified(t *testing.T, got classifiedFile, want []classified) {
	t.Helper()
	for i, w := range want {
		r := got.rows[i]
		if got.outs[i] != w.out {
			t.Errorf("row %d: outcome %d, want %d (issues %+v)", r.Number, got.outs[i], w.out, r.Issues)
		}
		if codes := errorCodes(r); !slices.Equal(codes, w.issues) {
			t.Errorf("row %d: errors %v, want %v", r.Number, codes, w.issues)
		}
	}
}

func errorCodes(r domain.ImportRow) []string {
	var out []string
	for _, iss := range r.Issues {
		if !iss.Warning {
			out = append(out, iss.Code)
		}
	}
	return out
}

func numbers(rows []domain.ImportRow) []int {
	var out []int
	for _, r := range rows {
		out = append(out, r.Number)
	}
	return out
}

func TestFirstRows(t *testing.T) {
	f := newFirstRows()
	if _, ok := f.get("a"); ok {
		t.Fatal("an empty set knows a key")
	}
	steps := []struct {
		key       string
		row       int
		wantFirst int
		wantSeen  bool
	}{
		{"a", 2, 2, false},
		{"b", 3, 3, false},
		{"a", 7, 2, true},
		{"b", 9, 3, true},
	}
	for _, s := range steps {
		first, seen := f.see(s.row, s.key)
		if first != s.wantFirst || seen != s.wantSeen {
			t.Errorf("see(%d, %q) = %d, %v; want %d, %v", s.row, s.key, first, seen, s.wantFirst, s.wantSeen)
		}
	}
	if first, ok := f.get("a"); !ok || first != 2 {
		t.Errorf("get(a) = %d, %v; want 2, true", first, ok)
	}
	// A key given in parts is the key they make together.
	if _, seen := f.see(11, "c", "\x00", "d"); seen {
		t.Error("see(11, c, NUL, d) found a key never seen")
	}
	if first, ok := f.get("c\x00d"); !ok || first != 11 {
		t.Errorf("get(c NUL d) = %d, %v; want 11, true", first, ok)
	}
	if _, ok := f.get("c", "d"); ok {
		t.Error("get(c, d) found the key of c, NUL, d")
	}
}
