package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// TestP26_ContactIsARequestWithTheSameDeadline: a visitor with no account writes to the
// protection officer. Nothing is done until the address is proved by the mailed code; then the
// receipt gives the due date (received + 30 days) and a status link, and each step the operator
// takes is kept, time-stamped, and mailed (P23, P26).
func TestP26_ContactIsARequestWithTheSameDeadline(t *testing.T) {
	email := uniq("p26") + "@example.com"
	v := newVisitor(t)
	r := v.fileRequest(map[string]any{"type": "contact", "email": email, "details": "Who is your protection officer?"})
	wantStatus(t, "file", r, http.StatusAccepted)
	id := filed(t, r)
	code := codeIn(t, waitMail(t, email, kindRequestCode, 1))
	if m := waitMail(t, email, kindRequestCode, 1); strings.Contains(m.Body.Text, "protection officer?") {
		t.Error("the code mail repeats what the requester typed, before the address is proved")
	}
	subject, rid, _ := requests.SplitID(id)
	if got, err := store(t).Request(context.Background(), subject, rid); err != nil || got.Status != privacy.RequestReceived {
		t.Fatalf("before the code: %v, %+v", err, got)
	}
	if n := len(mailsTo(allMail(t), email, kindRequestReceipt)); n != 0 {
		t.Fatalf("%d receipts before the request was proved", n)
	}
	wantField(t, "a wrong code", v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": wrongCode(code)}), "code")
	wantStatus(t, "the code", v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": code}), http.StatusOK)
	wantField(t, "the code again", v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": code}), "code")

	receipt := waitMail(t, email, kindRequestReceipt, 1)
	link := statusLinkIn(t, receipt)
	got := link.status(t)
	if got.Type != "contact" || got.Status != "verified" || !got.Due.Equal(got.Received.AddDate(0, 0, 30)) {
		t.Fatalf("status = %+v, want a verified contact due 30 days after it was received", got)
	}
	if due := got.Due.UTC().Format("2 January 2006"); !strings.Contains(receipt.Body.Text, due) {
		t.Errorf("the receipt does not say the due date %s:\n%s", due, receipt.Body.Text)
	}

	op := operator(t)
	if _, err := op.Start(context.Background(), link.id); err != nil {
		t.Fatal(err)
	}
	waitMail(t, email, kindRequestStarted, 1)
	if _, err := op.Complete(context.Background(), link.id, "Our protection officer is Grace Hopper, dpo@example.com."); err != nil {
		t.Fatal(err)
	}
	answer := waitMail(t, email, kindRequestAnswer, 1)
	if !strings.Contains(answer.Subject, "completed") || !strings.Contains(answer.Body.Text, "Grace Hopper") {
		t.Errorf("the answer mail %q does not carry the answer:\n%s", answer.Subject, answer.Body.Text)
	}
	got = link.status(t)
	if !slices.Equal(got.steps(), []string{"received", "verified", "in_progress", "completed"}) || got.Outcome == "" {
		t.Errorf("steps %v, outcome %q", got.steps(), got.Outcome)
	}
	for i := 1; i < len(got.Steps); i++ {
		if got.Steps[i].At.Before(got.Steps[i-1].At) {
			t.Errorf("steps out of time order: %+v", got.Steps)
		}
	}
	if _, err := op.Complete(context.Background(), link.id, "again"); privacy.ErrorCode(err) != privacy.Conflict {
		t.Errorf("completing a completed request: %v, want a conflict", err)
	}
}

// TestP23_RequestsAreProvedFirstTheSameForAnyAddressAndRefusedOnlyWithAGround: the intake
// answers alike whether or not an address has an account; a request proved for an account's
// address joins the account (the signed-in list and the account page show it); a refusal names
// one of the policy's grounds, explains it, and says how to complain.
func TestP23_RequestsAreProvedFirstTheSameForAnyAddressAndRefusedOnlyWithAGround(t *testing.T) {
	p := newPerson("p23")
	v, id := mustActive(t, p, nil)
	stranger := uniq("p23none") + "@example.com"
	a := newVisitor(t).fileRequest(map[string]any{"type": "correction", "email": p.Email, "details": "My company name is wrong."})
	b := newVisitor(t).fileRequest(map[string]any{"type": "correction", "email": stranger, "details": "My company name is wrong."})
	wantStatus(t, "an owner's address", a, http.StatusAccepted)
	wantStatus(t, "nobody's address", b, http.StatusAccepted)
	var fa, fb map[string]string
	_ = json.Unmarshal(a.Body, &fa)
	_ = json.Unmarshal(b.Body, &fb)
	if fa["status"] != fb["status"] || len(fa["request"]) != len(fb["request"]) || len(fa) != len(fb) {
		t.Errorf("the answers tell the addresses apart: %s / %s", a.Body, b.Body)
	}
	if n := requestItems(t, id); n != 0 {
		t.Fatalf("%d requests in the account before the address was proved", n)
	}

	code := codeIn(t, waitMail(t, p.Email, kindRequestCode, 1))
	wantStatus(t, "prove", newVisitor(t).do("POST", "/api/requests/"+url.PathEscape(filed(t, a))+"/verify", map[string]string{"code": code}), http.StatusOK)
	link := statusLinkIn(t, waitMail(t, p.Email, kindRequestReceipt, 1))
	if subject, _, _ := requests.SplitID(link.id); string(subject) != id {
		t.Fatalf("the proved request is under %s, not the account %s", subject, id)
	}
	if n := requestItems(t, id); n != 1 {
		t.Fatalf("%d requests in the account after proof, want 1", n)
	}
	subject, rid, _ := requests.SplitID(filed(t, a))
	if _, err := store(t).Request(context.Background(), subject, rid); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("the unproved copy is still there: %v", err)
	}
	list := v.do("GET", "/api/requests", nil)
	wantStatus(t, "the signed-in list", list, http.StatusOK)
	if !strings.Contains(string(list.Body), link.id) {
		t.Errorf("the signed-in list does not show the request: %s", list.Body)
	}
	if acc := v.account(); len(acc.Requests) != 1 || acc.Requests[0].ID != link.id {
		t.Errorf("the account page shows requests %+v", acc.Requests)
	}

	op := operator(t)
	if _, err := op.Refuse(context.Background(), link.id, "because", "No reason."); privacy.ErrorCode(err) != privacy.Invalid {
		t.Errorf("a refusal on no ground of the policy: %v", err)
	}
	if _, err := op.Refuse(context.Background(), link.id, privacy.RefuseImpractical, ""); privacy.ErrorCode(err) != privacy.Invalid {
		t.Errorf("a refusal with no reason: %v", err)
	}
	if got := link.status(t); got.Status != "verified" {
		t.Fatalf("refusals that were refused changed the request: %+v", got)
	}
	const reason = "The records you name were never held in this portal."
	if _, err := op.Refuse(context.Background(), link.id, privacy.RefuseImpractical, reason); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, p.Email, kindRequestAnswer, 1)
	if !strings.Contains(m.Subject, "declined") || !strings.Contains(m.Body.Text, reason) ||
		!strings.Contains(m.Body.Text, "/requests/?type=complaint&about="+url.QueryEscape(link.id)) {
		t.Errorf("the refusal mail %q lacks its reason or the way to complain:\n%s", m.Subject, m.Body.Text)
	}
	got := link.status(t)
	if got.Status != "refused" || got.Refusal == nil || got.Refusal.Ground != string(privacy.RefuseImpractical) || got.Refusal.Reason != reason {
		t.Errorf("status after the refusal = %+v", got)
	}
	// A complaint about it is a request like the others.
	complaint := fileAsVisitor(t, p.Email, 2, map[string]any{"type": "complaint", "details": "I disagree with " + link.id})
	if c := complaint.status(t); c.Type != "complaint" || c.Status != "verified" {
		t.Errorf("the complaint = %+v", c)
	}
}

// TestP16_CorrectionsAndExplanationsAreAnsweredFromTheRecord: a signed-in person asks for a
// correction of what they cannot edit, and, having asked three times for the same thing in the
// window, is flagged as a repeat (an automated decision, recorded with its inputs); an
// explanation request is then answered from that record (P16, P22, P23).
func TestP16_CorrectionsAndExplanationsAreAnsweredFromTheRecord(t *testing.T) {
	p := newPerson("p16")
	v, _ := mustActive(t, p, nil)
	var ids []string
	for i := range 3 {
		r := v.fileRequest(map[string]any{"type": "correction", "details": fmt.Sprintf("Correction %d: my consent history shows a date I did not choose.", i)})
		wantStatus(t, "a signed-in correction", r, http.StatusCreated)
		ids = append(ids, filed(t, r))
	}
	receipts := waitMails(t, p.Email, kindRequestReceipt, 3)
	if strings.Contains(receipts[1].Body.Text, "fee") || !strings.Contains(receipts[2].Body.Text, "fee") {
		t.Errorf("only the third receipt should tell of a fee for repeats")
	}
	a := v.account()
	if len(a.Decisions) != 1 || a.Decisions[0].Name != requests.DecisionRepeat || a.Decisions[0].Inputs["earlierOfTheType"] != "2" || a.Decisions[0].LogicVersion == "" {
		t.Fatalf("decisions on the account page = %+v", a.Decisions)
	}

	op := operator(t)
	if _, err := op.Complete(context.Background(), ids[0], ""); privacy.ErrorCode(err) != privacy.Invalid {
		t.Errorf("a completion without an answer: %v", err)
	}
	if _, err := op.Complete(context.Background(), ids[0], "Your consent of 3 March is now recorded as 2 March."); err != nil {
		t.Fatal(err)
	}
	if m := waitMail(t, p.Email, kindRequestAnswer, 1); !strings.Contains(m.Body.Text, "2 March") {
		t.Errorf("the correction's answer is not in its mail:\n%s", m.Body.Text)
	}

	r := v.fileRequest(map[string]any{"type": "explanation", "details": "Why was my request flagged?"})
	wantStatus(t, "an explanation request", r, http.StatusCreated)
	c, err := op.Show(context.Background(), filed(t, r))
	if err != nil || len(c.Decisions) != 1 {
		t.Fatalf("the case shows decisions %+v (%v)", c.Decisions, err)
	}
	if _, err := op.Explain(context.Background(), filed(t, r), "If you think it is wrong, reply and we will waive it."); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, p.Email, kindRequestAnswer, 2)
	for _, want := range []string{requests.DecisionRepeat, requests.RepeatLogicVersion, "earlierOfTheType = 2", "waive"} {
		if !strings.Contains(m.Body.Text, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, m.Body.Text)
		}
	}
}

