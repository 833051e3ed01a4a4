package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benchCRUD is the write benchmark's baseline: the plainest service that
// registers a client. One POST is one INSERT of a row into a table with a
// unique email index, JSON in and out, a pgx pool of -pool-max-conns, on
// 127.0.0.1 with the same load as the registry's.
func startCRUD(ctx context.Context, dbURL string, o options) (*loadTarget, error) {
	t := &loadTarget{name: "plain CRUD baseline (one INSERT)"}
	cfg, err := pgxpool.ParseConfig(withPoolMaxConns(dbURL, o.poolMaxConns))
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	t.poolMaxConns, t.poolSource = pool.Config().MaxConns, fmt.Sprintf("pool_max_conns=%d in DATABASE_URL", o.poolMaxConns)
	if _, err := pool.Exec(ctx, `CREATE TABLE crud_clients (
		id UUID PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
		created_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		pool.Close()
		return nil, err
	}

	type client struct {
		ID        uuid.UUID `json:"id"`
		FirstName string    `json:"first_name"`
		LastName  string    `json:"last_name"`
		Email     string    `json:"email"`
		CreatedAt time.Time `json:"created_at"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /clients", func(w http.ResponseWriter, r *http.Request) {
		var c client
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&c); err != nil {
			http.Error(w, `{"error":"invalid JSON"}`, http.StatusBadRequest)
			return
		}
		c.ID = uuid.New()
		err := pool.QueryRow(r.Context(), `INSERT INTO crud_clients (id, first_name, last_name, email)
			VALUES ($1, $2, $3, $4) RETURNING created_at`, c.ID, c.FirstName, c.LastName, c.Email).Scan(&c.CreatedAt)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "23505":
			http.Error(w, `{"error":"email taken"}`, http.StatusConflict)
			return
		case err != nil:
			http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(c) //nolint:errcheck // the client went away
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.endpoint = "http://" + ln.Addr().String() + "/clients"
	t.rest = pool.Reset
	t.close = func() {
		srv.Close()
		pool.Close()
	}
	return t, nil
}
