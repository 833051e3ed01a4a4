package syneton

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/clientreg/clientreg/commands"
	"github.com/clientreg/clientreg/domain"
)

// id reads an id the API sends as a number (or, tolerated, a string).
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*i = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*i = id(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*i = id(n.String())
	return nil
}

// zero: no id (the feed's entries with Id 0 name no customer).
func (i id) zero() bool { return i == "" || i == "0" }

// flag reads a boolean sent as true/false or 1/0.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1", "True":
		*f = true
	default:
		*f = false
	}
	return nil
}

// Customer is a customer as GET /api/v1/customers gives it (the SDK's GET
// field names). It carries no address: see Address.
type Customer struct {
	CustomerID     id     `json:"CustomerId"`
	Name           string `json:"Name"`
	Firstname      string `json:"Firstname"`
	CommercialName string `json:"CommercialName"`
	IsCompany      flag   `json:"IsCompany"`
	// IsActive false: deactivated at the source. Absent counts as active.
	IsActive *flag  `json:"IsActive"`
	VATNr    string `json:"VATNr"`
	Email    string `json:"Email"`
	Phone    string `json:"Phone"`
	Mobile   string `json:"Mobile"`
	Language string `json:"Language"`
}

// Address is one address of a customer, from GET /api/v1/customeraddresses.
// Street1 is the street with its number and box; StreetName is the street
// alone (the SDK swaps the two names when it reads them).
type Address struct {
	CustomerAddressID id     `json:"CustomerAddressId"`
	CustomerID        id     `json:"CustomerId"`
	RegisteredOffice  flag   `json:"RegisteredOffice"`
	InvoiceAddress    flag   `json:"InvoiceAddress"`
	PostalAddress     flag   `json:"PostalAddress"`
	Street1           string `json:"Street1"`
	StreetName        string `json:"StreetName"`
	HouseNr           string `json:"HouseNr"`
	HouseBox          string `json:"HouseBox"`
	ZipCode           string `json:"ZipCode"`
	City              string `json:"City"`
	CountryCode       string `json:"CountryCode"`
}

// Change is one entry of the customer change feed: Id is the customer,
// OwnId the row of TableName that changed.
type Change struct {
	ID         id     `json:"Id"`
	OwnID      id     `json:"OwnId"`
	TableName  string `json:"TableName"`
	ActionType string `json:"ActionType"` // INSERT, UPDATE, DELETE
	LogID      int64  `json:"LogId"`
	DateAction string `json:"DateAction"`
}

// feedTables are the tables whose changes touch what the registry keeps
// of a customer. A DELETE in any but CUSTOMER is a row of the customer
// (an address, an email recipient), not the customer.
var feedTables = []string{"CUSTOMER", "CUSTOMER_ADRESS", "CUSTOMER_EMAIL"}

// maxFeedAnswer is the most entries the feed gives for one query (the
// SDK's technical maximum); an answer that reaches it may be cut short.
const maxFeedAnswer = 1000

// idsPerFilter bounds the ids of one "CustomerId in (...)" filter, so the
// URL stays short (the API answers 414 to a long one).
const idsPerFilter = 100

// Record maps a customer and its addresses to client fields. A customer
// deactivated at the source is a removal.
func (c Customer) Record(addresses []Address) domain.SourceRecord {
	if c.IsActive != nil && !*c.IsActive {
		return domain.SourceRecord{ExternalID: string(c.CustomerID), Deleted: true}
	}
	d := map[domain.Field]string{
		domain.FieldEmail:     c.Email,
		domain.FieldVATNumber: c.VATNr,
		domain.FieldLanguage:  language(c.Language),
		domain.FieldPhone:     c.Phone,
	}
	if strings.TrimSpace(c.Phone) == "" {
		d[domain.FieldPhone] = c.Mobile
	}
	if c.IsCompany {
		d[domain.FieldKind] = domain.KindCompany
		d[domain.FieldCompanyName] = c.Name
		if c.CommercialName != "" && c.CommercialName != c.Name {
			d[domain.FieldDisplayName] = c.CommercialName
		}
	} else {
		d[domain.FieldKind] = domain.KindPerson
		d[domain.FieldLastName] = c.Name
		d[domain.FieldFirstName] = c.Firstname
		d[domain.FieldCompanyName] = c.CommercialName
	}
	if a, ok := headOffice(addresses); ok {
		street, nr, box := a.street()
		d[domain.FieldStreet], d[domain.FieldHouseNumber], d[domain.FieldBox] = street, nr, box
		d[domain.FieldPostalCode], d[domain.FieldCity], d[domain.FieldCountry] = a.ZipCode, a.City, a.CountryCode
	}
	return domain.SourceRecord{ExternalID: string(c.CustomerID), Details: d}
}

