package privacy

import "time"

// AgeGroup is the answer to the registration's age question. The portal asks for the group,
// never a date of birth: it needs no more to keep promise P24.
type AgeGroup string

// Age groups.
const (
	AgeAdult AgeGroup = "14+"     // 14 or older
	AgeChild AgeGroup = "under14" // a child: the account waits for a guardian's consent
)

// AccountStatus is where an account is in its life.
type AccountStatus string

// Account states.
const (
	StatusUnverified AccountStatus = "unverified"       // e-mail not yet verified: cannot sign in
	StatusPending    AccountStatus = "pending_guardian" // under 14: waiting for the guardian
	StatusActive     AccountStatus = "active"
	// StatusErasing marks an account the sweeper is deleting: nothing may activate it now.
	StatusErasing AccountStatus = "erasing"
)

// Locales the portal writes mail in.
const (
	LocaleEnglish = "en"
	LocaleChinese = "zh-CN"
)

// Profile is the registration data every account has (promise P01).
type Profile struct {
	Name     string
	Email    string
	Username string
	Locale   string
	AgeGroup AgeGroup
}

// OptionalField is a profile field nobody has to give (promise P02). Each has its own consent
// purpose, and its value is stored only while that consent is granted.
type OptionalField struct {
	Key     string // the JSON name in the API
	Purpose Purpose
	MaxLen  int
}

// OptionalFields lists the optional profile fields, in display order.
var OptionalFields = []OptionalField{
	{Key: "mobile", Purpose: PurposeProfileMobile, MaxLen: 32},
	{Key: "jobPosition", Purpose: PurposeProfileJob, MaxLen: 100},
	{Key: "company", Purpose: PurposeProfileCompany, MaxLen: 100},
	{Key: "education", Purpose: PurposeProfileEdu, MaxLen: 100},
}

// LookupOptionalField returns the optional field with the given key.
func LookupOptionalField(key string) (OptionalField, bool) {
	for _, f := range OptionalFields {
		if f.Key == key {
			return f, true
		}
	}
	return OptionalField{}, false
}

// OptionalValue is a stored optional field with the consent it is kept under.
type OptionalValue struct {
	Value         string
	ConsentedAt   time.Time
	PolicyVersion string
}

// ConsentEntry is one line of a subject's append-only consent ledger (promise P18).
type ConsentEntry struct {
	Purpose       string
	Granted       bool
	At            time.Time
	PolicyVersion string
	// Source says where the decision was made (register, account, guardian...).
	Source string
}

// Session is a signed-in browser. Only a hash of its token is stored.
type Session struct {
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry records a change to a subject's data, in their own partition. It names fields,
// never their values.
type AuditEntry struct {
	At     time.Time
	Action string
	Fields []string
}

// Account is everything the portal holds about one registered subject.
type Account struct {
	SubjectID SubjectID
	Status    AccountStatus
	Profile   Profile
	// EmailVerified and GuardianConfirmed are the facts Status derives from.
	EmailVerified     bool
	GuardianConfirmed bool
	CreatedAt         time.Time
	PendingEmail      string
	Optional          map[string]OptionalValue
	Consents          []ConsentEntry
	Sessions          []Session
	Audit             []AuditEntry
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
