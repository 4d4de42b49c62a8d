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
	RequestExplanation  RequestType = "explanation"  // explain an automated decision (P22)
	RequestComplaint    RequestType = "complaint"    // complain about how a request was handled (P23)
	RequestContact      RequestType = "contact"      // any question for the protection officer (P26)
)

// RequestTypes lists every request type.
var RequestTypes = []RequestType{
	RequestAccess, RequestCorrection, RequestDeletion, RequestCancellation,
	RequestCopy, RequestExplanation, RequestComplaint, RequestContact,
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

// ResponseDays is how long the portal has to answer a request (policy sections 5 and 9).
const ResponseDays = 30

// DueDate is when a request received at received must be answered: ResponseDays calendar
// days later, at the same instant, in UTC.
func DueDate(received time.Time) time.Time {
	return received.UTC().AddDate(0, 0, ResponseDays)
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
