package eventlog

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/google/uuid"
)

// A reservation hash is the HMAC of the tenant, the kind, a NUL and the
// value, whichever way it is asked for: the stored reservations were
// hashed so, and hashing them otherwise would lose them. The hashes
// appended one after another are the hashes asked for one by one.
func TestReservationHashes(t *testing.T) {
	k, err := NewKeyring(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tenant := uuid.MustParse("01234567-89ab-cdef-0123-456789abcdef")
	keys := []struct{ kind, value string }{
		{"email", "anna@example.be"}, {"external_ref", "erp\x00K-1"}, {"email", ""}, {"list_name", "VIP klanten"},
	}
	dst := []byte("kept")
	for _, key := range keys {
		mac := hmac.New(sha256.New, k.reservationKey)
		mac.Write(tenant[:])
		mac.Write([]byte(key.kind))
		mac.Write([]byte{0})
		mac.Write([]byte(key.value))
		want := mac.Sum(nil)
		if got := k.ReservationHash(tenant, key.kind, key.value); !bytes.Equal(got, want) {
			t.Errorf("ReservationHash(%q, %q) = %x, want %x", key.kind, key.value, got, want)
		}
		dst = k.AppendReservationHash(dst, tenant, key.kind, key.value)
		if got := dst[len(dst)-ReservationHashSize:]; !bytes.Equal(got, want) {
			t.Errorf("AppendReservationHash(%q, %q) appended %x, want %x", key.kind, key.value, got, want)
		}
	}
	if len(dst) != len("kept")+len(keys)*ReservationHashSize || string(dst[:4]) != "kept" {
		t.Errorf("appended to %q: %d bytes", dst[:4], len(dst))
	}
	if bytes.Equal(k.ReservationHash(tenant, "email", "a"), k.ReservationHash(tenant, "emai", "la")) {
		t.Error("the kind and the value run together")
	}
}
