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
		// InstructedAmount and Reference (a funds confirmation).
		InstructedAmount *obAmount `json:"InstructedAmount"`
		Reference        string    `json:"Reference"`
	} `json:"Data"`
	Risk json.RawMessage `json:"Risk"`
}

// obInitiation is what a payment's Initiation says of the money.
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

func (a obAmount) money() Money { return Money{Amount: a.Amount, Currency: a.Currency} }

// parseRequest reads raw as a UK request.
func parseRequest(raw json.RawMessage) (*obRequest, error) {
	var req obRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "the request is not a UK request: "+err.Error())
	}
	if len(req.Data.InitiationRaw) > 0 {
		if err := json.Unmarshal(req.Data.InitiationRaw, &req.Data.Initiation); err != nil {
			return nil, engine.NewError(http.StatusBadRequest, engine.CodeValidationFailed, "Data.Initiation is not a UK Initiation: "+err.Error())
		}
	}
	return &req, nil
}
