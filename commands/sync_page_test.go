package commands

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

const testSource = "crm"

// syncWorld is a registry in memory with the links of one source: the
// transaction a page is applied in.
type syncWorld struct {
	*memStore
	t      *testing.T
	tenant uuid.UUID
	links  map[string]SourceLink
	vats   map[string]uuid.UUID
	loads  int // streams loaded
}

func newSyncWorld(t *testing.T) *syncWorld {
	return &syncWorld{memStore: newMemStore(), t: t, tenant: uuid.New(), links: map[string]SourceLink{}, vats: map[string]uuid.UUID{}}
}

func (w *syncWorld) MatchClients(_ context.Context, _ uuid.UUID, keys []domain.UniqueKey) (map[domain.UniqueKey]uuid.UUID, error) {
	out := map[domain.UniqueKey]uuid.UUID{}
	for _, k := range keys {
		if id, ok := w.owners[k.Kind+"\x00"+k.Value]; ok {
			out[k] = id
		}
	}
	return out, nil
}

func (w *syncWorld) LoadStreams(_ context.Context, ids []uuid.UUID) (map[uuid.UUID][]domain.RecordedEvent, error) {
	out := map[uuid.UUID][]domain.RecordedEvent{}
	for _, id := range ids {
		w.loads++
		if s, ok := w.streams[id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func (w *syncWorld) Reserve(_ context.Context, aggs []domain.Aggregate) (map[uuid.UUID]*domain.DuplicateError, error) {
	taken := map[uuid.UUID]*domain.DuplicateError{}
	for _, a := range aggs {
		for _, k := range a.UniqueKeys() {
			if owner, ok := w.owners[k.Kind+"\x00"+k.Value]; ok && owner != a.StreamID() {
				taken[a.StreamID()] = &domain.DuplicateError{Field: k.Field, OwnerID: owner.String()}
			}
		}
	}
	return taken, nil
}

func (w *syncWorld) Append(_ context.Context, origin domain.Origin, changes []RowChange) (int64, error) {
	for _, c := range changes {
		if current := len(w.streams[c.Aggregate.StreamID()]); current != c.Aggregate.Version() {
			w.t.Fatalf("append to %s at version %d, stream at %d", c.Aggregate.StreamID(), c.Aggregate.Version(), current)
		}
		w.append(origin, c.Aggregate)
	}
	return w.pos, nil
}

func (w *syncWorld) Links(_ context.Context, source string, ids []string) (map[string]SourceLink, error) {
	out := map[string]SourceLink{}
	for _, id := range ids {
		if l, ok := w.links[id]; ok && source == testSource {
			out[id] = l
		}
	}
	return out, nil
}

func (w *syncWorld) Versions(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	out := map[uuid.UUID]int{}
	for _, id := range ids {
		out[id] = len(w.streams[id])
	}
	return out, nil
}

func (w *syncWorld) MatchVAT(_ context.Context, _ string, vats []string) (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	for _, v := range vats {
		if id, ok := w.vats[v]; ok {
			out[v] = id
		}
	}
	return out, nil
}

func (w *syncWorld) Digest(details map[domain.Field]string) []byte {
	return []byte(domain.Fingerprint(details))
}

func (w *syncWorld) PutLinks(_ context.Context, _ string, links []SourceLink) error {
	for _, l := range links {
		w.links[l.ExternalID] = l
	}
	return nil
}

func (w *syncWorld) Unseen(_ context.Context, _ string, pullID uuid.UUID) ([]SourceLink, error) {
	var out []SourceLink
	for _, l := range w.links {
		if l.PullID != pullID && !l.Removed {
			out = append(out, l)
		}
	}
	return out, nil
}

func (w *syncWorld) SaveState(context.Context, uuid.UUID, SyncState) error { return nil }

// client registers a client another source brought, with the given details.
func (w *syncWorld) client(details map[domain.Field]string) *domain.Client {
	d, _ := domain.SourceDetails(details)
	c, err := domain.RegisterFromSource(uuid.New(), domain.ExternalRef{Source: "seed", ExternalID: uuid.NewString()}, d)
	if err != nil {
		w.t.Fatal(err)
	}
	w.seed(w.t, w.tenant, c)
	return foldClient(c.ID(), w.streams[c.ID()])
}

// linked registers a client the source brought as externalID, and its link.
func (w *syncWorld) linked(externalID string, details map[domain.Field]string) *domain.Client {
	d, _ := domain.SourceDetails(details)
	c, err := domain.RegisterFromSource(uuid.New(), domain.ExternalRef{Source: testSource, ExternalID: externalID}, d)
	if err != nil {
		w.t.Fatal(err)
	}
	w.seed(w.t, w.tenant, c)
	w.links[externalID] = SourceLink{ExternalID: externalID, ClientID: c.ID(), Digest: w.Digest(d), ClientVersion: 1}
	return foldClient(c.ID(), w.streams[c.ID()])
}

// then saves what the test decided on c, as if done before the page.
func (w *syncWorld) then(c *domain.Client, decide func(*domain.Client) error) {
	if err := decide(c); err != nil {
		w.t.Fatal(err)
	}
	w.seed(w.t, w.tenant, c)
}

func details(email string, more ...string) map[domain.Field]string {
	d := map[domain.Field]string{domain.FieldKind: domain.KindPerson, domain.FieldLastName: "Dupont", domain.FieldCity: "Namur"}
	if email != "" {
		d[domain.FieldEmail] = email
	}
	for i := 0; i+1 < len(more); i += 2 {
		d[domain.Field(more[i])] = more[i+1]
	}
	return d
}

func TestPageSync(t *testing.T) {
	later := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	earlier := later.Add(-time.Hour)
	tests := []struct {
		name      string
		setup     func(w *syncWorld)
		records   []domain.SourceRecord
		updatedAt *time.Time // a push's version of the record
		want      domain.SyncCounts
		// wantEvents are the events appended to the client of each
		// external id (its link's client).
		wantEvents map[string][]string
		wantIssues []string // reasons
		wantLoads  int
		check      func(t *testing.T, w *syncWorld)
	}{
		{
			name:       "a new record registers a client linked to it",
			records:    []domain.SourceRecord{{ExternalID: " K-1 ", Details: details("marie@example.be")}},
			want:       domain.SyncCounts{Created: 1},
			wantEvents: map[string][]string{"K-1": {"ClientRegistered"}},
			check: func(t *testing.T, w *syncWorld) {
				c := foldClient(w.links["K-1"].ClientID, w.streams[w.links["K-1"].ClientID])
				if refs := c.ExternalRefs(); len(refs) != 1 || refs[0] != (domain.ExternalRef{Source: testSource, ExternalID: "K-1"}) {
					t.Errorf("refs = %v, want crm/K-1 (id trimmed)", refs)
				}
				if l := w.links["K-1"]; l.ClientVersion != 1 || l.Removed || len(l.Digest) == 0 {
					t.Errorf("link = %+v, want version 1, a digest, not removed", l)
				}
			},
		},
		{
			name:       "first contact links the client holding the email instead of duplicating it",
			setup:      func(w *syncWorld) { w.client(details("marie@example.be")) },
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("Marie@Example.be", "city", "Liège")}},
			want:       domain.SyncCounts{Linked: 1},
			wantEvents: map[string][]string{"K-1": {"ClientExternalRefAdded", "ClientDetailsChanged"}},
			wantLoads:  1,
		},
		{
			name: "first contact links by enterprise number",
			setup: func(w *syncWorld) {
				c := w.client(details("old@example.be", "vat_number", "BE0417497106"))
				w.vats[c.Detail(domain.FieldVATNumber)] = c.ID()
			},
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("new@example.be", "vat_number", "BE0417497106")}},
			want:       domain.SyncCounts{Linked: 1},
			wantEvents: map[string][]string{"K-1": {"ClientExternalRefAdded", "ClientDetailsChanged"}},
			wantLoads:  1,
			check: func(t *testing.T, w *syncWorld) {
				c := foldClient(w.links["K-1"].ClientID, w.streams[w.links["K-1"].ClientID])
				if c.Detail(domain.FieldEmail) != "new@example.be" || c.Version() != 3 {
					t.Errorf("linked client has email %q at version %d, want the source's email at 3", c.Detail(domain.FieldEmail), c.Version())
				}
			},
		},
		{
			name:      "an unchanged record of an untouched client is not even loaded",
			setup:     func(w *syncWorld) { w.linked("K-1", details("marie@example.be")) },
			records:   []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be")}},
			want:      domain.SyncCounts{Unchanged: 1},
			wantLoads: 0,
		},
		{
			name:       "a change at the source updates the client",
			setup:      func(w *syncWorld) { w.linked("K-1", details("marie@example.be")) },
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be", "city", "Liège")}},
			want:       domain.SyncCounts{Updated: 1},
			wantEvents: map[string][]string{"K-1": {"ClientDetailsChanged"}},
			wantLoads:  1,
		},
		{
			name: "a client edited here since is loaded and brought back in line with the source",
			setup: func(w *syncWorld) {
				c := w.linked("K-1", details("marie@example.be"))
				w.then(c, func(c *domain.Client) error {
					return c.ChangeDetails(domain.ClientInput{Details: map[domain.Field]string{domain.FieldCity: "Mons"}}, nil)
				})
			},
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be")}},
			want:       domain.SyncCounts{Updated: 1},
			wantEvents: map[string][]string{"K-1": {"ClientDetailsChanged"}},
			wantLoads:  1,
		},
		{
			name:       "a record deleted at the source flags its client",
			setup:      func(w *syncWorld) { w.linked("K-1", details("marie@example.be")) },
			records:    []domain.SourceRecord{{ExternalID: "K-1", Deleted: true}},
			want:       domain.SyncCounts{Removed: 1},
			wantEvents: map[string][]string{"K-1": {"ClientRemovedAtSource"}},
			wantLoads:  1,
			check: func(t *testing.T, w *syncWorld) {
				if l := w.links["K-1"]; !l.Removed || l.ClientVersion != 2 || len(l.Digest) == 0 {
					t.Errorf("link = %+v, want removed at version 2 keeping its digest", l)
				}
			},
		},
		{
			name:    "a deletion of a record never seen changes nothing",
			records: []domain.SourceRecord{{ExternalID: "K-9", Deleted: true}},
			want:    domain.SyncCounts{},
			check: func(t *testing.T, w *syncWorld) {
				if _, ok := w.links["K-9"]; ok {
					t.Error("a link was made for a record never seen")
				}
			},
		},
		{
			name: "a deletion already taken is unchanged",
			setup: func(w *syncWorld) {
				c := w.linked("K-1", details("marie@example.be"))
				w.then(c, func(c *domain.Client) error { c.RemoveAtSource(testSource, "K-1"); return nil })
				l := w.links["K-1"]
				l.Removed, l.ClientVersion = true, 2
				w.links["K-1"] = l
			},
			records: []domain.SourceRecord{{ExternalID: "K-1", Deleted: true}},
			want:    domain.SyncCounts{Unchanged: 1},
		},
		{
			name: "a record back at the source restores its client there",
			setup: func(w *syncWorld) {
				c := w.linked("K-1", details("marie@example.be"))
				w.then(c, func(c *domain.Client) error { c.RemoveAtSource(testSource, "K-1"); return nil })
				l := w.links["K-1"]
				l.Removed, l.ClientVersion = true, 2
				w.links["K-1"] = l
			},
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be")}},
			want:       domain.SyncCounts{Updated: 1},
			wantEvents: map[string][]string{"K-1": {"ClientRestoredAtSource"}},
			wantLoads:  1,
			check: func(t *testing.T, w *syncWorld) {
				if l := w.links["K-1"]; l.Removed || l.ClientVersion != 3 {
					t.Errorf("link = %+v, want not removed at version 3", l)
				}
			},
		},
		{
			name: "a client deleted by hand is left alone",
			setup: func(w *syncWorld) {
				c := w.linked("K-1", details("marie@example.be"))
				w.then(c, func(c *domain.Client) error { return c.Delete("") })
			},
			records:   []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be", "city", "Liège")}},
			want:      domain.SyncCounts{Unchanged: 1},
			wantLoads: 1,
		},
		{
			name:       "records without an id are reported",
			records:    []domain.SourceRecord{{ExternalID: "  ", Details: details("a@example.be")}, {ExternalID: "bad\x00id"}},
			want:       domain.SyncCounts{Errors: 2},
			wantIssues: []string{"the source sent a record without an id", "the source sent a record whose id is not valid text or too long"},
		},
		{
			name:       "a new record without an email is reported by field",
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("", "email", "not an email")}},
			want:       domain.SyncCounts{Errors: 1},
			wantIssues: []string{"missing or unusable at the source: email"},
		},
		{
			name: "an email another client holds is reported, and nothing of the record is taken",
			setup: func(w *syncWorld) {
				w.linked("K-1", details("marie@example.be"))
				w.client(details("jan@example.be"))
			},
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("jan@example.be", "city", "Liège")}},
			want:       domain.SyncCounts{Errors: 1},
			wantIssues: []string{"its email is already used by another client"},
			wantLoads:  1,
			check: func(t *testing.T, w *syncWorld) {
				if l := w.links["K-1"]; l.ClientVersion != 1 {
					t.Errorf("link moved to version %d on a refused record", l.ClientVersion)
				}
			},
		},
		{
			name: "a client linked to another record of the source is not linked twice",
			setup: func(w *syncWorld) {
				w.linked("K-1", details("marie@example.be"))
			},
			records:    []domain.SourceRecord{{ExternalID: "K-2", Details: details("marie@example.be")}},
			want:       domain.SyncCounts{Errors: 1},
			wantIssues: []string{"the matching client is already linked to another record of this source"},
			wantLoads:  1,
		},
		{
			name: "the last of a record's duplicates in a page wins",
			records: []domain.SourceRecord{
				{ExternalID: "K-1", Details: details("marie@example.be", "city", "Mons")},
				{ExternalID: "K-1", Details: details("marie@example.be", "city", "Liège")},
			},
			want:       domain.SyncCounts{Created: 1},
			wantEvents: map[string][]string{"K-1": {"ClientRegistered"}},
			check: func(t *testing.T, w *syncWorld) {
				if city := foldClient(w.links["K-1"].ClientID, w.streams[w.links["K-1"].ClientID]).Detail(domain.FieldCity); city != "Liège" {
					t.Errorf("city = %q, want the last record's", city)
				}
			},
		},
		{
			name: "a push older than what the registry took is ignored",
			setup: func(w *syncWorld) {
				w.linked("K-1", details("marie@example.be"))
				l := w.links["K-1"]
				l.UpdatedAt = &later
				w.links["K-1"] = l
			},
			records:   []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be", "city", "Liège")}},
			updatedAt: &earlier,
			want:      domain.SyncCounts{Unchanged: 1},
			check: func(t *testing.T, w *syncWorld) {
				if l := w.links["K-1"]; l.UpdatedAt == nil || !l.UpdatedAt.Equal(later) {
					t.Errorf("link's version = %v, want it kept at %v", l.UpdatedAt, later)
				}
			},
		},
		{
			name: "a newer push is taken and remembered",
			setup: func(w *syncWorld) {
				w.linked("K-1", details("marie@example.be"))
				l := w.links["K-1"]
				l.UpdatedAt = &earlier
				w.links["K-1"] = l
			},
			records:    []domain.SourceRecord{{ExternalID: "K-1", Details: details("marie@example.be", "city", "Liège")}},
			updatedAt:  &later,
			want:       domain.SyncCounts{Updated: 1},
			wantEvents: map[string][]string{"K-1": {"ClientDetailsChanged"}},
			wantLoads:  1,
			check: func(t *testing.T, w *syncWorld) {
				if l := w.links["K-1"]; l.UpdatedAt == nil || !l.UpdatedAt.Equal(later) {
					t.Errorf("link's version = %v, want %v", l.UpdatedAt, later)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newSyncWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			before := map[uuid.UUID]int{}
			for id, s := range w.streams {
				before[id] = len(s)
			}
			total := w.pos
			p := &pageSync{tx: w, origin: domain.Origin{TenantID: w.tenant, SyncRunID: uuid.New()}, source: testSource, updatedAt: tt.updatedAt}
			if err := p.apply(ctx, tt.records); err != nil {
				t.Fatal(err)
			}
			if p.counts != tt.want {
				t.Errorf("counts = %+v, want %+v", p.counts, tt.want)
			}
			appended := 0
			for ext, want := range tt.wantEvents {
				id := w.links[ext].ClientID
				got := w.names(id)[before[id]:]
				if !slices.Equal(got, want) {
					t.Errorf("%s: appended %v, want %v", ext, got, want)
				}
				appended += len(want)
			}
			if int(w.pos-total) != appended {
				t.Errorf("%d events appended in all, want %d", w.pos-total, appended)
			}
			var reasons []string
			for _, iss := range p.issues {
				reasons = append(reasons, iss.Reason)
			}
			if !slices.Equal(reasons, tt.wantIssues) {
				t.Errorf("issues = %q, want %q", reasons, tt.wantIssues)
			}
			for _, r := range reasons {
				if strings.Contains(r, "@") {
					t.Errorf("issue %q quotes a value", r)
				}
			}
			if w.loads != tt.wantLoads {
				t.Errorf("%d streams loaded, want %d", w.loads, tt.wantLoads)
			}
			if tt.check != nil {
				tt.check(t, w)
			}
		})
	}
}

