package privacy

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Source says how a consent decision was collected. It is recorded with every ledger entry.
type Source string

// How consent decisions are collected.
const (
	SourceRegistration Source = "register"    // the registration form
	SourceAccount      Source = "account"     // the account page (optional fields)
	SourceGuardian     Source = "guardian"    // a child's guardian, from their mailed link (P24)
	SourceForm         Source = "form"        // the consent centre
	SourceBanner       Source = "banner"      // the cookie banner or its preferences
	SourceGPC          Source = "gpc"         // the browser's Global Privacy Control signal (P09)
	SourceDNT          Source = "dnt"         // the browser's Do Not Track signal (P09)
	SourceUnsubscribe  Source = "unsubscribe" // the one-click link of a marketing mail (P19)
	SourcePolicy       Source = "policy"      // accepting a policy version (P25)
)

// Action is what a ledger entry records.
type Action string

// Ledger actions.
const (
	ActionGrant    Action = "grant"
	ActionWithdraw Action = "withdraw"
	// ActionAccept accepts a policy version; its entry's purpose is PurposePolicy.
	ActionAccept Action = "accept"
)

// PurposePolicy is the ledger purpose of policy acceptances: not a purpose of the catalogue.
const PurposePolicy = "policy"

// PolicyRef pins the policy text a decision was made under: its version and the SHA-256 of
// the text in the reader's language.
type PolicyRef struct {
	Version string
	SHA256  string
}

// ConsentEntry is one line of a subject's append-only consent ledger (promise P18): a grant,
// a withdrawal or a policy acceptance, never edited afterwards.
type ConsentEntry struct {
	Purpose string
	Action  Action
	// Granted is true for a grant; false for a withdrawal and an acceptance.
	Granted       bool
	At            time.Time
	Policy        PolicyRef
	Source        Source
	ReceiptID     string
	Signals       []Source // SourceGPC, SourceDNT: the signals present when the decision was made
	PolicyVersion string   // Deprecated: Policy.Version; kept for entries written before it
}

// Version is the policy version an entry was made under.
func (e ConsentEntry) Version() string { return cmp.Or(e.Policy.Version, e.PolicyVersion) }

// Grant is the ledger entry of a consent given.
func Grant(purpose string, src Source, policy PolicyRef, at time.Time) ConsentEntry {
	return ConsentEntry{Purpose: purpose, Action: ActionGrant, Granted: true, At: at, Policy: policy, Source: src}
}

// Withdraw is the ledger entry of a consent withdrawn.
func Withdraw(purpose string, src Source, policy PolicyRef, at time.Time) ConsentEntry {
	return ConsentEntry{Purpose: purpose, Action: ActionWithdraw, At: at, Policy: policy, Source: src}
}

// Accept is the ledger entry of a policy version accepted.
func Accept(policy PolicyRef, src Source, at time.Time) ConsentEntry {
	return ConsentEntry{Purpose: PurposePolicy, Action: ActionAccept, At: at, Policy: policy, Source: src}
}

// ActionOf is an entry's action, also for entries written before actions were recorded.
func (e ConsentEntry) ActionOf() Action {
	switch {
	case e.Action != "":
		return e.Action
	case e.Granted:
		return ActionGrant
	}
	return ActionWithdraw
}

// latest returns the latest grant or withdrawal of each purpose: the entry that decides its state.
func latest(ledger []ConsentEntry) map[string]ConsentEntry {
	out := map[string]ConsentEntry{}
	for _, e := range ledger {
		if e.ActionOf() == ActionAccept {
			continue
		}
		if cur, ok := out[e.Purpose]; !ok || !e.At.Before(cur.At) {
			out[e.Purpose] = e
		}
	}
	return out
}

// ConsentState derives the current state of every purpose from a ledger: the latest entry
// for a purpose wins; a purpose with no entry is not granted (promise P06).
func ConsentState(ledger []ConsentEntry) map[string]bool {
	out := map[string]bool{}
	for p, e := range latest(ledger) {
		out[p] = e.ActionOf() == ActionGrant
	}
	return out
}

// Allowed is the one check every use of personal data for a purpose goes through (P06): an
// essential purpose is always allowed; any other only while the ledger's latest decision on
// it is a grant. A purpose the catalogue does not list is never allowed.
func Allowed(ledger []ConsentEntry, purpose string) bool {
	p, ok := Catalogue().Purpose(purpose)
	if !ok {
		return false
	}
	return p.Essential || ConsentState(ledger)[purpose]
}

