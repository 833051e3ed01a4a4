package projections

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

var (
	t0       = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	listA    = uuid.MustParse("00000000-0000-0000-0000-00000000000a")
	listB    = uuid.MustParse("00000000-0000-0000-0000-00000000000b")
	contact1 = uuid.MustParse("00000000-0000-0000-0000-0000000000c1")
	contact2 = uuid.MustParse("00000000-0000-0000-0000-0000000000c2")
)

// history records events as one client's stream: version i+1, position
// 100+i, a minute apart from t0.
func history(id uuid.UUID, events ...domain.Event) []domain.RecordedEvent {
	out := make([]domain.RecordedEvent, len(events))
	for i, e := range events {
		out[i] = domain.RecordedEvent{Event: e, Envelope: domain.Envelope{
			EventID: uuid.New(), EventName: e.EventName(), SchemaVersion: e.SchemaVersion(), TenantID: uuid.Nil,
			StreamType: domain.StreamClient, StreamID: id, StreamVersion: i + 1, Position: int64(100 + i),
			OccurredAt: t0.Add(time.Duration(i) * time.Minute),
		}}
	}
	return out
}

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func registered() domain.ClientRegistered {
	return domain.ClientRegistered{
		Details: map[domain.Field]string{
			domain.FieldKind: domain.KindCompany, domain.FieldCompanyName: "Dupont & Fils", domain.FieldFirstName: "Marie",
			domain.FieldLastName: "Dupont", domain.FieldEmail: "marie@dupont.example", domain.FieldLanguage: "fr",
			domain.FieldPhone: "+32 81 22 33 44", domain.FieldVATNumber: "BE0417497106", domain.FieldStreet: "Rue de Fer",
			domain.FieldHouseNumber: "12", domain.FieldBox: "3", domain.FieldPostalCode: "5000", domain.FieldCity: "Namur",
			domain.FieldCountry: "BE", domain.FieldNotes: "Appelle le mardi.", domain.FieldDisplayName: "Dupont, Namur",
		},
		CustomFields: map[string]string{"segment": "gold"},
		ExternalRefs: []domain.ExternalRef{{Source: "crm", ExternalID: "K-1"}},
	}
}

type foldCase struct {
	name   string
	events []domain.Event
	check  func(t *testing.T, v ClientView)
}