// headOffice is the registered office (as the SDK takes it), else the
// first address.
func headOffice(addresses []Address) (Address, bool) {
	if len(addresses) == 0 {
		return Address{}, false
	}
	for _, a := range addresses {
		if a.RegisteredOffice {
			return a, true
		}
	}
	return addresses[0], true
}

// street splits the address into street, number and box without ever
// doubling the number: StreetName is the street alone; Street1 holds the
// number and box already, which are cut off when HouseNr repeats them.
func (a Address) street() (street, nr, box string) {
	nr, box = strings.TrimSpace(a.HouseNr), strings.TrimSpace(a.HouseBox)
	if s := strings.TrimSpace(a.StreetName); s != "" {
		return s, nr, box
	}
	s := strings.TrimSpace(a.Street1)
	if nr == "" {
		return s, "", box // the number, if any, is in Street1
	}
	for _, suffix := range []string{nr + "/" + box, nr + " " + box, nr + " bus " + box, nr + " bte " + box, nr + box, nr} {
		if box == "" && suffix != nr {
			continue
		}
		if rest, ok := strings.CutSuffix(s, suffix); ok && (rest == "" || strings.HasSuffix(rest, " ") || strings.HasSuffix(rest, ",")) {
			return strings.TrimRight(rest, " ,"), nr, box
		}
	}
	if strings.Contains(" "+s+" ", " "+nr+" ") || strings.Contains(" "+s, " "+nr+"/") {
		return s, "", "" // the number is inside Street1 in a form not cut above: keep Street1 alone
	}
	return s, nr, box
}

// language maps the language of a customer to ISO 639-1: codes (N, F, E,
// D, nl, fr, ...) or names in Dutch, French or English.
func language(s string) string {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "n", "nl", "nld", "dut", "nederlands", "dutch", "néerlandais", "neerlandais":
		return "nl"
	case "f", "fr", "fra", "fre", "frans", "french", "français", "francais":
		return "fr"
	case "e", "en", "eng", "engels", "english", "anglais":
		return "en"
	case "d", "de", "deu", "ger", "duits", "german", "deutsch", "allemand":
		return "de"
	default:
		return l
	}
}

// cursor is where a sync stands: listing the customers (the query of the
// next page), then following the change feed from LogId From.
type cursor struct {
	V     int    `json:"v"`
	Phase string `json:"phase"` // "list" or "changes"
	Next  string `json:"next,omitempty"`
	From  int64  `json:"from"`
}

// cursorVersion: cursors of another shape (the adapter before it followed
// the SDK) start over with a complete listing.
const cursorVersion = 2

// Puller reads customers page by page, then the change feed.
type Puller struct {
	client  *Client
	perPage int
}

// NewPuller reads the server's settings once: its page size and rate
// limit.
func NewPuller(ctx context.Context, c *Client) (*Puller, error) {
	s, err := c.Settings(ctx)
	if err != nil {
		return nil, err
	}
	per := s.MaxRecordsPerPage // what the SDK asks for
	if per <= 0 {
		per = s.DefaultRecordsPerPage
	}
	if per <= 0 {
		per = 100
	}
	return &Puller{client: c, perPage: min(per, maxFeedAnswer)}, nil
}

// Next reads the page after raw. The first run takes the feed's current
// highest LogId, then lists every customer (a complete listing); the feed
// is then followed from that LogId on, so what changed during the listing
// is read again and nothing older is.
func (p *Puller) Next(ctx context.Context, raw string) (commands.SourcePage, error) {
	var cur cursor
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &cur); err != nil {
			return commands.SourcePage{}, fmt.Errorf("syneton cursor: %w", err)
		}
	}
	if cur.V != cursorVersion {
		head, err := p.head(ctx)
		if err != nil {
			return commands.SourcePage{}, err
		}
		return p.list(ctx, cursor{V: cursorVersion, Phase: "list", From: head + 1}, true)
	}
	if cur.Phase == "changes" {
		return p.changes(ctx, cur)
	}
	return p.list(ctx, cur, false)
}

