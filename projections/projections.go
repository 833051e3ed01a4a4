// Package projections builds the read models from the event log. Each
// projection is fed by its own Watermill consumer group and writes inside
// the subscriber's transaction, so its rows and its offset commit together.
package projections

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Projection applies events to one read model.
type Projection interface {
	// Name is the consumer group; renaming it rebuilds from position 0.
	Name() string
	// Apply writes the effect of one event. It must not commit: tx is the
	// subscriber's and commits with the projection's offset.
	Apply(ctx context.Context, tx pgx.Tx, e domain.RecordedEvent) error
}

// All lists the projections serve runs.
func All() []Projection {
	return []Projection{Clients{}, Lists{}, CustomFields{}}
}

// Names of all projections, for lag reporting and read-your-writes.
func Names() []string {
	var names []string
	for _, p := range All() {
		names = append(names, p.Name())
	}
	return names
}
