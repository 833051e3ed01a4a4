// Package nats forwards the registry's events to NATS JetStream, through
// Watermill's forwarder: the log is read by its own consumer group
// (eventlog.FeedSubscriber), each event is wrapped in the forwarder's
// envelope with its destination subject, and the forwarder publishes it to
// JetStream. An event's offset commits only after JetStream acknowledged it.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Config.
const (
	DefaultSubjectPrefix = "clientreg.events"
	DefaultStream        = "CLIENTREG_EVENTS"
	DefaultConsumerGroup = "forward_nats"
	// forwarderTopic is the forwarder's input topic. The envelopes come
	// straight from the log's subscriber, so it names nothing stored.
	forwarderTopic = "clientreg_forward"
)

// Config says where and how events are forwarded. Only URL is required.
type Config struct {
	URL string
	// SubjectPrefix starts every subject: <prefix>.<tenant id>.<event type>.
	SubjectPrefix string
	// Stream is the JetStream stream created (if missing) with subjects
	// <prefix>.>.
	Stream string
	// ConsumerGroup keeps the forwarder's position in the log.
	ConsumerGroup string
	// DuplicateWindow is how long JetStream remembers message ids to drop
	// redeliveries, when the forwarder creates the stream (default 2 min).
	DuplicateWindow time.Duration
	// MaxFailures is how many publishes in a row may fail before a run ends
	// (its log transaction rolled back); the caller starts it again later
	// (default 3).
	MaxFailures int
	// BatchSize and PollInterval tune the log's subscriber (see
	// eventlog.FeedSubscriberConfig); RetryInterval is the wait before an
	// event whose publish failed is tried again (default 1 s).
	BatchSize     int
	PollInterval  time.Duration
	RetryInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = DefaultConsumerGroup
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 3
	}
	return c
}

// Forwarder forwards the log to JetStream; Run does one connected run.
type Forwarder struct {
	store   *eventlog.EventStore
	cfg     Config
	logger  *slog.Logger
	running atomic.Bool
}

// NewForwarder builds a forwarder over the store's log.
func NewForwarder(store *eventlog.EventStore, cfg Config, logger *slog.Logger) *Forwarder {
	if logger == nil {
		logger = slog.Default()
	}
	return &Forwarder{store: store, cfg: cfg.withDefaults(), logger: logger.With("forwarder", "nats")}
}

// Running reports whether a run is forwarding.
func (f *Forwarder) Running() bool { return f.running.Load() }

// Subject is the subject an event of this type and tenant is published on.
func Subject(prefix, tenantID, eventType string) (string, error) {
	for _, token := range []string{tenantID, eventType} {
		if token == "" || strings.ContainsAny(token, ".*> \t\r\n") {
			return "", fmt.Errorf("%q cannot be a NATS subject token", token)
		}
	}
	return prefix + "." + tenantID + "." + eventType, nil
}

// errPublishing ends a run whose publishes keep failing.
var errPublishing = errors.New("publishing to NATS keeps failing")

// Run connects to NATS, makes sure the stream exists and forwards events
// until ctx ends (then it returns nil, after the event in hand) or NATS
// fails: unreachable, or MaxFailures publishes in a row refused. Events not
// acknowledged by JetStream are forwarded again by the next run.
func (f *Forwarder) Run(ctx context.Context) error {
	if f.cfg.URL == "" {
		return errors.New("nats forwarder: no URL")
	}
	nc, err := natsgo.Connect(f.cfg.URL,
		natsgo.Name("clientreg forwarder"),
		natsgo.Timeout(5*time.Second),
		// A short outage is ridden out inside a run; a long one ends it
		// through failed publishes.
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(time.Second),
	)
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	if err := f.ensureStream(ctx, nc); err != nil {
		return err
	}

	wlogger := watermill.NewSlogLoggerWithLevelMapping(f.logger, map[slog.Level]slog.Level{
		// Router chatter is debug; its errors are failed publishes, which
		// the run retries: warnings. None of them carries an event's content.
		slog.LevelInfo:  slog.LevelDebug,
		slog.LevelError: slog.LevelWarn,
	})
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// One stream, provisioned above, not one per subject.
			AutoProvision: false,
			// Nats-Msg-Id = the message UUID = the event id: JetStream drops
			// a redelivered event within its duplicate window.
			TrackMsgId: true,
			// A subject outside the stream fails instead of vanishing.
			PublishOptions: []natsgo.PubOpt{natsgo.ExpectStream(f.cfg.Stream)},
		},
	}, wlogger)
	if err != nil {
		return fmt.Errorf("NATS publisher: %w", err)
	}
	defer pub.Close()

	feed, err := eventlog.NewFeedSubscriber(f.store, eventlog.FeedSubscriberConfig{
		ConsumerGroup:  f.cfg.ConsumerGroup,
		BatchSize:      f.cfg.BatchSize,
		PollInterval:   f.cfg.PollInterval,
		ResendInterval: f.cfg.RetryInterval,
	}, f.logger)
	if err != nil {
		return err
	}
	in := newEnvelopes(feed, f.cfg.SubjectPrefix, f.cfg.MaxFailures, f.logger)
	fwd, err := forwarder.NewForwarder(in, pub, wlogger, forwarder.Config{
		ForwarderTopic: forwarderTopic,
		CloseTimeout:   15 * time.Second,
		Middlewares:    []message.HandlerMiddleware{plainErrors},
	})
	if err != nil {
		_ = in.Close()
		return fmt.Errorf("forwarder: %w", err)
	}

	// The router runs on a context of its own: stopping goes through Close,
	// which lets the publish in hand finish.
	runErr := make(chan error, 1)
	go func() { runErr <- fwd.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-fwd.Running():
	case err := <-runErr:
		_ = in.Close()
		return fmt.Errorf("forwarder: %w", err)
	}
	f.running.Store(true)
	defer f.running.Store(false)
	f.logger.Info("forwarding events to NATS", "stream", f.cfg.Stream, "subject_prefix", f.cfg.SubjectPrefix)

	var stopErr error
	routerStopped := false
	select {
	case <-ctx.Done():
	case stopErr = <-in.failed:
	case err := <-runErr:
		runErr <- err // the router stopped on its own: its subscription ended
		routerStopped = true
	}
	if err := fwd.Close(); err != nil {
		stopErr = errors.Join(stopErr, fmt.Errorf("close forwarder: %w", err))
	}
	<-runErr
	// The router closed the subscriber; closing again is a no-op.
	_ = in.Close()
	if stopErr == nil {
		select {
		case stopErr = <-in.failed:
		default:
			if routerStopped && ctx.Err() == nil {
				stopErr = errors.New("forwarder stopped on its own")
			}
		}
	}
	return stopErr
}

