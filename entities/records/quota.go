package records

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynapi/dynapi/engine"
)

// Quota bounds what one user may keep of one entity in one scope (the
// shared records of its bank, or their own personal records): how many
// records are charged to them and how many bytes those take as stored. A
// record is charged to the user who created it (for personal records, the
// owner) for as long as it lives, whoever replaces it later.
type Quota struct {
	// Records bounds the records charged to one user (default
	// DefaultQuotaRecords; negative: no bound). A Create past it is a 429
	// record_quota_exceeded.
	Records int
	// Bytes bounds the stored bytes of those records (default
	// DefaultQuotaBytes; negative: no bound). A write that would take the
	// user past it is a 413 record_quota_exceeded; writes that shrink a
	// record always pass.
	Bytes int64
}

// Defaults of Options.
const (
	DefaultQuotaRecords = 10_000
	DefaultQuotaBytes   = 16 << 20 // 16 MiB
	DefaultPageBytes    = 1 << 20  // 1 MiB
)

// withDefaults fills the zero fields.
func (q Quota) withDefaults() Quota {
	if q.Records == 0 {
		q.Records = DefaultQuotaRecords
	}
	if q.Bytes == 0 {
		q.Bytes = DefaultQuotaBytes
	}
	return q
}

// Buckets of the quota accounting. Keys are path-escaped and joined with
// "/" like the others.
const (
	usageBucket   = "records_usage"   // <bank>/<entity>/<owner>/<user> -> "<records> <bytes>"
	chargesBucket = "records_charges" // <bank>/<entity>/<owner>/<id> -> the user the record is charged to
)

// usage is what is charged to one user in one scope.
type usage struct {
	records int
	bytes   int64
}

// usagePrefix starts the usage and charge keys of an entity.
func usagePrefix(bank, entity string) string { return esc(bank) + "/" + esc(entity) + "/" }

func usageKey(bank, entity, owner, user string) string {
	return usagePrefix(bank, entity) + esc(owner) + "/" + esc(user)
}

func readUsage(tx engine.Tx, key string) (usage, error) {
	raw, err := tx.Get(usageBucket, key)
	if errors.Is(err, engine.ErrNotFound) {
		return usage{}, nil
	}
	if err != nil {
		return usage{}, err
	}
	n, b, ok := strings.Cut(string(raw), " ")
	records, err1 := strconv.Atoi(n)
	bytes, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return usage{}, fmt.Errorf("records: usage %q: malformed %q", key, raw)
	}
	return usage{records, bytes}, nil
}

func writeUsage(tx engine.Tx, key string, u usage) error {
	if u.records <= 0 {
		return tx.Delete(usageBucket, key)
	}
	return tx.Put(usageBucket, key, []byte(strconv.Itoa(u.records)+" "+strconv.FormatInt(u.bytes, 10)))
}

// chargedTo returns the user a stored record is charged to; ok is false
// for records stored before quotas were kept, which are charged to no one.
func chargedTo(tx engine.Tx, r rec) (user string, ok bool, err error) {
	raw, err := tx.Get(chargesBucket, r.path())
	if errors.Is(err, engine.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return string(raw), true, nil
}

// charge charges the new record r, of size bytes, to user, refusing it
// when that would take the user past q (nil: no bound).
func charge(tx engine.Tx, q *Quota, r rec, user string, size int) error {
	key := usageKey(r.bank, r.entity, r.owner, user)
	u, err := readUsage(tx, key)
	if err != nil {
		return err
	}
	if q != nil && q.Records >= 0 && u.records >= q.Records {
		return engine.Errorf(http.StatusTooManyRequests, engine.CodeRecordQuotaExceeded,
			"%s: the quota of %d records per user is reached; delete some before creating more", r.entity, q.Records)
	}
	if err := checkBytes(q, r, u.bytes, int64(size)); err != nil {
		return err
	}
	u.records++
	u.bytes += int64(size)
	if err := writeUsage(tx, key, u); err != nil {
		return err
	}
	return tx.Put(chargesBucket, r.path(), []byte(user))
}

// recharge moves the charge of the stored record r from was bytes to now,
// refusing growth past q (nil: no bound).
func recharge(tx engine.Tx, q *Quota, r rec, was, now int) error {
	user, ok, err := chargedTo(tx, r)
	if err != nil || !ok || was == now {
		return err
	}
	key := usageKey(r.bank, r.entity, r.owner, user)
	u, err := readUsage(tx, key)
	if err != nil {
		return err
	}
	if now > was {
		if err := checkBytes(q, r, u.bytes, int64(now-was)); err != nil {
			return err
		}
	}
	u.bytes += int64(now - was)
	return writeUsage(tx, key, u)
}

// checkBytes refuses adding grow bytes to a user's used bytes past q.
func checkBytes(q *Quota, r rec, used, grow int64) error {
	if q == nil || q.Bytes < 0 || used+grow <= q.Bytes {
		return nil
	}
	return engine.Errorf(http.StatusRequestEntityTooLarge, engine.CodeRecordQuotaExceeded,
		"%s: this write would take the records of one user to %d bytes, over the quota of %d bytes per user",
		r.entity, used+grow, q.Bytes)
}

// refund takes the deleted record r, of size bytes, off its user's usage.
func refund(tx engine.Tx, r rec, size int) error {
	user, ok, err := chargedTo(tx, r)
	if err != nil || !ok {
		return err
	}
	key := usageKey(r.bank, r.entity, r.owner, user)
	u, err := readUsage(tx, key)
	if err != nil {
		return err
	}
	u.records--
	u.bytes -= int64(size)
	if err := writeUsage(tx, key, u); err != nil {
		return err
	}
	return tx.Delete(chargesBucket, r.path())
}

// forgetUsage deletes the usage and charges of an entity, every owner's.
func forgetUsage(tx engine.Tx, bank, entity string) error {
	prefix := usagePrefix(bank, entity)
	for _, bucket := range []string{usageBucket, chargesBucket} {
		var keys []string
		if err := tx.Scan(bucket, prefix, func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(bucket, k); err != nil {
				return err
			}
		}
	}
	return nil
}
