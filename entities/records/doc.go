// Package records stores the records of dynamic entities in an
// engine.Store: validated storage, secondary indexes on every scalar
// field, reference integrity, and paged, filtered, sorted lists that read
// only what a page needs.
//
// The caller (the definition layer) describes each entity type with a
// Schema and validates records against the definition; this package
// checks only what it needs to store and index a record: a string primary
// key, values of each indexed field's Kind, and references that resolve.
//
// # Scopes
//
// Records of different banks never mix: a Schema's BankID is part of every
// bucket name. Within a bank, a personal entity's records belong to an
// owner user and each owner has buckets of their own; owners never see
// each other's records, and the shared (non-personal) records are yet
// another scope, the owner "". Passing an owner for a non-personal entity,
// or none for a personal one, is a caller bug reported as a 500.
//
// # Layout
//
// Names, ids and owners are path-escaped ("%", "/" and NUL become %25, %2F
// and %00) and joined with "/".
//
//	records/<bank>/<entity>/<owner>              id -> record JSON
//	records_index/<bank>/<entity>/<owner>/<field>  encodedValue "\x00" id -> empty
//	records_refs                                  <target> "\x00" <referrer>/<field> -> empty
//	records_meta  schema/<bank>/<entity>          -> the indexed schema (JSON)
//	              count/<bank>/<entity>/<owner>   -> record count (decimal)
//	records_charges <bank>/<entity>/<owner>/<id>  -> the user the record is charged to
//	records_usage   <bank>/<entity>/<owner>/<user> -> "<records> <bytes>" charged to them
//
// where <target> and <referrer> are <bank>/<entity>/<owner>/<id>. Records
// are JSON; reading them back gives numbers as json.Number. The count keys
// also list the owners an entity has records for (DeleteAll, ReplaceAll).
// Every write of a record, its index entries, its back-links, the count
// and its charge is one Update.
//
// # Index encodings
//
// An index key is encodedValue + "\x00" + id, with encodings whose byte
// order is the value order and which never contain NUL:
//
//   - a tag byte: "0" for no value (missing or null), so those sort first,
//     "1" for a value;
//   - strings: the bytes, NUL escaped as 01 01 and 01 as 01 02 (monotonic
//     and prefix-free, so order is kept); only the first 256 bytes are
//     indexed, and longer strings order among themselves by id;
//   - numbers (KindNumber, as float64): the 8 IEEE 754 bytes, big-endian,
//     with the sign bit flipped for positives and all bits flipped for
//     negatives, as 16 hex digits; -0 is 0;
//   - bools: "0" false, "1" true;
//   - dates (yyyy-MM-dd): the text, whose order is the date order.
//
// Within one value, keys are in id order.
//
// # Lists
//
// A Query's filters on a field become a sorted list of key ranges of that
// field's index (equality: one value's keys; ranges: from or up to a
// value; values of one filter OR'ed, filters on one field intersected).
// One filtered field drives: equality before range, fewer values first,
// then the sort field. The plan is then one of:
//
//   - no filter: walk the records bucket (primary key order) or the sort
//     field's whole index (ScanFrom, or ScanReverse when descending);
//   - the driving field is the sort field: walk its ranges in order;
//   - primary key order and equality on the driving field: merge its
//     values' ranges, each already in id order;
//   - otherwise: collect the driving ranges' matches and sort them in
//     memory, when there are at most MaxSortSet (10,000); with more, walk
//     the order wanted (records or sort index) checking the filters.
//
// Each walk reads the index in batches and stops at the end of its ranges
// or once the page is full plus one record (to know whether there is a
// next page), so a page of 50 out of 100,000 records reads about 51
// entries, plus the rejects when several filters apply: filters other
// than the driving one are checked on each record read, and equality
// filters (of up to 4 values) first by looking up value+id in their own
// index, so a reject usually costs an index lookup, not a record read. A
// page looks at most at MaxExamined (10,000) candidates; one that hits
// that bound comes back short, perhaps empty, with a Next cursor to carry
// on from. So no request does unbounded work, and none is refused for
// matching too many records to sort.
//
// A page also ends before the record that would take the stored bytes it
// holds past Options.PageBytes (it always holds its first record), with a
// Next cursor as for any short page, so no page holds more than about the
// budget whatever its limit; and nothing is sized from the limit but the
// batches of index keys a walk reads. Likewise a page stops once the
// records it read to check them take 16 budgets, and a sort in memory
// that would read more gives way to the walk in the order wanted.
//
// A cursor is the position of the last record of a page in the plan's
// order (its sort index key, or its id), base64url-encoded with a check
// value bound to the query, so a cursor changed, or used with other
// filters or another order, is a 400 bad_cursor. Records written between
// pages show up or not depending on their position, but none is skipped
// or repeated.
//
// A page read with Query.Raw holds the records as stored (Page.Raw), for
// callers that only pass them on as JSON. Such a page reads a record only
// to return it when the walk decides every filter: filters on the walked
// index, and equality filters probed on their own index, whose values all
// have an index position of their own (not strings of 256 bytes or more).
// Otherwise, as for decoded pages, each record read is decoded and
// checked. The stored JSON is json.Marshal's encoding of the record's map,
// equal as JSON (and but for invalid UTF-8, byte for byte) to encoding the
// decoded record again.
//
// Query.Count counts the filtered set: with no filter from the count key,
// with one exact filtered field from its index keys alone, otherwise by
// checking every record in the driving ranges.
//
// # Quotas and versions
//
// Each record is charged to a user: the owner of a personal record, the
// user who created a shared one ("" for anonymous writers, who share one
// account). Per (bank, entity, owner scope, user) the store keeps how many
// records and stored bytes are charged, and a Create past Quota.Records
// (429) or a write past Quota.Bytes (413) is refused with the code
// record_quota_exceeded in the transaction that would write it, so
// concurrent writers cannot overshoot. Deletes, cascades included, refund
// the charge; migrations keep it exact without refusing. Records stored
// before quotas existed have no charge and count for no one.
//
// A record's ETag is a digest of its stored bytes. Replace, Update and
// Delete take an IfMatch condition checked in their transaction; Update
// reads, changes and writes a record in one transaction, so concurrent
// changes of different fields all survive.
//
// # References
//
// A reference field holds the id of a record of its Target entity. Create
// and Replace check that it resolves: for a personal record to its owner's
// record of the target entity if there is one, else to a shared one; for a
// shared record only to a shared one. Each reference has a back-link
// under the target, so Delete finds referrers with one prefix scan:
// it refuses (409 referenced) or, with cascade, deletes the referrers too,
// recursively, in the same transaction. Referrers of other entities are
// indexed as their entity's stored schema says.
//
// # Schema changes
//
// The store keeps, per entity, the part of the Schema that shapes its
// indexes (primary key, indexed fields and kinds, references). While the
// entity has records, writes and lists with a Schema that differs from it
// answer 409 reindex_required: indexes built for one schema would answer
// another's queries wrongly. After changing a definition in a way that
// changes its Schema, call ReplaceAll (a migration) or Reindex, which
// rewrite every record's entries for the new Schema in one transaction.
// With no records, a new Schema is simply taken. Get, Count, Each and
// Delete work whatever the Schema.
package records
