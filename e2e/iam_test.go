package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// TestP12_SweeperErasesUnderItsPolicy: the sweeper's policy is what AWS would enforce. Under
// the policy it first had (Query, GetItem, BatchWriteItem: no UpdateItem for the claim it
// makes before deleting), the sweep is refused and erases nothing, as it would in AWS; under
// the template's it erases the account that is due.
func TestP12_SweeperErasesUnderItsPolicy(t *testing.T) {
	cloud := portaltest.Cloud(t)
	p := newPerson("iamsweep")
	wantStatus(t, "register", newVisitor(t).register(p.form(nil)), http.StatusAccepted)
	id := subjectOfToken(tokenIn(t, waitMail(t, p.Email, kindVerify, 1), verifyRE))
	before := profileOf(partitionOf(t, id))
	if err := store(t).SetSweepAt(context.Background(), privacy.SubjectID(id), time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("move the due date: %v", err)
	}

	first, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect":   "Allow",
		"Action":   []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchWriteItem"},
		"Resource": []string{cloud.ARN("PortalTable"), cloud.ARN("PortalTable") + "/index/GSI2"},
	}}})
	if err := cloud.SetPolicy("SweeperFunction", string(first)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.ResetPolicy("SweeperFunction") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	from := len(cloud.IAMCalls())
	if err := cloud.FireSchedule(ctx, "SweeperFunction"); err == nil {
		t.Error("the sweep under its first policy reported no error")
	}
	denied := false
	for _, c := range cloud.IAMCalls()[from:] {
		if c.Function == "SweeperFunction" && !c.Allowed && c.Action == "dynamodb:UpdateItem" {
			denied = true
		}
	}
	if !denied {
		t.Error("no dynamodb:UpdateItem refused to the sweeper under its first policy")
	}
	if profileOf(partitionOf(t, id)) == nil {
		t.Fatal("the sweep under its first policy deleted the account")
	}

	if err := cloud.ResetPolicy("SweeperFunction"); err != nil {
		t.Fatal(err)
	}
	if err := cloud.FireSchedule(ctx, "SweeperFunction"); err != nil {
		t.Fatalf("the sweep under the template's policy: %v", err)
	}
	assertErased(t, id, before)
}