var foldCases = []foldCase{
	{
		name:   "registered",
		events: []domain.Event{registered()},
		check: func(t *testing.T, v ClientView) {
			want := ClientView{Version: 1, Position: 100, Status: StatusActive, Kind: domain.KindCompany,
				FirstName: "Marie", LastName: "Dupont", CompanyName: "Dupont & Fils", DisplayName: "Dupont, Namur",
				Email: "marie@dupont.example", Language: "fr", Phone: "+32 81 22 33 44", VATNumber: "BE0417497106",
				Address: Address{Street: "Rue de Fer", HouseNumber: "12", Box: "3", PostalCode: "5000", City: "Namur", Country: "BE"},
				Notes:   "Appelle le mardi.", ExternalRefs: []domain.ExternalRef{{Source: "crm", ExternalID: "K-1"}},
				CustomFields: map[string]string{"segment": "gold"}, ContactPersons: []map[string]string{}, Lists: []uuid.UUID{},
				CreatedAt: t0, UpdatedAt: t0, RemovedAtSource: []string{}, AccessStatus: domain.AccessNotInvited}
			want.ID = v.ID
			sameJSON(t, v, want)
		},
	},
	{
		name: "a person registered with the fewest fields",
		events: []domain.Event{domain.ClientRegistered{Details: map[domain.Field]string{
			domain.FieldKind: domain.KindPerson, domain.FieldEmail: "a@example.be"}}},
		check: func(t *testing.T, v ClientView) {
			if v.Kind != domain.KindPerson || v.Email != "a@example.be" || v.CompanyName != "" {
				t.Errorf("kind %q email %q company %q", v.Kind, v.Email, v.CompanyName)
			}
			if v.ExternalRefs == nil || v.CustomFields == nil || v.ContactPersons == nil || v.Lists == nil || v.RemovedAtSource == nil {
				t.Errorf("a collection is null, the read model has it empty: %+v", v)
			}
		},
	},
	{
		name: "details changed: new values set, cleared ones gone",
		events: []domain.Event{registered(), domain.ClientDetailsChanged{
			Changes:      map[domain.Field]string{domain.FieldCity: "Liège", domain.FieldPostalCode: "4000", domain.FieldNotes: ""},
			CustomFields: map[string]string{"segment": "", "vip": "yes"},
		}},
		check: func(t *testing.T, v ClientView) {
			if v.Address.City != "Liège" || v.Address.PostalCode != "4000" || v.Notes != "" || v.Address.Street != "Rue de Fer" {
				t.Errorf("address %+v notes %q", v.Address, v.Notes)
			}
			if !maps.Equal(v.CustomFields, map[string]string{"vip": "yes"}) {
				t.Errorf("custom fields = %v, want only vip", v.CustomFields)
			}
			if v.Version != 2 || v.Position != 101 || !v.CreatedAt.Equal(t0) || !v.UpdatedAt.Equal(at(1)) {
				t.Errorf("version %d position %d created %v updated %v", v.Version, v.Position, v.CreatedAt, v.UpdatedAt)
			}
		},
	},
	{
		name:   "deleted",
		events: []domain.Event{registered(), domain.ClientDeleted{Cause: domain.DeletedByHand, Reason: "left"}},
		check: func(t *testing.T, v ClientView) {
			if v.Status != StatusDeleted || v.DeletedAt == nil || !v.DeletedAt.Equal(at(1)) {
				t.Errorf("status %q deleted at %v, want deleted at %v", v.Status, v.DeletedAt, at(1))
			}
			if v.Email != "marie@dupont.example" {
				t.Errorf("a deleted client lost its email: %q", v.Email)
			}
		},
	},
	{
		name:   "deleted then restored",
		events: []domain.Event{registered(), domain.ClientDeleted{Cause: domain.DeletedByHand}, domain.ClientRestored{}},
		check: func(t *testing.T, v ClientView) {
			if v.Status != StatusActive || v.DeletedAt != nil || v.Version != 3 {
				t.Errorf("status %q deleted at %v version %d", v.Status, v.DeletedAt, v.Version)
			}
		},
	},
	{
		name: "erased: personal data gone, the kind kept",
		events: []domain.Event{registered(),
			domain.ContactPersonAdded{ContactID: contact1, Details: map[string]string{"first_name": "Jan"}},
			domain.ClientAddedToList{ListID: listA},
			domain.ClientDeleted{Cause: domain.DeletedByHand},
			domain.ClientErased{Reason: "GDPR-12"}},
		check: func(t *testing.T, v ClientView) {
			if v.Status != StatusErased || v.Kind != domain.KindCompany {
				t.Errorf("status %q kind %q, want erased company", v.Status, v.Kind)
			}
			if v.Email != "" || v.LastName != "" || v.CompanyName != "" || v.Address != (Address{}) || v.Notes != "" || v.VATNumber != "" {
				t.Errorf("personal data left after erasure: %+v", v)
			}
			if len(v.CustomFields) != 0 || len(v.ContactPersons) != 0 || len(v.Lists) != 0 {
				t.Errorf("custom %v contacts %v lists %v left after erasure", v.CustomFields, v.ContactPersons, v.Lists)
			}
		},
	},
	{
		name: "removed at source, then back",
		events: []domain.Event{registered(),
			domain.ClientRemovedAtSource{Source: "crm", ExternalID: "K-1"},
			domain.ClientRestoredAtSource{Source: "crm", ExternalID: "K-1"}},
		check: func(t *testing.T, v ClientView) {
			if len(v.RemovedAtSource) != 0 || v.Status != StatusActive {
				t.Errorf("removed at %v status %q, want nowhere and active", v.RemovedAtSource, v.Status)
			}
		},
	},
	{
		name: "removed at two sources, detached from one",
		events: []domain.Event{registered(),
			domain.ClientExternalRefAdded{Ref: domain.ExternalRef{Source: "erp", ExternalID: "E-9"}},
			domain.ClientRemovedAtSource{Source: "crm", ExternalID: "K-1"},
			domain.ClientRemovedAtSource{Source: "erp", ExternalID: "E-9"},
			domain.ClientDetachedFromSource{Source: "crm", ExternalID: "K-1"}},
		check: func(t *testing.T, v ClientView) {
			if !slices.Equal(v.RemovedAtSource, []string{"erp"}) {
				t.Errorf("removed at %v, want [erp]", v.RemovedAtSource)
			}
			if !slices.Equal(v.ExternalRefs, []domain.ExternalRef{{Source: "erp", ExternalID: "E-9"}}) {
				t.Errorf("refs = %v, want only erp's", v.ExternalRefs)
			}
		},
	},
	{
		name: "lists added and removed",
		events: []domain.Event{registered(), domain.ClientAddedToList{ListID: listA}, domain.ClientAddedToList{ListID: listB},
			domain.ClientRemovedFromList{ListID: listA}},
		check: func(t *testing.T, v ClientView) {
			if !slices.Equal(v.Lists, []uuid.UUID{listB}) {
				t.Errorf("lists = %v, want [%s]", v.Lists, listB)
			}
		},
	},
	{
		name: "contacts added, changed and removed",
		events: []domain.Event{registered(),
			domain.ContactPersonAdded{ContactID: contact1, Details: map[string]string{"first_name": "Jan", "role": "comptable"}},
			domain.ContactPersonAdded{ContactID: contact2, Details: map[string]string{"last_name": "Claes"}},
			domain.ContactPersonChanged{ContactID: contact2, Changes: map[string]string{"email": "an@example.be", "last_name": "Peeters"}},
			domain.ContactPersonChanged{ContactID: contact1, Changes: map[string]string{"role": ""}},
			domain.ContactPersonRemoved{ContactID: contact1}},
		check: func(t *testing.T, v ClientView) {
			want := []map[string]string{{"id": contact2.String(), "last_name": "Peeters", "email": "an@example.be"}}
			sameJSON(t, v.ContactPersons, want)
		},
	},
	{
		name: "contacts keep their order, a change clears a field",
		events: []domain.Event{registered(),
			domain.ContactPersonAdded{ContactID: contact1, Details: map[string]string{"first_name": "Jan", "role": "comptable"}},
			domain.ContactPersonAdded{ContactID: contact2, Details: map[string]string{"last_name": "Claes"}},
			domain.ContactPersonChanged{ContactID: contact1, Changes: map[string]string{"role": ""}}},
		check: func(t *testing.T, v ClientView) {
			want := []map[string]string{{"id": contact1.String(), "first_name": "Jan"}, {"id": contact2.String(), "last_name": "Claes"}}
			sameJSON(t, v.ContactPersons, want)
		},
	},
	{
		name:   "invited",
		events: []domain.Event{registered(), domain.InvitationSent{Email: "marie@dupont.example"}, domain.InvitationSent{Email: "marie@dupont.example"}},
		check:  accessIs(domain.AccessInvited),
	},
	{
		name: "invited, then registered in the app",
		events: []domain.Event{registered(), domain.InvitationSent{},
			domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "marie@dupont.example"}},
		check: accessIs(domain.AccessRegistered),
	},
	{
		name:   "registered in the app without an invitation",
		events: []domain.Event{registered(), domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "marie@dupont.example"}},
		check:  accessIs(domain.AccessPendingValidation),
	},
	{
		name: "validated",
		events: []domain.Event{registered(), domain.InvitationSent{},
			domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "marie@dupont.example"}, domain.AppAccessValidated{}},
		check: accessIs(domain.AccessValidated),
	},
	{
		name: "validated, then registered again from another device: no downgrade",
		events: []domain.Event{registered(), domain.InvitationSent{},
			domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "marie@dupont.example"}, domain.AppAccessValidated{},
			domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "other@example.be", Device: "iPad"}},
		check: accessIs(domain.AccessValidated),
	},
	{
		name: "access revoked",
		events: []domain.Event{registered(), domain.InvitationSent{},
			domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "marie@dupont.example"}, domain.AppAccessRevoked{}},
		check: accessIs(domain.AccessRevoked),
	},
	{
		name:   "revoked, then invited again",
		events: []domain.Event{registered(), domain.InvitationSent{}, domain.AppAccessRevoked{}, domain.InvitationSent{}},
		check:  accessIs(domain.AccessInvited),
	},
	{
		name: "a waiting registration rejected",
		events: []domain.Event{registered(), domain.AppUserRegistered{RegistrationID: uuid.New(), Email: "someone@example.be"},
			domain.AppRegistrationRejected{}},
		check: accessIs(domain.AccessNotInvited),
	},
}

