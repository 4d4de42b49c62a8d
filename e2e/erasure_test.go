package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/sqs"
)

// kindErased is the outcome mail of an erasure, deletion or cancellation.
const (
	kindCancelled = "Your account at"
	kindDeleted   = "Your data at"
)

// erasureView is the erasure part of a request's status, once the request went with its
// subject's data.
type erasureStatus struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Erasure *struct {
		State          string   `json:"state"`
		Items          int      `json:"items"`
		Objects        int      `json:"objects"`
		RecipientsTold []string `json:"recipientsTold"`
		Verified       bool     `json:"verified"`
	} `json:"erasure"`
}

func (l statusLink) erasure(tb testing.TB) erasureStatus {
	tb.Helper()
	r := newVisitor(tb).do("GET", "/api/requests/"+url.PathEscape(l.id)+"?token="+l.token, nil)
	wantStatus(tb, "request status", r, http.StatusOK)
	var v erasureStatus
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// eraser is the operator's side of requests with the erasure queue.
func eraser(tb testing.TB) *requests.Operator {
	tb.Helper()
	op := operator(tb)
	cloud := portaltest.Cloud(tb)
	op.Env.Erase = &sqs.Jobs{Client: cloud.SQS, QueueURL: cloud.Names["ErasureQueue"]}
	return op
}

// holding searches the whole table, the exports bucket and the sharing outbox (keys and
// contents) for any of needles, and returns where each was found.
func holding(tb testing.TB, needles ...string) []string {
	tb.Helper()
	ctx := context.Background()
	cloud := portaltest.Cloud(tb)
	client, tableName := table(tb)
	var found []string
	p := ddb.NewScanPaginator(client, &ddb.ScanInput{TableName: &tableName})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		for _, it := range page.Items {
			b, _ := json.Marshal(it)
			for _, n := range needles {
				if strings.Contains(string(b), n) {
					found = append(found, "table item "+attr(it, "PK")+" "+attr(it, "SK"))
				}
			}
		}
	}
	for _, bucket := range []string{cloud.Names["ExportsBucket"], cloud.Names["SharingOutboxBucket"]} {
		list := awss3.NewListObjectsV2Paginator(cloud.S3, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for list.HasMorePages() {
			page, err := list.NextPage(ctx)
			if err != nil {
				tb.Fatal(err)
			}
			for _, o := range page.Contents {
				got, err := cloud.S3.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
				if err != nil {
					tb.Fatal(err)
				}
				body, _ := io.ReadAll(got.Body)
				got.Body.Close()
				for _, n := range needles {
					if strings.Contains(*o.Key, n) || strings.Contains(string(body), n) {
						found = append(found, "object "+bucket+"/"+*o.Key)
					}
				}
			}
		}
	}
	return found
}

// lettersOf spells s's digits as letters.
func lettersOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'a' + (r - '0')
		}
		return r
	}, s)
}

