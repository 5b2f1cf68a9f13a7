package records

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
)

// maxProblems bounds the problems Check reports.
const maxProblems = 20

// Check verifies the stored records of the entity against their indexes,
// for tests and repair tools: the stored schema is sc's; every record sits
// under its primary key and has its index entries and back-links, whose
// targets exist; every index entry points at a record with that value;
// every back-link from the entity matches a reference of its record; and
// the counts are right. It returns nil or the problems found (up to 20),
// joined. It reads everything in one transaction; it also checks the
// quota accounting: each charge is of a stored record, and each user's
// usage is the count and stored bytes of the records charged to them.
func (s *Store) Check(ctx context.Context, sc *Schema) error {
	l, err := layoutOf(sc)
	if err != nil {
		return err
	}
	var problems []error
	report := func(format string, args ...any) error {
		problems = append(problems, fmt.Errorf(format, args...))
		if len(problems) == maxProblems {
			return engine.ErrStop
		}
		return nil
	}
	err = s.db.View(ctx, func(tx engine.Tx) error {
		err := checkAll(tx, l, report)
		if errors.Is(err, engine.ErrStop) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(problems...)
}

// checkAll does Check's work; report returns engine.ErrStop when enough
// problems were found.
func checkAll(tx engine.Tx, l *layout, report func(string, ...any) error) error {
	all, err := owners(tx, l.bank, l.entity)
	if err != nil {
		return err
	}
	stored, err := storedLayout(tx, l.bank, l.entity)
	if err != nil {
		return err
	}
	switch {
	case stored == nil && len(all) > 0:
		err = report("no stored schema, but records")
	case stored != nil && string(stored.sig) != string(l.sig):
		err = report("stored schema %s; want %s", stored.sig, l.sig)
	}
	if err != nil {
		return err
	}
	for _, o := range sortedOwners(all) {
		if err := checkOwner(tx, l, o, all[o], report); err != nil {
			return err
		}
	}
	if err := checkUsage(tx, l, report); err != nil {
		return err
	}
	// Back-links from or to the entity.
	return tx.Scan(refsBucket, "", func(k string, _ []byte) error {
		target, from, field, err := parseLink(k)
		if err != nil {
			return report("%v", err)
		}
		if target.bank == l.bank && target.entity == l.entity {
			if !exists(tx, recordsBucket(target.bank, target.entity, target.owner), target.id) {
				if err := report("back-link %q: no target record", k); err != nil {
					return err
				}
			}
		}
		if from.bank != l.bank || from.entity != l.entity {
			return nil
		}
		raw, err := tx.Get(l.records(from.owner), from.id)
		if err != nil {
			return report("back-link %q: referrer: %v", k, err)
		}
		m, err := decode(raw)
		if err != nil {
			return report("back-link %q: referrer: %v", k, err)
		}
		i := slices.Index(l.refs, field)
		if i < 0 {
			return report("back-link %q: %s is not a reference field", k, field)
		}
		t := l.targets[i]
		if v, _ := m[field].(string); v != target.id || t.BankID != target.bank || t.Entity != target.entity {
			return report("back-link %q: the record's %s is %v", k, field, m[field])
		}
		if target.owner != "" && target.owner != from.owner {
			return report("back-link %q: target of another owner", k)
		}
		return nil
	})
}

// checkOwner checks owner's records and indexes.
func checkOwner(tx engine.Tx, l *layout, owner string, count int, report func(string, ...any) error) error {
	n := 0
	err := tx.Scan(l.records(owner), "", func(id string, raw []byte) error {
		n++
		m, err := decode(raw)
		if err != nil {
			return report("record %q: %v", id, err)
		}
		if m[l.pk] != any(id) {
			if err := report("record %q: primary key %v", id, m[l.pk]); err != nil {
				return err
			}
		}
		p, err := l.entries(m, id)
		if err != nil {
			return report("record %q: %v", id, err)
		}
		for i, f := range l.fields {
			if _, err := tx.Get(l.index(owner, f), p.keys[i]); err != nil {
				if err := report("record %q: index %s entry %q: %v", id, f, p.keys[i], err); err != nil {
					return err
				}
			}
		}
		self := rec{l.bank, l.entity, owner, id}
		for i, f := range l.refs {
			if p.refs[i] == "" {
				continue
			}
			t := l.targets[i]
			found := false
			for _, o := range []string{owner, ""} {
				target := rec{t.BankID, t.Entity, o, p.refs[i]}
				if exists(tx, recordsBucket(t.BankID, t.Entity, o), p.refs[i]) || target == self {
					if _, err := tx.Get(refsBucket, linkKey(target, self, f)); err == nil {
						found = true
						break
					}
				}
			}
			if !found {
				if err := report("record %q: %s = %q has no target with a back-link", id, f, p.refs[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != count {
		if err := report("owner %q: %d records, count says %d", owner, n, count); err != nil {
			return err
		}
	}
	for i, f := range l.fields {
		entries := 0
		err := tx.Scan(l.index(owner, f), "", func(k string, _ []byte) error {
			entries++
			id := idOfIndexKey(k)
			raw, err := tx.Get(l.records(owner), id)
			if err != nil {
				return report("index %s entry %q: record: %v", f, k, err)
			}
			m, err := decode(raw)
			if err != nil {
				return report("index %s entry %q: %v", f, k, err)
			}
			part, err := encode(l.kinds[i], m[f], true)
			if err != nil || indexKey(part, id) != k {
				return report("index %s entry %q: the record's value is %v", f, k, m[f])
			}
			return nil
		})
		if err != nil {
			return err
		}
		if entries != n {
			if err := report("owner %q: index %s has %d entries for %d records", owner, f, entries, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkUsage checks the entity's charges against its records and usage.
func checkUsage(tx engine.Tx, l *layout, report func(string, ...any) error) error {
	prefix := usagePrefix(l.bank, l.entity)
	want := map[string]usage{}
	err := tx.Scan(chargesBucket, prefix, func(k string, user []byte) error {
		owner, id, ok := strings.Cut(k[len(prefix):], "/")
		o, err1 := unesc(owner)
		i, err2 := unesc(id)
		if !ok || err1 != nil || err2 != nil {
			return report("charge %q: malformed key", k)
		}
		raw, err := tx.Get(l.records(o), i)
		if err != nil {
			return report("charge %q: record: %v", k, err)
		}
		key := usageKey(l.bank, l.entity, o, string(user))
		u := want[key]
		u.records++
		u.bytes += int64(len(raw))
		want[key] = u
		return nil
	})
	if err != nil {
		return err
	}
	got := map[string]usage{}
	if err := tx.Scan(usageBucket, prefix, func(k string, _ []byte) error {
		u, err := readUsage(tx, k)
		if err != nil {
			return report("%v", err)
		}
		got[k] = u
		return nil
	}); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			if err := report("usage %q is %+v; its charges make %+v", k, got[k], want[k]); err != nil {
				return err
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			if err := report("usage %q is %+v without charges", k, got[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

func exists(tx engine.Tx, bucket, key string) bool {
	_, err := tx.Get(bucket, key)
	return err == nil
}
