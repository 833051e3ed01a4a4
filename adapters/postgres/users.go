package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/clientreg/clientreg/domain"
)

// SessionLifetime is how long a console session lasts after sign-in.
const SessionLifetime = 12 * time.Hour

// Users keeps the console's people, their password hashes and sessions
// (tables console_users and console_sessions).
type Users struct {
	pool *pgxpool.Pool
	// cost of the bcrypt hashes it makes.
	cost int
	// dummyHash is compared against when the email is unknown, so an
	// unknown email takes as long to refuse as a wrong password.
	dummyHash []byte
}

// NewUsers returns the store with bcrypt's default cost.
func NewUsers(pool *pgxpool.Pool) *Users {
	u := &Users{pool: pool, cost: bcrypt.DefaultCost}
	u.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password anyone has"), u.cost)
	return u
}

const userColumns = `id, tenant_id, email, role, must_set_password, created_at, last_signin_at`

func scanUser(row pgx.Row) (domain.User, error) {
	var u domain.User
	err := row.Scan(&u.ID, &u.TenantID, &u.Email, &u.Role, &u.MustSetPassword, &u.CreatedAt, &u.LastSignInAt)
	return u, err
}

// Create adds a user to a tenant with a one-time password, which it
// returns: the user chooses their own at first sign-in.
func (s *Users) Create(ctx context.Context, tenantID uuid.UUID, email, role string) (domain.User, string, error) {
	email, err := domain.UserEmail(email)
	if err != nil {
		return domain.User{}, "", err
	}
	if !domain.ValidRole(role) || role == domain.RoleApp {
		return domain.User{}, "", fmt.Errorf("%w: a person is admin, editor or viewer, not %q", domain.ErrInvalidRole, role)
	}
	password, hash, err := s.oneTimePassword()
	if err != nil {
		return domain.User{}, "", err
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `INSERT INTO console_users (id, tenant_id, email, role, password_hash)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+userColumns, uuid.New(), tenantID, email, role, hash))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return domain.User{}, "", domain.ErrUserExists
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return domain.User{}, "", ErrTenantNotFound
	}
	if err != nil {
		return domain.User{}, "", fmt.Errorf("create user: %w", err)
	}
	return u, password, nil
}

// ResetPassword gives the user a new one-time password and ends their
// sessions.
func (s *Users) ResetPassword(ctx context.Context, tenantID, id uuid.UUID) (string, error) {
	password, hash, err := s.oneTimePassword()
	if err != nil {
		return "", err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE console_users SET password_hash = $3, must_set_password = true,
			failed_signins = 0, last_failed_at = NULL WHERE tenant_id = $1 AND id = $2`, tenantID, id, hash)
		if err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return domain.ErrUserNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, id)
		return err
	})
	return password, err
}

// oneTimePassword draws 16 characters from an alphabet without look-alikes
// (80 bits), in groups of four for reading aloud.
func (s *Users) oneTimePassword() (string, []byte, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789AB" // 32 symbols
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("generate password: %w", err)
	}
	var out []byte
	for i, b := range raw {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[b&31])
	}
	hash, err := bcrypt.GenerateFromPassword(out, s.cost)
	if err != nil {
		return "", nil, fmt.Errorf("hash password: %w", err)
	}
	return string(out), hash, nil
}

// Users lists a tenant's users by email.
func (s *Users) Users(ctx context.Context, tenantID uuid.UUID) ([]domain.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM console_users WHERE tenant_id = $1 ORDER BY email`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.User, error) { return scanUser(row) })
}

// FirstAdmin is the tenant's oldest admin, if any.
func (s *Users) FirstAdmin(ctx context.Context, tenantID uuid.UUID) (domain.User, bool, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM console_users
		WHERE tenant_id = $1 AND role = 'admin' ORDER BY created_at, id LIMIT 1`, tenantID))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.User{}, false, nil
	}
	if err != nil {
		return domain.User{}, false, fmt.Errorf("find first admin: %w", err)
	}
	return u, true, nil
}

// SignIn checks an email and password. After domain.FreeSignInFailures
// failures in a row, the account refuses every attempt (a
// *domain.ThrottledError) until domain.SignInWait has passed since the last
// failure, so guessing is slowed to a crawl whoever tries.
func (s *Users) SignIn(ctx context.Context, email, password string) (domain.User, error) {
	var (
		u        domain.User
		hash     string
		failures int
		lastFail *time.Time
		now      time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash, failed_signins, last_failed_at, now()
		FROM console_users WHERE email = $1`, domain.EmailKey(email)).
		Scan(&u.ID, &u.TenantID, &u.Email, &u.Role, &u.MustSetPassword, &u.CreatedAt, &u.LastSignInAt, &hash, &failures, &lastFail, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return domain.User{}, domain.ErrInvalidCredentials
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("sign in: %w", err)
	}
	if wait := domain.SignInWait(failures); wait > 0 && lastFail != nil {
		if left := lastFail.Add(wait).Sub(now); left > 0 {
			return domain.User{}, &domain.ThrottledError{RetryAfter: left}
		}
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		if _, err := s.pool.Exec(ctx, `UPDATE console_users SET failed_signins = failed_signins + 1,
			last_failed_at = now() WHERE id = $1`, u.ID); err != nil {
			return domain.User{}, fmt.Errorf("count failed sign-in: %w", err)
		}
		return domain.User{}, domain.ErrInvalidCredentials
	}
	if _, err := s.pool.Exec(ctx, `UPDATE console_users SET failed_signins = 0, last_failed_at = NULL,
		last_signin_at = now() WHERE id = $1`, u.ID); err != nil {
		return domain.User{}, fmt.Errorf("record sign-in: %w", err)
	}
	return u, nil
}

// SetPassword stores the user's own password and ends their other sessions.
func (s *Users) SetPassword(ctx context.Context, userID uuid.UUID, password, keepSession string) error {
	if err := domain.CheckPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE console_users SET password_hash = $2, must_set_password = false WHERE id = $1`, userID, hash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return domain.ErrUserNotFound
		}
		_, err = tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1 AND token_hash <> $2`, userID, hashToken(keepSession))
		return err
	})
}

// StartSession opens a session for the user and returns the cookie's secret.
func (s *Users) StartSession(ctx context.Context, userID uuid.UUID) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("generate session: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(secret)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1 AND expires_at < now()`, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval)`,
			hashToken(token), userID, fmt.Sprintf("%d seconds", int(SessionLifetime.Seconds())))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return token, nil
}

// Session resolves a session cookie's secret to its user.
func (s *Users) Session(ctx context.Context, token string) (domain.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT u.id, u.tenant_id, u.email, u.role, u.must_set_password, u.created_at, u.last_signin_at
		FROM console_sessions s JOIN console_users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now()`, hashToken(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.User{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.User{}, fmt.Errorf("read session: %w", err)
	}
	return u, nil
}

// EndSession signs the session out.
func (s *Users) EndSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
