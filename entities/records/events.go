package records

import (
	"encoding/json"
	"fmt"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/events"
)

// recordEvent is the data of a record event: which record changed and,
// but for a deletion, the record as stored after the change. A record
// larger than events.MaxDataBytes is left out, with RecordOmitted set, so
// that no write puts more than that in the outbox: subscribers read it
// from the record API.
type recordEvent struct {
	Entity string `json:"entity"`
	BankID string `json:"bank_id,omitempty"`
	ID     string `json:"id"`
	// Owner is the user a personal record belongs to, "" for shared ones.
	Owner         string          `json:"owner,omitempty"`
	Record        json.RawMessage `json:"record,omitempty"`
	RecordOmitted bool            `json:"record_omitted,omitempty"`
}

// RecordSubject is the subject of the events of a record:
// "entities/{entity}/records/{id}", under "banks/{bank}/" for a bank's
// entity.
func RecordSubject(bankID, entity, id string) string {
	s := "entities/" + entity + "/records/" + id
	if bankID != "" {
		return "banks/" + bankID + "/" + s
	}
	return s
}

// emit writes to the outbox in tx, the write transaction that makes the
// change, the event typ of record r, stored as raw (nil once deleted),
// when the Store emits events (Options.Events).
func (s *Store) emit(tx engine.Tx, typ string, r rec, raw []byte) error {
	if !s.events {
		return nil
	}
	d := recordEvent{Entity: r.entity, BankID: r.bank, ID: r.id, Owner: r.owner, Record: raw}
	if len(raw) > events.MaxDataBytes {
		d.Record, d.RecordOmitted = nil, true
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("records: encode the %s event of %s %q: %w", typ, r.entity, r.id, err)
	}
	return events.Emit(tx, &events.Event{Type: typ, Subject: RecordSubject(r.bank, r.entity, r.id),
		BankID: r.bank, Data: data}, s.now())
}
