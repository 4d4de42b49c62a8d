package privacy

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/privacyportal/portal/site/catalog"
)

// IDs of the purposes the code names. Every other purpose is known from the catalogue alone
// (site/catalog/catalog.json); Catalogue fails if one of these is missing from it.
const (
	// PurposeService is running the account itself: essential, so it needs no consent.
	PurposeService = "service"
)

// LegalBasis is why processing for a purpose is lawful.
type LegalBasis string

// Legal bases. Every purpose that is not essential to the service rests on consent.
const (
	BasisContract LegalBasis = "contract" // needed to provide the service the person asked for
	BasisConsent  LegalBasis = "consent"  // only with the person's consent, withdrawable
)

// Text is a sentence in each of the portal's locales (LocaleEnglish, LocaleChinese).
type Text map[string]string

// Category is the kind of use a purpose is.
type Category string

// Categories of purposes.
const (
	CategoryService    Category = "service"    // the account itself: essential
	CategoryProfile    Category = "profile"    // keeping an optional profile field (P02)
	CategoryPermission Category = "permission" // an extra device permission in the operator's apps (P05)
	CategoryAnalytics  Category = "analytics"  // counting use of the site (P06)
	CategoryMarketing  Category = "marketing"  // marketing mail and commercial ads (P19)
	CategoryTracking   Category = "tracking"   // e-mail open and click tracking (P08)
	CategoryTransfer   Category = "transfer"   // transfer outside the home region (P04)
	CategorySharing    Category = "sharing"    // sharing with a recipient in the home region (P10)
)

// Purpose is one thing personal data may be used for. Processing beyond what the service needs
// requires the subject's consent for that purpose, recorded in their consent ledger.
type Purpose struct {
	ID       string   `json:"id"`
	Category Category `json:"category"`
	// Essential purposes are the service itself: they need no consent and cannot be refused
	// short of cancelling the account.
	Essential  bool       `json:"essential"`
	LegalBasis LegalBasis `json:"legalBasis"`
	// Since is the policy version that introduced the purpose. A purpose added later starts
	// as "not granted" for everyone (promise P06).
	Since       string `json:"since"`
	Name        Text   `json:"name"`
	Description Text   `json:"description"`
	// Recipient is who receives the data, for sharing and transfer purposes.
	Recipient *Recipient `json:"recipient,omitempty"`
}

// Recipient is an affiliate, partner or processor that personal data may be disclosed to for
// one purpose, and only the fields it needs (promise P10).
type Recipient struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Country is the ISO 3166 code of where the recipient processes the data, or HomeCountry.
	Country     string `json:"country"`
	CountryName Text   `json:"countryName"`
	Purpose     Text   `json:"purpose"`
	// Fields are what it receives, of DisclosableFields.
	Fields []string `json:"fields"`
}

// HomeCountry is a recipient's Country when it processes data in the portal's home region.
const HomeCountry = "home"

// DisclosableFields are the fields a recipient may be given; direct identifiers (name, email)
// only inside the home region, never in a transfer, which is de-identified first (P04).
var DisclosableFields = []string{"name", "email", "locale", "ageGroup", "createdAt"}

// directIdentifiers may not leave the home region.
var directIdentifiers = []string{"name", "email"}

// SignalOptOut reports whether a browser's Do Not Track or Global Privacy Control signal means
// opting out of the purpose (P09): analytics, marketing and tracking.
func (p Purpose) SignalOptOut() bool {
	return p.Category == CategoryAnalytics || p.Category == CategoryMarketing || p.Category == CategoryTracking
}

// OptionalField is a profile field nobody has to give (promise P02). Each has its own consent
// purpose, and its value is stored only while that consent is granted.
type OptionalField struct {
	Key     string `json:"key"`     // the JSON name in the API
	Purpose string `json:"purpose"` // the ID of the purpose its value is kept under
	MaxLen  int    `json:"maxLength"`
	// Pattern, when set, is what a value must match (the site uses the same expression).
	Pattern      string `json:"pattern"`
	Input        string `json:"input"`
	Autocomplete string `json:"autocomplete"`
	Label        Text   `json:"label"`
	Consent      Text   `json:"consent"`
	// Invalid says what is wrong with a value that does not match Pattern.
	Invalid Text `json:"invalid"`

	re *regexp.Regexp
}

