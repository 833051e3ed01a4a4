// Package postgres is the PostgreSQL side of the registry beside the event
// log (package eventlog): the projectors and rebuilds that keep the read
// models, imports and their worker, connections and their scheduler, tenants
// and tokens, idempotency, audit and verification.
package postgres

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/clientreg/clientreg/adapters/postgres/eventlog"
	"github.com/clientreg/clientreg/domain"
	"github.com/clientreg/clientreg/projections"
)

// ProjectorConfig tunes a projector; zero values pick sensible defaults.
type ProjectorConfig struct {
	BatchSize    int           // events per subscriber transaction
	PollInterval time.Duration // wait when the log has nothing new
	Attempts     int           // tries per event before it is set aside
}

func (c ProjectorConfig) withDefaults() ProjectorConfig {
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.PollInterval == 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	if c.Attempts == 0 {
		c.Attempts = 3
	}
	return c
}

// maxPending caps the events held before they are applied, whatever the
// batch size: memory stays bounded, and applying part of a batch early
// costs one more savepoint, never correctness.
const maxPending = 1000

// Projector feeds one projection from the log through a Watermill SQL
// subscriber (its own consumer group). The read model and the offset commit
// together in the subscriber's transaction.
//
// Watermill hands over a batch one message at a time and commits it once
// its last message is acked. The projector acks each message as soon as it
// holds it, and applies the events it holds together, in one savepoint,
// when the batch's last message arrives (or it holds maxPending): a bulk
// import costs a few statements per batch instead of several round trips
// per event. When the projection rejects a batch, its events are applied
// again one by one, each in its own savepoint: one failing event is
// retried, then set aside in projection_failures, instead of stalling the
// group. Held events never commit unapplied: the batch is applied before
// its last ack and before the subscriber is closed, or its transaction is
// rolled back.
type Projector struct {
	pool       *pgxpool.Pool
	keys       *eventlog.Keyring
	projection projections.Projection
	streams    map[string]bool // stream types the projection reads
	cfg        ProjectorConfig
	logger     *slog.Logger
	failures   atomic.Int64
	running    atomic.Bool
	pacing     *pacing
}

// NewProjector builds a projector; Run starts it.
func NewProjector(pool *pgxpool.Pool, keys *eventlog.Keyring, p projections.Projection, cfg ProjectorConfig, logger *slog.Logger) *Projector {
	streams := map[string]bool{}
	for _, s := range p.StreamTypes() {
		streams[s] = true
	}
	cfg = cfg.withDefaults()
	return &Projector{pool: pool, keys: keys, projection: p, streams: streams, cfg: cfg,
		logger: logger.With("projection", p.Name()), pacing: newPacing(cfg)}
}

// Name is the projection's name and consumer group.
func (p *Projector) Name() string { return p.projection.Name() }

// Failures counts events set aside since start.
func (p *Projector) Failures() int64 { return p.failures.Load() }

// Running reports whether the projector is consuming.
func (p *Projector) Running() bool { return p.running.Load() }

// pending is the part of the current Watermill batch received but not yet
// applied. Its messages are acked already: their offsets must not commit
// before their events are applied.
type pending struct {
	tx   pgx.Tx // the subscriber's transaction of the batch
	msgs []*message.Message
}

