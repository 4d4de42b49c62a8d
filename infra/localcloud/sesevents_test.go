package localcloud_test

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/localcloud"
)

// sesEventsTemplate is a small stack with SES event publishing as the portal's template has
// it: configuration sets whose event destinations publish to an SNS topic, and the topic's
// subscriptions deliver to queues. Mail publishes send (and bounce) events to Topic, which
// delivers them raw to Feedback and in SNS's envelope to Wrapped; its bounce-only destination
// and its disabled one (to Bounces) must publish nothing for a send. Tracked publishes "Send"
// (SES takes event types in any case) to Topic too.
const sesEventsTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  HomeRegion: {Type: String, Default: eu-west-1}
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    Timeout: 20
Resources:
  Mail:
    Type: AWS::SES::ConfigurationSet
  Tracked:
    Type: AWS::SES::ConfigurationSet
  MailEvents:
    Type: AWS::SES::ConfigurationSetEventDestination
    Properties:
      ConfigurationSetName: !Ref Mail
      EventDestination:
        Enabled: true
        MatchingEventTypes: [send, bounce, complaint]
        SnsDestination: { TopicARN: !Ref Topic }
  MailBounces:
    Type: AWS::SES::ConfigurationSetEventDestination
    Properties:
      ConfigurationSetName: !Ref Mail
      EventDestination:
        Enabled: true
        MatchingEventTypes: [bounce]
        SnsDestination: { TopicARN: !Ref BounceTopic }
  MailDisabled:
    Type: AWS::SES::ConfigurationSetEventDestination
    Properties:
      ConfigurationSetName: !Ref Mail
      EventDestination:
        Enabled: false
        MatchingEventTypes: [send]
        SnsDestination: { TopicARN: !Ref BounceTopic }
  TrackedEvents:
    Type: AWS::SES::ConfigurationSetEventDestination
    Properties:
      ConfigurationSetName: !Ref Tracked
      EventDestination:
        Enabled: true
        MatchingEventTypes: [Send, Bounce]
        SnsDestination: { TopicARN: !Ref Topic }
  Topic:
    Type: AWS::SNS::Topic
  BounceTopic:
    Type: AWS::SNS::Topic
  Feedback:
    Type: AWS::SQS::Queue
  Wrapped:
    Type: AWS::SQS::Queue
  Bounces:
    Type: AWS::SQS::Queue
  FeedbackSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Feedback.Arn
      RawMessageDelivery: true
  WrappedSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Wrapped.Arn
  BounceSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref BounceTopic
      Protocol: sqs
      Endpoint: !GetAtt Bounces.Arn
      RawMessageDelivery: true
  EchoFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: .
      Policies:
        - Statement:
            - Effect: Allow
              Action: [ses:SendRawEmail, ses:SendEmail]
              Resource:
                - !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/privacy@example.com"
                - !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${Mail}"
                - !Sub "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${Tracked}"
