package syneton

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// Address is one address of a customer.
type Address struct {
	Street1     string `json:"Street1"`
	HouseNr     string `json:"HouseNr"`
	HouseBox    string `json:"HouseBox"`
	ZipCode     string `json:"ZipCode"`
	City        string `json:"City"`
	CountryCode string `json:"CountryCode"`
}

// Customer is a customer as the API gives it. Its address comes either
// flat or as the first of Addresses.
type Customer struct {
	ID             json.RawMessage `json:"Id"`
	Name           string          `json:"Name"`
	Firstname      string          `json:"Firstname"`
	CommercialName string          `json:"CommercialName"`
	IsCompany      bool            `json:"IsCompany"`
	VATNr          string          `json:"VATNr"`
	Email          string          `json:"Email"`
	Phone          string          `json:"Phone"`
	Mobile         string          `json:"Mobile"`
	Language       string          `json:"Language"`
	Addresses      []Address       `json:"Addresses"`
	Address
}

// Change is one entry of the customer change feed.
type Change struct {
	LogID      int64           `json:"LogId"`
	ActionType string          `json:"ActionType"` // INSERT, UPDATE, DELETE
	CustomerID json.RawMessage `json:"CustomerId"`
}

// rawID turns a JSON number or string id into its text.
func rawID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(raw))
}

// Record maps a customer to client fields.
func (c Customer) Record() domain.SourceRecord {
	d := map[domain.Field]string{
		domain.FieldEmail:     c.Email,
		domain.FieldVATNumber: c.VATNr,
		domain.FieldLanguage:  language(c.Language),
		domain.FieldPhone:     c.Phone,
	}
	if c.Phone == "" {
		d[domain.FieldPhone] = c.Mobile
	}
	if c.IsCompany {
		d[domain.FieldKind] = domain.KindCompany
		d[domain.FieldCompanyName] = c.Name
		if c.CommercialName != c.Name {
			d[domain.FieldDisplayName] = c.CommercialName
		}
	} else {
		d[domain.FieldKind] = domain.KindPerson
		d[domain.FieldLastName] = c.Name
		d[domain.FieldFirstName] = c.Firstname
		d[domain.FieldCompanyName] = c.CommercialName
	}
	a := c.Address
	if len(c.Addresses) > 0 {
		a = c.Addresses[0]
	}
	d[domain.FieldStreet], d[domain.FieldHouseNumber], d[domain.FieldBox] = a.Street1, a.HouseNr, a.HouseBox
	d[domain.FieldPostalCode], d[domain.FieldCity], d[domain.FieldCountry] = a.ZipCode, a.City, a.CountryCode
	return domain.SourceRecord{ExternalID: rawID(c.ID), Details: d}
}

// language maps the codes Admin IS | Consult uses (N, F, E, D or full
// codes) to ISO 639-1.
func language(s string) string {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "n", "nl", "nld", "dut":
		return "nl"
	case "f", "fr", "fra", "fre":
		return "fr"
	case "e", "en", "eng":
		return "en"
	case "d", "de", "deu", "ger":
		return "de"
	default:
		return l
	}
}

// cursor is where a run stands: listing the customers (next page URL),
// then following the change feed (highest LogId applied).
type cursor struct {
	Phase string `json:"phase"` // "list" or "changes"
	Next  string `json:"next,omitempty"`
	LogID int64  `json:"log_id"`
}

// Puller reads customers page by page.
type Puller struct {
	client  *Client
	perPage int
}

// NewPuller reads the server's page size once.
func NewPuller(ctx context.Context, c *Client) (*Puller, error) {
	s, err := c.Settings(ctx)
	if err != nil {
		return nil, err
	}
	per := s.MaxRecordsPerPage
	if per <= 0 {
		per = s.DefaultRecordsPerPage
	}
	if per <= 0 || per > 500 {
		per = min(max(per, 100), 500)
	}
	return &Puller{client: c, perPage: per}, nil
}

// Next reads the page after cur: the first run lists every customer (a
// complete listing), later runs follow the change feed from the highest
// LogId seen.
func (p *Puller) Next(ctx context.Context, raw string) (commands.SourcePage, error) {
	var cur cursor
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cur); err != nil {
			return commands.SourcePage{}, fmt.Errorf("syneton cursor: %w", err)
		}
	}
	if cur.Phase == "changes" {
		return p.changes(ctx, cur)
	}
	return p.list(ctx, cur)
}

func (p *Puller) list(ctx context.Context, cur cursor) (commands.SourcePage, error) {
	start := cur.Next == ""
	target := cur.Next
	if start {
		target = p.client.baseURL + "/api/v1/customers?per_page=" + strconv.Itoa(p.perPage)
	}
	var customers []Customer
	h, err := p.client.get(ctx, target, &customers)
	if err != nil {
		return commands.SourcePage{}, err
	}
	page := commands.SourcePage{Listing: true, PullStart: start}
	for _, c := range customers {
		page.Records = append(page.Records, c.Record())
	}
	next := cursor{Phase: "list", Next: nextLink(h, target), LogID: cur.LogID}
	if next.Next == "" {
		next = cursor{Phase: "changes", LogID: cur.LogID}
		page.ListingEnd = true
	}
	page.Cursor = encode(next)
	return page, nil
}

func (p *Puller) changes(ctx context.Context, cur cursor) (commands.SourcePage, error) {
	q := url.Values{}
	q.Set("Filter", fmt.Sprintf("LogId ge %d", cur.LogID+1))
	q.Set("per_page", strconv.Itoa(p.perPage))
	target := p.client.baseURL + "/api/v1/customer/changes?" + q.Encode()
	var changes []Change
	h, err := p.client.get(ctx, target, &changes)
	if err != nil {
		return commands.SourcePage{}, err
	}
	page := commands.SourcePage{}
	// The last change of a customer in the page decides; the customer's
	// current state is read once.
	latest := map[string]Change{}
	var order []string
	next := cur
	for _, ch := range changes {
		id := rawID(ch.CustomerID)
		if _, seen := latest[id]; !seen {
			order = append(order, id)
		}
		latest[id] = ch
		next.LogID = max(next.LogID, ch.LogID)
	}
	for _, id := range order {
		if strings.EqualFold(latest[id].ActionType, "DELETE") {
			page.Records = append(page.Records, domain.SourceRecord{ExternalID: id, Deleted: true})
			continue
		}
		var c Customer
		_, err := p.client.get(ctx, p.client.baseURL+"/api/v1/customers/"+url.PathEscape(id), &c)
		if errors.Is(err, errNotFound) {
			page.Records = append(page.Records, domain.SourceRecord{ExternalID: id, Deleted: true})
			continue
		}
		if err != nil {
			return commands.SourcePage{}, err
		}
		if rawID(c.ID) == "" {
			c.ID = json.RawMessage(strconv.Quote(id))
		}
		page.Records = append(page.Records, c.Record())
	}
	page.Cursor = encode(next)
	page.Last = len(changes) < p.perPage && nextLink(h, target) == ""
	return page, nil
}

func encode(c cursor) string {
	raw, _ := json.Marshal(c) // strings and an int: cannot fail
	return string(raw)
}