// Run consumes until ctx ends, then stops gracefully: the events received
// so far are applied and commit with their offsets.
func (p *Projector) Run(ctx context.Context) error {
	// No ack deadline: past it Watermill would commit the batch from its own
	// goroutine while the handler still uses the transaction. The handler
	// always acks or abandons the batch itself.
	noAckDeadline := time.Duration(0)
	sub, err := wsql.NewSubscriber(eventlog.SubscriberBeginner(p.pool), wsql.SubscriberConfig{
		ConsumerGroup:  p.projection.Name(),
		SchemaAdapter:  eventlog.NewProjectorSchema(p.cfg.BatchSize, p.projection.StreamTypes()),
		OffsetsAdapter: eventlog.NewProjectorOffsets(p.projection.StreamTypes()),
		PollInterval:   p.cfg.PollInterval,
		ResendInterval: 100 * time.Millisecond,
		AckDeadline:    &noAckDeadline,
		BackoffManager: p.pacing,
	}, watermill.NewSlogLoggerWithLevelMapping(p.logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return fmt.Errorf("subscriber for %s: %w", p.Name(), err)
	}
	// Closing the subscriber, rather than cancelling its context, lets it
	// acknowledge what it already handled before it returns.
	msgs, err := sub.Subscribe(context.WithoutCancel(ctx), eventlog.EventsTopic)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", p.Name(), err)
	}
	// mu keeps Close from landing while a message is being handled: the
	// subscriber would commit the batch under the handler's feet. Between
	// two messages the subscriber does not touch the transaction (our
	// offsets adapter has no per-message query), so the stop below may.
	var mu sync.Mutex
	closed := false
	var held pending
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		mu.Lock()
		defer mu.Unlock()
		if !closed {
			closed = true
			// On Close, Watermill commits the offsets of every message
			// acked so far, including those held but not applied yet.
			p.applyHeldOnStop(context.WithoutCancel(ctx), &held)
		}
		_ = sub.Close()
	}()
	p.running.Store(true)
	defer p.running.Store(false)
	var runErr error
	for msg := range msgs {
		mu.Lock()
		if !closed {
			if err := p.handle(msg, &held); err != nil {
				// The batch was abandoned (its transaction rolled back):
				// drop the subscriber and let the caller start over from
				// the last committed offset.
				closed = true
				runErr = err
				_ = sub.Close()
			}
		}
		mu.Unlock()
	}
	return runErr
}

// handle takes one message of a batch: it holds the event, applies what is
// held when the batch ends (or the cap is reached), then acks. It returns an
// error only when the batch had to be abandoned.
func (p *Projector) handle(msg *message.Message, held *pending) error {
	ctx := msg.Context()
	tx, err := subscriberTx(ctx)
	if err != nil {
		return err
	}
	if held.tx != nil && held.tx != tx {
		// Watermill ended a batch without this projector seeing its last
		// message: a bug, and the held events' offsets may be committed.
		return p.abandon(ctx, tx, fmt.Errorf("%w: a batch began before the previous one was applied", errBrokenTx))
	}
	wanted := p.streams[msg.Metadata.Get(eventlog.MetaStreamType)]
	p.pacing.handled(wanted)
	if wanted {
		held.tx = tx
		held.msgs = append(held.msgs, msg)
	}
	if batchLast(msg) || len(held.msgs) >= maxPending {
		if err := p.applyHeld(ctx, held); err != nil {
			return p.abandon(ctx, tx, err)
		}
	}
	msg.Ack()
	return nil
}

// batchLast tells whether msg ends its batch. A message without the flag is
// taken as last: applying its events alone is slower, never wrong.
func batchLast(msg *message.Message) bool {
	return msg.Metadata.Get(eventlog.MetaBatchLast) != "false"
}

func subscriberTx(ctx context.Context) (pgx.Tx, error) {
	wtx, ok := wsql.TxFromContext(ctx)
	if !ok {
		return nil, fmt.Errorf("%w: message without subscriber transaction", errBrokenTx)
	}
	ptx, ok := wtx.(*wsql.PgxTx)
	if !ok {
		return nil, fmt.Errorf("%w: subscriber transaction is a %T, not pgx", errBrokenTx, wtx)
	}
	return ptx.Tx, nil
}

// applyHeldOnStop applies the held events before the subscriber closes, or
// abandons the batch when it cannot.
func (p *Projector) applyHeldOnStop(ctx context.Context, held *pending) {
	if len(held.msgs) == 0 {
		return
	}
	tx := held.tx
	if err := p.applyHeld(ctx, held); err != nil {
		_ = p.abandon(ctx, tx, err)
	}
}

