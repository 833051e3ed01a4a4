package projections

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// FeedReader reads one page of a tenant's event feed.
type FeedReader func(ctx context.Context, tenantID uuid.UUID, f EventFilter) (EventPage, error)

// FollowFeed reads the feed after f.After and then follows it as events
// commit, looking again every poll, until ctx ends, stop is closed or
// yield returns false. Each page read goes to yield, an empty one too: an
// idle tick, when the caller may send a keepalive. The API's event stream
// and the console's live audit both follow the feed through it.
func FollowFeed(ctx context.Context, read FeedReader, tenantID uuid.UUID, f EventFilter, poll time.Duration,
	stop <-chan struct{}, yield func([]FeedEvent) bool) error {
	for {
		page, err := read(ctx, tenantID, f)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !yield(page.Items) {
			return nil
		}
		f.After = page.NextAfter
		if f.Limit > 0 && len(page.Items) == f.Limit {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-stop:
			return nil
		case <-time.After(poll):
		}
	}
}
