package projections

import (
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// ClientView is a client as the clients read model holds it.
type ClientView struct {
	ID             uuid.UUID            `json:"id"`
	Version        int                  `json:"version"`
	Position       int64                `json:"position"`
	Status         string               `json:"status"`
	Kind           string               `json:"kind"`
	FirstName      string               `json:"first_name"`
	LastName       string               `json:"last_name"`
	CompanyName    string               `json:"company_name"`
	DisplayName    string               `json:"display_name"`
	Email          string               `json:"email"`
	Language       string               `json:"language"`
	Phone          string               `json:"phone"`
	VATNumber      string               `json:"vat_number"`
	Address        Address              `json:"address"`
	Notes          string               `json:"notes"`
	ExternalRefs   []domain.ExternalRef `json:"external_refs"`
	CustomFields   map[string]string    `json:"custom_fields"`
	ContactPersons []map[string]string  `json:"contact_persons"`
	Lists          []uuid.UUID          `json:"lists"`
	CreatedAt      time.Time            `json:"created_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
	DeletedAt      *time.Time           `json:"deleted_at,omitempty"`
	// Syncs and the client's app (issue 5).
	RemovedAtSource []string `json:"removed_at_source"`
	AccessStatus    string   `json:"access_status"`
}

// Address is the postal address part of a client.
type Address struct {
	Street      string `json:"street"`
	HouseNumber string `json:"house_number"`
	Box         string `json:"box"`
	PostalCode  string `json:"postal_code"`
	City        string `json:"city"`
	Country     string `json:"country"`
}

// ClientFilter narrows a client search. Status "" means active clients,
// "all" every client.
type ClientFilter struct {
	Query    string
	ListID   *uuid.UUID
	Source   string
	ImportID *uuid.UUID
	Status   string
	// Access is an app access status (domain.Access...); "" any.
	Access string
	// Sort is one of ClientSorts; "" is by name.
	Sort   string
	Cursor string
	Limit  int
}

// ClientSorts are the orders a client search pages in: by name (A to Z, Z
// to A), most or least recently updated. Ties go by id, so pages neither
// skip nor repeat rows.
var ClientSorts = []string{"name", "-name", "-updated", "updated"}

// ClientPage is one page of a search; NextCursor is empty on the last page.
type ClientPage struct {
	Items      []ClientView `json:"items"`
	NextCursor string       `json:"next_cursor"`
}

// ListView is a list with the number of active clients on it.
type ListView struct {
	ID        uuid.UUID `json:"id"`
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Members   int       `json:"members"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CustomFieldView is one custom field definition.
type CustomFieldView struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Options   []string  `json:"options"`
	CreatedAt time.Time `json:"created_at"`
}

// Status is how far a projection has read the log.
type Status struct {
	Name     string `json:"name"`
	Position int64  `json:"position"`
	Head     int64  `json:"head"`
	Lag      int64  `json:"lag"` // events not applied yet, counted up to 100,000
	Failures int64  `json:"failures"`
}

// Stats is the dashboard of a tenant.
type Stats struct {
	Clients     ClientStats   `json:"clients"`
	Imports     []ImportMonth `json:"imports_by_month"`
	Projections []Status      `json:"projections"`
}

// ClientStats counts clients: every client by status, active ones by
// origin (manual, import, a connection's source), language and list.
type ClientStats struct {
	Total      int64            `json:"total"`
	ByStatus   map[string]int64 `json:"by_status"`
	ByOrigin   map[string]int64 `json:"by_source"`
	ByLanguage map[string]int64 `json:"by_language"`
	ByList     []ListCount      `json:"by_list"`
}

// ListCount is how many active clients a list holds.
type ListCount struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Clients int64     `json:"clients"`
}

// ImportMonth sums the imports executed in one month.
type ImportMonth struct {
	Month       string `json:"month"` // 2026-11
	Executed    int64  `json:"executed"`
	RowsCreated int64  `json:"rows_created"`
	RowsUpdated int64  `json:"rows_updated"`
	Undone      int64  `json:"undone"`
	RowsUndone  int64  `json:"rows_undone"`
}
