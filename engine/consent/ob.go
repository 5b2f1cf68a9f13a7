package consent

import (
	"encoding/json"
	"net/http"

	"github.com/dynapi/dynapi/engine"
)

// obRequest is what payments and funds confirmations read of a UK
// request: a consent request as stored, or a payment or funds
// confirmation request as posted. The document's schema validated it.
type obRequest struct {
	Data struct {
		ConsentID string `json:"ConsentId"`
		// Initiation (PIS) as posted, and read.
		InitiationRaw json.RawMessage `json:"Initiation"`
		Initiation    obInitiation    `json:"-"`
		// DebtorAccount (CBPII consent).
		DebtorAccount *obAccount `json:"DebtorAccount"`
		// ControlParameters (VRP consent) as posted; Instruction (a VRP)
		// as posted, and read.
		ControlParameters json.RawMessage `json:"ControlParameters"`
		InstructionRaw    json.RawMessage `json:"Instruction"`
		Instruction       obInitiation    `json:"-"`
		// InstructedAmount and Reference (a funds confirmation).
		InstructedAmount *obAmount `json:"InstructedAmount"`
		Reference        string    `json:"Reference"`
	} `json:"Data"`
	Risk json.RawMessage `json:"Risk"`
}

// obInitiation is what a payment's Initiation, or a VRP's Instruction,
// says of the money.
type obInitiation struct {
	EndToEndIdentification string     `json:"EndToEndIdentification"`
	InstructedAmount       obAmount   `json:"InstructedAmount"`
	DebtorAccount          *obAccount `json:"DebtorAccount"`
	CreditorAccount        obAccount  `json:"CreditorAccount"`
	RemittanceInformation  struct {
		Reference string `json:"Reference"`
	} `json:"RemittanceInformation"`
}

// obAccount is a UK account identification.
type obAccount struct {
	SchemeName     string `json:"SchemeName"`
	Identification string `json:"Identification"`
	Name           string `json:"Name,omitempty"`
}

// obAmount is a UK amount.
type obAmount struct {
	Amount   string `json:"Amount"`
	Currency string `json:"Currency"`
}

func (a obAmount) money() Money { return Money(a) }

// parseRequest reads raw as a UK request.
func parseRequest(raw json.RawMessage) (*obRequest, error) {
	var req obRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the request is not a UK request: "+err.Error())
	}
	for _, part := range []struct {
		name string
		raw  json.RawMessage
		into *obInitiation
	}{{"Initiation", req.Data.InitiationRaw, &req.Data.Initiation}, {"Instruction", req.Data.InstructionRaw, &req.Data.Instruction}} {
		if len(part.raw) == 0 {
			continue
		}
		if err := json.Unmarshal(part.raw, part.into); err != nil {
			return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "Data."+part.name+" is not a UK "+part.name+": "+err.Error())
		}
	}
	return &req, nil
}