// TestP03_P20_CancellationStopsTheAccountAtOnceAndErasesEverything: a person with consents, a
// disclosure to a recipient, an export archive, requests and an audit trail cancels. Without
// the password nothing happens; with it the account stops at once (the session and sign-in
// fail), then everything about them goes: no item or object holds their ID, address, username
// or name, the recipient is told, the outcome mail says when backups forget it, and the
// tombstone that stays identifies no one.
func TestP03_P20_CancellationStopsTheAccountAtOnceAndErasesEverything(t *testing.T) {
	ctx := context.Background()
	p := newPerson("cancel")
	p.Name = "Ada " + lettersOf(p.Username) // no other test's person has it
	v, id := mustActive(t, p, nil)
	v.choose(map[string]bool{"share.support": true, "marketing": true})
	waitSettled(t)
	wantStatus(t, "ask for a copy", v.fileRequest(map[string]any{"type": "copy", "password": p.Password}), http.StatusCreated)
	waitMail(t, p.Email, kindExportReady, 1)
	if len(holding(t, id)) == 0 {
		t.Fatal("the person's data is nowhere before the cancellation: the test would prove nothing")
	}

	wantField(t, "cancel without the password", v.fileRequest(map[string]any{"type": "cancellation"}), "password")
	wantField(t, "cancel with a wrong password", v.fileRequest(map[string]any{"type": "cancellation", "password": p.Password + "x"}), "password")
	wantStatus(t, "the account after a refused cancellation", v.do("GET", "/api/account", nil), http.StatusOK)

	r := v.fileRequest(map[string]any{"type": "cancellation", "password": p.Password})
	wantStatus(t, "cancel", r, http.StatusCreated)
	var filedAs struct{ Status, Request string }
	if err := json.Unmarshal(r.Body, &filedAs); err != nil || filedAs.Status != requests.FiledErasing {
		t.Fatalf("cancel answered %s", r)
	}
	if c := r.Header.Get("Set-Cookie"); !strings.Contains(c, "Max-Age=0") {
		t.Errorf("the cancellation does not clear the session cookie: %q", c)
	}
	// At once: the session is gone and signing in fails, whatever the erasure's progress.
	wantStatus(t, "the old session", v.do("GET", "/api/account", nil), http.StatusUnauthorized)
	if s := newVisitor(t).signIn(p.Username, p.Password).Status; s < 400 {
		t.Errorf("sign-in after the cancellation answered %d", s)
	}

	outcome := waitMail(t, p.Email, kindCancelled, 1)
	for _, want := range []string{"35", "Northwind Support Services"} {
		if !strings.Contains(outcome.Body.Text, want) {
			t.Errorf("the outcome mail does not say %q:\n%s", want, outcome.Body.Text)
		}
	}
	waitSettled(t)
	if left := holding(t, id, p.Email, p.Username, p.Name); len(left) != 0 {
		t.Errorf("after the cancellation, the person is still in: %v", left)
	}
	subject, rid, _ := requests.SplitID(filedAs.Request)
	if subject != privacy.SubjectID(id) {
		t.Fatalf("the cancellation was filed for %s, not %s", subject, id)
	}
	tomb, err := store(t).Tombstone(ctx, rid)
	if err != nil {
		t.Fatalf("the tombstone: %v", err)
	}
	if tomb.State != privacy.ErasureDone || !tomb.Verified || tomb.Notice != nil || tomb.Objects < 2 || tomb.ItemsRemoved() < 10 {
		t.Errorf("tombstone %+v, want done, verified, its notice gone, the archive and the disclosure counted", tomb)
	}
	if len(tomb.RecipientsTold) != 1 || tomb.RecipientsTold[0] != "support-affiliate" {
		t.Errorf("recipients told %v, want the affiliate that received the data", tomb.RecipientsTold)
	}
	client, tableName := table(t)
	raw, err := client.GetItem(ctx, &ddb.GetItemInput{TableName: &tableName, Key: ddbItem{
		"PK": &types.AttributeValueMemberS{Value: dynamodb.TombstonePK(rid)}, "SK": &types.AttributeValueMemberS{Value: "TOMBSTONE"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw.Item)
	for _, n := range []string{id, p.Email, p.Username, p.Name} {
		if strings.Contains(string(b), n) {
			t.Errorf("the tombstone holds %q: %s", n, b)
		}
	}
	if !strings.Contains(cloudLog(t), `"ErasuresDone":1`) {
		t.Error("the erasure worker published no ErasuresDone metric")
	}
	// The recipient finds its instruction, which names no one.
	if n := len(holding(t, `"instruction":"erase"`)); n == 0 {
		t.Error("no deletion instruction in the outbox")
	}

	// The outcome mail's link shows the outcome, from the tombstone.
	link := statusLinkIn(t, outcome)
	got := link.erasure(t)
	if got.Status != "completed" || got.Erasure == nil || got.Erasure.State != "erased" || !got.Erasure.Verified {
		t.Errorf("status after the erasure = %+v", got)
	}
	// Jobs still queued for the person (an export, a marketing mail, a disclosure, a receipt)
	// find nothing and do nothing once they run.
	sendMarketing := sendCampaign(t, id)
	for _, q := range []struct {
		queue string
		job   jobs.Job
	}{
		{"JobQueue", jobs.Job{Kind: requests.JobExport, Subject: subject, Request: rid}},
		{"MailQueue", jobs.Job{Kind: consent.JobDisclose, Subject: subject, Purpose: "share.support", Receipt: "late"}},
		{"MailQueue", jobs.Job{Kind: requests.JobVerified, Subject: subject, Request: rid}},
	} {
		q.job.At = time.Now()
		body, _ := json.Marshal(q.job)
		if _, err := portaltest.Cloud(t).SQS.SendMessage(ctx, &awssqs.SendMessageInput{
			QueueUrl: aws.String(portaltest.Cloud(t).Names[q.queue]), MessageBody: aws.String(string(body)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitSettled(t)
	if n := len(mailsTo(allMail(t), p.Email, sendMarketing)); n != 0 {
		t.Error("a marketing mail queued before the erasure went out after it")
	}
	if left := holding(t, id, p.Email, p.Username, p.Name); len(left) != 0 {
		t.Errorf("jobs queued before the erasure wrote, after it: %v", left)
	}
	// A replayed session or request changes nothing and says so.
	wantStatus(t, "a replayed cancellation", v.fileRequest(map[string]any{"type": "cancellation", "password": p.Password}), http.StatusUnauthorized)
	if n := len(mailsTo(allMail(t), p.Email, kindCancelled)); n != 1 {
		t.Errorf("%d outcome mails, want 1", n)
	}
}

// TestP17_DeletionWaitsForTheOperatorOnAGroundThatNeedsADecision: a visitor asks for deletion
// because their data was collected without consent. The request is proved and waits (nothing
// is deleted); another person's code cannot touch it; the operator decides to erase, and the
// outcome is mailed.
func TestP17_DeletionWaitsForTheOperatorOnAGroundThatNeedsADecision(t *testing.T) {
	p := newPerson("delete")
	_, id := mustActive(t, p, nil)
	link := fileAsVisitor(t, p.Email, 1, map[string]any{"type": "deletion", "ground": "no_consent"})
	proof := codeIn(t, waitMail(t, p.Email, kindRequestCode, 1))
	if s := link.status(t); s.Status != "verified" {
		t.Fatalf("a deletion on a ground that needs a decision is %s", s.Status)
	}
	if len(partitionOf(t, id)) == 0 {
		t.Fatal("the partition went before the operator decided")
	}
	// Someone else's request, proved with someone else's code: refused, nothing deleted.
	other := uniq("other") + "@example.com"
	w := newVisitor(t)
	r := w.fileRequest(map[string]any{"type": "deletion", "ground": "left_service", "email": other})
	wantStatus(t, "another's request", r, http.StatusAccepted)
	code := codeIn(t, waitMail(t, other, kindRequestCode, 1))
	wantField(t, "a code for another request", w.do("POST", "/api/requests/"+url.PathEscape(link.id)+"/verify", map[string]string{"code": code}), "code")
	if len(partitionOf(t, id)) == 0 {
		t.Fatal("another person's code erased the account")
	}

	if _, err := eraser(t).Erase(context.Background(), link.id); err != nil {
		t.Fatal(err)
	}
	waitMail(t, p.Email, kindDeleted, 1)
	waitSettled(t)
	if left := holding(t, id, p.Email, p.Username); len(left) != 0 {
		t.Errorf("after the deletion, the person is still in: %v", left)
	}
	if s := link.erasure(t); s.Status != "completed" || s.Type != "deletion" {
		t.Errorf("status = %+v", s)
	}
	// The code that proved the request, replayed after the erasure: refused, nothing written.
	before := holding(t, id)
	wantField(t, "the code replayed", newVisitor(t).do("POST", "/api/requests/"+url.PathEscape(link.id)+"/verify", map[string]string{"code": proof}), "code")
	if after := holding(t, id); len(after) != len(before) {
		t.Errorf("a replayed code wrote about the erased person: %v", after)
	}
	if _, err := eraser(t).Erase(context.Background(), link.id); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("erasing the erased again: %v, want not found", err)
	}
}

// seedAudit writes n audit entries into a subject's partition, as years of use would.
func seedAudit(tb testing.TB, id string, n int) {
	tb.Helper()
	client, tableName := table(tb)
	ctx := context.Background()
	at := time.Now().Add(-24 * time.Hour)
	for i := 0; i < n; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < min(n, i+25); j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: ddbItem{
				"PK":        &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(privacy.SubjectID(id))},
				"SK":        &types.AttributeValueMemberS{Value: dynamodb.SortKey(dynamodb.KindAudit, dynamodb.Timestamp(at.Add(time.Duration(j)*time.Millisecond))+"#seed")},
				"createdAt": &types.AttributeValueMemberS{Value: dynamodb.Timestamp(at)},
				"action":    &types.AttributeValueMemberS{Value: "profile.changed"},
				"fields":    &types.AttributeValueMemberSS{Value: []string{"name"}},
			}}})
		}
		for len(reqs) > 0 {
			out, err := client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tableName: reqs}})
			if err != nil {
				tb.Fatal(err)
			}
			reqs = out.UnprocessedItems[tableName]
		}
	}
}

