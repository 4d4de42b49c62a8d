package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// sqsSource is one SQS event of one function: what Lambda's event source mapping does.
type sqsSource struct {
	function    string
	queueURL    string
	queueARN    string
	batchSize   int32
	reportItems bool // FunctionResponseTypes: [ReportBatchItemFailures]
	// pollers is how many batches of this source run at once: its ScalingConfig's
	// MaximumConcurrency, or one. Lambda runs at least five without a ScalingConfig, and scales
	// up from there; locally, one.
	pollers int
}

func (c *Cloud) sqsSources() ([]sqsSource, error) {
	var out []sqsSource
	for _, f := range c.Stack.Functions {
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			arn := e.String("Queue")
			var q *queueInfo
			for _, info := range c.namer.queues {
				if info.arn == arn {
					q = &info
					break
				}
			}
			if q == nil {
				return nil, fmt.Errorf("function %s event %s: no queue with ARN %q", f.LogicalID, e.Name, arn)
			}
			src, err := sqsSourceOf(e)
			if err != nil {
				return nil, fmt.Errorf("function %s event %s: %w", f.LogicalID, e.Name, err)
			}
			src.function, src.queueURL, src.queueARN = f.LogicalID, q.url, arn
			out = append(out, src)
		}
	}
	return out, nil
}

// pollSQS feeds one queue to its function until the cloud closes: receive a batch, invoke,
// delete what succeeded. A failed invoke (an error, a timeout, an instance killed by CrashOn)
// is logged and leaves the batch to reappear after the visibility timeout it was received
// with: the queue's VisibilityTimeout at the receive, which a test lowers beforehand with
// SetQueueAttributes to see a retry soon (see crash.go). The queue's redrive policy moves it
// to the dead-letter queue in the end.
//
// A poller runs one batch at a time, and a source has as many pollers as its ScalingConfig's
// MaximumConcurrency (one without). A function with ReservedConcurrentExecutions N runs at
// most N batches at once over all its event sources (and its other invokes): a poller whose
// function is at its cap holds its batch and waits for a free slot rather than fail it. That
// is what Lambda does (the event source scales down to the reserved concurrency and retries
// throttled invokes), with one difference that AWS documents: there, a batch that stays
// throttled until its visibility timeout passes returns to the queue and the receive counts
// towards maxReceiveCount, so the queue's VisibilityTimeout should be six times the
// function's timeout (and maxReceiveCount at least 5). Here too the visibility clock runs while
// the poller waits, so a wait longer than the timeout sees the batch received a second time.
func (c *Cloud) pollSQS(ctx context.Context, src sqsSource) {
	for ctx.Err() == nil {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &src.queueURL,
			MaxNumberOfMessages:         src.batchSize,
			WaitTimeSeconds:             1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() == nil {
				c.logf("sqs poller %s: %v", src.function, err)
				time.Sleep(time.Second)
			}
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		ev := events.SQSEvent{}
		byID := map[string]*string{}
		for _, m := range out.Messages {
			rec := events.SQSMessage{
				MessageId:      aws.ToString(m.MessageId),
				ReceiptHandle:  aws.ToString(m.ReceiptHandle),
				Body:           aws.ToString(m.Body),
				Md5OfBody:      aws.ToString(m.MD5OfBody),
				Attributes:     m.Attributes,
				EventSource:    "aws:sqs",
				EventSourceARN: src.queueARN,
				AWSRegion:      c.Region,
			}
			if len(m.MessageAttributes) > 0 {
				rec.MessageAttributes = map[string]events.SQSMessageAttribute{}
				for k, v := range m.MessageAttributes {
					rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
				}
			}
			ev.Records = append(ev.Records, rec)
			byID[rec.MessageId] = m.ReceiptHandle
		}
		payload, _ := json.Marshal(ev)
		c.sqsBusy.Add(1)
		res, err := c.invoke(ctx, src.function, payload, true)
		if err != nil {
			c.sqsBusy.Add(-1)
			c.logf("sqs poller %s: batch of %d failed: %v", src.function, len(ev.Records), err)
			continue
		}
		failed := map[string]bool{}
		if src.reportItems {
			var r events.SQSEventResponse
			if json.Unmarshal(res, &r) == nil {
				for _, f := range r.BatchItemFailures {
					failed[f.ItemIdentifier] = true
				}
			}
		}
		for id, handle := range byID {
			if failed[id] {
				continue
			}
			if _, err := c.SQS.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: &src.queueURL, ReceiptHandle: handle}); err != nil {
				c.logf("sqs poller %s: delete: %v", src.function, err)
			}
		}
		c.sqsBusy.Add(-1)
	}
}

// Settle waits until every queue that feeds a function is empty and no batch is being handled:
// what a test waits for before it checks that something was NOT done (a mail not sent).
// Messages that failed and wait for their visibility timeout count as not settled.
func (c *Cloud) Settle(ctx context.Context) error {
	sources, err := c.sqsSources()
	if err != nil {
		return err
	}
	// Idle twice in a row: a poller may be between a receive and its invoke.
	for idle := 0; idle < 2; {
		busy, err := c.busy(ctx, sources, false)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("settle: %w", err)
		}
		if len(busy) > 0 {
			idle = 0
		} else {
			idle++
		}
		select {
		case <-ctx.Done():
			// One full look, for the error to say what was still busy.
			look, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			busy, _ := c.busy(look, sources, true)
			return fmt.Errorf("settle: queues still busy (%s): %w", strings.Join(busy, ", "), ctx.Err())
		case <-time.After(150 * time.Millisecond):
		}
	}
	return nil
}

