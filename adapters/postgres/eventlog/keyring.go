package eventlog

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Keyring holds the deployment's master key. It wraps the per-subject data
// keys (crypto-shredding: personal fields are sealed with the subject's key,
// erasure deletes that key) and derives the key that hashes unique values in
// the reservation table.
type Keyring struct {
	master         cipher.AEAD
	reservationKey []byte
	// reservationMACs are keyed hashes ready to reuse (*reservationMAC):
	// an import hashes a million values, and a new HMAC each time was a
	// good part of matching.
	reservationMACs sync.Pool
}

// reservationMAC is a keyed hash and the text it hashes, written in one
// go rather than in four writes that each copied a string.
type reservationMAC struct {
	mac  hash.Hash
	text []byte
}

// ParseMasterKey decodes a base64 32-byte key, as CLIENTREG_MASTER_KEY holds it.
func ParseMasterKey(encoded string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, fmt.Errorf("master key is not base64: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("master key must be 32 bytes, got %d", len(key))
	}
	return key, nil
}

// NewKeyring builds a keyring from a 32-byte master key.
func NewKeyring(masterKey []byte) (*Keyring, error) {
	aead, err := newAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, masterKey)
	mac.Write([]byte("clientreg reservations v1"))
	k := &Keyring{master: aead, reservationKey: mac.Sum(nil)}
	k.reservationMACs.New = func() any { return &reservationMAC{mac: hmac.New(sha256.New, k.reservationKey)} }
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	return cipher.NewGCM(block)
}

// ReservationHash is the stored form of a unique value: a keyed hash, so
// the table holds no email in clear and still enforces uniqueness.
func (k *Keyring) ReservationHash(tenantID uuid.UUID, kind, value string) []byte {
	return k.AppendReservationHash(nil, tenantID, kind, value)
}

// AppendReservationHash appends ReservationHash(tenantID, kind, value),
// ReservationHashSize bytes, to dst: the hashes of many values can share
// one allocation.
func (k *Keyring) AppendReservationHash(dst []byte, tenantID uuid.UUID, kind, value string) []byte {
	m := k.reservationMACs.Get().(*reservationMAC)
	defer k.reservationMACs.Put(m)
	m.text = append(append(append(append(m.text[:0], tenantID[:]...), kind...), 0), value...)
	m.mac.Reset()
	m.mac.Write(m.text)
	return m.mac.Sum(dst)
}

// ReservationHashSize is the length of a reservation hash (HMAC-SHA256).
const ReservationHashSize = sha256.Size

// errNoSubjectKey means the subject's key was erased (or never existed).
var errNoSubjectKey = errors.New("no data key for subject")

type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// subjectKey returns the subject's data key, or errNoSubjectKey when it was
// erased.
func (k *Keyring) subjectKey(ctx context.Context, q Querier, tenantID, subjectID uuid.UUID) (cipher.AEAD, error) {
	var wrapped []byte
	err := q.QueryRow(ctx, `SELECT wrapped_key FROM subject_keys WHERE tenant_id = $1 AND subject_id = $2`,
		tenantID, subjectID).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSubjectKey
	}
	if err != nil {
		return nil, fmt.Errorf("load data key: %w", err)
	}
	return k.unwrap(wrapped, subjectID)
}

func (k *Keyring) createSubjectKey(ctx context.Context, q Querier, tenantID, subjectID uuid.UUID) (cipher.AEAD, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate data key: %w", err)
	}
	wrapped, err := seal(k.master, key, subjectID[:])
	if err != nil {
		return nil, err
	}
	if _, err := q.Exec(ctx, `INSERT INTO subject_keys (tenant_id, subject_id, wrapped_key) VALUES ($1, $2, $3)`,
		tenantID, subjectID, wrapped); err != nil {
		return nil, fmt.Errorf("store data key: %w", err)
	}
	return newAEAD(key)
}

func (k *Keyring) unwrap(wrapped []byte, subjectID uuid.UUID) (cipher.AEAD, error) {
	key, err := open(k.master, wrapped, subjectID[:])
	if err != nil {
		return nil, fmt.Errorf("unwrap data key (wrong master key?): %w", err)
	}
	return newAEAD(key)
}

