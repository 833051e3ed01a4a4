package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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
		c.BatchSize = 500
	}
	if c.PollInterval == 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	if c.Attempts == 0 {
		c.Attempts = 3
	}
	return c
}

// Projector feeds one projection from the log through a Watermill SQL
// subscriber (its own consumer group). Each event is applied inside a
// savepoint of the subscriber's transaction: the read model and the offset
// commit together, and one failing event is retried, then set aside in
// projection_failures, instead of stalling the group.
type Projector struct {
	pool       *pgxpool.Pool
	keys       *Keyring
	projection projections.Projection
	cfg        ProjectorConfig
	logger     *slog.Logger
	failures   atomic.Int64
	running    atomic.Bool
}

// NewProjector builds a projector; Run starts it.
func NewProjector(pool *pgxpool.Pool, keys *Keyring, p projections.Projection, cfg ProjectorConfig, logger *slog.Logger) *Projector {
	return &Projector{pool: pool, keys: keys, projection: p, cfg: cfg.withDefaults(),
		logger: logger.With("projection", p.Name())}
}

// Name is the projection's name and consumer group.
func (p *Projector) Name() string { return p.projection.Name() }

// Failures counts events set aside since start.
func (p *Projector) Failures() int64 { return p.failures.Load() }

// Running reports whether the projector is consuming.
func (p *Projector) Running() bool { return p.running.Load() }

// Run consumes until ctx ends, then stops gracefully: the event in hand is
// finished and what the open batch applied commits with its offset.
func (p *Projector) Run(ctx context.Context) error {
	// No ack deadline: past it Watermill would commit the batch from its own
	// goroutine while the handler still uses the transaction. The handler
	// always acks or abandons the batch itself.
	noAckDeadline := time.Duration(0)
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(p.pool), wsql.SubscriberConfig{
		ConsumerGroup:  p.projection.Name(),
		SchemaAdapter:  logSchema{batchSize: p.cfg.BatchSize},
		OffsetsAdapter: offsetsAdapter(),
		PollInterval:   p.cfg.PollInterval,
		ResendInterval: 100 * time.Millisecond,
		AckDeadline:    &noAckDeadline,
	}, watermill.NewSlogLoggerWithLevelMapping(p.logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return fmt.Errorf("subscriber for %s: %w", p.Name(), err)
	}
	// Closing the subscriber, rather than cancelling its context, lets it
	// acknowledge what it already handled before it returns.
	msgs, err := sub.Subscribe(context.WithoutCancel(ctx), EventsTopic)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", p.Name(), err)
	}
	// mu keeps Close from landing while an event is being applied: the
	// subscriber would commit the batch under the handler's feet.
	var mu sync.Mutex
	closed := false
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		mu.Lock()
		defer mu.Unlock()
		closed = true
		_ = sub.Close()
	}()
	p.running.Store(true)
	defer p.running.Store(false)
	var runErr error
	for msg := range msgs {
		mu.Lock()
		if !closed {
			if err := p.handle(msg); err != nil {
				// The batch transaction is gone (connection lost): drop the
				// subscriber, whose batch rolls back, and let the caller
				// start over from the last committed offset.
				closed = true
				runErr = err
				_ = sub.Close()
			}
		}
		mu.Unlock()
	}
	return runErr
}

// handle applies one event; it returns an error only when the subscriber's
// transaction is unusable and the batch must be abandoned.
func (p *Projector) handle(msg *message.Message) error {
	ctx := msg.Context()
	wtx, ok := wsql.TxFromContext(ctx)
	if !ok {
		return fmt.Errorf("%w: message without subscriber transaction", errBrokenTx)
	}
	tx := wtx.(*wsql.PgxTx).Tx
	position, _ := strconv.ParseInt(msg.Metadata.Get(MetaPosition), 10, 64)

	var lastErr error
	for attempt := 1; attempt <= p.cfg.Attempts; attempt++ {
		lastErr = p.applyInSavepoint(ctx, tx, position, msg)
		if lastErr == nil {
			msg.Ack()
			return nil
		}
		if errors.Is(lastErr, errBrokenTx) || isTransient(lastErr) || ctx.Err() != nil {
			// Retrying inside the same snapshot cannot help: start the batch
			// over from the committed offset instead of dropping the event.
			p.logger.Warn("projection batch abandoned", "position", position, "error", lastErr)
			if !errors.Is(lastErr, errBrokenTx) {
				lastErr = fmt.Errorf("%w: %w", errBrokenTx, lastErr)
			}
			return lastErr
		}
	}
	p.setAside(ctx, tx, position, msg, lastErr)
	msg.Ack()
	return nil
}

var errBrokenTx = errors.New("subscriber transaction unusable")

func (p *Projector) applyInSavepoint(ctx context.Context, tx pgx.Tx, position int64, msg *message.Message) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", errBrokenTx, err)
	}
	keys := subjectKeys{keyring: p.keys, q: sp}
	event, err := keys.decode(ctx, position, msg.Payload, msg.Metadata)
	if err == nil {
		err = p.projection.Apply(ctx, sp, event)
	}
	if err != nil {
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

// setAside records an event the projection cannot apply. The log line names
// the event, never its content: payloads hold personal data. The record is
// written in a savepoint so a failure here cannot abort the batch.
func (p *Projector) setAside(ctx context.Context, tx pgx.Tx, position int64, msg *message.Message, cause error) {
	p.failures.Add(1)
	eventType := msg.Metadata.Get(MetaEventType)
	p.logger.Error("event set aside after retries", "position", position, "event_id", msg.UUID,
		"event_type", eventType, "error", cause)
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		_, err := sp.Exec(ctx, `INSERT INTO projection_failures (projection, event_offset, event_id, event_type, error)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			p.Name(), position, msg.UUID, eventType, cause.Error())
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
