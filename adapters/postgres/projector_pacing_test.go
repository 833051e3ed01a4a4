package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// A projector waits before its next poll after a short batch of its own
// events, as after an empty poll, and reads a backlog, or events it only
// moves past, without waiting.
func TestPacingWaitsAfterShortBatchesOfItsOwnEventsOnly(t *testing.T) {
	p := newPacing(ProjectorConfig{BatchSize: 100, PollInterval: 40 * time.Millisecond}.withDefaults())
	logger := watermill.NopLogger{}
	batch := func(own, others int) {
		for range own {
			p.handled(true)
		}
		for range others {
			p.handled(false)
		}
	}
	cases := []struct {
		name        string
		own, others int
		noMsg       bool
		err         error
		want        time.Duration
	}{
		{name: "empty poll", noMsg: true, want: 40 * time.Millisecond},
		{name: "a few of its events", own: 3, others: 2, want: 40 * time.Millisecond},
		{name: "a quarter of a batch", own: 20, others: 5, want: 0},
		{name: "a full batch", own: 100, want: 0},
		{name: "only events it moves past", others: 3, want: 0},
		{name: "a failed poll", own: 1, err: errors.New("connection reset"), want: time.Second},
	}
	for _, c := range cases {
		batch(c.own, c.others)
		if got := p.HandleError(logger, c.noMsg, c.err); got != c.want {
			t.Errorf("%s: waits %s, want %s", c.name, got, c.want)
		}
	}
}