// applyHeld applies the held events, all in one savepoint when the
// projection takes them, else one by one. It returns an error only when
// the subscriber's transaction must be abandoned.
func (p *Projector) applyHeld(ctx context.Context, held *pending) error {
	tx, msgs := held.tx, held.msgs
	*held = pending{}
	if len(msgs) == 0 {
		return nil
	}
	// Keys read once serve the one-by-one retries too: same snapshot.
	keys := map[uuid.UUID]cipher.AEAD{}
	err := p.applyBatch(ctx, tx, msgs, keys)
	if err == nil {
		return nil
	}
	if mustAbandon(ctx, err) {
		return err
	}
	p.logger.Warn("batch rejected, applying its events one by one", "events", len(msgs),
		"first_position", positionOf(msgs[0]), "error", err)
	for _, msg := range msgs {
		if err := p.applyOne(ctx, tx, msg, keys); err != nil {
			return err
		}
	}
	return nil
}

// applyBatch decodes and applies msgs in one savepoint. The subject keys of
// all personal events are loaded first, with one query. Then the batch goes
// in parts: decoding a part (CPU only, on other goroutines) overlaps with
// the database applying the part before it.
func (p *Projector) applyBatch(ctx context.Context, tx pgx.Tx, msgs []*message.Message, keyCache map[uuid.UUID]cipher.AEAD) error {
	return inSavepoint(ctx, tx, func(sp pgx.Tx) error {
		keys := eventlog.NewSubjectKeys(p.keys, sp, keyCache)
		if err := keys.Prefetch(ctx, personalSubjects(msgs)); err != nil {
			return err
		}
		parts := slices.Collect(slices.Chunk(msgs, applyPart))
		next := decodeAsync(keys, parts[0])
		// Whatever happens, the decoder is done before the keys are used
		// again (the one-by-one path may add to the cache).
		defer func() { next.wait() }()
		for i := range parts {
			events, err := next.wait()
			if err != nil {
				return err
			}
			if i+1 < len(parts) {
				next = decodeAsync(keys, parts[i+1])
			}
			if err := p.projection.Apply(ctx, sp, events); err != nil {
				return err
			}
		}
		return nil
	})
}

// applyPart is how many events go to the projection at once within a
// batch: enough for set-based SQL to pay off, few enough that decoding the
// next part overlaps with most of the batch's database work.
const applyPart = 250

// decoding is a part of a batch being decoded on other goroutines.
type decoding struct {
	done   chan struct{}
	events []domain.RecordedEvent
	err    error
}

func decodeAsync(keys *eventlog.SubjectKeys, msgs []*message.Message) *decoding {
	d := &decoding{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.events, d.err = decodeAll(keys, msgs)
	}()
	return d
}

func (d *decoding) wait() ([]domain.RecordedEvent, error) {
	<-d.done
	return d.events, d.err
}

func personalSubjects(msgs []*message.Message) []eventlog.SubjectRef {
	var subjects []eventlog.SubjectRef
	for _, msg := range msgs {
		if s, ok := eventlog.PersonalSubject(msg.Metadata); ok && eventlog.MayBeSealed(msg.Payload) {
			subjects = append(subjects, s)
		}
	}
	return subjects
}

// decodeAll decodes msgs on every CPU: JSON and AES-GCM are most of the
// projector's own CPU time. The keys must have been prefetched.
func decodeAll(keys *eventlog.SubjectKeys, msgs []*message.Message) ([]domain.RecordedEvent, error) {
	return eventlog.InParallel(len(msgs), func(i int) (domain.RecordedEvent, error) {
		env, err := eventlog.EnvelopeFrom(msgs[i].Metadata, positionOf(msgs[i]))
		if err != nil {
			return domain.RecordedEvent{}, err
		}
		return keys.DecodePrefetched(msgs[i].Payload, env)
	})
}