// TestIAMPoliciesGrantOnlyWhatTheFunctionsUse walks every path of the account, consent,
// requests, erasure and notices families (and the status, sweeper and deadlines functions) through the API, the mail worker and the sweeper, then asks
// the local cloud's IAM proxy which actions each function's policy allows that no call used:
// there must be none, and none of the walk's calls may have been refused.
func TestIAMPoliciesGrantOnlyWhatTheFunctionsUse(t *testing.T) {
	cloud := portaltest.Cloud(t)
	from := len(cloud.IAMCalls())

	wantStatus(t, "status", newVisitor(t).do("GET", "/api/status", nil), http.StatusOK)

	// Register, verify, sign in, read, edit, change address, username and password, reset it,
	// sign out everywhere.
	p := newPerson("iamtour")
	v, _ := mustActive(t, p, map[string]any{"mobile": "+44 20 7946 0000", "consents": []string{"profile.mobile"}})
	wantStatus(t, "a wrong password", newVisitor(t).signIn(p.Email, "wrong "+p.Password), http.StatusUnauthorized)
	wantStatus(t, "edit", v.patch(map[string]any{"name": "Ada King", "mobile": ""}), http.StatusOK)
	newEmail := uniq("iamtour") + "@example.com"
	wantStatus(t, "change address", v.patch(map[string]any{"email": newEmail, "username": uniq("iamtour"), "currentPassword": p.Password}), http.StatusOK)
	code := codeIn(t, waitMail(t, newEmail, kindNewEmailVerify, 1))
	wantStatus(t, "confirm address", v.do("POST", "/api/account/email", map[string]string{"code": code}), http.StatusOK)
	const changed = "a changed pass phrase for the tour"
	wantStatus(t, "change password", v.do("POST", "/api/account/password", map[string]string{"currentPassword": p.Password, "newPassword": changed}), http.StatusOK)
	wantStatus(t, "request a reset", newVisitor(t).do("POST", "/api/password/reset", map[string]string{"email": newEmail}), http.StatusAccepted)
	reset := codeIn(t, waitMail(t, newEmail, kindReset, 1))
	wantStatus(t, "reset", newVisitor(t).do("POST", "/api/password/reset/confirm", map[string]string{"email": newEmail, "code": reset, "newPassword": changed + " again"}), http.StatusOK)
	w := newVisitor(t)
	wantStatus(t, "sign in", w.signIn(newEmail, changed+" again"), http.StatusOK)
	wantStatus(t, "sign out everywhere", w.do("DELETE", "/api/sessions", nil), http.StatusNoContent)

	// An attempt on the owned address, a replaced registration, a resend, an unverified sign-in.
	q := newPerson("iamtour")
	q.Email = newEmail
	wantStatus(t, "register an owned address", newVisitor(t).register(q.form(nil)), http.StatusAccepted)
	waitMail(t, newEmail, kindAlready, 1)
	r := newPerson("iamtour")
	wantStatus(t, "register", newVisitor(t).register(r.form(nil)), http.StatusAccepted)
	waitMail(t, r.Email, kindVerify, 1)
	r2 := newPerson("iamtour")
	r2.Email = r.Email
	wantStatus(t, "replace the registration", newVisitor(t).register(r2.form(nil)), http.StatusAccepted)
	wantStatus(t, "resend", newVisitor(t).do("POST", "/api/verify/resend", map[string]string{"email": r.Email}), http.StatusAccepted)
	wantStatus(t, "sign in unverified", newVisitor(t).signIn(r2.Email, r2.Password), http.StatusForbidden)

	// The consent centre: choices (one a disclosure, one tracked marketing mail), a receipt, a
	// policy acceptance, a page view and an unsubscribe.
	cv := w
	wantStatus(t, "sign in again", cv.signIn(newEmail, changed+" again"), http.StatusOK)
	c := cv.choose(map[string]bool{"marketing": true, "email.analytics": true, "share.support": true})
	wantStatus(t, "receipt", cv.do("GET", "/api/consent/receipts/"+c.Receipt.ID, nil), http.StatusOK)
	wantStatus(t, "accept the policy", cv.do("POST", "/api/consent/policy", map[string]string{"version": c.Policy.InForce}), http.StatusOK)
	ev := newVisitor(t)
	ev.header = func(h http.Header) { h.Set("Cookie", "cc_cookie="+url.QueryEscape(`{"categories":["analytics"]}`)) }
	wantStatus(t, "page view", ev.do("POST", "/api/events", map[string]string{"type": "pageview", "path": "/"}), http.StatusNoContent)
	title := sendCampaign(t, string(subjectOf(t, cv)))
	m := waitMail(t, newEmail, title, 1)
	if match := linkTokenRE.FindStringSubmatch(m.Body.Text); match != nil {
		token, _ := url.QueryUnescape(match[1])
		wantStatus(t, "unsubscribe", newVisitor(t).do("POST", "/api/unsubscribe", map[string]string{"token": token}), http.StatusOK)
	}
	waitMail(t, newEmail, kindReceipt, 2)
	waitSettled(t)
	cv.choose(map[string]bool{"share.support": false}) // takes back what the affiliate has not collected
	waitMail(t, newEmail, kindReceipt, 3)

	// A child the guardian confirms, one the guardian refuses, one the sweeper erases.
	wantStatus(t, "confirm", registerChild(t, "iamok").guardianSays(t, "confirm"), http.StatusOK)
	no := registerChild(t, "iamno")
	wantStatus(t, "refuse", no.guardianSays(t, "refuse"), http.StatusOK)
	late := registerChild(t, "iamlate")
	if err := store(t).SetSweepAt(context.Background(), privacy.SubjectID(late.id), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cloud.FireSchedule(ctx, "SweeperFunction"); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	waitErased(t, no.id, no.profileBefore)
	waitSettled(t)

	// Data-subject requests: a visitor's access request for an account's address (proved by
	// code, moved into the account, exported), a signed-in copy for a third party (its link,
	// the confirmation, the third party's link), the status link, the list, and the deadlines
	// function reminding the operator.
	rp := newPerson("iamreq")
	rv, _ := mustActive(t, rp, nil)
	access := fileAsVisitor(t, rp.Email, 1, map[string]any{"type": "access"})
	access.status(t)
	waitMail(t, rp.Email, kindExportReady, 1)
	wantStatus(t, "a signed-in copy", rv.fileRequest(map[string]any{"type": "copy", "thirdParty": uniq("iamreq") + "@example.org", "password": rp.Password}), http.StatusCreated)
	wantStatus(t, "the list", rv.do("GET", "/api/requests", nil), http.StatusOK)
	ready := waitMail(t, rp.Email, kindExportReady, 2)
	archiveAt(t, follow(t, exportLinkRE.FindStringSubmatch(ready.Body.Text)[1]))
	share := shareLinkRE.FindStringSubmatch(waitMail(t, rp.Email, kindShareConfirm, 1).Body.Text)
	shareID, _ := url.QueryUnescape(share[1])
	wantStatus(t, "confirm the share", newVisitor(t).do("POST", "/api/exports/"+url.PathEscape(shareID)+"/share", map[string]string{"token": share[2]}), http.StatusOK)
	contact := fileAsVisitor(t, uniq("iamreq")+"@example.com", 1, map[string]any{"type": "contact", "details": "Hello."})
	shiftDue(t, contact.id, time.Now().Add(2*24*time.Hour))
	// An erasure whose outcome mail never went: the deadlines function drops its address.
	old := time.Now().Add(-erasure.NoticeLife - time.Hour)
	if err := store(t).PutTombstone(context.Background(), privacy.Tombstone{Request: privacy.NewID(), SubjectHash: "iam", Started: old,
		State: privacy.ErasureDone, Notice: &privacy.ErasureNotice{Email: uniq("iamstale") + "@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := cloud.FireSchedule(ctx, "DeadlinesFunction"); err != nil {
		t.Fatalf("deadlines: %v", err)
	}
	waitSettled(t)

	// Campaigns: a breach notice to those holding a phone number, a marketing campaign to
	// everyone (only those who grant it get it), after a bounce that suppresses an address.
	bounce := fmt.Sprintf(`{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":%q}]}}`, uniq("iambounce")+"@example.com")
	if _, err := cloud.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(cloud.Names["NoticeFeedbackQueue"]), MessageBody: aws.String(bounce)}); err != nil {
		t.Fatal(err)
	}
	mustActive(t, newPerson("iamnotice"), map[string]any{"mobile": "+44 20 7946 0199", "consents": []string{"profile.mobile"}})
	for _, c := range []notices.Campaign{
		breach("IAM breach "+uniq("c"), notices.Audience{Holding: "mobile"}),
		{Kind: notices.KindMarketing, Title: text("IAM news", "新闻"), Audience: notices.Audience{All: true},
			Paragraphs: map[string][]string{privacy.LocaleEnglish: {"News."}, privacy.LocaleChinese: {"新闻。"}}},
	} {
		created, err := campaigns(t).Create(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns(t).Start(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		waitCampaign(t, created.ID, 3*time.Minute)
	}

	// Erasure: the same person, with archives, a copy shared with a third party and a
	// disclosure to the affiliate, cancels; everything goes, the affiliate is told, the
	// outcome is mailed.
	rv.choose(map[string]bool{"share.support": true})
	waitSettled(t)
	wantStatus(t, "cancel", rv.fileRequest(map[string]any{"type": "cancellation", "password": rp.Password}), http.StatusCreated)
	waitMail(t, rp.Email, kindCancelled, 1)
	waitSettled(t)

	var refused []string
	for _, c := range cloud.IAMCalls()[from:] {
		if !c.Allowed {
			refused = append(refused, fmt.Sprintf("%s %s on %s", c.Function, c.Action, c.Resource))
		}
	}
	if len(refused) > 0 {
		t.Errorf("calls refused on the walk:\n%s", strings.Join(refused, "\n"))
	}
	for fn, grants := range cloud.UnusedGrants() {
		for _, g := range grants {
			if why, ok := unusedOnPurpose[fn+" "+g.Action]; ok {
				t.Logf("%s keeps %s unused on the walk: %s", fn, g.Action, why)
				continue
			}
			t.Errorf("%s is granted %s on %s (%s), which nothing it does uses", fn, g.Action, strings.Join(g.Resources, ", "), g.Source)
		}
	}
}

// unusedOnPurpose are grants the walk cannot use, with why they are kept.
var unusedOnPurpose = map[string]string{
	"NoticeFeedbackFunction dynamodb:UpdateItem": "only the Send event of a mail whose sender died before recording it " +
		"ends its delivery (a read finds every other one ended); TestP14_ACampaignSurvivesSESStoppingAndItsSenderDying " +
		"kills a sender and takes that path under the same policy",
	"ExportFunction s3:DeleteObject": "only an export that finishes after its subject's erasure deletes its own archive " +
		"(internal/requests.Exporter); the unit tests prove that path",
	"ExportFunction s3:AbortMultipartUpload": "only an export of more than one part (5 MiB) that fails aborts its upload; " +
		"without the grant its parts would stay until the bucket's lifecycle removes them a day later",
}

// subjectOf is a signed-in visitor's subject ID.
func subjectOf(t *testing.T, v *visitor) string {
	t.Helper()
	return v.account().SubjectID
}