// TestP21_CopyWithAThirdPartyAndSingleUseLinks: a signed-in person asks for a copy to go to a
// third party too. The archive is written by the export worker, its link works once and then
// leads to a page that offers a new copy, and the third party gets its own link only after the
// person confirms.
func TestP21_CopyWithAThirdPartyAndSingleUseLinks(t *testing.T) {
	p := newPerson("p21")
	v, id := mustActive(t, p, nil)
	third := uniq("p21bank") + "@example.org"
	wantField(t, "a copy without the password", v.fileRequest(map[string]any{"type": "copy", "thirdParty": third}), "password")
	wantField(t, "a copy with a wrong password", v.fileRequest(map[string]any{"type": "copy", "thirdParty": third, "password": "wrong " + p.Password}), "password")
	r := v.fileRequest(map[string]any{"type": "copy", "thirdParty": third, "password": p.Password})
	wantStatus(t, "a copy", r, http.StatusCreated)
	rid := filed(t, r)

	ready := waitMail(t, p.Email, kindExportReady, 1)
	link := exportLinkRE.FindStringSubmatch(ready.Body.Text)
	if link == nil {
		t.Fatalf("no download link in:\n%s", ready.Body.Text)
	}
	base := portaltest.URL(t)
	expired := base + requests.ExpiredExportPage
	wantExpired := func(what, l string) {
		t.Helper()
		if got := follow(t, l); got != expired {
			t.Errorf("%s leads to %s, want %s", what, got, expired)
		}
	}
	forged := strings.Replace(link[1], "token=", "token=0", 1)[:len(link[1])]
	wantExpired("a forged token", forged)
	other := newPerson("p21other")
	_, otherID := mustActive(t, other, nil)
	wantExpired("the token on another person's request", strings.Replace(link[1], id, otherID, 1))

	where := follow(t, link[1])
	if !strings.Contains(where, requests.ArchiveKey(privacy.SubjectID(id), strings.SplitN(rid, ".", 2)[1])) || !strings.Contains(where, "X-Amz-Signature=") {
		t.Fatalf("the link leads to %s, not a presigned URL of the archive", where)
	}
	d, text := dataOf(t, archiveAt(t, where))
	if d.Subject != id || d.Counts["PROFILE"] != 1 || !strings.Contains(text, p.Email) || strings.Contains(text, other.Email) {
		t.Errorf("the archive is not this person's alone: subject %s, counts %v", d.Subject, d.Counts)
	}
	wantExpired("the link used again", link[1])

	// The third party: nothing until the person confirms, then its own single-use link.
	waitSettled(t)
	if n := len(mailsTo(allMail(t), third, "")); n != 0 {
		t.Fatalf("the third party got %d mails before the person confirmed", n)
	}
	confirm := waitMail(t, p.Email, kindShareConfirm, 1)
	share := shareLinkRE.FindStringSubmatch(confirm.Body.Text)
	if share == nil || !strings.Contains(confirm.Body.Text, third) {
		t.Fatalf("no confirmation link naming the third party in:\n%s", confirm.Body.Text)
	}
	shareID, _ := url.QueryUnescape(share[1])
	wantField(t, "a forged confirmation", newVisitor(t).do("POST", "/api/exports/"+url.PathEscape(shareID)+"/share", map[string]string{"token": strings.Repeat("0", 64)}), "token")
	wantField(t, "the download token as a confirmation", newVisitor(t).do("POST", "/api/exports/"+url.PathEscape(shareID)+"/share", map[string]string{"token": tokenOf(link[1])}), "token")
	wantStatus(t, "confirm", newVisitor(t).do("POST", "/api/exports/"+url.PathEscape(shareID)+"/share", map[string]string{"token": share[2]}), http.StatusOK)
	wantField(t, "confirm again", newVisitor(t).do("POST", "/api/exports/"+url.PathEscape(shareID)+"/share", map[string]string{"token": share[2]}), "token")
	tm := waitMail(t, third, kindThirdParty, 1)
	tlink := exportLinkRE.FindStringSubmatch(tm.Body.Text)
	if tlink == nil || strings.Contains(tm.Subject, p.Name) || !strings.Contains(tm.Body.Text, p.Name) {
		t.Fatalf("the third party's mail %q:\n%s", tm.Subject, tm.Body.Text)
	}
	if tlink[1] == link[1] {
		t.Fatal("the third party got the person's own link")
	}
	td, _ := dataOf(t, archiveAt(t, follow(t, tlink[1])))
	if td.Subject != id {
		t.Errorf("the third party's archive is of %s", td.Subject)
	}
	wantExpired("the third party's link used again", tlink[1])
	waitSettled(t)
	if n := len(mailsTo(allMail(t), third, "")); n != 1 {
		t.Errorf("the third party got %d mails, want 1", n)
	}
	if n := len(mailsTo(allMail(t), p.Email, kindExportReady)); n != 1 {
		t.Errorf("%d export mails, want 1", n)
	}
	if got := v.do("GET", "/api/requests", nil); !strings.Contains(string(got.Body), `"status":"completed"`) {
		t.Errorf("the copy request is not completed: %s", got.Body)
	}
}

