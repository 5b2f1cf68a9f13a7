package core

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// mappingFiles are the mappings the connector starts with: what a bank
// may change about how its core's data reads in each standard.
//
//go:embed mappings/*.json
var mappingFiles embed.FS

// Mappings are the data-driven parts of the standards' shapes.
type Mappings struct {
	UK ukMapping
	BG bgMapping
}

// ukMapping says how the core's data reads in UK Open Banking.
type ukMapping struct {
	// Schemes maps a core routing scheme (SortCodeAccountNumber, IBAN,
	// ...) to the UK SchemeName; a routing whose scheme is not here is
	// not shown.
	Schemes map[string]string `json:"schemes"`
	// Products maps a core product code to the account's category and
	// type; DefaultProduct is used for a code not listed.
	Products       map[string]ukProduct `json:"products"`
	DefaultProduct string               `json:"default_product"`
	// AccountStatuses maps the core's account status to the UK Status.
	AccountStatuses map[string]string `json:"account_statuses"`
	// Versions are the codes that differ between v3.1 and v4.0.
	Versions map[string]ukCodes `json:"versions"`
}

// ukProduct is a product's UK classification: AccountCategory (v4.0) or
// AccountType (v3.1), AccountTypeCode (v4.0) and AccountSubType (v3.1).
type ukProduct struct {
	Category string `json:"category"`
	TypeCode string `json:"type_code"`
	SubType  string `json:"sub_type"`
}

// ukCodes are one UK version's codes: the balance types each account's
// one core balance is shown as, the type of a transaction's balance
// after it, and the status of a posted transaction.
type ukCodes struct {
	BalanceTypes           []string `json:"balance_types"`
	TransactionBalanceType string   `json:"transaction_balance_type"`
	BookedStatus           string   `json:"booked_status"`
}

// bgMapping says how the core's data reads in Berlin Group NextGenPSD2.
type bgMapping struct {
	// Schemes maps a core routing scheme to the account reference member
	// it fills (iban, bban, msisdn).
	Schemes        map[string]string    `json:"schemes"`
	Products       map[string]bgProduct `json:"products"`
	DefaultProduct string               `json:"default_product"`
	// AccountStatuses maps the core's account status to BG's.
	AccountStatuses        map[string]string `json:"account_statuses"`
	BalanceTypes           []string          `json:"balance_types"`
	TransactionBalanceType string            `json:"transaction_balance_type"`
}

// bgProduct is a product's name and ISO 20022 cash account type.
type bgProduct struct {
	Product         string `json:"product"`
	CashAccountType string `json:"cash_account_type"`
}

// The UK versions the connector answers, as their mapping names them.
const (
	ukV31 = "3.1"
	ukV40 = "4.0"
)

// The standards' code lists the mappings are checked against.
var (
	ukStatuses       = []string{"Deleted", "Disabled", "Enabled", "Pending", "ProForma"}
	ukCategories     = []string{"Business", "Personal"}
	ukTypeCodes      = strings.Fields("CACC CARD CASH CHAR CISH COMM CPAC LLSV LOAN MGLD MOMA NREX ODFT ONDP OTHR SACC SLRY SVGS TAXE TRAN TRAS VACC NFCA MORT WALT")
	ukSubTypes       = strings.Fields("ChargeCard CreditCard CurrentAccount EMoney Loan Mortgage PrePaidCard Savings")
	ukBalanceTypes31 = strings.Fields("ClosingAvailable ClosingBooked ClosingCleared Expected ForwardAvailable Information InterimAvailable InterimBooked InterimCleared OpeningAvailable OpeningBooked OpeningCleared PreviouslyClosedBooked")
	ukBalanceTypes40 = strings.Fields("CLAV CLBD FWAV INFO ITAV ITBD OPAV OPBD PRCD XPCD")
	ukEntryStatus31  = []string{"Booked", "Pending"}
	ukEntryStatus40  = strings.Fields("BOOK FUTR INFO PDNG RJCT")
	bgStatuses       = []string{"enabled", "deleted", "blocked"}
	bgMembers        = []string{"iban", "bban", "msisdn"}
	bgBalanceTypes   = strings.Fields("closingBooked expected openingBooked interimAvailable interimBooked forwardAvailable nonInvoiced")
)

// The mapping files, by the standard they map.
const (
	ukMappingFile = "uk-ob.json"
	bgMappingFile = "berlin-group.json"
)

// LoadMappings reads and checks the mappings: each of uk-ob.json and
// berlin-group.json from dir when it is there (a bank's own), else the
// embedded one. dir "" takes the embedded mappings alone.
func LoadMappings(dir string) (Mappings, error) {
	uk, err := mappingFile(dir, ukMappingFile)
	if err != nil {
		return Mappings{}, err
	}
	bg, err := mappingFile(dir, bgMappingFile)
	if err != nil {
		return Mappings{}, err
	}
	return ParseMappings(uk, bg)
}