`

// startSESEventsCloud starts the SES events stack, and fails the test if the cloud's log names
// an address (the events it publishes hold them; its lines must not).
func startSESEventsCloud(t *testing.T) *localcloud.Cloud {
	t.Helper()
	c, logPath := startSmallCloud(t, "lcses", sesEventsTemplate, 1)
	t.Cleanup(func() {
		b, _ := os.ReadFile(logPath)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "ses events:") && strings.Contains(line, "@") {
				t.Errorf("a log line names an address: %s", line)
			}
		}
	})
	return c
}

// sesEventDoc is the part of SES's event document the tests read.
type sesEventDoc struct {
	EventType string `json:"eventType"`
	Mail      struct {
		Timestamp        string              `json:"timestamp"`
		Source           string              `json:"source"`
		MessageID        string              `json:"messageId"`
		Destination      []string            `json:"destination"`
		HeadersTruncated *bool               `json:"headersTruncated"`
		Tags             map[string][]string `json:"tags"`
		CommonHeaders    struct {
			Subject string `json:"subject"`
		} `json:"commonHeaders"`
	} `json:"mail"`
	Send *struct{} `json:"send"`
}

func TestSESPublishesSendEvents(t *testing.T) {
	c := startSESEventsCloud(t)
	ctx := context.Background()
	for _, q := range []string{"Mail", "Tracked", "Topic"} {
		if c.Names[q] == "" {
			t.Errorf("Names has no %s", q)
		}
	}
	if want := "arn:aws:sns:eu-west-1:000000000000:lcses-Topic"; c.Names["Topic"] != want {
		t.Errorf("the topic's name (Ref) = %q, want its ARN %q", c.Names["Topic"], want)
	}

	// drain receives what a queue holds within d (at least once), deleting it.
	drain := func(t *testing.T, queue string, d time.Duration) []string {
		t.Helper()
		var bodies []string
		for deadline, first := time.Now().Add(d), true; first || time.Now().Before(deadline); first = false {
			out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(c.Names[queue]), MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				bodies = append(bodies, aws.ToString(m.Body))
				if _, err := c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.Names[queue]), ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return bodies
	}
	// single waits for the first event on a queue, then makes sure no second one follows.
	single := func(t *testing.T, queue string) string {
		t.Helper()
		var got []string
		waitFor(t, 10*time.Second, "an event on "+queue, func() bool {
			got = append(got, drain(t, queue, 0)...)
			return len(got) > 0
		})
		got = append(got, drain(t, queue, 500*time.Millisecond)...)
		if len(got) != 1 {
			t.Fatalf("%d messages on %s, want 1:\n%s", len(got), queue, strings.Join(got, "\n"))
		}
		return got[0]
	}
	decode := func(t *testing.T, body string) sesEventDoc {
		t.Helper()
		var ev sesEventDoc
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("event %s: %v", body, err)
		}
		return ev
	}
	send := func(t *testing.T, call map[string]any) string {
		t.Helper()
		call["service"] = "ses"
		if call["op"] == nil {
			call["op"] = "SendRawEmail"
		}
		call["from"] = "privacy@example.com"
		r := one(t, c, call)
		if !r.OK || len(r.Value) == 0 {
			t.Fatalf("send: ok=%v %s %s, MessageId %q", r.OK, r.Code, r.Message, r.Value)
		}
		return string(r.Value)
	}
	nothingOn := func(t *testing.T, queues ...string) {
		t.Helper()
		for _, q := range queues {
			if got := drain(t, q, 700*time.Millisecond); len(got) > 0 {
				t.Errorf("%s got %d messages, want none:\n%s", q, len(got), strings.Join(got, "\n"))
			}
		}
	}

	t.Run("a send through a set with a send destination", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		id := send(t, map[string]any{"to": []string{"reader@example.org"}, "configSet": "lcses-Mail",
			"tags": map[string]string{"campaign": "welcome", "kind": "notice"}})
		ev := decode(t, single(t, "Feedback"))
		if ev.EventType != "Send" || ev.Send == nil {
			t.Errorf("eventType %q, send %v: want a Send event with a send object", ev.EventType, ev.Send)
		}
		m := ev.Mail
		if m.MessageID != id {
			t.Errorf("messageId %q, want the one SES answered: %q", m.MessageID, id)
		}
		if !slices.Equal(m.Destination, []string{"reader@example.org"}) || m.Source != "privacy@example.com" {
			t.Errorf("destination %q source %q", m.Destination, m.Source)
		}
		if m.HeadersTruncated == nil || *m.HeadersTruncated || m.CommonHeaders.Subject != "iam test" {
			t.Errorf("headersTruncated %v, subject %q", m.HeadersTruncated, m.CommonHeaders.Subject)
		}
		for k, want := range map[string]string{"ses:configuration-set": "lcses-Mail", "campaign": "welcome", "kind": "notice", "ses:from-domain": "example.com"} {
			if got := m.Tags[k]; !slices.Equal(got, []string{want}) {
				t.Errorf("tag %s = %q, want [%q]", k, got, want)
			}
		}
		if ts, err := time.Parse(time.RFC3339, m.Timestamp); err != nil || ts.Before(before) || ts.After(time.Now()) {
			t.Errorf("timestamp %q: %v", m.Timestamp, err)
		}

		// Without RawMessageDelivery, SNS wraps the same document in its notification.
		var env struct{ Type, MessageId, TopicArn, Message, Timestamp string }
		if err := json.Unmarshal([]byte(single(t, "Wrapped")), &env); err != nil {
			t.Fatal(err)
		}
		if env.Type != "Notification" || env.TopicArn != c.Names["Topic"] || env.MessageId == "" || env.Timestamp == "" {
			t.Errorf("envelope %+v", env)
		}
		if w := decode(t, env.Message); w.Mail.MessageID != id || w.EventType != "Send" {
			t.Errorf("wrapped event %+v", w)
		}
		// The bounce-only destination and the disabled one publish nothing for a send.
		nothingOn(t, "Bounces")
	})

	t.Run("SendEmail publishes too", func(t *testing.T) {
		id := send(t, map[string]any{"op": "SendEmail", "to": []string{"reader@example.org"}, "configSet": "lcses-Mail",
			"tags": map[string]string{"campaign": "digest"}})
		ev := decode(t, single(t, "Feedback"))
		if ev.Mail.MessageID != id || !slices.Equal(ev.Mail.Tags["campaign"], []string{"digest"}) {
			t.Errorf("event %+v", ev)
		}
		drain(t, "Wrapped", 500*time.Millisecond)
	})

	t.Run("set and tags in the message's headers", func(t *testing.T) {
		id := send(t, map[string]any{"to": []string{"reader@example.org"},
			"headers": map[string]string{"X-SES-CONFIGURATION-SET": "lcses-Tracked", "X-SES-MESSAGE-TAGS": "campaign=digest, kind=notice"}})
		ev := decode(t, single(t, "Feedback"))
		if ev.Mail.MessageID != id {
			t.Errorf("messageId %q, want %q", ev.Mail.MessageID, id)
		}
		for k, want := range map[string]string{"ses:configuration-set": "lcses-Tracked", "campaign": "digest", "kind": "notice"} {
			if got := ev.Mail.Tags[k]; !slices.Equal(got, []string{want}) {
				t.Errorf("tag %s = %q, want [%q]", k, got, want)
			}
		}
		drain(t, "Wrapped", 500*time.Millisecond)
	})

	t.Run("the Tags parameter wins over the header", func(t *testing.T) {
		send(t, map[string]any{"to": []string{"reader@example.org"}, "configSet": "lcses-Mail",
			"tags": map[string]string{"campaign": "param"}, "headers": map[string]string{"X-SES-MESSAGE-TAGS": "campaign=header, kind=header"}})
		ev := decode(t, single(t, "Feedback"))
		if !slices.Equal(ev.Mail.Tags["campaign"], []string{"param"}) || ev.Mail.Tags["kind"] != nil {
			t.Errorf("tags %v: want the parameter's alone", ev.Mail.Tags)
		}
		drain(t, "Wrapped", 500*time.Millisecond)
	})

	t.Run("a send whose caller gave up still publishes", func(t *testing.T) {
		// SES paused: the function's call ends before SES answers, but SES has the message and
		// sends it once it continues; in AWS its Send event is published all the same.
		if err := c.PauseEmulator("ses", 1500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		r := one(t, c, map[string]any{"service": "ses", "op": "SendRawEmail", "from": "privacy@example.com", "to": []string{"reader@example.org"},
			"configSet": "lcses-Mail", "tags": map[string]string{"campaign": "timeout"}, "timeout": "300ms"})
		if r.OK || !strings.Contains(r.Message, "deadline exceeded") {
			t.Fatalf("a send during the pause: ok=%v %q, want its deadline exceeded", r.OK, r.Message)
		}
		ev := decode(t, single(t, "Feedback"))
		if !slices.Equal(ev.Mail.Tags["campaign"], []string{"timeout"}) || ev.Mail.MessageID == "" {
			t.Errorf("event %+v", ev)
		}
		drain(t, "Wrapped", 500*time.Millisecond)
	})

	t.Run("a send without a configuration set publishes nothing", func(t *testing.T) {
		send(t, map[string]any{"to": []string{"reader@example.org"}, "tags": map[string]string{"campaign": "welcome"}})
		nothingOn(t, "Feedback", "Wrapped", "Bounces")
	})

	t.Run("a refused send publishes nothing", func(t *testing.T) {
		r := one(t, c, map[string]any{"service": "ses", "op": "SendRawEmail", "from": "other@example.com", "to": []string{"reader@example.org"}, "configSet": "lcses-Mail"})
		if r.OK || r.Code != "AccessDenied" {
			t.Fatalf("send from an identity the policy does not name: ok=%v %s", r.OK, r.Code)
		}
		nothingOn(t, "Feedback", "Wrapped", "Bounces")
	})
}
