package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacyportal/portal/infra/localcloud"
)

// crashTemplate is a small stack: the writer test function consumes a queue and writes an S3
// object per message. The queue's visibility timeout is long, as the portal's queues' are.
const crashTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  HomeRegion: {Type: String, Default: eu-west-1}
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 10
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 300
  WriterFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Environment:
        Variables:
          BUCKET_NAME: !Ref Bucket
      Policies:
        - Statement:
            - Effect: Allow
              Action: s3:PutObject
              Resource: !Sub "${Bucket.Arn}/jobs/*"
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 1
`

const instances = 2

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
	}
}

// TestCrashOnRetriesFromSQS kills the writer in the middle of its upload, as a crash or a
// Lambda timeout would, and sees what AWS does: the message comes back after the queue's
// visibility timeout (made short by the test) and the object is written once.
func TestCrashOnRetriesFromSQS(t *testing.T) {
	c, _ := startSmallCloud(t, "lccrash", crashTemplate, instances)
	t.Cleanup(func() { c.ResetCrashes("") })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	queue, bucket := c.Names["Queue"], c.Names["Bucket"]

	object := func(key string) (string, bool) {
		out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(key)})
		var missing *s3types.NoSuchKey
		if errors.As(err, &missing) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, _ := io.ReadAll(out.Body)
		return string(b), true
	}
	queueCounts := func() (visible, inFlight string) {
		out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queue, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
	}
	putObjects := func(from int) (n int) {
		for _, call := range c.IAMCalls()[from:] {
			if call.Function == "WriterFunction" && call.Action == "s3:PutObject" && call.Allowed {
				n++
			}
		}
		return n
	}
	invoke := func(id, body string) error {
		payload, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
			MessageId: id, Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		}}})
		_, err := c.Invoke(ctx, "WriterFunction", payload)
		return err
	}
	// warm has every instance run its bootstrap (RIE starts it at the first invoke), so that
	// PIDs lists them all.
	warm := func(t *testing.T) {
		t.Helper()
		var wg sync.WaitGroup
		for range instances {
			wg.Go(func() {
				if err := invoke("warm", "sleep-warm"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	healthy := func(t *testing.T) {
		t.Helper()
		waitFor(t, 10*time.Second, "the pool back to its size, every instance alive", func() bool {
			idle, alive := localcloud.PoolHealth(c, "WriterFunction")
			return idle == instances && alive == instances
		})
	}

	// The template says 300 s; SQS (and fauxqs) take the queue's timeout at each receive, so
	// lowering it before the message is received makes the redelivery quick.
	if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: &queue, Attributes: map[string]string{"VisibilityTimeout": "1"},
	}); err != nil {
		t.Fatal(err)
	}

	crashAndRetry := func(t *testing.T, job string) {
		warm(t)
		from := len(c.IAMCalls())
		before := c.PIDs()
		fired := c.CrashOn("WriterFunction", "s3:PutObject")
		if fired() {
			t.Fatal("fired before any call")
		}
		if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String(job)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the crash", fired)
		if body, ok := object("jobs/" + job); ok {
			t.Fatalf("the crashed upload was written: %q", body)
		}
		if _, inFlight := queueCounts(); inFlight != "1" {
			t.Errorf("messages in flight after the crash = %s, want 1 (waiting for its visibility timeout)", inFlight)
		}
		gone := 0
		for _, pid := range before {
			if !running(pid) {
				gone++
			}
		}
		if gone < 2 {
			t.Errorf("%d processes gone after the crash, want RIE and its bootstrap", gone)
		}

		var body string
		waitFor(t, 10*time.Second, "the redelivered message's object", func() (ok bool) {
			body, ok = object("jobs/" + job)
			return ok
		})
		if want := job + " receive 2"; body != want {
			t.Errorf("object = %q, want %q (written by the second receive)", body, want)
		}
		if err := c.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		if visible, inFlight := queueCounts(); visible != "0" || inFlight != "0" {
			t.Errorf("queue after the retry: %s visible, %s in flight; want it empty", visible, inFlight)
		}
		// One PutObject cut off by the crash, one that went through: written once.
		if n := putObjects(from); n != 2 {
			t.Errorf("%d PutObject calls, want 2 (the crashed one and the retry's)", n)
		}
		healthy(t)
	}

	t.Run("a crash mid-upload is retried from the queue", func(t *testing.T) { crashAndRetry(t, "job-1") })
	t.Run("a second CrashOn fires again", func(t *testing.T) { crashAndRetry(t, "job-2") })

	t.Run("with two invokes running, only the caller dies", func(t *testing.T) {
		// Both invokes sleep half a second, then upload: whichever uploads first is the one
		// that crashes, while the other is still running, and must not die with it.
		fired := c.CrashOn("WriterFunction", "s3:PutObject")
		bodies := []string{"sleep-a", "sleep-b"}
		errs := make([]error, len(bodies))
		var wg sync.WaitGroup
		for i, body := range bodies {
			wg.Go(func() { errs[i] = invoke(body, body) })
		}
		wg.Wait()
		if !fired() {
			t.Fatal("the crash did not fire")
		}
		crashed := 0
		for i, err := range errs {
			_, written := object("jobs/" + bodies[i])
			var fe *localcloud.FunctionError
			switch {
			case err == nil && written:
			case errors.As(err, &fe) && fe.Type == "Runtime.ExitError" && !written:
				crashed++
			default:
				t.Errorf("invoke %s: err %v, object written %v", bodies[i], err, written)
			}
		}
		if crashed != 1 {
			t.Errorf("%d invokes crashed, want 1", crashed)
		}
		healthy(t)
	})

	t.Run("CrashOnNth lets the calls before the nth through", func(t *testing.T) {
		// Two invokes, one after the other: the first upload goes through, the second kills.
		fired := c.CrashOnNth("WriterFunction", "s3:PutObject", 2)
		if err := invoke("nth-1", "nth-1"); err != nil {
			t.Fatalf("the first call: %v", err)
		}
		if _, ok := object("jobs/nth-1"); !ok || fired() {
			t.Fatalf("the first call: written %v, fired %v; want written, not fired", ok, fired())
		}
		err := invoke("nth-2", "nth-2")
		var fe *localcloud.FunctionError
		if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" || !fired() {
			t.Fatalf("the second call: %v, fired %v; want it killed", err, fired())
		}
		if _, ok := object("jobs/nth-2"); ok {
			t.Error("the killed call's upload was written")
		}
		healthy(t)
	})

	t.Run("ResetCrashes drops what never fired", func(t *testing.T) {
		fired := c.CrashOn("WriterFunction", "s3:GetObject")
		c.CrashOn("WriterFunction", "s3:PutObject")
		if n := c.ResetCrashes("WriterFunction"); n != 2 {
			t.Errorf("ResetCrashes dropped %d, want 2", n)
		}
		if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("job-3")}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "job-3's object", func() bool { _, ok := object("jobs/job-3"); return ok })
		if fired() {
			t.Error("a dropped crash fired")
		}
	})
}
