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

// LocalePath is a site path in a locale's pages: the Chinese site lives under /zh/.
func LocalePath(locale, path string) string {
	if locale == LocaleChinese {
		return "/zh" + path
	}
	return path
}

// Profile is the registration data every account has (promise P01).
type Profile struct {
	Name     string
	Email    string
	Username string
	Locale   string
	AgeGroup AgeGroup
}

// OptionalValue is a stored optional field with the consent it is kept under.
type OptionalValue struct {
	Value         string
	ConsentedAt   time.Time
	PolicyVersion string
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
	// ID, when set, names the entry so that writing it twice (a retried job) writes it once.
	ID string
}

// Account is who a registered subject is and where their account stands: the one item every
// account has, without the lists (consents, sessions, audit) that grow with its age.
type Account struct {
	SubjectID SubjectID
	Status    AccountStatus
	Profile   Profile
	// EmailVerified and GuardianConfirmed are the facts Status derives from.
	EmailVerified     bool
	GuardianConfirmed bool
	CreatedAt         time.Time
	PendingEmail      string
	// EmailKey and UsernameKey are the keys of the account's look-up items.
	EmailKey, UsernameKey string
}

// Login is what signing in needs: the account and its password hash.
type Login struct {
	Account      Account
	PasswordHash string
}

// Editable is what a correction of the account needs to validate: the account, its password
// hash (changing the address or the username needs the password), its optional values and its
// consent ledger.
type Editable struct {
	Account      Account
	PasswordHash string
	Optional     map[string]OptionalValue
	Consents     []ConsentEntry
}

// Record is everything the portal holds about one registered subject (promise P15).
type Record struct {
	Account       Account
	Optional      map[string]OptionalValue
	Consents      []ConsentEntry
	Sessions      []Session
	Audit         []AuditEntry
	Guardian      *GuardianRequest
	Verifications map[VerificationKind]Verification
	// Requests are the person's data-subject requests; Decisions the automated decisions
	// recorded about them (P22).
	Requests  []Request
	Decisions []Decision
}
