package privacy

import (
	"slices"
	"time"
)

// Source says where a consent decision was made. It is recorded with every ledger entry.
type Source string

// Where consent decisions are made.
const (
	SourceRegistration Source = "register" // the registration form
	SourceAccount      Source = "account"  // the account page
	SourceGuardian     Source = "guardian" // a child's guardian, from their mailed link (P24)
)

// ConsentEntry is one line of a subject's append-only consent ledger (promise P18): a grant
// or a withdrawal, never edited afterwards.
type ConsentEntry struct {
	Purpose       string
	Granted       bool
	At            time.Time
	PolicyVersion string // the policy version in force when the decision was made
	Source        Source
}

// Grant is the ledger entry of a consent given.
func Grant(purpose string, src Source, policyVersion string, at time.Time) ConsentEntry {
	return ConsentEntry{Purpose: purpose, Granted: true, At: at, PolicyVersion: policyVersion, Source: src}
}

// Withdraw is the ledger entry of a consent withdrawn.
func Withdraw(purpose string, src Source, policyVersion string, at time.Time) ConsentEntry {
	return ConsentEntry{Purpose: purpose, Granted: false, At: at, PolicyVersion: policyVersion, Source: src}
}

// ConsentState derives the current state of every purpose from a ledger: the latest entry
// for a purpose wins; a purpose with no entry is not granted (promise P06).
func ConsentState(ledger []ConsentEntry) map[string]bool {
	latest := map[string]ConsentEntry{}
	for _, e := range ledger {
		if cur, ok := latest[e.Purpose]; !ok || !e.At.Before(cur.At) {
			latest[e.Purpose] = e
		}
	}
	out := map[string]bool{}
	for p, e := range latest {
		out[p] = e.Granted
	}
	return out
}

// ValidateOptional checks optional field values and the consents that come with them:
// consents may name only optional fields' purposes, each once; every value must be valid; and
// a value may be given only with its field's consent, given now (in consents) or already (in
// granted, the current state of the ledger). values holds the fields being set ("" removes).
func ValidateOptional(consents []string, values map[string]string, granted map[string]bool) error {
	cat := Catalogue()
	seen := map[string]bool{}
	for _, c := range consents {
		if seen[c] {
			return FieldError("consents", "names %q twice", c)
		}
		seen[c] = true
		if _, ok := cat.FieldOfPurpose(c); !ok {
			return FieldError("consents", "%q is not a consent this form can give", c)
		}
	}
	for _, f := range cat.OptionalFields {
		v := values[f.Key]
		if err := f.Validate(v); err != nil {
			return err
		}
		if v != "" && !slices.Contains(consents, f.Purpose) && !granted[f.Purpose] {
			return FieldError(f.Key, "is stored only with your consent: tick its box, or leave it empty")
		}
	}
	return nil
}