// TestP17_AnErasureKilledHalfwayIsRetriedAndCompletesOnce: the erasure worker is killed in the
// middle of deleting a 10,000-item partition, as a crash or a Lambda timeout would. The job
// comes back, finishes where it stopped, and the person gets one outcome mail; the
// verification finds nothing, and the tombstone counts what the partition held.
func TestP17_AnErasureKilledHalfwayIsRetriedAndCompletesOnce(t *testing.T) {
	cloud := portaltest.Cloud(t)
	ctx := context.Background()
	queue := cloud.Names["ErasureQueue"]
	setVisibility := func(seconds string) {
		t.Helper()
		if _, err := cloud.SQS.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &queue,
			Attributes: map[string]string{"VisibilityTimeout": seconds}}); err != nil {
			t.Fatal(err)
		}
	}
	setVisibility("3")
	t.Cleanup(func() { setVisibility("1800"); cloud.ResetCrashes("ErasureFunction") })

	p := newPerson("erasecrash")
	v, id := mustActive(t, p, nil)
	const seeded = 10000
	seedAudit(t, id, seeded)
	held := len(partitionOf(t, id))
	if held < seeded {
		t.Fatalf("the partition holds %d items after seeding %d", held, seeded)
	}

	// A fifth of the way through: the 80th batch of deletes kills the worker.
	fired := cloud.CrashOnNth("ErasureFunction", "dynamodb:BatchWriteItem", seeded/25/5)
	r := v.fileRequest(map[string]any{"type": "cancellation", "password": p.Password})
	wantStatus(t, "cancel", r, http.StatusCreated)
	var filedAs struct{ Request string }
	_ = json.Unmarshal(r.Body, &filedAs)
	_, rid, _ := requests.SplitID(filedAs.Request)
	eventually(t, func() error {
		if !fired() {
			return fmt.Errorf("the erasure worker has not been killed yet")
		}
		return nil
	})
	if left := len(partitionOf(t, id)); left == 0 || left >= held {
		t.Fatalf("after the crash the partition holds %d of %d items: not killed halfway", left, held)
	}

	waitMail(t, p.Email, kindCancelled, 1)
	waitSettled(t)
	if n := len(mailsTo(allMail(t), p.Email, kindCancelled)); n != 1 {
		t.Errorf("%d outcome mails, want 1", n)
	}
	if left := partitionOf(t, id); len(left) != 0 {
		t.Errorf("%d items left after the retry", len(left))
	}
	tomb, err := store(t).Tombstone(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if tomb.State != privacy.ErasureDone || !tomb.Verified || tomb.ItemsRemoved() != held {
		t.Errorf("tombstone: state %s, verified %v, %d items counted, want done, verified, %d", tomb.State, tomb.Verified, tomb.ItemsRemoved(), held)
	}
	if !strings.Contains(cloudLog(t), "Runtime.ExitError") {
		t.Error("the cloud's log shows no killed invocation")
	}
}

