package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// The columns of rm_clients are written by the fold (by UPDATE, and by COPY
// when a rebuild loads new clients) and read by Queries: a column added to
// one side and not the other, or read in the wrong order, shows here as a
// client that does not read back as its events fold.
func TestClientRowsReadBackAsTheirEventsFold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	tenant := uuid.New()

	streams := [][]domain.RecordedEvent{everyFieldClient(t, tenant), everyFieldClient(t, tenant)}
	// The first client's row is made by the statements of the live
	// projector, the second's by a rebuild's COPY.
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := (projections.Clients{}).Apply(ctx, tx, streams[0]); err != nil {
			return err
		}
		rest, err := (projections.Clients{}).Load(ctx, tx, streams[1])
		if err != nil {
			return err
		}
		return (projections.Clients{}).Apply(ctx, tx, rest)
	}); err != nil {
		t.Fatal(err)
	}

	queries := projections.NewQueries(pool)
	for i, events := range streams {
		want, _ := projections.FoldClient(events)
		got, err := queries.Client(ctx, tenant, want.ID)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		g, w := asJSON(t, got), asJSON(t, want)
		if g != w {
			t.Errorf("client %d reads back as\n%s\nbut its events fold to\n%s", i, g, w)
		}
		var view map[string]any
		if err := json.Unmarshal([]byte(g), &view); err != nil {
			t.Fatal(err)
		}
		address, _ := view["address"].(map[string]any)
		for _, field := range domain.ClientFields { // the fixture must fill every column
			value, ok := view[string(field)]
			if !ok {
				value = address[string(field)]
			}
			if value == nil || value == "" {
				t.Errorf("client %d: %s is empty: the fixture no longer fills every column", i, field)
			}
		}
	}
}

// everyFieldClient is a client with every detail, a custom field, a contact
// person, a list and an external reference, as recorded events.
func everyFieldClient(t *testing.T, tenant uuid.UUID) []domain.RecordedEvent {
	t.Helper()
	fields := domain.NewCustomFieldSet(tenant)
	segment, err := domain.NewCustomFieldDefinition("segment", domain.CustomText, nil)
	if err == nil {
		err = fields.Define(segment)
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := domain.RegisterFromSource(uuid.New(), domain.ExternalRef{Source: "erp", ExternalID: "E-" + uuid.NewString()[:8]},
		map[domain.Field]string{
			domain.FieldKind: domain.KindCompany, domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont",
			domain.FieldCompanyName: "Dupont & Fils", domain.FieldDisplayName: "Dupont, Namur",
			domain.FieldEmail: uuid.NewString()[:8] + "@dupont.example", domain.FieldLanguage: "fr",
			domain.FieldPhone: "+32 81 22 33 44", domain.FieldVATNumber: "BE0417497106",
			domain.FieldStreet: "Rue de Fer", domain.FieldHouseNumber: "12", domain.FieldBox: "3",
			domain.FieldPostalCode: "5000", domain.FieldCity: "Namur", domain.FieldCountry: "BE",
			domain.FieldNotes: "Appelle le mardi.\nPas de courrier.",
		})
	if err != nil {
		t.Fatal(err)
	}
	list, err := domain.CreateList(uuid.New(), "Newsletter")
	if err == nil {
		err = c.ChangeDetails(domain.ClientInput{CustomFields: map[string]string{"segment": "gold"}}, fields)
	}
	if err == nil {
		err = c.AddContactPerson(uuid.New(), map[string]string{"first_name": "Jan", "role": "comptable"})
	}
	if err == nil {
		err = c.AddToList(list)
	}
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var events []domain.RecordedEvent
	for i, e := range c.PendingEvents() {
		events = append(events, domain.RecordedEvent{Event: e, Envelope: domain.Envelope{
			EventID: uuid.New(), EventName: e.EventName(), TenantID: tenant, StreamType: domain.StreamClient,
			StreamID: c.ID(), StreamVersion: i + 1, Position: int64(i + 1), Actor: "test",
			OccurredAt: at.Add(time.Duration(i) * time.Minute),
		}})
	}
	return events
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
