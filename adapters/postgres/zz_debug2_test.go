package postgres

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

func BenchmarkZZApply(b *testing.B) {
	ctx := context.Background()
	_, pool := newBenchStore(b)
	tenant := uuid.New()
	if idx := os.Getenv("DROPIDX"); idx != "" { pool.Exec(ctx, "DROP INDEX "+idx) }
	pos := int64(0)
	mk := func() []domain.RecordedEvent {
		evs := make([]domain.RecordedEvent, 1000)
		for i := range evs {
			pos++
			evs[i] = domain.RecordedEvent{Envelope: domain.Envelope{EventName: "ClientRegistered", TenantID: tenant, StreamType: domain.StreamClient,
				StreamID: uuid.New(), StreamVersion: 1, Position: pos, OccurredAt: time.Now()},
				Event: domain.ClientRegistered{Details: map[domain.Field]string{domain.FieldKind: "person",
					domain.FieldFirstName: "Marie", domain.FieldLastName: "Dupont " + strconv.Itoa(int(pos)),
					domain.FieldEmail: "client" + strconv.Itoa(int(pos)) + "@example.com", domain.FieldCity: "Gent"}}}
		}
		return evs
	}
	var took time.Duration
	n := 0
	for b.Loop() {
		for range 30 {
			evs := mk()
			t0 := time.Now()
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return projections.Clients{}.Apply(ctx, tx, evs) }); err != nil {
				b.Fatal(err)
			}
			took += time.Since(t0)
			n += len(evs)
		}
	}
	b.ReportMetric(float64(took.Microseconds())/float64(n), "us/row")
}
