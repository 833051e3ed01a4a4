package commands

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// pageSync applies records of one source to the registry inside one
// transaction: a page of a pull, or one ERP push.
type pageSync struct {
	tx     SyncTx
	origin domain.Origin
	source string
	// pullID is the complete listing the page belongs to (Nil outside one):
	// every record of the page is marked seen by it.
	pullID uuid.UUID
	// updatedAt is the source's version of a pushed record: an older one
	// than the registry already took is ignored.
	updatedAt *time.Time

	counts domain.SyncCounts
	issues []domain.SyncIssue
	// ignored counts pushes older than what the registry has.
	ignored int
}

type syncItem struct {
	rec      domain.SourceRecord
	details  map[domain.Field]string
	dropped  []string // fields whose value at the source cannot be stored
	digest   []byte
	link     *SourceLink
	clientID uuid.UUID
	client   *domain.Client
	skip     bool // unchanged: nothing to load or decide
}

// apply decides and appends what the records change. Records the source
// did not change, of clients nobody edited since, cost no stream load.
func (p *pageSync) apply(ctx context.Context, records []domain.SourceRecord) error {
	items := p.items(records)
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.rec.ExternalID
	}
	links, err := p.tx.Links(ctx, p.source, ids)
	if err != nil {
		return err
	}
	var linked []uuid.UUID
	for _, it := range items {
		if l, ok := links[it.rec.ExternalID]; ok {
			it.link, it.clientID = &l, l.ClientID
			linked = append(linked, l.ClientID)
		}
		if !it.rec.Deleted {
			it.details, it.dropped = domain.SourceDetails(it.rec.Details)
			it.digest = p.tx.Digest(it.details)
		}
	}
	versions, err := p.tx.Versions(ctx, linked)
	if err != nil {
		return err
	}
	var fresh []*syncItem
	for _, it := range items {
		switch l := it.link; {
		case l != nil && p.updatedAt != nil && l.UpdatedAt != nil && p.updatedAt.Before(*l.UpdatedAt):
			it.skip = true
			p.ignored++
		case l != nil && it.rec.Deleted:
			it.skip = l.Removed
		case l != nil:
			it.skip = !l.Removed && bytes.Equal(l.Digest, it.digest) && versions[l.ClientID] == l.ClientVersion
		case it.rec.Deleted:
			it.skip = true // never linked: nothing to flag
		default:
			fresh = append(fresh, it)
		}
	}
	if err := p.match(ctx, fresh); err != nil {
		return err
	}
	if err := p.load(ctx, items); err != nil {
		return err
	}
	return p.decideAndAppend(ctx, items)
}

// items drops records without an id and keeps the last of duplicates.
func (p *pageSync) items(records []domain.SourceRecord) []*syncItem {
	var items []*syncItem
	byID := map[string]*syncItem{}
	for _, r := range records {
		id, err := domain.SourceExternalID(r.ExternalID)
		if err != nil {
			// The id is not repeated: it is what cannot be stored.
			p.issue("", "the source sent a record whose id is not valid text or too long")
			continue
		}
		if r.ExternalID = id; id == "" {
			p.issue("", "the source sent a record without an id")
			continue
		}
		if it, ok := byID[r.ExternalID]; ok {
			it.rec = r
			continue
		}
		it := &syncItem{rec: r}
		byID[r.ExternalID] = it
		items = append(items, it)
	}
	return items
}

