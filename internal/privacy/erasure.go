package privacy

import "time"

// ErasureState is where the erasure of a subject stands.
type ErasureState string

// Erasure states.
const (
	ErasureRunning ErasureState = "erasing"
	ErasureDone    ErasureState = "erased"
	// ErasureFailed: the verification after erasure found something of the subject left. The
	// job fails (and is tried again, then dead-lettered); the operator is alarmed.
	ErasureFailed ErasureState = "failed"
)

// Tombstone is what is left of a subject after erasure (P17, P20): proof that the request was
// carried out, which identifies no one. It names the request by its own ID (never the
// subject's), and keeps the subject only as SubjectHash, a keyed hash that finds nothing without
// the portal's key, so that a restore from backup can re-apply the erasure.
type Tombstone struct {
	// Request is the request's own ID; Type and Ground what it asked for.
	Request string
	Type    RequestType
	Ground  DeletionGround
	// SubjectHash is the keyed hash of the subject's ID (DomainTombstone).
	SubjectHash string
	// Received and Due are the request's dates; Started and Erased when the work ran.
	Received, Due, Started, Erased time.Time
	State                          ErasureState
	// Items counts the items of the subject's partition by kind, as the erasure found them;
	// Lookups the look-up items and Objects the stored objects (archives, disclosures it
	// removed).
	Items            map[string]int
	Lookups, Objects int
	// RecipientsTold are the catalogue's recipients told to delete what they received.
	RecipientsTold []string
	// Verified says the search after erasure found nothing; Found lists where it found
	// something, when it did.
	Verified bool
	Found    []string
	// Notice is what the outcome mail needs, kept only until it is sent.
	Notice *ErasureNotice
	// ExpiresAt is when the tombstone itself goes (it must outlive the backups).
	ExpiresAt time.Time
}

// ErasureNotice is what the outcome of an erasure is mailed with: the requester's address and
// language, and the look-up keys the verification searches for. It identifies the person, so
// it lives in the tombstone only until the mail is sent.
type ErasureNotice struct {
	Email, Locale string
	// StatusPath is the request's status page on the site (with its link's token), where the
	// outcome stays readable.
	StatusPath string
	// RequestID is the request's public ID, which names the subject.
	RequestID             string
	EmailKey, UsernameKey string
	// Independent are the third parties the person had a copy sent to: recipients of their
	// own choosing, whom the outcome mail names rather than the portal telling them.
	Independent []string
}

// ItemsRemoved is how many items the erasure removed from the partition.
func (t Tombstone) ItemsRemoved() int {
	n := 0
	for _, c := range t.Items {
		n += c
	}
	return n
}