func accessIs(want string) func(t *testing.T, v ClientView) {
	return func(t *testing.T, v ClientView) {
		t.Helper()
		if v.AccessStatus != want {
			t.Errorf("access status = %q, want %q", v.AccessStatus, want)
		}
	}
}

func sameJSON(t *testing.T, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func TestFoldClient(t *testing.T) {
	if _, ok := FoldClient(nil); ok {
		t.Error("an empty stream folds to a client")
	}
	for _, tc := range foldCases {
		t.Run(tc.name, func(t *testing.T) {
			id := uuid.New()
			v, ok := FoldClient(history(id, tc.events...))
			if !ok || v.ID != id {
				t.Fatalf("fold = %v, id %s; want the client %s", ok, v.ID, id)
			}
			if v.Version != len(tc.events) || v.Position != int64(99+len(tc.events)) || !v.UpdatedAt.Equal(at(len(tc.events)-1)) {
				t.Errorf("version %d position %d updated %v: not the last event's", v.Version, v.Position, v.UpdatedAt)
			}
			tc.check(t, v)
		})
	}
}

// The rows a batch folds in memory (new clients) must hold what the fold
// shows for the same events, after every event.
func TestClientRowFoldsAsFoldClient(t *testing.T) {
	for _, tc := range foldCases {
		t.Run(tc.name, func(t *testing.T) {
			events := history(uuid.New(), tc.events...)
			r := registeredRow(events[0], events[0].Event.(domain.ClientRegistered))
			for i := range events {
				if i > 0 {
					r.apply(events[i])
				}
				want, _ := FoldClient(events[:i+1])
				sameJSON(t, rowView(r), want)
			}
		})
	}
}

// rowView reads a folded row as the read model's view.
func rowView(r *clientRow) ClientView {
	d := map[domain.Field]string{}
	for i, f := range domain.ClientFields {
		d[f] = r.fields[i]
	}
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return slices.Clone(s)
	}
	v := ClientView{ID: r.id, Version: r.version, Position: r.position, Status: r.status, Kind: d[domain.FieldKind],
		FirstName: d[domain.FieldFirstName], LastName: d[domain.FieldLastName], CompanyName: d[domain.FieldCompanyName],
		DisplayName: d[domain.FieldDisplayName], Email: d[domain.FieldEmail], Language: d[domain.FieldLanguage],
		Phone: d[domain.FieldPhone], VATNumber: d[domain.FieldVATNumber],
		Address: Address{Street: d[domain.FieldStreet], HouseNumber: d[domain.FieldHouseNumber], Box: d[domain.FieldBox],
			PostalCode: d[domain.FieldPostalCode], City: d[domain.FieldCity], Country: d[domain.FieldCountry]},
		Notes: d[domain.FieldNotes], ExternalRefs: slices.Clone(r.refs), CustomFields: maps.Clone(r.custom),
		ContactPersons: slices.Clone(r.contacts), Lists: slices.Clone(r.lists), CreatedAt: r.createdAt,
		UpdatedAt: r.updatedAt, DeletedAt: r.deletedAt, RemovedAtSource: orEmpty(r.removedAt), AccessStatus: r.accessStatus}
	if v.ExternalRefs == nil {
		v.ExternalRefs = []domain.ExternalRef{}
	}
	if v.ContactPersons == nil {
		v.ContactPersons = []map[string]string{}
	}
	if v.Lists == nil {
		v.Lists = []uuid.UUID{}
	}
	return v
}