// match finds existing clients for records seen for the first time: by
// external reference (an import that named this source), then enterprise
// number, then email. A match is linked, not duplicated.
func (p *pageSync) match(ctx context.Context, fresh []*syncItem) error {
	if len(fresh) == 0 {
		return nil
	}
	var keys []domain.UniqueKey
	var vats []string
	for _, it := range fresh {
		keys = append(keys, domain.RefKey(p.ref(it)))
		if e := it.details[domain.FieldEmail]; e != "" {
			keys = append(keys, domain.EmailLookupKey(domain.EmailKey(e)))
		}
		if v := it.details[domain.FieldVATNumber]; v != "" {
			vats = append(vats, v)
		}
	}
	found, err := p.tx.MatchClients(ctx, p.origin.TenantID, keys)
	if err != nil {
		return err
	}
	byVAT := map[string]uuid.UUID{}
	if len(vats) > 0 {
		if byVAT, err = p.tx.MatchVAT(ctx, p.source, vats); err != nil {
			return err
		}
	}
	for _, it := range fresh {
		if id, ok := found[domain.RefKey(p.ref(it))]; ok {
			it.clientID = id
		} else if id, ok := byVAT[it.details[domain.FieldVATNumber]]; ok && it.details[domain.FieldVATNumber] != "" {
			it.clientID = id
		} else if id, ok := found[domain.EmailLookupKey(domain.EmailKey(it.details[domain.FieldEmail]))]; ok && it.details[domain.FieldEmail] != "" {
			it.clientID = id
		}
	}
	return nil
}

func (p *pageSync) ref(it *syncItem) domain.ExternalRef {
	return domain.ExternalRef{Source: p.source, ExternalID: it.rec.ExternalID}
}