// isVersion reports whether s is a policy version: digits, a dot, digits.
func isVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	return ok && isDigits(major) && isDigits(minor)
}

func isDigits(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// Catalog is the catalogue of purposes and optional fields, in display order.
type Catalog struct {
	Purposes       []Purpose       `json:"purposes"`
	OptionalFields []OptionalField `json:"optionalFields"`
}

// Catalogue returns the catalogue in site/catalog/catalog.json. It is parsed on first use, not
// at init (a function that never needs it should not pay for it in its cold start); a file that
// does not pass ParseCatalog panics there, and the package's tests fail first.
var Catalogue = sync.OnceValue(func() *Catalog {
	c, err := ParseCatalog([]byte(catalog.JSON))
	if err != nil {
		panic(err)
	}
	return c
})

// ParseCatalog reads and checks a catalogue: every ID and key unique, every purpose named and
// described in every locale, a known legal basis, essential purposes on a contract and the
// others on consent, every optional field kept under a purpose of its own that is not
// essential, labelled in every locale, with a valid pattern and a message for it.
func ParseCatalog(data []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	locales := []string{LocaleEnglish, LocaleChinese}
	complete := func(what string, t Text) error {
		for _, l := range locales {
			if t[l] == "" {
				return fmt.Errorf("catalogue: %s has no %s text", what, l)
			}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, p := range c.Purposes {
		if p.ID == "" || seen[p.ID] {
			return nil, fmt.Errorf("catalogue: purpose ID %q is empty or listed twice", p.ID)
		}
		seen[p.ID] = true
		if p.Since == "" {
			return nil, fmt.Errorf("catalogue: purpose %s has no since (the policy version that introduced it)", p.ID)
		}
		switch {
		case p.LegalBasis != BasisContract && p.LegalBasis != BasisConsent:
			return nil, fmt.Errorf("catalogue: purpose %s has legal basis %q", p.ID, p.LegalBasis)
		case p.Essential != (p.LegalBasis == BasisContract):
			return nil, fmt.Errorf("catalogue: purpose %s: essential purposes rest on the contract, all others on consent", p.ID)
		case !isVersion(p.Since):
			return nil, fmt.Errorf("catalogue: purpose %s: since %q is not a policy version", p.ID, p.Since)
		}
		if err := complete("purpose "+p.ID+" name", p.Name); err != nil {
			return nil, err
		}
		if err := complete("purpose "+p.ID+" description", p.Description); err != nil {
			return nil, err
		}
		if err := checkCategory(p, complete); err != nil {
			return nil, err
		}
	}
	for _, id := range []string{PurposeService} {
		if !seen[id] {
			return nil, fmt.Errorf("catalogue: purpose %s, which the code names, is missing", id)
		}
	}
	keys, used := map[string]bool{}, map[string]bool{}
	for i := range c.OptionalFields {
		f := &c.OptionalFields[i]
		if f.Key == "" || keys[f.Key] {
			return nil, fmt.Errorf("catalogue: optional field key %q is empty or listed twice", f.Key)
		}
		keys[f.Key] = true
		p, ok := c.Purpose(f.Purpose)
		switch {
		case !ok:
			return nil, fmt.Errorf("catalogue: optional field %s is kept under unknown purpose %q", f.Key, f.Purpose)
		case p.Essential || used[f.Purpose]:
			return nil, fmt.Errorf("catalogue: optional field %s needs a purpose of its own that is not essential, not %s", f.Key, f.Purpose)
		case f.MaxLen <= 0:
			return nil, fmt.Errorf("catalogue: optional field %s has no maxLength", f.Key)
		}
		used[f.Purpose] = true
		if err := complete("optional field "+f.Key+" label", f.Label); err != nil {
			return nil, err
		}
		if err := complete("optional field "+f.Key+" consent", f.Consent); err != nil {
			return nil, err
		}
		if f.Pattern != "" {
			re, err := regexp.Compile(f.Pattern)
			if err != nil {
				return nil, fmt.Errorf("catalogue: optional field %s pattern: %w", f.Key, err)
			}
			if err := complete("optional field "+f.Key+" invalid", f.Invalid); err != nil {
				return nil, err
			}
			f.re = re
		}
	}
	return &c, nil
}

// checkCategory checks what a purpose's category asks of it: essential only for the service,
// and a recipient exactly for sharing (in the home region) and transfer (outside it, and never
// with direct identifiers).
func checkCategory(p Purpose, complete func(string, Text) error) error {
	switch p.Category {
	case CategoryService, CategoryProfile, CategoryPermission, CategoryAnalytics, CategoryMarketing,
		CategoryTracking, CategoryTransfer, CategorySharing:
	default:
		return fmt.Errorf("catalogue: purpose %s has category %q", p.ID, p.Category)
	}
	if p.Essential != (p.Category == CategoryService) {
		return fmt.Errorf("catalogue: purpose %s: only the service category is essential", p.ID)
	}
	needsRecipient := p.Category == CategorySharing || p.Category == CategoryTransfer
	if (p.Recipient != nil) != needsRecipient {
		return fmt.Errorf("catalogue: purpose %s: sharing and transfer purposes name a recipient, no others", p.ID)
	}
	if !needsRecipient {
		return nil
	}
	r := p.Recipient
	for what, t := range map[string]Text{"name": r.Name, "countryName": r.CountryName, "purpose": r.Purpose} {
		if err := complete("purpose "+p.ID+" recipient "+what, t); err != nil {
			return err
		}
	}
	switch {
	case r.ID == "":
		return fmt.Errorf("catalogue: purpose %s: its recipient has no id", p.ID)
	case p.Category == CategorySharing && r.Country != HomeCountry:
		return fmt.Errorf("catalogue: purpose %s: a sharing recipient is in the home region (country %q); one abroad is a transfer", p.ID, HomeCountry)
	case p.Category == CategoryTransfer && (len(r.Country) != 2 || strings.ToUpper(r.Country) != r.Country):
		return fmt.Errorf("catalogue: purpose %s: a transfer names the recipient's country as an ISO 3166 code, not %q", p.ID, r.Country)
	case len(r.Fields) == 0:
		return fmt.Errorf("catalogue: purpose %s: its recipient receives no fields", p.ID)
	}
	for _, f := range r.Fields {
		if !slices.Contains(DisclosableFields, f) {
			return fmt.Errorf("catalogue: purpose %s: field %q cannot be disclosed (only %v)", p.ID, f, DisclosableFields)
		}
		if p.Category == CategoryTransfer && slices.Contains(directIdentifiers, f) {
			return fmt.Errorf("catalogue: purpose %s: a transfer is de-identified: %q cannot leave the home region", p.ID, f)
		}
	}
	return nil
}

// Purpose returns the purpose with the given ID.
func (c *Catalog) Purpose(id string) (Purpose, bool) {
	i := slices.IndexFunc(c.Purposes, func(p Purpose) bool { return p.ID == id })
	if i < 0 {
		return Purpose{}, false
	}
	return c.Purposes[i], true
}

// OptionalField returns the optional field with the given key.
func (c *Catalog) OptionalField(key string) (OptionalField, bool) {
	i := slices.IndexFunc(c.OptionalFields, func(f OptionalField) bool { return f.Key == key })
	if i < 0 {
		return OptionalField{}, false
	}
	return c.OptionalFields[i], true
}

// FieldOfPurpose returns the optional field kept under a purpose.
func (c *Catalog) FieldOfPurpose(purpose string) (OptionalField, bool) {
	i := slices.IndexFunc(c.OptionalFields, func(f OptionalField) bool { return f.Purpose == purpose })
	if i < 0 {
		return OptionalField{}, false
	}
	return c.OptionalFields[i], true
}
