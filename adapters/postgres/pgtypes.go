package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// AfterConnect prepares each connection of the registry's pools (set it as
// pgxpool.Config.AfterConnect).
//
// pgx does not know github.com/google/uuid's type: it found its way to the
// database through the driver.Valuer fallback (a UUID printed as text, then
// parsed back), after trying several plans that failed with a formatted
// error each, for every id of every array. An import passes a million ids;
// that cost more than a second. Handed over as the [16]byte it is, a UUID
// is written in binary.
func AfterConnect(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
	return nil
}

func tryWrapUUID(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if id, ok := value.(uuid.UUID); ok {
		return &uuidEncodePlan{}, [16]byte(id), true
	}
	return nil, nil, false
}

type uuidEncodePlan struct{ next pgtype.EncodePlan }

func (p *uuidEncodePlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode([16]byte(value.(uuid.UUID)), buf)
}

// textArray and byteaArray are text[] and bytea[] parameters that pgx
// encodes element by element without reflection: a []string boxed each
// element in an interface (an allocation), a [][]byte also went through
// reflect. Matching a 100,000-row file sends 200,000 elements. An element
// is handed over as a pointer into the array, which fits an interface as
// it is.
type (
	textArray  []string
	byteaArray [][]byte
	textElem   struct{ s *string }
	byteaElem  struct{ b *[]byte }
)

func (a textArray) Dimensions() []pgtype.ArrayDimension  { return dimensions(len(a), a == nil) }
func (a textArray) Index(i int) any                      { return textElem{&a[i]} }
func (a textArray) IndexType() any                       { return textElem{} }
func (a byteaArray) Dimensions() []pgtype.ArrayDimension { return dimensions(len(a), a == nil) }
func (a byteaArray) Index(i int) any                     { return byteaElem{&a[i]} }
func (a byteaArray) IndexType() any                      { return byteaElem{} }

func (e textElem) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: *e.s, Valid: true}, nil
}
func (e byteaElem) BytesValue() ([]byte, error) { return *e.b, nil }

// dimensions of a one-dimensional array; none for a nil one (NULL).
func dimensions(n int, isNil bool) []pgtype.ArrayDimension {
	if isNil {
		return nil
	}
	return []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
}
