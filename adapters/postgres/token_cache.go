package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clientreg/clientreg/domain"
)

// Every API request authenticates its token. Read from api_tokens each
// time, that was a round trip of its own per request: under 50 concurrent
// registrations on two cores, 25 to 45 ms of a registration's ~100. Tokens
// change rarely, so a token found is remembered for as long as a
// connection listens to api_tokens_changed, which a trigger notifies on
// every change of a token's id, tenant, role, hash or revocation, DELETE
// and TRUNCATE (migration 0020; not on a use noted, which would forget
// every token each time): each
// notification, and the loss of the listening connection, forgets every
// token. Without a listener (before WatchTokens runs, while it reconnects)
// each request reads the table, as before. A token revoked in SQL stops
// working on every instance as soon as the notification arrives after its
// transaction commits.

const tokenChannel = "api_tokens_changed"

// tokenMemory is how long a token is remembered: read again after it, its
// last use is noted (Authenticate).
const tokenMemory = time.Minute

// maxCachedTokens bounds the memory of a deployment with many tokens: past
// it the cache starts over.
const maxCachedTokens = 10_000

type tokenCache struct {
	mu   sync.Mutex
	live bool // a listener has heard every change since the entries were read
	// gen changes whenever the entries are forgotten: a principal read
	// before is not stored, it may predate the change.
	gen     uint64
	entries map[string]cachedToken
}

type cachedToken struct {
	principal domain.Principal
	read      time.Time
}

func (c *tokenCache) get(hash []byte) (p domain.Principal, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return domain.Principal{}, c.gen, false
	}
	e, ok := c.entries[string(hash)]
	if !ok || time.Since(e.read) > tokenMemory {
		return domain.Principal{}, c.gen, false
	}
	return e.principal, c.gen, true
}

func (c *tokenCache) put(hash []byte, p domain.Principal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.entries = map[string]cachedToken{}
	}
	c.entries[string(hash)] = cachedToken{principal: p, read: time.Now()}
}

// forgetAll drops every entry, after a change made here.
func (c *tokenCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// forget drops every entry; live tells whether new ones may be kept.
func (c *tokenCache) forget(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.live = live
}

// WatchTokens lets Authenticate remember tokens while ctx lasts, listening
// for their changes on a connection of its own (not one of the pool's). It
// returns when ctx ends, or with an error when that connection fails; the
// tokens are then read from the table again until it is called anew.
func (t *Tenants) WatchTokens(ctx context.Context) error {
	defer t.cache.forget(false)
	conn, err := pgx.ConnectConfig(ctx, t.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listen for token changes: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // the connection is dropped either way
	if _, err := conn.Exec(ctx, "LISTEN "+tokenChannel); err != nil {
		return fmt.Errorf("listen for token changes: %w", err)
	}
	// Tokens read from now on are read after LISTEN: a later change is heard.
	t.cache.forget(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("listen for token changes: %w", err)
		}
		t.cache.forget(true)
	}
}
