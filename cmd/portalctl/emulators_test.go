package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// TestAgainstTheEmulators runs portalctl as main wires it (connect, the SDK's default
// credential chain, the AWS_ENDPOINT_URL_* variables) against DynamoDB Local with the
// template's table and the SQS emulator: the configuration the local cloud gives an operator.
func TestAgainstTheEmulators(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cloud, err := localcloud.StartServices(ctx, localcloud.Config{Root: filepath.Join(filepath.Dir(file), "..", ".."), Prefix: "portalctl"}, "dynamodb", "sqs")
	if err != nil {
		t.Fatalf("start the emulators: %v", err)
	}
	t.Cleanup(func() { cloud.Close() })
	q, err := cloud.SQS.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("portalctl-mail")})
	if err != nil {
		t.Fatal(err)
	}
	eq, err := cloud.SQS.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("portalctl-erasure")})
	if err != nil {
		t.Fatal(err)
	}
	table := cloud.Names["PortalTable"]

	// Only what the local cloud's operator has: no profile, no shared files.
	for k, v := range map[string]string{
		"AWS_REGION": cloud.Region, "AWS_ACCESS_KEY_ID": localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY": localcloud.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB": cloud.Endpoints.DynamoDB, "AWS_ENDPOINT_URL_SQS": cloud.Endpoints.SQS,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		envStack: "", envTable: table, envMailQueue: *q.QueueUrl, envErasureQueue: *eq.QueueUrl,
	} {
		t.Setenv(k, v)
	}

	// A visitor's correction, proved (and, to be overdue, dated 31 days back), with a decision
	// recorded about them.
	store := &dynamodb.Store{Client: cloud.DynamoDB, Table: table}
	received := time.Now().UTC().Truncate(time.Second)
	r := requests.Record{Request: privacy.Request{
		ID: privacy.NewID(), Subject: privacy.NewSubjectID(), Type: privacy.RequestCorrection, Status: privacy.RequestReceived,
		Email: "visitor@example.com", Locale: privacy.LocaleEnglish, Received: received, Due: privacy.DueDate(received),
		Details: "My name is misspelt.", Steps: []privacy.RequestStep{{Status: privacy.RequestReceived, At: received}},
	}}
	if err := store.PutRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if r, err = store.Request(ctx, r.Subject, r.ID); err != nil {
		t.Fatal(err)
	}
	received = received.Add(-31 * 24 * time.Hour)
	r.Status, r.Received, r.Due = privacy.RequestVerified, received, privacy.DueDate(received)
	r.Steps = []privacy.RequestStep{{Status: privacy.RequestReceived, At: received}, {Status: privacy.RequestVerified, At: received.Add(time.Minute)}}
	d := privacy.Decision{At: received, Name: "test.decision", LogicVersion: "test-1", Inputs: map[string]string{"k": "v"}, Outcome: "decided"}
	if err := store.MoveRequest(ctx, r.Subject, r, &d); err != nil {
		t.Fatal(err)
	}
	id := requests.ID(r.Subject, r.ID)

	portalctl := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		d := deps{Connect: connect, Getenv: os.Getenv, Stdin: strings.NewReader("")}
		if code := run(ctx, args, &stdout, &stderr, d); code != 0 {
			t.Fatalf("portalctl %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		if stderr.Len() != 0 {
			t.Errorf("portalctl %s wrote to stderr: %s", strings.Join(args, " "), stderr.String())
		}
		return stdout.String()
	}

	var queue []queueItem
	if err := json.Unmarshal([]byte(portalctl("queue", "--json")), &queue); err != nil {
		t.Fatal(err)
	}
	if len(queue) != 1 || queue[0].ID != id || !queue[0].Overdue {
		t.Errorf("queue = %+v, want %s, overdue", queue, id)
	}
	if out := portalctl("show", id); !strings.Contains(out, "test.decision (logic test-1)") || !strings.Contains(out, "My name is misspelt.") {
		t.Errorf("show does not print the request and its decision:\n%s", out)
	}
	portalctl("complete", id, "--outcome", "Your name is corrected.")

	got, err := store.Request(ctx, r.Subject, r.ID)
	if err != nil || got.Status != privacy.RequestCompleted || got.Outcome != "Your name is corrected." {
		t.Errorf("after complete: %s %q, %v", got.Status, got.Outcome, err)
	}
	msgs, err := cloud.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("%d messages on the mail queue, want 1", len(msgs.Messages))
	}
	j, err := jobs.Parse(*msgs.Messages[0].Body)
	if err != nil || j.Kind != requests.JobUpdated || j.Subject != r.Subject || j.Request != r.ID {
		t.Errorf("mail job = %+v, %v; want %s for %s", j, err, requests.JobUpdated, id)
	}

	// A signed-in person's deletion, which the operator decides to honour: the account closes,
	// the request is in progress, and the erasure worker's queue gets one job.
	now := time.Now().UTC().Truncate(time.Second)
	subject := privacy.NewSubjectID()
	if err := store.Register(ctx, privacy.Registration{
		Account: privacy.Account{
			SubjectID: subject, Status: privacy.StatusActive, CreatedAt: now,
			Profile:  privacy.Profile{Name: "Del", Email: "del@example.com", Username: "del", Locale: privacy.LocaleEnglish, AgeGroup: privacy.AgeAdult},
			EmailKey: "e-del@example.com", UsernameKey: "u-del",
		},
		Audit:   privacy.AuditEntry{At: now, Action: "account.registered", Fields: []string{"name", "email"}},
		SweepAt: now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	del := requests.Record{Request: privacy.Request{
		ID: privacy.NewID(), Subject: subject, Type: privacy.RequestDeletion, Ground: privacy.GroundNoConsent, Status: privacy.RequestVerified,
		Email: "del@example.com", Locale: privacy.LocaleEnglish, Received: now, Due: privacy.DueDate(now),
		Steps: []privacy.RequestStep{{Status: privacy.RequestReceived, At: now}, {Status: privacy.RequestVerified, At: now}},
	}}
	if err := store.PutRequest(ctx, del, nil); err != nil {
		t.Fatal(err)
	}
	if out := portalctl("erase", requests.ID(subject, del.ID)); !strings.Contains(out, "in_progress") {
		t.Errorf("erase printed %q", out)
	}
	if got, err := store.Request(ctx, subject, del.ID); err != nil || got.Status != privacy.RequestInProgress {
		t.Errorf("after erase: %s, %v; want in_progress", got.Status, err)
	}
	if a, err := store.Account(ctx, subject); err != nil || a.Status != privacy.StatusErasing {
		t.Errorf("after erase: account %s, %v; want erasing", a.Status, err)
	}
	msgs, err = cloud.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: eq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("%d messages on the erasure queue, want 1", len(msgs.Messages))
	}
	j, err = jobs.Parse(*msgs.Messages[0].Body)
	if err != nil || j.Kind != "erase" || j.Subject != subject || j.Request != del.ID {
		t.Errorf("erasure job = %+v, %v; want erase for %s", j, err, requests.ID(subject, del.ID))
	}
}