// seal encrypts with a random nonce prepended; aad binds the ciphertext to
// its subject so sealed data cannot be moved between clients.
func seal(aead cipher.AEAD, plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, aad), nil
}

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
}

// SealSecret seals a secret kept beside the log (a connection's credentials,
// a pending registration's token) under the master key. The additional data
// binds it to its owner and purpose, so a sealed value cannot be moved to
// another row or read as anything else.
func (k *Keyring) SealSecret(owner uuid.UUID, purpose string, plain []byte) ([]byte, error) {
	return seal(k.master, plain, secretAAD(owner, purpose))
}

// OpenSecret opens what SealSecret sealed for the same owner and purpose.
func (k *Keyring) OpenSecret(owner uuid.UUID, purpose string, sealed []byte) ([]byte, error) {
	plain, err := open(k.master, sealed, secretAAD(owner, purpose))
	if err != nil {
		return nil, fmt.Errorf("open sealed %s (wrong master key?): %w", purpose, err)
	}
	return plain, nil
}

// The prefix predates this package (secrets were first a connection's): it
// is part of every sealed secret's additional data and cannot change.
func secretAAD(owner uuid.UUID, purpose string) []byte {
	return append([]byte("clientreg connection "+purpose+" v1\x00"), owner[:]...)
}

// KeyedHash is how a value that must be found again but never read back is
// stored (an OAuth2 state, say): keyed by the deployment, so the table alone
// cannot be used to forge or complete it.
func (k *Keyring) KeyedHash(purpose, value string) []byte {
	mac := hmac.New(sha256.New, k.reservationKey)
	mac.Write([]byte(purpose + "\x00" + value))
	return mac.Sum(nil)
}

// createSubjectKeys creates the data keys of many new subjects in one
// statement.
func (k *Keyring) createSubjectKeys(ctx context.Context, q Querier, tenantID uuid.UUID, subjects []uuid.UUID) (map[uuid.UUID]cipher.AEAD, error) {
	out := make(map[uuid.UUID]cipher.AEAD, len(subjects))
	wrapped := make([][]byte, len(subjects))
	for i, id := range subjects {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate data key: %w", err)
		}
		w, err := seal(k.master, key, id[:])
		if err != nil {
			return nil, err
		}
		wrapped[i] = w
		if out[id], err = newAEAD(key); err != nil {
			return nil, err
		}
	}
	if c, ok := q.(*newRows); ok { // a save of new streams writes them with its events
		c.addSubjectKeys(tenantID, subjects, wrapped)
		return out, nil
	}
	if _, err := q.Exec(ctx, `INSERT INTO subject_keys (tenant_id, subject_id, wrapped_key)
		SELECT $1, s, w FROM unnest($2::uuid[], $3::bytea[]) AS x(s, w)`, tenantID, subjects, wrapped); err != nil {
		return nil, fmt.Errorf("store data keys: %w", err)
	}
	return out, nil
}

// SubjectKeysOf loads the data keys of many subjects in one query; erased
// subjects are absent from the result.
func (k *Keyring) SubjectKeysOf(ctx context.Context, q RowsQuerier, tenantID uuid.UUID, subjects []uuid.UUID) (map[uuid.UUID]cipher.AEAD, error) {
	rows, err := q.Query(ctx, `SELECT subject_id, wrapped_key FROM subject_keys WHERE tenant_id = $1 AND subject_id = ANY($2)`,
		tenantID, subjects)
	if err != nil {
		return nil, fmt.Errorf("load data keys: %w", err)
	}
	defer rows.Close()
	out := make(map[uuid.UUID]cipher.AEAD, len(subjects))
	for rows.Next() {
		var id uuid.UUID
		var wrapped []byte
		if err := rows.Scan(&id, &wrapped); err != nil {
			return nil, fmt.Errorf("load data keys: %w", err)
		}
		if out[id], err = k.unwrap(wrapped, id); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load data keys: %w", err)
	}
	return out, nil
}

// RowsQuerier is what runs a multi-row query: a pool, a connection or a transaction.
type RowsQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