func tokenOf(link string) string {
	u, _ := url.Parse(link)
	return u.Query().Get("token")
}

// TestRequestsRefuseBadInputAndChangeNothing: unknown types, missing or misplaced fields, bad
// codes and tokens, and other people's request IDs get a clear 4xx naming the field, and store
// nothing.
func TestRequestsRefuseBadInputAndChangeNothing(t *testing.T) {
	email := uniq("badreq") + "@example.com"
	v := newVisitor(t)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"email": email}, "type"},
		{map[string]any{"type": "refund", "email": email}, "type"},
		{map[string]any{"type": "access"}, "email"},
		{map[string]any{"type": "access", "email": "not an address"}, "email"},
		{map[string]any{"type": "correction", "email": email}, "details"},
		{map[string]any{"type": "contact", "email": email, "details": strings.Repeat("x", requests.MaxDetails+1)}, "details"},
		{map[string]any{"type": "deletion", "email": email}, "ground"},
		{map[string]any{"type": "deletion", "email": email, "ground": "i_want_to"}, "ground"},
		{map[string]any{"type": "access", "email": email, "ground": "no_consent"}, "ground"},
		{map[string]any{"type": "access", "email": email, "thirdParty": "bank@example.org"}, "thirdParty"},
		{map[string]any{"type": "copy", "email": email, "thirdParty": "not an address"}, "thirdParty"},
		{map[string]any{"type": "access", "email": email, "password": "x"}, "password"},
		{map[string]any{"type": "access", "email": email, "locale": "fr"}, "locale"},
		{map[string]any{"type": "access", "email": email, "admin": true}, "admin"},
	} {
		r := v.fileRequest(c.body)
		if r.Status != http.StatusBadRequest || r.problem(t).Field != c.field {
			t.Errorf("%v: %s, want 400 naming %s", c.body, r, c.field)
		}
	}
	wantStatus(t, "not JSON", v.doRaw("POST", "/api/requests", "type=access"), http.StatusUnsupportedMediaType)
	other := newVisitor(t)
	other.origin = "https://elsewhere.example"
	wantStatus(t, "another site's page", other.fileRequest(map[string]any{"type": "access", "email": email}), http.StatusForbidden)
	waitSettled(t)
	if n := len(mailsTo(allMail(t), email, "")); n != 0 {
		t.Fatalf("refused requests sent %d mails", n)
	}

	// Codes and IDs: a malformed code, a forged ID, and a real request's ID with a wrong code
	// all answer alike.
	r := v.fileRequest(map[string]any{"type": "access", "email": email})
	wantStatus(t, "file", r, http.StatusAccepted)
	id := filed(t, r)
	waitMail(t, email, kindRequestCode, 1)
	wantField(t, "a malformed code", v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": "12ab"}), "code")
	forged := v.do("POST", "/api/requests/nobody.nothing/verify", map[string]string{"code": "123456"})
	wrong := v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": "123456"})
	if forged.Status != http.StatusBadRequest || wrong.Status != http.StatusBadRequest || forged.problem(t).Detail != wrong.problem(t).Detail {
		t.Errorf("a forged ID (%s) and a wrong code (%s) answer differently", forged, wrong)
	}
	subject, rid, _ := requests.SplitID(id)
	if got, err := store(t).Request(context.Background(), subject, rid); err != nil || got.Status != privacy.RequestReceived {
		t.Errorf("bad codes changed the request: %+v, %v", got, err)
	}

	// Status links: another request's token, a garbage token, no token.
	p := newPerson("badreq")
	mustActive(t, p, nil)
	link := fileAsVisitor(t, p.Email, 1, map[string]any{"type": "contact", "details": "Hello."})
	q := newPerson("badreq")
	mustActive(t, q, nil)
	otherLink := fileAsVisitor(t, q.Email, 1, map[string]any{"type": "contact", "details": "Hello."})
	for what, path := range map[string]string{
		"another request's token": "/api/requests/" + url.PathEscape(link.id) + "?token=" + otherLink.token,
		"a garbage token":         "/api/requests/" + url.PathEscape(link.id) + "?token=nonsense",
		"no token":                "/api/requests/" + url.PathEscape(link.id),
		"a malformed ID":          "/api/requests/nonsense?token=" + link.token,
	} {
		r := newVisitor(t).do("GET", path, nil)
		wantStatus(t, what, r, http.StatusNotFound)
		if strings.Contains(string(r.Body), p.Email) {
			t.Errorf("%s: the answer shows the request: %s", what, r.Body)
		}
	}
	wantStatus(t, "the list, not signed in", newVisitor(t).do("GET", "/api/requests", nil), http.StatusUnauthorized)
}