// applyOne applies one event in its own savepoint, retrying it, and sets it
// aside when it keeps failing. It returns an error only when the
// subscriber's transaction must be abandoned.
func (p *Projector) applyOne(ctx context.Context, tx pgx.Tx, msg *message.Message, keyCache map[uuid.UUID]cipher.AEAD) error {
	var err error
	// The last try replaces NUL bytes, which older versions let into the
	// log and PostgreSQL stores in no text.
	for attempt := 1; attempt <= p.cfg.Attempts+1; attempt++ {
		scrub, tried := attempt > p.cfg.Attempts, true
		failed := inSavepoint(ctx, tx, func(sp pgx.Tx) error {
			keys := eventlog.NewSubjectKeys(p.keys, sp, keyCache)
			env, err := eventlog.EnvelopeFrom(msg.Metadata, positionOf(msg))
			if err != nil {
				return err
			}
			e, err := keys.Decode(ctx, msg.Payload, env)
			if err != nil {
				return err
			}
			if scrub {
				if e.Event, tried = domain.ScrubEvent(e.Event); !tried {
					return nil
				}
			}
			return p.projection.Apply(ctx, sp, []domain.RecordedEvent{e})
		})
		if !tried {
			break
		}
		if err = failed; err == nil {
			return nil
		}
		if mustAbandon(ctx, err) {
			return err
		}
	}
	p.setAside(ctx, tx, msg, err)
	return nil
}

// mustAbandon tells errors after which the batch cannot go on: retrying in
// the same transaction and snapshot cannot help, so it starts over from the
// committed offset instead of dropping events.
func mustAbandon(ctx context.Context, err error) bool {
	return errors.Is(err, errBrokenTx) || isTransient(err) || ctx.Err() != nil
}

// abandon gives the subscriber's batch up and returns cause as an
// errBrokenTx. Rolling the transaction back is what makes that safe: on
// Close, Watermill commits the offsets of the messages acked so far, and
// this projector acks messages whose events it only held.
func (p *Projector) abandon(ctx context.Context, tx pgx.Tx, cause error) error {
	p.logger.Warn("projection batch abandoned", "error", cause)
	if err := tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		// The connection is most likely gone, and the server rolls back.
		p.logger.Warn("could not roll back the abandoned batch", "error", err)
	}
	if !errors.Is(cause, errBrokenTx) {
		cause = fmt.Errorf("%w: %w", errBrokenTx, cause)
	}
	return cause
}

var errBrokenTx = errors.New("subscriber transaction unusable")

// inSavepoint runs fn in a savepoint of tx: a failing statement rolls back
// only fn's work, not the subscriber's batch.
func inSavepoint(ctx context.Context, tx pgx.Tx, fn func(sp pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errBrokenTx, err)
	}
	if err := fn(sp); err != nil {
		if rbErr := sp.Rollback(ctx); rbErr != nil {
			return fmt.Errorf("%w: %w", errBrokenTx, errors.Join(err, rbErr))
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("%w: %w", errBrokenTx, err)
	}
	return nil
}

func positionOf(msg *message.Message) int64 {
	position, _ := strconv.ParseInt(msg.Metadata.Get(eventlog.MetaPosition), 10, 64)
	return position
}

// setAside records an event the projection cannot apply. The log line names
// the event, never its content: payloads hold personal data. The record is
// written in a savepoint so a failure here cannot abort the batch.
func (p *Projector) setAside(ctx context.Context, tx pgx.Tx, msg *message.Message, cause error) {
	p.failures.Add(1)
	position, eventType := positionOf(msg), msg.Metadata.Get(eventlog.MetaEventType)
	p.logger.Error("event set aside after retries", "position", position, "event_id", msg.UUID,
		"event_type", eventType, "error", cause)
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, `INSERT INTO projection_failures (projection, event_offset, event_id, event_type, error)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			p.Name(), position, msg.UUID, eventType, domain.CleanText(cause.Error(), 2000))
		return err
	})
	if err != nil {
		p.logger.Error("could not record set-aside event", "position", position, "error", err)
	}
}

// isTransient tells errors that may pass on a later try (lock and
// serialization conflicts, resource limits, cancellations, lost
// connections) from those that will fail every time (bad data, bugs).
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		code := pgErr.Code
		return strings.HasPrefix(code, "40") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57") ||
			strings.HasPrefix(code, "08") || code == "55P03"
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err)
}