// TestP12_AnErasureOutcomeNeverMailedKeepsNoAddress: when the outcome mail of an erasure could
// not go (its job is gone from the mail queue after a day), the hourly deadlines function drops
// the address from the tombstone after erasure.NoticeLife; a tombstone whose mail may still go
// keeps it.
func TestP12_AnErasureOutcomeNeverMailedKeepsNoAddress(t *testing.T) {
	cloud := portaltest.Cloud(t)
	ctx := context.Background()
	put := func(started time.Time) string {
		t.Helper()
		tomb := privacy.Tombstone{
			Request: privacy.NewID(), Type: privacy.RequestCancellation, SubjectHash: "h" + privacy.NewID(),
			Received: started, Due: started.AddDate(0, 0, 30), Started: started, Erased: started, State: privacy.ErasureDone,
			Verified: true, Notice: &privacy.ErasureNotice{Email: uniq("stale") + "@example.com", Locale: "en"},
			ExpiresAt: started.AddDate(3, 0, 0),
		}
		if err := store(t).PutTombstone(ctx, tomb); err != nil {
			t.Fatal(err)
		}
		return tomb.Request
	}
	stale, fresh := put(time.Now().Add(-erasure.NoticeLife-time.Hour)), put(time.Now().Add(-time.Hour))
	if err := cloud.FireSchedule(ctx, "DeadlinesFunction"); err != nil {
		t.Fatal(err)
	}
	if got, err := store(t).Tombstone(ctx, stale); err != nil || got.Notice != nil {
		t.Errorf("the stale tombstone: notice %+v (%v), want it dropped", got.Notice, err)
	}
	if got, err := store(t).Tombstone(ctx, fresh); err != nil || got.Notice == nil {
		t.Errorf("the fresh tombstone: notice %+v (%v), want it kept", got.Notice, err)
	}
	if left, err := store(t).NoticesBefore(ctx, time.Now()); err != nil || slices.Contains(left, stale) {
		t.Errorf("the stale tombstone is still listed with a notice: %v (%v)", left, err)
	}
}