func (p *Puller) list(ctx context.Context, cur cursor, start bool) (commands.SourcePage, error) {
	query := cur.Next
	if query == "" {
		query = "per_page=" + strconv.Itoa(p.perPage)
	}
	var customers []Customer
	_, h, err := p.client.get(ctx, "/api/v1/customers?"+query, &customers)
	if err != nil {
		return commands.SourcePage{}, err
	}
	addresses, err := p.addresses(ctx, customers)
	if err != nil {
		return commands.SourcePage{}, err
	}
	page := commands.SourcePage{Listing: true, PullStart: start}
	for _, c := range customers {
		page.Records = append(page.Records, c.Record(addresses[c.CustomerID]))
	}
	next := cursor{V: cursorVersion, Phase: "list", From: cur.From}
	if q, ok := nextQuery(h); ok && len(customers) > 0 {
		next.Next = q
	} else {
		next.Phase = "changes"
		page.ListingEnd = true
	}
	page.Cursor = encode(next)
	return page, nil
}

// addresses reads the addresses of customers, grouped by customer.
func (p *Puller) addresses(ctx context.Context, customers []Customer) (map[id][]Address, error) {
	ids := make([]id, 0, len(customers))
	for _, c := range customers {
		if !c.CustomerID.zero() {
			ids = append(ids, c.CustomerID)
		}
	}
	out := map[id][]Address{}
	for chunk := range slices.Chunk(ids, idsPerFilter) {
		var all []Address
		if err := readAll(ctx, p, "/api/v1/customeraddresses", "CustomerId in "+idList(chunk), 0, &all); err != nil {
			return nil, err
		}
		for _, a := range all {
			out[a.CustomerID] = append(out[a.CustomerID], a)
		}
	}
	for k := range out {
		slices.SortStableFunc(out[k], func(a, b Address) int { return cmpID(a.CustomerAddressID, b.CustomerAddressID) })
	}
	return out, nil
}

// customers reads the given customers with their addresses.
func (p *Puller) customers(ctx context.Context, ids []id) (map[id]Customer, map[id][]Address, error) {
	out := map[id]Customer{}
	var found []Customer
	for chunk := range slices.Chunk(ids, idsPerFilter) {
		var cs []Customer
		if err := readAll(ctx, p, "/api/v1/customers", "CustomerId in "+idList(chunk), 0, &cs); err != nil {
			return nil, nil, err
		}
		for _, c := range cs {
			out[c.CustomerID] = c
			found = append(found, c)
		}
	}
	addresses, err := p.addresses(ctx, found)
	return out, addresses, err
}

// all reads every page of a filtered search into out (a pointer to a
// slice), following Link rel="next" on the connection's own host. limit
// (0: none) stops once that many items were read.
func readAll[T any](ctx context.Context, p *Puller, endpoint, filter string, limit int, out *[]T) error {
	query := "Filter=" + escape(filter) + "&per_page=" + strconv.Itoa(p.perPage)
	for pages := 0; ; pages++ {
		if pages == 10_000 {
			return &commands.SourceError{Message: productName + " kept sending more pages of " + resource(endpoint)}
		}
		var items []T
		_, h, err := p.client.get(ctx, endpoint+"?"+query, &items)
		if err != nil {
			return err
		}
		*out = append(*out, items...)
		q, ok := nextQuery(h)
		if !ok || len(items) == 0 || (limit > 0 && len(*out) >= limit) {
			return nil
		}
		query = q
	}
}