// load folds the streams of every existing client the page touches, each
// once even when two records lead to it.
func (p *pageSync) load(ctx context.Context, items []*syncItem) error {
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, it := range items {
		if !it.skip && it.clientID != uuid.Nil && !seen[it.clientID] {
			seen[it.clientID] = true
			ids = append(ids, it.clientID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	streams, err := p.tx.LoadStreams(ctx, ids)
	if err != nil {
		return err
	}
	clients := foldClients(streams)
	for _, it := range items {
		if !it.skip && it.clientID != uuid.Nil {
			it.client = clients[it.clientID] // nil: the stream is gone; registered anew below
		}
	}
	return nil
}

func (p *pageSync) decideAndAppend(ctx context.Context, items []*syncItem) error {
	var aggs []domain.Aggregate
	inAggs := map[uuid.UUID]bool{}
	before := map[uuid.UUID]int{} // pending events before each item's decision
	for _, it := range items {
		if it.skip {
			continue
		}
		var err error
		switch {
		case it.client == nil && it.rec.Deleted:
			it.skip = true
			continue
		case it.client == nil:
			it.client, err = domain.RegisterFromSource(uuid.New(), p.ref(it), it.details)
		case it.rec.Deleted:
			before[it.client.ID()] = len(it.client.PendingEvents())
			it.client.RemoveAtSource(p.source, it.rec.ExternalID)
		default:
			before[it.client.ID()] = len(it.client.PendingEvents())
			err = it.client.SyncFromSource(p.ref(it), it.details)
		}
		if err != nil {
			p.issue(it.rec.ExternalID, reasonOf(err))
			it.client, it.skip = nil, true
			continue
		}
		if len(it.dropped) > 0 {
			p.note(it.rec.ExternalID, "taken without "+strings.Join(it.dropped, ", ")+": the source's value cannot be stored")
		}
		if id := it.client.StreamID(); !inAggs[id] && len(it.client.PendingEvents()) > 0 {
			inAggs[id] = true
			aggs = append(aggs, it.client)
		}
	}
	taken, err := p.tx.Reserve(ctx, aggs)
	if err != nil {
		return err
	}
	var changes []RowChange
	for _, a := range aggs {
		if taken[a.StreamID()] == nil {
			changes = append(changes, RowChange{Aggregate: a})
		}
	}
	if _, err := p.tx.Append(ctx, p.origin, changes); err != nil {
		return err
	}
	var links []SourceLink
	for _, it := range items {
		if it.skip {
			if it.link != nil {
				l := *it.link
				if p.pullID != uuid.Nil {
					l.PullID = p.pullID
				}
				if p.updatedAt != nil && (l.UpdatedAt == nil || p.updatedAt.After(*l.UpdatedAt)) {
					l.UpdatedAt = p.updatedAt
				}
				links = append(links, l)
				p.counts.Unchanged++
			}
			continue
		}
		c := it.client
		if dup := taken[c.StreamID()]; dup != nil {
			p.issue(it.rec.ExternalID, reasonOf(dup))
			continue
		}
		p.count(c.PendingEvents()[before[c.StreamID()]:])
		link := SourceLink{ExternalID: it.rec.ExternalID, ClientID: c.StreamID(), Digest: it.digest,
			ClientVersion: c.Version() + len(c.PendingEvents()), PullID: p.pullID,
			Removed: c.RemovedAtSource(p.source), UpdatedAt: p.updatedAt}
		if it.rec.Deleted && it.link != nil {
			link.Digest, link.Removed = it.link.Digest, true
		}
		links = append(links, link)
	}
	return p.tx.PutLinks(ctx, p.source, links)
}

// count classifies what one record did by the events it recorded.
func (p *pageSync) count(events []domain.Event) {
	var created, updated, linked, removed bool
	for _, e := range events {
		switch e.(type) {
		case domain.ClientRegistered:
			created = true
		case domain.ClientExternalRefAdded:
			linked = true
		case domain.ClientRemovedAtSource:
			removed = true
		case domain.ClientDetailsChanged, domain.ClientRestoredAtSource:
			updated = true
		}
	}
	switch {
	case created:
		p.counts.Created++
	case removed:
		p.counts.Removed++
	case linked:
		p.counts.Linked++
	case updated:
		p.counts.Updated++
	default:
		p.counts.Unchanged++
	}
}

// removeUnseen flags the linked clients the complete listing did not
// contain as removed at source, a thousand at a time.
func (p *pageSync) removeUnseen(ctx context.Context) error {
	unseen, err := p.tx.Unseen(ctx, p.source, p.pullID)
	if err != nil {
		return err
	}
	for start := 0; start < len(unseen); start += 1000 {
		chunk := unseen[start:min(start+1000, len(unseen))]
		ids := make([]uuid.UUID, len(chunk))
		for i, l := range chunk {
			ids[i] = l.ClientID
		}
		streams, err := p.tx.LoadStreams(ctx, ids)
		if err != nil {
			return err
		}
		var changes []RowChange
		links := make([]SourceLink, 0, len(chunk))
		for _, l := range chunk {
			c := foldClient(l.ClientID, streams[l.ClientID])
			c.RemoveAtSource(p.source, l.ExternalID)
			if n := len(c.PendingEvents()); n > 0 {
				changes = append(changes, RowChange{Aggregate: c})
				p.counts.Removed++
			}
			l.Removed, l.ClientVersion = true, c.Version()+len(c.PendingEvents())
			links = append(links, l)
		}
		if _, err := p.tx.Append(ctx, p.origin, changes); err != nil {
			return err
		}
		if err := p.tx.PutLinks(ctx, p.source, links); err != nil {
			return err
		}
	}
	return nil
}

func (p *pageSync) issue(externalID, reason string) {
	p.counts.Errors++
	p.note(externalID, reason)
}

// note reports what the office should know of a record that was taken.
func (p *pageSync) note(externalID, reason string) {
	if len(p.issues) < maxIssues {
		p.issues = append(p.issues, domain.SyncIssue{ExternalID: externalID, Reason: reason})
	}
}

// reasonOf words why a record was not taken, naming fields, never values.
func reasonOf(err error) string {
	var verr domain.ValidationErrors
	var dup *domain.DuplicateError
	switch {
	case errors.As(err, &dup):
		field := dup.Field
		if field == "external_refs" {
			return "the matching client is already linked to another record of this source"
		}
		return "its " + strings.ReplaceAll(field, "_", " ") + " is already used by another client"
	case errors.As(err, &verr):
		var fields []string
		for _, fe := range verr {
			fields = append(fields, strings.ReplaceAll(fe.Field, "_", " "))
		}
		sort.Strings(fields)
		return "missing or unusable at the source: " + strings.Join(fields, ", ")
	case errors.Is(err, domain.ErrPersonalDataErased):
		return "the matching client's personal data was erased"
	}
	return "could not be taken"
}