// mappingFile is the mapping file name in dir, else the embedded one.
func mappingFile(dir, name string) ([]byte, error) {
	if dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if !errors.Is(err, fs.ErrNotExist) {
			if err != nil {
				return nil, fmt.Errorf("core: mapping: %w", err)
			}
			return data, nil
		}
	}
	return mappingFiles.ReadFile("mappings/" + name)
}

// ParseMappings reads and checks a UK and a Berlin Group mapping (JSON
// in the form of the embedded mappings/*.json): unknown members, a
// missing entry or a code the standard does not have is an error naming
// it.
func ParseMappings(uk, bg []byte) (Mappings, error) {
	var m Mappings
	if err := strictDecode(uk, &m.UK); err != nil {
		return m, fmt.Errorf("core: UK mapping: %w", err)
	}
	if err := strictDecode(bg, &m.BG); err != nil {
		return m, fmt.Errorf("core: Berlin Group mapping: %w", err)
	}
	var c checker
	m.UK.check(c.in("UK mapping"))
	m.BG.check(c.in("Berlin Group mapping"))
	return m, c.err()
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (m *ukMapping) check(c *checker) {
	c.nonEmpty("schemes", len(m.Schemes))
	c.nonEmpty("products", len(m.Products))
	if _, ok := m.Products[m.DefaultProduct]; !ok {
		c.fault("default_product %q is not among the products", m.DefaultProduct)
	}
	for code, p := range m.Products {
		c.oneOf("products."+code+".category", p.Category, ukCategories)
		c.oneOf("products."+code+".type_code", p.TypeCode, ukTypeCodes)
		c.oneOf("products."+code+".sub_type", p.SubType, ukSubTypes)
	}
	c.statuses(m.AccountStatuses, ukStatuses)
	for version, lists := range map[string][2][]string{ukV31: {ukBalanceTypes31, ukEntryStatus31}, ukV40: {ukBalanceTypes40, ukEntryStatus40}} {
		codes, ok := m.Versions[version]
		if !ok {
			c.fault("versions has no %q", version)
			continue
		}
		at := "versions." + version + "."
		c.nonEmpty(at+"balance_types", len(codes.BalanceTypes))
		for _, t := range codes.BalanceTypes {
			c.oneOf(at+"balance_types", t, lists[0])
		}
		c.oneOf(at+"transaction_balance_type", codes.TransactionBalanceType, lists[0])
		c.oneOf(at+"booked_status", codes.BookedStatus, lists[1])
	}
}

func (m *bgMapping) check(c *checker) {
	c.nonEmpty("schemes", len(m.Schemes))
	for scheme, member := range m.Schemes {
		c.oneOf("schemes."+scheme, member, bgMembers)
	}
	c.nonEmpty("products", len(m.Products))
	if _, ok := m.Products[m.DefaultProduct]; !ok {
		c.fault("default_product %q is not among the products", m.DefaultProduct)
	}
	for code, p := range m.Products {
		if p.Product == "" || len(p.Product) > 35 || p.CashAccountType == "" {
			c.fault("products.%s needs a product of at most 35 characters and a cash_account_type", code)
		}
	}
	c.statuses(m.AccountStatuses, bgStatuses)
	c.nonEmpty("balance_types", len(m.BalanceTypes))
	for _, t := range m.BalanceTypes {
		c.oneOf("balance_types", t, bgBalanceTypes)
	}
	c.oneOf("transaction_balance_type", m.TransactionBalanceType, bgBalanceTypes)
}

// checker collects a mapping's faults.
type checker struct {
	where  string
	faults *[]string
}

// in is a checker of the mapping named where, collecting into c's faults.
func (c *checker) in(where string) *checker {
	if c.faults == nil {
		c.faults = new([]string)
	}
	return &checker{where: where, faults: c.faults}
}

func (c *checker) fault(format string, args ...any) {
	*c.faults = append(*c.faults, c.where+": "+fmt.Sprintf(format, args...))
}

func (c *checker) nonEmpty(name string, n int) {
	if n == 0 {
		c.fault("%s is empty", name)
	}
}

func (c *checker) oneOf(name, v string, codes []string) {
	if !slices.Contains(codes, v) {
		c.fault("%s %q is not one of %s", name, v, strings.Join(codes, ", "))
	}
}

// statuses checks that the core's statuses active and closed are mapped
// to codes of the standard.
func (c *checker) statuses(m map[string]string, codes []string) {
	for _, core := range []string{"active", "closed"} {
		c.oneOf("account_statuses."+core, m[core], codes)
	}
}

func (c *checker) err() error {
	if c.faults == nil || len(*c.faults) == 0 {
		return nil
	}
	slices.Sort(*c.faults)
	return fmt.Errorf("core: %s", strings.Join(*c.faults, "; "))
}