// escape encodes a filter for the query string with spaces as %20, as the
// SDK's HTTP library sends them.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func idList(ids []id) string {
	parts := make([]string, len(ids))
	for i, v := range ids {
		parts[i] = string(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func cmpID(a, b id) int {
	x, errA := strconv.ParseInt(string(a), 10, 64)
	y, errB := strconv.ParseInt(string(b), 10, 64)
	if errA == nil && errB == nil {
		return int(min(max(x-y, -1), 1))
	}
	return strings.Compare(string(a), string(b))
}

func tablesFilter() string {
	return "TableName in ('" + strings.Join(feedTables, "','") + "')"
}

// feed reads the entries from LogId from on: all of them when they fit in
// one answer (width 0), else the narrowest window [from, from+width) that
// fits, so an answer cut at the maximum never skips an entry.
func (p *Puller) feed(ctx context.Context, from int64) (entries []Change, width int64, err error) {
	for {
		filter := fmt.Sprintf("%s and l.LogId ge %d", tablesFilter(), from)
		if width > 0 {
			filter += fmt.Sprintf(" and l.LogId lt %d", from+width)
		}
		entries = entries[:0]
		if err := readAll(ctx, p, "/api/v1/customer/changes", filter, maxFeedAnswer, &entries); err != nil {
			return nil, 0, err
		}
		switch {
		case len(entries) < maxFeedAnswer || width == 1:
			return entries, width, nil
		case width == 0:
			width = maxFeedAnswer
		default:
			width /= 2
		}
	}
}

// head is the feed's current highest LogId, taken before the first
// listing. The SDK's _get_max_log_id takes the highest LogId of the feed
// read without a LogId filter; whether that answer holds the newest
// entries is not said anywhere, so it is only the starting point: from
// there, "l.LogId ge N" probes of one entry each gallop up and then halve
// the gap until the highest LogId is found, whatever the answers' order.
// Some fifty calls at most, once per connection.
func (p *Puller) head(ctx context.Context) (int64, error) {
	lo, _, err := p.probe(ctx, -1)
	if err != nil {
		return 0, err
	}
	hi, step := int64(-1), int64(1024)
	for range 200 {
		var n int64
		switch {
		case hi < 0:
			n, step = lo+step, step*2
		case hi-lo <= 1:
			return lo, nil
		default:
			n = lo + (hi-lo)/2
		}
		top, found, err := p.probe(ctx, n)
		if err != nil {
			return 0, err
		}
		if found {
			lo = max(lo, top)
		} else {
			hi = n
		}
	}
	return 0, &commands.SourceError{Message: productName + " kept sending newer changes while the sync looked for the latest one; the next run tries again"}
}

// probe reads one answer of the feed from LogId from (-1: no LogId
// filter) and gives its highest LogId.
func (p *Puller) probe(ctx context.Context, from int64) (int64, bool, error) {
	filter := tablesFilter()
	if from >= 0 {
		filter += fmt.Sprintf(" and l.LogId ge %d", from)
	}
	var entries []Change
	found, _, err := p.client.get(ctx, "/api/v1/customer/changes?Filter="+escape(filter)+"&per_page="+strconv.Itoa(p.perPage), &entries)
	if err != nil || !found || len(entries) == 0 {
		return 0, false, err
	}
	return highest(entries, 0), true, nil
}

func highest(entries []Change, top int64) int64 {
	for _, e := range entries {
		top = max(top, e.LogID)
	}
	return top
}

// changes applies one answer of the feed. Each customer it names is read
// once as it is now; a customer the feed deleted, or that is gone, is a
// removal. A deleted address or email row only makes its customer read
// again.
func (p *Puller) changes(ctx context.Context, cur cursor) (commands.SourcePage, error) {
	entries, width, err := p.feed(ctx, cur.From)
	if err != nil {
		return commands.SourcePage{}, err
	}
	deleted := map[id]bool{}
	var touched []id
	seen := map[id]bool{}
	for _, e := range entries {
		if e.ID.zero() {
			continue
		}
		if strings.EqualFold(e.TableName, "CUSTOMER") && strings.EqualFold(e.ActionType, "DELETE") {
			deleted[e.ID] = true
		}
		if !seen[e.ID] {
			seen[e.ID] = true
			touched = append(touched, e.ID)
		}
	}
	var read []id
	for _, i := range touched {
		if !deleted[i] {
			read = append(read, i)
		}
	}
	customers, addresses, err := p.customers(ctx, read)
	if err != nil {
		return commands.SourcePage{}, err
	}
	page := commands.SourcePage{}
	for _, i := range touched {
		c, ok := customers[i]
		if deleted[i] || !ok {
			page.Records = append(page.Records, domain.SourceRecord{ExternalID: string(i), Deleted: true})
			continue
		}
		page.Records = append(page.Records, c.Record(addresses[i]))
	}
	next := cur
	if width > 0 {
		next.From = cur.From + width
	} else {
		next.From = max(cur.From, highest(entries, 0)+1)
		page.Last = true
	}
	page.Cursor = encode(next)
	return page, nil
}

func encode(c cursor) string {
	raw, _ := json.Marshal(c) // strings and ints: cannot fail
	return string(raw)
}