// AcceptedPolicy is the latest policy version the ledger shows accepted ("" when none).
// Ledgers from before acceptances were recorded fall back to the version of their first
// entry: the one registration took place under.
func AcceptedPolicy(ledger []ConsentEntry) string {
	var last, first ConsentEntry
	for _, e := range ledger {
		if e.ActionOf() == ActionAccept && !e.At.Before(last.At) {
			last = e
		}
		if first.At.IsZero() || e.At.Before(first.At) {
			first = e
		}
	}
	if last.Version() != "" {
		return last.Version()
	}
	return first.Version()
}

// CompareVersions orders policy versions ("1.10" after "1.9").
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		if c := cmp.Compare(len(x), len(y)); c != 0 {
			return c
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// IsNew reports whether a purpose is new to a person: introduced in a policy version later than
// the one they accepted, and not decided by them yet (the consent centre marks it).
func IsNew(ledger []ConsentEntry, p Purpose) bool {
	if p.Essential {
		return false
	}
	if _, decided := latest(ledger)[p.ID]; decided {
		return false
	}
	accepted := AcceptedPolicy(ledger)
	return accepted != "" && CompareVersions(p.Since, accepted) > 0
}

// SignalWithdrawals are the entries a request's privacy signals make (P09): each purpose the
// signals opt out of (Purpose.SignalOptOut) that is granted by a decision made without these
// signals present is withdrawn, with the signal as its source. A grant made while a signal was
// on is an explicit choice, and is honoured.
func SignalWithdrawals(ledger []ConsentEntry, signals []Source, policy PolicyRef, at time.Time) []ConsentEntry {
	if len(signals) == 0 {
		return nil
	}
	var out []ConsentEntry
	for _, p := range Catalogue().Purposes {
		e, ok := latest(ledger)[p.ID]
		if !p.SignalOptOut() || !ok || e.ActionOf() != ActionGrant {
			continue
		}
		if slices.ContainsFunc(signals, func(s Source) bool { return slices.Contains(e.Signals, s) }) {
			continue
		}
		w := Withdraw(p.ID, signals[0], policy, at)
		w.Signals = slices.Clone(signals)
		out = append(out, w)
	}
	return out
}

// ValidateChoices checks a person's choices (purpose ID -> granted) before anything is read or
// written: every purpose must be in the catalogue and not essential, and the cookie banner
// (SourceBanner) decides only the analytics purposes it offers.
func ValidateChoices(choices map[string]bool, src Source) error {
	if len(choices) == 0 {
		return FieldError("choices", "names no purpose")
	}
	cat := Catalogue()
	for id := range choices {
		p, ok := cat.Purpose(id)
		switch {
		case !ok:
			return FieldError("choices", "names %q, which is not a purpose of this portal", id)
		case p.Essential:
			return FieldError("choices", "%q is essential to the service and cannot be withdrawn; cancel the account instead", id)
		case src == SourceBanner && p.Category != CategoryAnalytics:
			return FieldError("choices", "%q is not decided in the cookie banner; use the consent centre", id)
		}
	}
	return nil
}

// Changes turns a person's choices (checked by ValidateChoices) into the ledger entries that
// change something, in catalogue order: a choice that matches the current state writes nothing.
func Changes(ledger []ConsentEntry, choices map[string]bool, src Source, signals []Source, policy PolicyRef, at time.Time) ([]ConsentEntry, error) {
	if err := ValidateChoices(choices, src); err != nil {
		return nil, err
	}
	state := ConsentState(ledger)
	var out []ConsentEntry
	for _, p := range Catalogue().Purposes {
		want, ok := choices[p.ID]
		if !ok || want == state[p.ID] {
			continue
		}
		e := Withdraw(p.ID, src, policy, at)
		if want {
			e = Grant(p.ID, src, policy, at)
		}
		e.Signals = slices.Clone(signals)
		out = append(out, e)
	}
	return out, nil
}

// AllowedUnder is Allowed for a request that carries privacy signals: with a signal on, a
// purpose the signals opt out of is allowed only by a grant the person made with that signal
// on (an explicit choice, which P09 honours).
func AllowedUnder(ledger []ConsentEntry, purpose string, signals []Source) bool {
	if !Allowed(ledger, purpose) {
		return false
	}
	p, _ := Catalogue().Purpose(purpose)
	if len(signals) == 0 || !p.SignalOptOut() {
		return true
	}
	e := latest(ledger)[purpose]
	return slices.ContainsFunc(signals, func(s Source) bool { return slices.Contains(e.Signals, s) })
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