// plainErrors names the event in a failed publish's error, and hides the
// stack trace pkg/errors puts in the router's error log line.
func plainErrors(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		msgs, err := h(msg)
		if err != nil {
			err = fmt.Errorf("forward event %s: %w", msg.UUID, err)
		}
		return msgs, err
	}
}

// ensureStream creates the stream if it does not exist. An existing stream
// is left as it is (an operator may have tuned it); publishing expects it
// to be the stream of our subjects.
func (f *Forwarder) ensureStream(ctx context.Context, nc *natsgo.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	_, err = js.Stream(ctx, f.cfg.Stream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("JetStream stream %s: %w", f.cfg.Stream, err)
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        f.cfg.Stream,
		Description: "clientreg events, forwarded from the registry's log",
		Subjects:    []string{f.cfg.SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Duplicates:  f.cfg.DuplicateWindow,
	})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create JetStream stream %s: %w", f.cfg.Stream, err)
	}
	return nil
}

// envelopes is the forwarder's input: a message.Subscriber that takes the
// feed's messages and wraps each in the forwarder's envelope, with its
// subject as destination topic. One event at a time: the next is taken only
// once the forwarder acked or nacked the current one, and that answer goes
// back to the feed, so the log's offset moves only past events JetStream
// acknowledged, in log order.
type envelopes struct {
	feed        message.Subscriber
	prefix      string
	maxFailures int
	logger      *slog.Logger

	failed    chan error // the run must end (buffered: one error)
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

var _ message.Subscriber = (*envelopes)(nil)

func newEnvelopes(feed message.Subscriber, prefix string, maxFailures int, logger *slog.Logger) *envelopes {
	return &envelopes{feed: feed, prefix: prefix, maxFailures: maxFailures, logger: logger,
		failed: make(chan error, 1), closing: make(chan struct{})}
}

func (e *envelopes) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != forwarderTopic {
		return nil, fmt.Errorf("envelopes: unknown topic %q", topic)
	}
	in, err := e.feed.Subscribe(ctx, eventlog.EventsTopic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(out)
		e.relay(ctx, in, out)
	}()
	return out, nil
}

func (e *envelopes) relay(ctx context.Context, in <-chan *message.Message, out chan<- *message.Message) {
	failures := 0
	for event := range in {
		env, err := e.wrap(event)
		if err != nil {
			e.fail(fmt.Errorf("event %s: %w", event.UUID, err))
			event.Nack()
			return
		}
		select {
		case out <- env:
		case <-e.closing:
			return
		case <-ctx.Done():
			return
		}
		select {
		case <-env.Acked():
			failures = 0
			event.Ack()
		case <-env.Nacked():
			event.Nack()
			if failures++; failures >= e.maxFailures {
				e.fail(fmt.Errorf("%w: event %s (%s), %d tries", errPublishing, event.UUID,
					event.Metadata.Get(eventlog.MetaEventType), failures))
				return
			}
		case <-e.closing:
			return
		case <-ctx.Done():
			return
		}
	}
}

// wrap puts the event in the forwarder's envelope, made by the forwarder's
// own publisher decorator so the format is always the one it unwraps.
func (e *envelopes) wrap(event *message.Message) (*message.Message, error) {
	subject, err := Subject(e.prefix, event.Metadata.Get(eventlog.MetaTenantID), event.Metadata.Get(eventlog.MetaEventType))
	if err != nil {
		return nil, err
	}
	var c capture
	if err := forwarder.NewPublisher(&c, forwarder.PublisherConfig{ForwarderTopic: forwarderTopic}).Publish(subject, event); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	if len(c.msgs) != 1 {
		return nil, fmt.Errorf("envelope: %d messages for one event", len(c.msgs))
	}
	env := c.msgs[0]
	env.UUID = event.UUID // the router logs it: the event id tells more than a random one
	env.SetContext(event.Context())
	return env, nil
}

func (e *envelopes) fail(err error) {
	select {
	case e.failed <- err:
	default:
	}
}

func (e *envelopes) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.closing)
		err = e.feed.Close()
		e.wg.Wait()
	})
	return err
}

// capture is a publisher that keeps what it is given: the forwarder's
// decorator publishes the envelope into it.
type capture struct{ msgs []*message.Message }

func (c *capture) Publish(_ string, msgs ...*message.Message) error {
	c.msgs = append(c.msgs, msgs...)
	return nil
}

func (c *capture) Close() error { return nil }
