package postgres

import (
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// pacing spaces a projector's polls while events trickle in. Watermill
// polls again at once after any batch that held a message, so a projector
// with cores to spare read a steady flow of registrations a few dozen
// events a poll, each poll a planned query, an ack and a commit (2 to 3
// times as many batches as with the pause, docs/benchmarks.md). After a
// short batch of its own events it now waits PollInterval, as it does
// after an empty poll, and takes what came meanwhile in one batch: an
// event waits no longer than it does for an idle projector's next poll.
//
// A batch is short when it held fewer than a quarter of BatchSize
// messages (the behind lane's share, so a batch full of a committed
// import's events is never short): a backlog is read without pauses. A
// batch without events of the projection's streams is never paced either:
// its messages stand for events the projector only moves past, however
// many it read.
type pacing struct {
	wsql.BackoffManager
	pause    time.Duration
	short    int64
	messages atomic.Int64 // messages of the current batch
	wanted   atomic.Int64 // of which events of the projection's streams
}

func newPacing(cfg ProjectorConfig) *pacing {
	return &pacing{
		BackoffManager: wsql.NewDefaultBackoffManager(cfg.PollInterval, time.Second),
		pause:          cfg.PollInterval,
		short:          int64(max(cfg.BatchSize/4, 1)),
	}
}

// handled counts a message of the current batch.
func (p *pacing) handled(wanted bool) {
	p.messages.Add(1)
	if wanted {
		p.wanted.Add(1)
	}
}

// HandleError is called once a batch is committed (or failed), before the
// next poll.
func (p *pacing) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	messages, wanted := p.messages.Swap(0), p.wanted.Swap(0)
	if wait := p.BackoffManager.HandleError(logger, noMsg, err); wait != 0 || noMsg || err != nil {
		return wait
	}
	if wanted > 0 && messages < p.short {
		return p.pause
	}
	return 0
}
