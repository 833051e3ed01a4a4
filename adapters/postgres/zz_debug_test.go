package postgres

import (
	"context"
	"fmt"
	"testing"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

func BenchmarkZZDebug(b *testing.B) {
	ctx := context.Background()
	store, pool := newBenchStore(b)
	origin := benchOrigin()
	appendRegistrations(b, store, origin, 30000)
	if _, err := pool.Exec(ctx, `INSERT INTO events_offsets (consumer_group, offset_acked, last_processed_transaction_id) VALUES ('clients', 0, '0')`); err != nil {
		b.Fatal(err)
	}
	q, _ := logSchema{batchSize: 1000}.SelectQuery(wsql.SelectQueryParams{Topic: EventsTopic, ConsumerGroup: "clients", OffsetsAdapter: offsetsAdapter()})
	for _, pre := range []string{"", "SET enable_bitmapscan = off", "SET enable_sort = off"} {
		fmt.Println("=====", pre)
		conn, _ := pool.Acquire(ctx)
		if pre != "" {
			conn.Exec(ctx, pre)
		}
		rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.Query, q.Args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var line string
			rows.Scan(&line)
			fmt.Println(line)
		}
		rows.Close()
		conn.Exec(ctx, "RESET ALL")
		conn.Release()
	}
	for b.Loop() {
	}
}
