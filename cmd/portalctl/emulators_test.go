package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/jobs"
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
