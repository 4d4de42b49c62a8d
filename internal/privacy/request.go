package privacy

import "time"

// RequestType is a kind of data-subject request (policy section 5) or contact (section 9).
type RequestType string

// Request types. Every one is verified before work starts and answered within ResponseDays.
const (
	RequestAccess       RequestType = "access"       // see all data held (P15)
	RequestCorrection   RequestType = "correction"   // correct data (P16)
	RequestDeletion     RequestType = "deletion"     // delete on one of the deletion grounds (P17)
	RequestCancellation RequestType = "cancellation" // cancel the account, then erase (P03, P20)
	RequestCopy         RequestType = "copy"         // export, optionally to a third party (P21)
	RequestWithdrawal   RequestType = "withdrawal"   // withdraw consent (P18), for those who cannot sign in
	RequestExplanation  RequestType = "explanation"  // explain an automated decision (P22)
	RequestComplaint    RequestType = "complaint"    // complain about how a request was handled (P23)
	RequestContact      RequestType = "contact"      // any question for the protection officer (P26)
)

// RequestTypes lists every request type.
var RequestTypes = []RequestType{
	RequestAccess, RequestCorrection, RequestDeletion, RequestCancellation,
	RequestCopy, RequestWithdrawal, RequestExplanation, RequestComplaint, RequestContact,
}

// NeedsDetails reports whether a request of the type must say what it is about.
func (t RequestType) NeedsDetails() bool {
	return t == RequestCorrection || t == RequestExplanation || t == RequestComplaint || t == RequestContact || t == RequestWithdrawal
}

// NeedsPassword reports whether a signed-in person re-enters their password for the type: the
// requests that end the account or hand its data out.
func (t RequestType) NeedsPassword() bool {
	return t == RequestDeletion || t == RequestCancellation || t == RequestCopy
}

// Valid reports whether t is a known request type.
func (t RequestType) Valid() bool {
	for _, k := range RequestTypes {
		if k == t {
			return true
		}
	}
	return false
}

// ResponseDays is how long the portal has to answer a request (policy sections 5 and 9), unless
// the operator's configuration says otherwise (DueDateIn).
const ResponseDays = 30

// DueDate is when a request received at received must be answered: ResponseDays calendar
// days later, at the same instant, in UTC.
func DueDate(received time.Time) time.Time {
	return DueDateIn(received, ResponseDays)
}

// DueDateIn is DueDate with another number of days.
func DueDateIn(received time.Time, days int) time.Time {
	return received.UTC().AddDate(0, 0, days)
}

// RequestStatus is where a request stands.
type RequestStatus string

// Request statuses, in the order a request goes through them.
const (
	RequestReceived   RequestStatus = "received"    // filed, the requester not yet proved
	RequestVerified   RequestStatus = "verified"    // the requester proved control of the address
	RequestInProgress RequestStatus = "in_progress" // the operator (or a worker) is on it
	RequestCompleted  RequestStatus = "completed"
	RequestRefused    RequestStatus = "refused"
	RequestExpired    RequestStatus = "expired" // never proved in time: nothing was done
)

// Open reports whether a request still waits for its answer (and its due date counts).
func (s RequestStatus) Open() bool {
	return s == RequestVerified || s == RequestInProgress
}

// RequestStep is one step of a request, with its time.
type RequestStep struct {
	Status RequestStatus
	At     time.Time
}

// Refusal is why a request was refused: one of the grounds, explained plainly.
type Refusal struct {
	Ground RefusalGround
	Reason string
}

// Request is a data-subject request, kept in its subject's partition.
type Request struct {
	ID      string
	Subject SubjectID
	Type    RequestType
	Status  RequestStatus
	// Email is where the requester is answered; Locale the language of the answers.
	Email, Locale string
	Received, Due time.Time
	// Details say what the request is about, in the requester's words; Ground is a deletion's
	// ground; ThirdParty is where a copy also goes, once the requester confirms again.
	Details    string
	Ground     DeletionGround
	ThirdParty string
	Steps      []RequestStep
	Refusal    *Refusal
	// Outcome is the answer, in plain words (a completed correction, an explanation).
	Outcome string
	// Repeat flags the same type asked again within the window beyond the free count (P23):
	// the operator decides (a fee notice or a refusal).
	Repeat bool
}

