package privacy

// Purpose is one thing personal data may be used for. Processing beyond what the service
// needs requires the subject's consent for that purpose, recorded in their consent ledger.
type Purpose struct {
	ID string
	// Required purposes are the service itself: they need no consent and cannot be refused
	// short of cancelling the account.
	Required bool
	// Marketing purposes are withdrawable from every marketing mail (one-click unsubscribe).
	Marketing bool
	// Since is the policy version that introduced the purpose. A purpose added later starts
	// as "not granted" for everyone (promise P06).
	Since string
}

// The purpose catalogue, version 1. Every optional field and permission has its own purpose,
// so none of them can gate anything else (promises P02, P05).
var (
	PurposeService        = Purpose{ID: "service", Required: true, Since: "1.0"}
	PurposeProfileMobile  = Purpose{ID: "profile.mobile", Since: "1.0"}
	PurposeProfileJob     = Purpose{ID: "profile.job", Since: "1.0"}
	PurposeProfileCompany = Purpose{ID: "profile.company", Since: "1.0"}
	PurposeProfileEdu     = Purpose{ID: "profile.education", Since: "1.0"}
	PurposePhotos         = Purpose{ID: "permission.photos", Since: "1.0"}
	PurposeAnalytics      = Purpose{ID: "analytics", Since: "1.0"}
	PurposeMarketing      = Purpose{ID: "marketing", Marketing: true, Since: "1.0"}
	PurposeEmailAnalytics = Purpose{ID: "email.analytics", Since: "1.0"}
	PurposeCrossBorder    = Purpose{ID: "transfer.crossborder", Since: "1.0"}
)

// Purposes is the catalogue in display order.
var Purposes = []Purpose{
	PurposeService,
	PurposeProfileMobile, PurposeProfileJob, PurposeProfileCompany, PurposeProfileEdu,
	PurposePhotos, PurposeAnalytics, PurposeMarketing, PurposeEmailAnalytics, PurposeCrossBorder,
}

// LookupPurpose returns the purpose with the given ID.
func LookupPurpose(id string) (Purpose, bool) {
	for _, p := range Purposes {
		if p.ID == id {
			return p, true
		}
	}
	return Purpose{}, false
}
