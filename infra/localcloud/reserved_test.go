package localcloud_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/localcloud"
)

// reservedTemplate is a small stack: the sleeper test function, limited to one invoke at a
// time (ReservedConcurrentExecutions: 1), consumes two queues, so two pollers feed it at once,
// and writes when each message's sleep began and ended.
const reservedTemplate = `
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
  QueueA:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
  QueueB:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
  SleeperFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      ReservedConcurrentExecutions: 1
      Environment:
        Variables:
          BUCKET_NAME: !Ref Bucket
      Policies:
        - Statement:
            - Effect: Allow
              Action: s3:PutObject
              Resource: !Sub "${Bucket.Arn}/runs/*"
      Events:
        A:
          Type: SQS
          Properties: {Queue: !GetAtt QueueA.Arn, BatchSize: 1}
        B:
          Type: SQS
          Properties: {Queue: !GetAtt QueueB.Arn, BatchSize: 1}
`

// TestReservedConcurrencyCapsEveryInvoke runs a function whose template reserves it one
// concurrent execution on a pool of three instances: a direct invoke beyond the one running
// is refused with Lambda's 429, and the two queues' pollers take turns, one batch at a time,
// without failing a batch (every message is received once).
func TestReservedConcurrencyCapsEveryInvoke(t *testing.T) {
	c, _ := startSmallCloud(t, "lcreserved", reservedTemplate, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const fn = "SleeperFunction"

	t.Run("no more instances than the reservation", func(t *testing.T) {
		if idle, alive := localcloud.PoolHealth(c, fn); idle != 1 || alive != 1 {
			t.Errorf("pool: %d idle, %d alive; want 1 and 1 (ReservedConcurrentExecutions 1, Instances 3)", idle, alive)
		}
	})

	t.Run("a direct invoke beyond the reservation gets 429", func(t *testing.T) {
		// The long invoke may itself be refused while a probe below holds the function: it
		// tries again, as a caller of Lambda does.
		long := make(chan error, 1)
		go func() {
			for {
				_, err := c.Invoke(ctx, fn, []byte(`{"sleep":"2s"}`))
				if !localcloud.IsThrottled(err) {
					long <- err
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		var throttled error
		waitFor(t, 5*time.Second, "an invoke refused while the long one runs", func() bool {
			start := time.Now()
			_, err := c.Invoke(ctx, fn, []byte(`{"sleep":"0s"}`))
			if err != nil && !localcloud.IsThrottled(err) {
				t.Fatalf("invoke: %v", err)
			}
			if err != nil && time.Since(start) > 500*time.Millisecond {
				t.Fatalf("the refusal took %v: Invoke waited instead of answering 429", time.Since(start))
			}
			throttled = err
			return err != nil
		})
		var tm *localcloud.TooManyRequestsError
		if !errors.As(throttled, &tm) || tm.Function != fn || tm.Reserved != 1 {
			t.Errorf("error = %#v, want a TooManyRequestsError of %s with 1 reserved", throttled, fn)
		}
		if err := <-long; err != nil {
			t.Fatalf("the invoke that held the reservation: %v", err)
		}
		if _, err := c.Invoke(ctx, fn, []byte(`{"sleep":"0s"}`)); err != nil {
			t.Errorf("an invoke once the function is free: %v", err)
		}
	})

	t.Run("two queues' batches run one at a time", func(t *testing.T) {
		const perQueue = 4
		var names []string
		for _, q := range []string{"QueueA", "QueueB"} {
			for i := range perQueue {
				name := fmt.Sprintf("%s-%d", q, i)
				names = append(names, name)
				if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{
					QueueUrl: aws.String(c.Names[q]), MessageBody: aws.String(name + " 300ms"),
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// While they run, Settle gives up when asked to, and says what is busy.
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Settle(short)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "SleeperFunction's queue") {
			t.Errorf("Settle with 8 messages of 300 ms waiting: %v, want an error naming SleeperFunction's queue", err)
		}
		bucket := c.Names["Bucket"]
		type run struct {
			name       string
			start, end int64
			receive    string
		}
		var runs []run
		waitFor(t, time.Minute, "every message's run recorded", func() bool {
			out, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("runs/")})
			if err != nil {
				t.Fatal(err)
			}
			return len(out.Contents) == len(names)
		})
		for _, name := range names {
			out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("runs/" + name)})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(out.Body)
			out.Body.Close()
			var doc struct {
				Start, End int64
				Receive    string
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatalf("runs/%s: %s: %v", name, b, err)
			}
			r := run{name: name, start: doc.Start, end: doc.End, receive: doc.Receive}
			runs = append(runs, r)
		}
		slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.start, b.start) })
		for i, r := range runs {
			if r.receive != "1" {
				t.Errorf("%s was received %s times: a throttled batch failed instead of waiting", r.name, r.receive)
			}
			if i > 0 && r.start < runs[i-1].end {
				t.Errorf("%s started %v before %s ended: two invokes at once", r.name,
					time.Duration(runs[i-1].end-r.start), runs[i-1].name)
			}
		}
		if err := c.Settle(ctx); err != nil {
			t.Error(err)
		}
	})
}