// busy says what is not settled: batches being handled, and messages waiting or in flight in
// the sources' queues. It stops at the first it finds, unless all is set.
func (c *Cloud) busy(ctx context.Context, sources []sqsSource, all bool) ([]string, error) {
	var busy []string
	if n := c.sqsBusy.Load(); n > 0 {
		busy = append(busy, fmt.Sprintf("%d batches being handled", n))
	}
	for _, src := range sources {
		if len(busy) > 0 && !all {
			break
		}
		out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: &src.queueURL,
			AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			},
		})
		if err != nil {
			return busy, err
		}
		for name, n := range out.Attributes {
			if n != "0" {
				busy = append(busy, fmt.Sprintf("%s of %s's queue %s", n, src.function, name))
			}
		}
	}
	return busy, nil
}

// FireSchedule invokes a function that has a Schedule or ScheduleV2 event, with the event
// EventBridge would send (or the event's Input, if the template sets one). EventBridge invokes
// asynchronously, and Lambda keeps an asynchronous invoke throttled by the function's reserved
// concurrency and retries it: so FireSchedule waits for a free slot (until ctx ends), where
// Invoke would fail with TooManyRequestsError.
func (c *Cloud) FireSchedule(ctx context.Context, logicalID string) error {
	for _, f := range c.Stack.Functions {
		if f.LogicalID != logicalID {
			continue
		}
		for _, e := range f.Events {
			if e.Type != "Schedule" && e.Type != "ScheduleV2" {
				continue
			}
			payload := []byte(e.String("Input"))
			if len(payload) == 0 {
				payload, _ = json.Marshal(map[string]any{
					"version": "0", "id": newRequestID(), "detail-type": "Scheduled Event",
					"source": "aws.events", "account": c.namer.account, "time": time.Now().UTC().Format(time.RFC3339),
					"region": c.Region, "resources": []string{}, "detail": map[string]any{},
				})
			}
			_, err := c.invoke(ctx, logicalID, payload, true)
			return err
		}
		return fmt.Errorf("function %s has no schedule event", logicalID)
	}
	return fmt.Errorf("no function %q in the template", logicalID)
}

// ScheduledFunctions lists the functions that have a schedule, with their expressions.
func (c *Cloud) ScheduledFunctions() map[string]string {
	out := map[string]string{}
	for _, f := range c.Stack.Functions {
		for _, e := range f.Events {
			if e.Type == "Schedule" || e.Type == "ScheduleV2" {
				expr := e.String("Schedule")
				if expr == "" {
					expr = e.String("ScheduleExpression")
				}
				out[f.LogicalID] = expr
			}
		}
	}
	return out
}

// rateInterval parses "rate(5 minutes)"; cron expressions are fired on demand only.
func rateInterval(expr string) (time.Duration, bool) {
	inner, ok := strings.CutPrefix(expr, "rate(")
	if !ok {
		return 0, false
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 2 {
		return 0, false
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= 0 {
		return 0, false
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(fields[1], "s")]
	if unit == 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// runSchedules fires rate() schedules on their interval (make dev only; tests fire on demand).
func (c *Cloud) runSchedules(ctx context.Context) {
	for fn, expr := range c.ScheduledFunctions() {
		d, ok := rateInterval(expr)
		if !ok {
			continue
		}
		go func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := c.FireSchedule(ctx, fn); err != nil {
						c.logf("schedule %s: %v", fn, err)
					}
				}
			}
		}()
	}
}

// sqsSourceOf reads an SQS event's properties as Lambda does: its batch size (10 by default, at
// most 10 here), whether it reports failed items, and its ScalingConfig.
func sqsSourceOf(e samtemplate.Event) (sqsSource, error) {
	src := sqsSource{batchSize: 10, pollers: 1}
	if b, ok := e.Properties["BatchSize"].(float64); ok && b > 0 {
		src.batchSize = int32(min(b, 10))
	}
	if types, ok := e.Properties["FunctionResponseTypes"].([]any); ok {
		for _, t := range types {
			if t == "ReportBatchItemFailures" {
				src.reportItems = true
			}
		}
	}
	if sc, ok := e.Properties["ScalingConfig"].(map[string]any); ok {
		// Lambda refuses an event source mapping whose MaximumConcurrency is not a whole number
		// from 2 to 1000: so does the local cloud, rather than run what AWS would not deploy.
		m, ok := sc["MaximumConcurrency"].(float64)
		if !ok || m != float64(int(m)) || m < 2 || m > 1000 {
			return sqsSource{}, fmt.Errorf("ScalingConfig.MaximumConcurrency %v: Lambda takes a whole number from 2 to 1000", sc["MaximumConcurrency"])
		}
		src.pollers = int(m)
	}
	return src, nil
}