// TestP17_ReapplyErasuresAgainstTheEmulators restores nothing (DynamoDB Local has no
// point-in-time recovery) but makes what a restore makes: a new table of the portal's schema
// holding, as of a past moment, a person erased since (Ada) and one who stays (Bob). The portal's
// table holds Ada's tombstone, and its hash key, made by KMS (the emulator) as the portal makes
// it. portalctl reapply-erasures, as main wires it, erases Ada's partition and look-ups from the
// restored table, and nothing of Bob's.
func TestP17_ReapplyErasuresAgainstTheEmulators(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cloud, err := localcloud.StartServices(ctx, localcloud.Config{Root: filepath.Join(filepath.Dir(file), "..", ".."), Prefix: "reapply"}, "dynamodb", "kms")
	if err != nil {
		t.Fatalf("start the emulators: %v", err)
	}
	t.Cleanup(func() { cloud.Close() })
	table, keyID := cloud.Names["PortalTable"], cloud.Names["PortalKey"]
	if keyID == "" {
		t.Fatal("the template declares no PortalKey")
	}
	live := &dynamodb.Store{Client: cloud.DynamoDB, Table: table}
	plain, err := keyring.Load(ctx, &kms.DataKeys{Client: cloud.KMS, KeyID: keyID}, live, keyring.HashKeyName)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeyed(plain)
	if err != nil {
		t.Fatal(err)
	}

	// The restore's table: the portal's schema, and (as a restore copies it) its hash key.
	desc, err := cloud.DynamoDB.DescribeTable(ctx, &awsddb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	restoredName := table + "-restored"
	in := &awsddb.CreateTableInput{
		TableName: &restoredName, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: desc.Table.AttributeDefinitions, KeySchema: desc.Table.KeySchema,
	}
	for _, g := range desc.Table.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	if _, err := cloud.DynamoDB.CreateTable(ctx, in); err != nil {
		t.Fatal(err)
	}
	restored := &dynamodb.Store{Client: cloud.DynamoDB, Table: restoredName}
	ct, err := live.DataKey(ctx, keyring.HashKeyName)
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.PutDataKey(ctx, keyring.HashKeyName, ct); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	register := func(name string) privacy.Account {
		a := privacy.Account{
			SubjectID: privacy.NewSubjectID(), Status: privacy.StatusActive, CreatedAt: now,
			Profile:  privacy.Profile{Name: name, Email: name + "@example.com", Username: name, Locale: privacy.LocaleEnglish, AgeGroup: privacy.AgeAdult},
			EmailKey: keys.EmailKey(name + "@example.com"), UsernameKey: keys.UsernameKey(name),
		}
		if err := restored.Register(ctx, privacy.Registration{
			Account: a, Audit: privacy.AuditEntry{At: now, Action: "account.registered", Fields: []string{"name", "email"}}, SweepAt: now.Add(time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
		if err := restored.PutSession(ctx, a.SubjectID, privacy.Session{TokenHash: name + "-session", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	ada, bob := register("ada"), register("bob")
	if places, err := restored.Remains(ctx, ada.SubjectID, ada.EmailKey, ada.UsernameKey); err != nil || !slices.Contains(places, "partition") || !slices.Contains(places, "username look-up") {
		t.Fatalf("the restored table holds %v of Ada (%v): the test restores nothing", places, err)
	}
	// Since that moment, Ada was erased: the portal's table holds her tombstone.
	request := privacy.NewID()
	if err := live.PutTombstone(ctx, privacy.Tombstone{
		Request: request, Type: privacy.RequestCancellation, SubjectHash: keys.Hash(privacy.DomainTombstone, string(ada.SubjectID)),
		Received: now, Due: now, Started: now, Erased: now, State: privacy.ErasureDone, Verified: true, ExpiresAt: now.Add(400 * 24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}

	for k, v := range map[string]string{
		"AWS_REGION": cloud.Region, "AWS_ACCESS_KEY_ID": localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY": localcloud.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB": cloud.Endpoints.DynamoDB, "AWS_ENDPOINT_URL_KMS": cloud.Endpoints.KMS,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		envStack: "", envTable: table, envKeyID: keyID, envMailQueue: "", envErasureQueue: "",
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	d := deps{Connect: connect, Restore: connectRestore, Getenv: os.Getenv, Stdin: strings.NewReader("")}
	if code := run(ctx, []string{"reapply-erasures", "--restored-table", restoredName, "--json"}, &stdout, &stderr, d); code != 0 || stderr.Len() != 0 {
		t.Fatalf("portalctl reapply-erasures: exit %d: %s", code, stderr.String())
	}
	var got reapplied
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if got.Erased != 1 || got.Subjects != 2 || got.Lookups != 2 || !slices.Equal(got.Requests, []string{request}) || got.TombstonesWritten != 1 {
		t.Errorf("reapplied %+v: want Ada's erasure, with her two look-ups", got.Reapplied)
	}

	if places, err := restored.Remains(ctx, ada.SubjectID, ada.EmailKey, ada.UsernameKey); err != nil || slices.ContainsFunc(places, func(p string) bool { return !strings.HasSuffix(p, " index") }) {
		t.Errorf("the restored table still holds %v of Ada (%v)", places, err)
	}
	if items, err := restored.Partition(ctx, ada.SubjectID); err != nil || len(items) != 0 {
		t.Errorf("Ada's partition holds %d items (%v)", len(items), err)
	}
	places, err := restored.Remains(ctx, bob.SubjectID, bob.EmailKey, bob.UsernameKey)
	if err != nil || !slices.Contains(places, "partition") || !slices.Contains(places, "pending registration") || !slices.Contains(places, "username look-up") {
		t.Errorf("Bob's data was touched: the restored table holds %v of him (%v)", places, err)
	}
	if a, err := restored.Account(ctx, bob.SubjectID); err != nil || a.Profile.Name != "bob" {
		t.Errorf("Bob's account: %+v, %v", a, err)
	}
	if tb, err := restored.Tombstone(ctx, request); err != nil || tb.State != privacy.ErasureDone || tb.SubjectHash != keys.Hash(privacy.DomainTombstone, string(ada.SubjectID)) {
		t.Errorf("the restored table's tombstone: %+v, %v", tb, err)
	}
	if subjects, err := restored.Subjects(ctx); err != nil || !slices.Equal(subjects, []privacy.SubjectID{bob.SubjectID}) {
		t.Errorf("the restored table's subjects: %v, %v; want Bob only", subjects, err)
	}
}

// TestCampaignsAgainstTheEmulators runs the campaign commands as main wires them
// (connectCampaigns) against DynamoDB Local with the template's table, the SQS emulator and
// the S3 emulator: a breach notice to two active accounts is created, previewed, started once
// (one plan job on the planner's queue; a second start is refused and queues nothing), and
// published on the site's bucket, then withdrawn.
func TestCampaignsAgainstTheEmulators(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cloud, err := localcloud.StartServices(ctx, localcloud.Config{Root: filepath.Join(filepath.Dir(file), "..", ".."), Prefix: "campaigns"}, "dynamodb", "sqs", "s3")
	if err != nil {
		t.Fatalf("start the emulators: %v", err)
	}
	t.Cleanup(func() { cloud.Close() })
	q, err := cloud.SQS.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("portalctl-plan")})
	if err != nil {
		t.Fatal(err)
	}
	bucket := "portalctl-site"
	if _, err := cloud.S3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	table := cloud.Names["PortalTable"]
	store := &dynamodb.Store{Client: cloud.DynamoDB, Table: table}
	now := time.Now().UTC().Truncate(time.Second)
	for _, name := range []string{"ann", "ben"} {
		if err := store.Register(ctx, privacy.Registration{
			Account: privacy.Account{
				SubjectID: privacy.NewSubjectID(), Status: privacy.StatusActive, CreatedAt: now,
				Profile:  privacy.Profile{Name: name, Email: name + "@example.com", Username: name, Locale: privacy.LocaleEnglish, AgeGroup: privacy.AgeAdult},
				EmailKey: "e-" + name, UsernameKey: "u-" + name,
			},
			Audit: privacy.AuditEntry{At: now, Action: "account.registered", Fields: []string{"name", "email"}},
		}); err != nil {
			t.Fatal(err)
		}
	}

	// What make dev prints for the operator.
	for k, v := range map[string]string{
		"AWS_REGION": cloud.Region, "AWS_ACCESS_KEY_ID": localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY": localcloud.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB": cloud.Endpoints.DynamoDB, "AWS_ENDPOINT_URL_SQS": cloud.Endpoints.SQS, "AWS_ENDPOINT_URL_S3": cloud.Endpoints.S3,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		envStack: "", envTable: table, envMailQueue: "", envErasureQueue: "", envKeyID: "",
		envNoticePlanQueue: *q.QueueUrl, envSiteBucket: bucket,
		envOperatorName: "Example Co.", envOperatorContact: "privacy@example.com", envSiteURL: "http://127.0.0.1:8080",
	} {
		t.Setenv(k, v)
	}
	portalctl := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		d := deps{Campaigns: connectCampaigns, Getenv: os.Getenv, Stdin: strings.NewReader(stdin), Now: time.Now}
		code := run(ctx, args, &stdout, &stderr, d)
		return code, stdout.String(), stderr.String()
	}
	ok := func(stdin string, args ...string) string {
		t.Helper()
		code, stdout, stderr := portalctl(stdin, args...)
		if code != 0 {
			t.Fatalf("portalctl %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		if stderr != "" {
			t.Errorf("portalctl %s wrote to stderr: %s", strings.Join(args, " "), stderr)
		}
		return stdout
	}

	path := filepath.Join(t.TempDir(), "breach.json")
	if err := os.WriteFile(path, []byte(breachFileJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(ok("", "campaign", "create", "--file", path))
	if c, err := store.Campaign(ctx, id); err != nil || c.State != notices.StateDraft || c.Breach == nil || c.Breach.People != 1200 {
		t.Fatalf("the campaign in the table: %+v, %v", c, err)
	}
	if out := ok("", "campaign", "preview", id); !strings.Contains(out, "Recipients   2 people today") || !strings.Contains(out, "==== zh-CN ====") {
		t.Errorf("preview:\n%s", out)
	}

	// Started once, after the typed confirmation; a second start is refused.
	if code, stdout, stderr := portalctl(id+"\n", "campaign", "start", id); code != 0 || !strings.Contains(stdout, "started") || !strings.Contains(stderr, "Send to 2 people?") {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := portalctl("", "campaign", "start", id, "--yes"); code != 1 || !strings.Contains(stderr, "was started already") {
		t.Errorf("second start: exit %d, stderr %q", code, stderr)
	}
	msgs, err := cloud.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 {
		t.Fatalf("%d messages on the planner's queue, want 1", len(msgs.Messages))
	}
	if j, err := jobs.Parse(*msgs.Messages[0].Body); err != nil || j.Kind != notices.JobPlan || j.Campaign != id {
		t.Errorf("plan job = %+v, %v; want %s for %s", j, err, notices.JobPlan, id)
	}
	var p progressJSON
	if err := json.Unmarshal([]byte(ok("", "campaign", "progress", id, "--json")), &p); err != nil || p.State != string(notices.StatePlanning) || p.Sent != 0 {
		t.Errorf("progress: %+v, %v", p, err)
	}

	// Published on the site's bucket, then withdrawn: the page stays, the index says inactive.
	ok("", "campaign", "publish", id)
	get := func(key string) (*awss3.GetObjectOutput, []byte) {
		t.Helper()
		out, err := cloud.S3.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return out, b
	}
	obj, body := get("notices/" + id + ".json")
	var n notices.PublicNotice
	if err := json.Unmarshal(body, &n); err != nil || n.ID != id || n.Incident["zh-CN"] == "" || n.Contact != "dpo@example.com" {
		t.Errorf("the public notice: %+v, %v", n, err)
	}
	if aws.ToString(obj.ContentType) != "application/json" || aws.ToString(obj.CacheControl) != "no-cache" {
		t.Errorf("the public notice is stored as %q, Cache-Control %q", aws.ToString(obj.ContentType), aws.ToString(obj.CacheControl))
	}
	var idx notices.NoticeIndex
	if _, body := get("notices/index.json"); json.Unmarshal(body, &idx) != nil || len(idx.Notices) != 1 || idx.Notices[0].ID != id || !idx.Notices[0].Active {
		t.Errorf("the index after publish: %s", body)
	}
	ok("", "campaign", "withdraw", id)
	idx = notices.NoticeIndex{}
	if _, body := get("notices/index.json"); json.Unmarshal(body, &idx) != nil || len(idx.Notices) != 1 || idx.Notices[0].Active {
		t.Errorf("the index after withdraw: %s", body)
	}
	if c, err := store.Campaign(ctx, id); err != nil || c.Published.IsZero() || c.Withdrawn.IsZero() || c.State != notices.StatePlanning {
		t.Errorf("the campaign after withdraw: published %v, withdrawn %v, state %s, %v", c.Published, c.Withdrawn, c.State, err)
	}

	var r notices.RegulatorReport
	if err := json.Unmarshal([]byte(ok("", "campaign", "report", id, "--format", "json")), &r); err != nil || r.Campaign != id || r.PublicNotice.IsZero() {
		t.Errorf("report: %+v, %v", r, err)
	}
}
