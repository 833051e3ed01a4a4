package eventlog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrWrongMasterKey: the key is not the one the database was first used
// with. Writing with it would seal data no one could read with the other.
var ErrWrongMasterKey = errors.New("the master key is not the one this database was first used with")

// checkValue identifies the master key without revealing it.
func (k *Keyring) checkValue() []byte {
	mac := hmac.New(sha256.New, k.reservationKey)
	mac.Write([]byte("clientreg master key check v1"))
	return mac.Sum(nil)
}

// CheckMasterKey compares the keyring with the check value the database
// recorded when it was first used, and records it the first time. A
// database that already holds sealed data but no check value (one from
// before the check) records it only once the key has opened a data key.
func CheckMasterKey(ctx context.Context, pool *pgxpool.Pool, keys *Keyring) error {
	var stored []byte
	err := pool.QueryRow(ctx, `SELECT check_value FROM master_key_check`).Scan(&stored)
	switch {
	case err == nil:
		if !hmac.Equal(stored, keys.checkValue()) {
			return ErrWrongMasterKey
		}
		return nil
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("read the master key's check value: %w", err)
	}
	var subject uuid.UUID
	var wrapped []byte
	err = pool.QueryRow(ctx, `SELECT subject_id, wrapped_key FROM subject_keys LIMIT 1`).Scan(&subject, &wrapped)
	switch {
	case err == nil:
		if _, err := keys.unwrap(wrapped, subject); err != nil {
			return ErrWrongMasterKey
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("read a data key: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO master_key_check (check_value) VALUES ($1) ON CONFLICT DO NOTHING`, keys.checkValue()); err != nil {
		return fmt.Errorf("record the master key's check value: %w", err)
	}
	return CheckMasterKey(ctx, pool, keys) // another process may have recorded its own first
}
