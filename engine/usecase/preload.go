package usecase

import (
	"context"
	"errors"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/endpoints"
)

// configBucket holds what was preloaded, one key per preload.
const configBucket = "config"

// errPreloaded refuses a preload whose marker another change set first.
var errPreloaded = errors.New("usecase: preloaded already")

// PreloadDocument serves a document once per data directory, on behalf of
// who: the document, its roles, who's grants, its audit entry, what with
// stores (example data, when with is not nil) and marker (a key under
// "config" saying it was preloaded) commit in one transaction, so a start
// interrupted at any point either served it and will not serve it again,
// or did nothing and will serve it at the next start. Once marked it never
// comes back, even after an administrator deletes it. It reports whether
// it served the document now.
func (u *Cases) PreloadDocument(ctx context.Context, who audit.Actor, marker string, in endpoints.CreateInput, with func(*access.Tx) error) (bool, error) {
	// Checked before loading the document too: a preload done long ago
	// must not be built again, nor clash with what was served since.
	if done, err := u.preloaded(ctx, marker); err != nil || done {
		return false, err
	}
	_, err := u.createDocument(ctx, who, in, func(tx *access.Tx) error {
		done, err := isSet(tx, marker)
		if err != nil {
			return err
		}
		if done {
			return errPreloaded
		}
		if with != nil {
			if err := with(tx); err != nil {
				return err
			}
		}
		return tx.Put(configBucket, marker, []byte("1"))
	})
	if errors.Is(err, errPreloaded) {
		return false, nil
	}
	return err == nil, err
}

// preloaded tells whether marker is set.
func (u *Cases) preloaded(ctx context.Context, marker string) (done bool, err error) {
	err = u.Store.View(ctx, func(tx engine.Tx) error {
		done, err = isSet(tx, marker)
		return err
	})
	return done, err
}

// isSet tells whether marker is set in tx.
func isSet(tx engine.Tx, marker string) (bool, error) {
	_, err := tx.Get(configBucket, marker)
	if errors.Is(err, engine.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
