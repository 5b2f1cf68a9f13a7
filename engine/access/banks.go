package access

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/internal/ident"
)

func bankNotFound(id string) error {
	return engine.Errorf(http.StatusNotFound, engine.CodeNotFound, "bank %q not found", id)
}

// CreateBank creates a bank. Its id matches
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ and is unique (409 bank_exists);
// names are at most 256 characters, logo and website 2048. In the same
// transaction the creator (a.UserID, when set and existing) is granted
// CanCreateEntitlementAtOneBank at the new bank, as OBP does. CreatedAt is
// set here. Audit-logged as "bank.create" and "entitlement.grant".
func (s *Service) CreateBank(ctx context.Context, a Actor, b Bank) (*Bank, error) {
	if err := validBank(b); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx engine.Tx, ch *change) error { return s.createBankTx(tx, ch, a, &b) })
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// validBank refuses a bank CreateBank cannot create whatever is stored.
func validBank(b Bank) error {
	var faults []engine.Violation
	if !ident.Valid(b.ID) {
		faults = append(faults, engine.Violation{Location: "body", Pointer: "/bank_id", Code: "pattern",
			Message: "a bank id is " + ident.Rule})
	}
	for _, f := range []struct {
		ptr, v string
		max    int
	}{{"/short_name", b.ShortName, 256}, {"/full_name", b.FullName, 256}, {"/logo", b.Logo, 2048}, {"/website", b.Website, 2048}} {
		if len(f.v) > f.max {
			faults = append(faults, engine.Violation{Location: "body", Pointer: f.ptr, Code: "max_length",
				Message: "at most " + itoa(f.max) + " characters"})
		}
	}
	if faults != nil {
		return engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the bank cannot be created", faults...)
	}
	return nil
}

// createBankTx stores bank b, valid, in tx, with its audit entry and its
// creator's grant, setting its CreatedAt; see CreateBank.
func (s *Service) createBankTx(tx engine.Tx, ch *change, a Actor, b *Bank) error {
	b.CreatedAt = s.now().UTC()
	taken, err := exists(tx, bucketBanks, b.ID)
	if err != nil {
		return err
	}
	if taken {
		return engine.Errorf(http.StatusConflict, CodeBankExists, "bank %q exists already", b.ID)
	}
	if err := putJSON(tx, bucketBanks, b.ID, b); err != nil {
		return err
	}
	ch.banks = append(ch.banks, b.ID)
	if err := s.AuditTx(tx, a, "bank.create", b.ID, b.ID, map[string]any{"short_name": b.ShortName}); err != nil {
		return err
	}
	if a.UserID == "" {
		return nil
	}
	if ok, err := exists(tx, bucketUsers, a.UserID); err != nil || !ok {
		return err
	}
	_, err = s.grantTx(tx, ch, a, a.UserID, b.ID, RoleCanCreateEntitlementAtOneBank, "entitlement.grant", false)
	return err
}

// Bank returns the bank with id, or a 404.
func (s *Service) Bank(ctx context.Context, id string) (*Bank, error) {
	var out *Bank
	err := s.view(ctx, func(tx engine.Tx) error {
		b, err := getJSON[Bank](tx, bucketBanks, id)
		if errors.Is(err, engine.ErrNotFound) {
			return bankNotFound(id)
		}
		out = b
		return err
	})
	return out, err
}

// BankExists reports whether bank id exists, from the in-memory view,
// without locks.
func (s *Service) BankExists(id string) bool {
	_, ok := (*s.banks.Load())[id]
	return ok
}

// Banks returns every bank, by id.
func (s *Service) Banks(ctx context.Context) ([]*Bank, error) {
	var out []*Bank
	err := s.view(ctx, func(tx engine.Tx) error {
		out = nil
		return tx.Scan(bucketBanks, "", func(_ string, v []byte) error {
			b, err := decode[Bank](v)
			if err == nil {
				out = append(out, b)
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *Bank) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
