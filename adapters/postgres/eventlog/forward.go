package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/clientreg/clientreg/projections"
)

// FeedSubscriberConfig tunes a FeedSubscriber; zero values pick defaults.
type FeedSubscriberConfig struct {
	// ConsumerGroup keeps the subscriber's position in events_offsets.
	ConsumerGroup string
	BatchSize     int           // events per subscriber transaction (default 100)
	PollInterval  time.Duration // wait when the log has nothing new (default 100 ms)
	// ResendInterval is the wait before a nacked event is handed over
	// again (default 1 s).
	ResendInterval time.Duration
}

func (c FeedSubscriberConfig) withDefaults() FeedSubscriberConfig {
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.PollInterval == 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.ResendInterval == 0 {
		c.ResendInterval = time.Second
	}
	return c
}

// FeedSubscriber is a Watermill subscriber over the log for systems outside
// the registry. It reads the log through its own consumer group and hands
// each event over, in log order and one at a time, as its feed rendering
// (projections.FeedEvent JSON: the envelope and the content, personal
// fields in clear unless erased). The message's UUID is the event id; its
// metadata holds the event's tenant, type, stream and position under the
// Meta* keys (no personal data).
//
// The next event is handed over only once the current one was acked or
// nacked, and that answer goes back to the log's subscriber: an event's
// offset commits only after it was acked (at least once, in order); a nack
// hands the same event over again.
type FeedSubscriber struct {
	store  *EventStore
	cfg    FeedSubscriberConfig
	logger *slog.Logger

	mu      sync.Mutex
	subs    []*wsql.Subscriber
	closing chan struct{}
	closed  bool
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*FeedSubscriber)(nil)

// NewFeedSubscriber builds a feed subscriber over the store's log.
func NewFeedSubscriber(store *EventStore, cfg FeedSubscriberConfig, logger *slog.Logger) (*FeedSubscriber, error) {
	if cfg.ConsumerGroup == "" {
		return nil, errors.New("feed subscriber: a consumer group is required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &FeedSubscriber{store: store, cfg: cfg.withDefaults(), logger: logger.With("consumer_group", cfg.ConsumerGroup),
		closing: make(chan struct{})}, nil
}

// feedMetadata are the envelope keys a feed message carries: the routing
// facts of the event, never its content.
var feedMetadata = []string{MetaTenantID, MetaEventType, MetaStreamType, MetaStreamID, MetaStreamVersion, MetaPosition}

// Subscribe reads the log from the group's last committed offset. The
// topic is the log's (EventsTopic, or empty for it).
func (s *FeedSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != "" && topic != EventsTopic {
		return nil, fmt.Errorf("feed subscriber: unknown topic %q (the log is %q)", topic, EventsTopic)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("feed subscriber: closed")
	}
	// No ack deadline: an event is handed over until it is acked, however
	// long the downstream system is away; the subscriber's transaction
	// stays open meanwhile, and Close ends it (committing what was acked).
	noAckDeadline := time.Duration(0)
	sub, err := wsql.NewSubscriber(SubscriberBeginner(s.store.pool), wsql.SubscriberConfig{
		ConsumerGroup:  s.cfg.ConsumerGroup,
		SchemaAdapter:  LogSchema{batchSize: s.cfg.BatchSize},
		OffsetsAdapter: OffsetsAdapter(),
		PollInterval:   s.cfg.PollInterval,
		ResendInterval: s.cfg.ResendInterval,
		AckDeadline:    &noAckDeadline,
	}, watermill.NewSlogLoggerWithLevelMapping(s.logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return nil, fmt.Errorf("feed subscriber %s: %w", s.cfg.ConsumerGroup, err)
	}
	// Ending the subscription goes through Close, not ctx: a cancelled
	// context would fail the commit of the offsets acked so far.
	in, err := sub.Subscribe(context.WithoutCancel(ctx), EventsTopic)
	if err != nil {
		_ = sub.Close()
		return nil, fmt.Errorf("feed subscriber %s: subscribe: %w", s.cfg.ConsumerGroup, err)
	}
	s.subs = append(s.subs, sub)
	out := make(chan *message.Message)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer close(out)
		s.relay(ctx, in, out)
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
			_ = sub.Close()
		case <-s.closing:
		}
	}()
	return out, nil
}

// relay hands each logged event over as a feed message and passes the
// answer back, one event at a time.
func (s *FeedSubscriber) relay(ctx context.Context, in <-chan *message.Message, out chan<- *message.Message) {
	for logged := range in {
		msg, err := s.feedMessage(logged)
		if err != nil {
			// Not skipped: the downstream system would miss it. The log's
			// subscriber hands it over again after ResendInterval.
			s.logger.Error("cannot render event for the feed; retrying", "event_id", logged.UUID,
				"event_type", logged.Metadata.Get(MetaEventType), "position", logged.Metadata.Get(MetaPosition), "error", err)
			logged.Nack()
			continue
		}
		if !passOn(ctx, s.closing, msg, out) {
			return
		}
		select {
		case <-msg.Acked():
			logged.Ack()
		case <-msg.Nacked():
			logged.Nack()
		case <-s.closing:
			return
		case <-ctx.Done():
			return
		}
	}
}

// passOn sends msg on out unless the subscription ends first.
func passOn(ctx context.Context, closing <-chan struct{}, msg *message.Message, out chan<- *message.Message) bool {
	select {
	case out <- msg:
		return true
	case <-closing:
		return false
	case <-ctx.Done():
		return false
	}
}

// feedMessage decodes a logged event (personal fields unsealed with the
// subject's current key; none when erased) into its feed message.
func (s *FeedSubscriber) feedMessage(logged *message.Message) (*message.Message, error) {
	ctx := logged.Context()
	position, err := strconv.ParseInt(logged.Metadata.Get(MetaPosition), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("event without position: %w", err)
	}
	// A fresh key lookup per event: a key erased meanwhile is never used
	// from a cache.
	keys := SubjectKeys{keyring: s.store.keys, q: s.store.pool}
	env, err := EnvelopeFrom(logged.Metadata, position)
	if err != nil {
		return nil, err
	}
	event, err := keys.Decode(ctx, logged.Payload, env)
	if err != nil {
		return nil, err
	}
	feed, err := projections.FeedEventOf(event)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(feed)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", position, err)
	}
	msg := message.NewMessage(event.EventID.String(), payload)
	for _, k := range feedMetadata {
		msg.Metadata.Set(k, logged.Metadata.Get(k))
	}
	msg.SetContext(ctx)
	return msg, nil
}

// Close ends every subscription: the log's subscriber commits the offsets
// of the events acked so far and rolls nothing else forward.
func (s *FeedSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	subs := s.subs
	s.mu.Unlock()
	var errs []error
	for _, sub := range subs {
		errs = append(errs, sub.Close())
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
