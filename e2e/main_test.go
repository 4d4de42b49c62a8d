package e2e

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/privacyportal/portal/infra/portaltest"
)

// localOnly are the tests that need more than the portal's HTTP API and its mailbox, with why.
// Against a deployed portal (PORTAL_URL, e.g. on LocalStack) they are left out, by name, and
// the run says so; the browser tests (named ...Browser...) are left out there too, by the
// make target, since they need the site and the API on one origin (CloudFront).
// TestLocalOnlyListsEveryTestThatNeedsTheLocalCloud keeps this list true.
var localOnly = map[string]string{
	"TestBrowserP14_APublishedBreachNoticeIsOnTheSiteInBothLanguages":             "publishes a notice as the operator into the site bucket",
	"TestP14_ACampaignSurvivesSESStoppingAndItsSenderDying":                       "seeds accounts, pauses the SES emulator and kills the sender with the local cloud's CrashOn",
	"TestP14_ABreachNoticeReachesThoseAffectedOnceInTheirLanguage":                "drives campaigns as the operator on the table, the plan queue and the site bucket",
	"TestP25_APolicyUpdateGoesToEveryActiveAccountAWeekAhead":                     "drives campaigns as the operator on the table and the plan queue",
	"TestP19_AMarketingCampaignReachesOnlyThoseWhoGrantItWithOneClickUnsubscribe": "puts SES's bounce event on the feedback queue and drives a campaign as the operator",
	"TestP12_AnErasureOutcomeNeverMailedKeepsNoAddress":                           "writes tombstones in the table and fires the deadlines schedule",
	"TestBrowserP03_P20_APersonCancelsAndNothingOfThemIsLeft":                     "scans the table and the buckets for what is left of the person",
	"TestP17_AnErasureKilledHalfwayIsRetriedAndCompletesOnce":                     "seeds the partition and kills the erasure worker with the local cloud's CrashOn",
	"TestP03_P20_CancellationStopsTheAccountAtOnceAndErasesEverything":            "scans the table and the buckets for what is left of the person",
	"TestP17_DeletionWaitsForTheOperatorOnAGroundThatNeedsADecision":              "reads the partition and the buckets, and decides as the operator on the erasure queue",
	"TestP04_P10_DisclosuresOnlyWithConsentDeIdentifiedAbroadAndAudited":          "reads what was disclosed from the outbox bucket",
	"TestP06_PageViewsAreCountedOnlyWithAnalyticsConsentAndNeverWithGPC":          "reads the page-view counter in the table",
	"TestP19_MarketingMailOnlyWithConsentAndOneClickUnsubscribe":                  "queues a campaign's mail and reads the IAM proxy's record of SES calls",
	"TestP25_AUserWhoAcceptedAnOlderVersionIsAskedToAcceptTheNewOne":              "rewrites an account's policy acceptance in the table",
	"TestAccountVerificationCodesAreSingleUseAndLimited":                          "waits for the mail worker's queue to empty before it counts mails",
	"TestIAMPoliciesGrantOnlyWhatTheFunctionsUse":                                 "asks the local cloud's IAM proxy which grants were used",
	"TestP11_AStrangersRegistrationDoesNotBlockTheOwner":                          "finds the owner's registration in the table",
	"TestP11_AddressesAreCanonical":                                               "counts the accounts of one address in the table",
	"TestP11_ProvingAnAddressActivatesOnlyTheOwnersCredentials":                   "checks that the replaced registration is gone from the table",
	"TestP11_RequestsMustBeTheSitesOwn":                                           "checks that refused requests stored nothing in the table",
	"TestP12_SweeperErasesUnderItsPolicy":                                         "runs the sweeper under another IAM policy in the local cloud",
	"TestP13_PasswordResetByMailedCode":                                           "waits for the mail worker's queue to empty before it counts mails",
	"TestAccountConcurrentRegistrations":                                          "counts the accounts in the table",
	"TestAccountNoEnumeration":                                                    "checks that the table holds no profile for a refused registration",
	"TestEventsRoundTripAndInvoke":                                                "invokes the functions directly, as Lambda would",
	"TestP01_RegistrationRequiresOnlyNameEmailUsernamePassword":                   "checks the items a registration stores",
	"TestP02_OptionalFieldsNeedTheirOwnConsentAndGateNothing":                     "checks the items and reads the built site's policy versions",
	"TestP13_PasswordsAreStrongHashedAndNeverReturned":                            "reads the stored hash, scans the table and the functions' logs for the password",
	"TestP15_AccountPageShowsEverythingHeld":                                      "compares the account page with the items in the table",
	"TestP16_ConcurrentUsernameChangesLeaveOneUsername":                           "reads the profile item after the race",
	"TestP24_UnderFourteenNeedsGuardian":                                          "moves a pending account's deadline in the table and fires the sweeper",
	"TestP25_StatusReportsThePolicyInForce":                                       "reads the built site's policy versions",
	"TestP26_ContactIsARequestWithTheSameDeadline":                                "answers the request as the operator does, on the table and the mail queue",
	"TestP23_RequestsAreProvedFirstTheSameForAnyAddressAndRefusedOnlyWithAGround": "finds the proved request in the account's partition and refuses it as the operator",
	"TestP16_CorrectionsAndExplanationsAreAnsweredFromTheRecord":                  "answers the requests as the operator does, on the table and the mail queue",
	"TestP21_CopyWithAThirdPartyAndSingleUseLinks":                                "waits for the mail worker's queue to empty before it counts mails",
	"TestRequestsRefuseBadInputAndChangeNothing":                                  "checks that refused codes left the request in the table unchanged",
	"TestP21_AnExportKilledMidUploadIsRetriedAndCompletesOnce":                    "kills the export worker in the local cloud and reads the exports bucket",
	"TestP23_DeadlinesRemindTheOperatorAndMarkOverdue":                            "moves due dates in the table and fires the deadlines function",
}

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("PORTAL_URL") != "" {
		names := make([]string, 0, len(localOnly))
		for name, why := range localOnly {
			names = append(names, regexp.QuoteMeta(name))
			fmt.Fprintf(os.Stderr, "left out against PORTAL_URL: %s (it %s)\n", name, why)
		}
		slices.Sort(names)
		skip := "^(" + strings.Join(names, "|") + ")$"
		if prev := flag.Lookup("test.skip").Value.String(); prev != "" {
			skip = prev + "|" + skip
		}
		if err := flag.Set("test.skip", skip); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(portaltest.Main(m))
}