func TestPageSyncRemovesWhatTheListingDidNotSee(t *testing.T) {
	ctx := context.Background()
	w := newSyncWorld(t)
	pull := uuid.New()
	seen := w.linked("K-1", details("a@example.be"))
	gone := w.linked("K-2", details("b@example.be"))
	already := w.linked("K-3", details("c@example.be"))
	w.then(already, func(c *domain.Client) error { c.RemoveAtSource(testSource, "K-3"); return nil })
	l := w.links["K-3"]
	l.Removed, l.ClientVersion = true, 2
	w.links["K-3"] = l

	p := &pageSync{tx: w, origin: domain.Origin{TenantID: w.tenant}, source: testSource, pullID: pull}
	if err := p.apply(ctx, []domain.SourceRecord{{ExternalID: "K-1", Details: details("a@example.be")}}); err != nil {
		t.Fatal(err)
	}
	if w.links["K-1"].PullID != pull {
		t.Fatal("an unchanged record was not marked seen by the listing")
	}
	if err := p.removeUnseen(ctx); err != nil {
		t.Fatal(err)
	}
	if p.counts != (domain.SyncCounts{Unchanged: 1, Removed: 1}) {
		t.Errorf("counts = %+v, want 1 unchanged, 1 removed", p.counts)
	}
	for _, tc := range []struct {
		client *domain.Client
		want   []string
	}{
		{seen, []string{"ClientRegistered"}},
		{gone, []string{"ClientRegistered", "ClientRemovedAtSource"}},
		{already, []string{"ClientRegistered", "ClientRemovedAtSource"}},
	} {
		if got := w.names(tc.client.ID()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: stream %v, want %v", tc.client.Detail(domain.FieldEmail), got, tc.want)
		}
	}
	if l := w.links["K-2"]; !l.Removed || l.ClientVersion != 2 {
		t.Errorf("unseen link = %+v, want removed at version 2", l)
	}
}

func TestReasonOf(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&domain.DuplicateError{Field: "email"}, "its email is already used by another client"},
		{&domain.DuplicateError{Field: "external_refs"}, "the matching client is already linked to another record of this source"},
		{domain.ValidationErrors{{Field: "last_name"}, {Field: "company_name"}}, "missing or unusable at the source: company name, last name"},
		{domain.ErrPersonalDataErased, "the matching client's personal data was erased"},
		{context.Canceled, "could not be taken"},
	}
	for _, tt := range tests {
		if got := reasonOf(tt.err); got != tt.want {
			t.Errorf("reasonOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