// RequestID is a request's public ID: the subject whose partition holds it, and the request's
// own ID. (A visitor's request changes partition when it is proved, so its ID before is not its
// ID after; only the mailed status link names the final one.)
func RequestID(subject SubjectID, request string) string { return string(subject) + "." + request }

// PublicID is the request's public ID (RequestID).
func (r Request) PublicID() string { return RequestID(r.Subject, r.ID) }

// Valid reports whether g is a known refusal ground.
func (g RefusalGround) Valid() bool {
	for _, k := range RefusalGrounds {
		if k == g {
			return true
		}
	}
	return false
}

// Valid reports whether g is a known deletion ground.
func (g DeletionGround) Valid() bool {
	for _, k := range DeletionGrounds {
		if k == g {
			return true
		}
	}
	return false
}

// Repeats is the rule for repeated requests (P23): within Window, the first Free requests of a
// type are free; more are flagged for the operator.
type Repeats struct {
	Window time.Duration
	Free   int
}

// Counted is how many of the person's earlier requests count towards the rule for a new
// request of type t at now: those of the type, proved, received within the window.
func (r Repeats) Counted(earlier []Request, t RequestType, now time.Time) int {
	n := 0
	for _, q := range earlier {
		if q.Type == t && q.Status != RequestReceived && q.Status != RequestExpired && now.Sub(q.Received) < r.Window {
			n++
		}
	}
	return n
}

// IsRepeat reports whether a new request of type t at now is a repeat, given the person's
// earlier requests: Free of them count already. Requests never proved do not count.
func (r Repeats) IsRepeat(earlier []Request, t RequestType, now time.Time) bool {
	return r.Counted(earlier, t, now) >= r.Free
}

// Decision is an automated decision that affected a subject, recorded with its inputs and the
// version of the logic that made it, so that an explanation can be given on request (P22).
type Decision struct {
	At           time.Time
	Name         string // e.g. "request.repeat", "account.guardian_required"
	LogicVersion string
	Inputs       map[string]string
	Outcome      string
}

// DeletionGround is one of the five grounds on which a person may ask for deletion (P17).
type DeletionGround string

// Deletion grounds, in the policy's order.
const (
	GroundUnlawful     DeletionGround = "unlawful_processing" // processing breaks the law
	GroundNoConsent    DeletionGround = "no_consent"          // collected or used without consent
	GroundBreach       DeletionGround = "agreement_breach"    // processing breaks our agreement
	GroundLeftService  DeletionGround = "left_service"        // no longer uses the service or cancelled
	GroundServiceEnded DeletionGround = "service_ended"       // we no longer provide the service
)

// DeletionGrounds lists every deletion ground.
var DeletionGrounds = []DeletionGround{GroundUnlawful, GroundNoConsent, GroundBreach, GroundLeftService, GroundServiceEnded}

// RefusalGround is a reason the portal may refuse a request; a refusal always names one and
// explains it to the requester (P23).
type RefusalGround string

// Refusal grounds: the five legal exceptions of the policy, then the limits on unreasonable
// requests it lists.
const (
	RefuseNationalSecurity RefusalGround = "national_security"    // national security and defence
	RefusePublicInterest   RefusalGround = "public_interest"      // public safety, health, major public interest
	RefuseCriminal         RefusalGround = "criminal_proceedings" // criminal investigation, prosecution, trial
	RefuseAbuse            RefusalGround = "abuse_of_rights"      // evidence of malice or abuse of rights
	RefuseHarmsOthers      RefusalGround = "harms_others"         // answering would seriously harm others
	RefuseRepeated         RefusalGround = "unreasonably_repeated"
	RefuseImpractical      RefusalGround = "technically_impractical"
	RefuseRisksOthers      RefusalGround = "risks_others_rights"
)

// RefusalGrounds lists every refusal ground.
var RefusalGrounds = []RefusalGround{
	RefuseNationalSecurity, RefusePublicInterest, RefuseCriminal, RefuseAbuse, RefuseHarmsOthers,
	RefuseRepeated, RefuseImpractical, RefuseRisksOthers,
}