// TestP23_DeadlinesRemindTheOperatorAndMarkOverdue: the scheduled function reminds the operator
// of a request with a week, three days and a day left, once each, and marks an overdue one; the
// digest names requests by ID and type only.
func TestP23_DeadlinesRemindTheOperatorAndMarkOverdue(t *testing.T) {
	cloud := portaltest.Cloud(t)
	operatorAddr := cloud.Stack.Params["OperatorContact"]
	email := uniq("due") + "@example.com"
	link := fileAsVisitor(t, email, 1, map[string]any{"type": "contact", "details": "When?"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fire := func() {
		t.Helper()
		waitSettled(t)
		if err := cloud.FireSchedule(ctx, "DeadlinesFunction"); err != nil {
			t.Fatal(err)
		}
		waitSettled(t)
	}
	digests := func() []string {
		var out []string
		for _, m := range mailsTo(allMail(t), operatorAddr, "") {
			if strings.Contains(m.Body.Text, link.id) {
				out = append(out, m.Body.Text)
			}
		}
		return out
	}
	fire()
	if n := len(digests()); n != 0 {
		t.Fatalf("a request with 30 days left is in %d digests", n)
	}
	shiftDue(t, link.id, time.Now().Add(5*24*time.Hour))
	fire()
	fire()
	got := digests()
	if len(got) != 1 {
		t.Fatalf("%d digests with the request 5 days from due, want 1 (the 7-day reminder, once)", len(got))
	}
	if strings.Contains(got[0], email) || strings.Contains(got[0], "When?") {
		t.Errorf("the digest shows the requester:\n%s", got[0])
	}
	shiftDue(t, link.id, time.Now().Add(-time.Hour))
	fire()
	got = digests()
	if len(got) != 2 || !strings.Contains(got[1], "OVERDUE") {
		t.Fatalf("after the due date: %d digests, the last:\n%s", len(got), got[len(got)-1])
	}
	subject, rid, _ := requests.SplitID(link.id)
	r, err := store(t).Request(context.Background(), subject, rid)
	if err != nil || !r.Overdue || !slices.Contains(r.Reminded, "7") {
		t.Errorf("the request is not marked: overdue %v, reminded %v (%v)", r.Overdue, r.Reminded, err)
	}
	if !strings.Contains(cloudLog(t), `"OverdueRequests":`) {
		t.Error("the deadlines function published no OverdueRequests metric")
	}
	// Answered, it leaves the queue and the digests.
	if _, err := operator(t).Complete(context.Background(), link.id, "Now."); err != nil {
		t.Fatal(err)
	}
	refs, err := store(t).OpenRequests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(refs, func(r requests.Ref) bool { return requests.ID(r.Subject, r.Request) == link.id }) {
		t.Error("a completed request is still in the operator's queue")
	}
}

// TestP21_AnExportKilledMidUploadIsRetriedAndCompletesOnce: the export worker dies while it
// uploads the archive (as a crash or a timeout would kill it); the job comes back from the
// queue, and the retry writes the one archive and sends the one mail.
func TestP21_AnExportKilledMidUploadIsRetriedAndCompletesOnce(t *testing.T) {
	cloud := portaltest.Cloud(t)
	ctx := context.Background()
	jobQueue := cloud.Names["JobQueue"]
	setVisibility := func(seconds string) {
		t.Helper()
		if _, err := cloud.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &jobQueue,
			Attributes: map[string]string{"VisibilityTimeout": seconds}}); err != nil {
			t.Fatal(err)
		}
	}
	// The job comes back after the queue's visibility timeout, as in AWS: shortened here
	// (before the job is received) so that the test does not wait the template's half hour.
	setVisibility("3")
	t.Cleanup(func() { setVisibility("1800"); cloud.ResetCrashes("ExportFunction") })
	fired := cloud.CrashOn("ExportFunction", "s3:PutObject")

	p := newPerson("crash")
	v, id := mustActive(t, p, nil)
	r := v.fileRequest(map[string]any{"type": "copy", "password": p.Password})
	wantStatus(t, "a copy", r, http.StatusCreated)
	_, rid, _ := requests.SplitID(filed(t, r))
	eventually(t, func() error {
		if !fired() {
			return fmt.Errorf("the export worker has not been killed yet")
		}
		return nil
	})
	bucket := cloud.Names["ExportsBucket"]
	prefix := "exports/" + id + "/"
	objects := func() []string {
		t.Helper()
		out, err := cloud.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		return keys
	}
	if got := objects(); len(got) != 0 {
		t.Fatalf("the killed upload left %v", got)
	}

	waitMail(t, p.Email, kindExportReady, 1)
	waitSettled(t)
	if n := len(mailsTo(allMail(t), p.Email, kindExportReady)); n != 1 {
		t.Errorf("%d export mails, want 1", n)
	}
	if got := objects(); !slices.Equal(got, []string{requests.ArchiveKey(privacy.SubjectID(id), rid)}) {
		t.Errorf("archives %v, want the one", got)
	}
	got, err := store(t).Request(ctx, privacy.SubjectID(id), rid)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range got.Steps {
		steps = append(steps, string(s.Status))
	}
	if !slices.Equal(steps, []string{"received", "verified", "in_progress", "completed"}) || got.Export.Key == "" {
		t.Errorf("the request after the retry: steps %v, archive %q", steps, got.Export.Key)
	}
	if !strings.Contains(cloudLog(t), "Runtime.ExitError") {
		t.Error("the cloud's log shows no killed invocation")
	}
}
