package service_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientreg/clientreg/adapters/postgres/pgtest"
	"github.com/clientreg/clientreg/adapters/service"
)

// lockedBuilder collects log output written from several goroutines.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An unreachable NATS is a warning and a retry, never a stopped registry.
func TestWorkersRunWithNATSUnreachable(t *testing.T) {
	t.Parallel()
	var logs lockedBuilder
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: pgtest.NewDatabaseURL(t),
		MasterKey:   []byte("0123456789abcdef0123456789abcdef"),
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
		NATSURL:     "nats://127.0.0.1:1", // nothing listens there
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	done := make(chan struct{})
	go func() {
		svc.RunWorkers(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "forwarding to NATS stopped; retrying") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry warning; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for name, running := range svc.ProjectorsRunning() {
		for !running && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			running = svc.ProjectorsRunning()[name]
		}
		if !running {
			t.Errorf("projector %s not running while NATS is away", name)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("workers did not stop")
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("the NATS failure was not a warning:\n%s", logs.String())
	}
}