func TestRegisteredRowOrigin(t *testing.T) {
	reg := domain.ClientRegistered{Details: map[domain.Field]string{domain.FieldEmail: "a@example.be"},
		ExternalRefs: []domain.ExternalRef{{Source: "crm", ExternalID: "K-1"}}}
	tests := []struct {
		name string
		env  domain.Envelope
		ev   domain.ClientRegistered
		want string
	}{
		{"by hand", domain.Envelope{}, reg, "manual"},
		{"by an import", domain.Envelope{ImportID: uuid.New()}, reg, "import"},
		{"by a sync, from its source", domain.Envelope{SyncRunID: uuid.New()}, reg, "crm"},
		{"by a sync, without a reference", domain.Envelope{SyncRunID: uuid.New()},
			domain.ClientRegistered{Details: reg.Details}, "sync"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env.StreamID, tt.env.StreamVersion = uuid.New(), 1
			r := registeredRow(domain.RecordedEvent{Envelope: tt.env, Event: tt.ev}, tt.ev)
			if r.origin != tt.want {
				t.Errorf("origin = %q, want %q", r.origin, tt.want)
			}
			if r.fields[kindIndex] != domain.KindPerson {
				t.Errorf("kind = %q, want person when the registration names none", r.fields[kindIndex])
			}
			if want := tt.env.ImportID != uuid.Nil; (len(r.imports) == 1) != want {
				t.Errorf("imports = %v, want the import linked: %v", r.imports, want)
			}
		})
	}
}
