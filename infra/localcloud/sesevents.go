package localcloud

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// SES event publishing. The SES emulator stores mail and publishes nothing; in AWS, a
// configuration set's event destinations (AWS::SES::ConfigurationSetEventDestination) publish
// an event document per matching event to an SNS topic, and SNS delivers it to the topic's
// subscriptions. The local cloud does this for the one event a send makes at once, "Send":
// when a function's SendRawEmail or SendEmail through the IAM proxy is answered with a
// MessageId and names a configuration set (ConfigurationSetName, or SendRawEmail's
// X-SES-CONFIGURATION-SET header), every enabled event destination of that set whose
// MatchingEventTypes include "send" and whose SnsDestination is a topic of the template gets
// the event on each SQS queue subscribed to that topic: the event document itself with
// RawMessageDelivery, an SNS notification envelope around it without. Bounce, complaint,
// delivery, open and click events never happen locally (nothing leaves the machine).
//
// The event is put on the queue asynchronously, just after the proxy has answered the send,
// as in AWS, where it arrives seconds later: code must not expect it when the send returns.
// A send SES refused (or IAM did) publishes nothing.

// sesSendOps are the sends the local cloud publishes Send events for: the two the emulator
// answers.
var sesSendOps = map[string]bool{"SendRawEmail": true, "SendEmail": true}

// sesRoute is one way a configuration set's events reach a queue: an event destination, its
// topic, and one sqs subscription of that topic.
type sesRoute struct {
	destination  string          // logical ID of the event destination
	types        map[string]bool // MatchingEventTypes, lower case
	topicID      string
	topicARN     string
	subscription string // logical ID, or "<topic ID>.Subscription[<i>]" for an inline one
	queueID      string
	queueURL     string
	raw          bool // RawMessageDelivery
}

// sesEventRoutes reads the template's event destinations with an SNS destination, by
// configuration set name. A destination naming a topic the template does not declare, or a
// subscription to a queue it does not declare, reaches nothing locally. A subscription with a
// FilterPolicy stops the cloud: SNS would filter what the local cloud delivers unfiltered.
func (c *Cloud) sesEventRoutes(st *samtemplate.Stack) (map[string][]sesRoute, error) {
	queueByARN := map[string]string{}
	for id, q := range c.namer.queues {
		queueByARN[q.arn] = id
	}
	type sub struct {
		id, queueID string
		raw         bool
	}
	topicIDs := map[string]string{} // by ARN
	subs := map[string][]sub{}      // by topic ARN
	addSub := func(id, topicARN string, props map[string]any) error {
		if p, _ := props["Protocol"].(string); !strings.EqualFold(p, "sqs") {
			return nil
		}
		if _, ok := props["FilterPolicy"]; ok {
			return fmt.Errorf("subscription %s: FilterPolicy is not supported by the local cloud's SNS delivery of SES events", id)
		}
		endpoint, _ := props["Endpoint"].(string)
		q, ok := queueByARN[endpoint]
		if !ok {
			c.logf("ses events: subscription %s: no queue of the template has the ARN %q; it receives nothing locally", id, endpoint)
			return nil
		}
		subs[topicARN] = append(subs[topicARN], sub{id: id, queueID: q, raw: truthy(props["RawMessageDelivery"])})
		return nil
	}
	for _, id := range st.Resources("AWS::SNS::Topic") {
		arn := c.namer.Ref(id, "AWS::SNS::Topic")
		topicIDs[arn] = id
		inline, _ := st.Properties(id)["Subscription"].([]any)
		for i, s := range inline {
			props, _ := s.(map[string]any)
			// Inline subscriptions have no RawMessageDelivery: SNS wraps every message.
			if err := addSub(fmt.Sprintf("%s.Subscription[%d]", id, i), arn, props); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range st.Resources("AWS::SNS::Subscription") {
		props := st.Properties(id)
		topic, _ := props["TopicArn"].(string)
		if err := addSub(id, topic, props); err != nil {
			return nil, err
		}
	}
	routes := map[string][]sesRoute{}
	for _, id := range st.Resources("AWS::SES::ConfigurationSetEventDestination") {
		props := st.Properties(id)
		set, _ := props["ConfigurationSetName"].(string)
		ed, _ := props["EventDestination"].(map[string]any)
		sns, _ := ed["SnsDestination"].(map[string]any)
		topic, _ := sns["TopicARN"].(string)
		// SES's default for Enabled is false: a destination without it publishes nothing.
		if set == "" || topic == "" || !truthy(ed["Enabled"]) {
			continue
		}
		types := map[string]bool{}
		list, _ := ed["MatchingEventTypes"].([]any)
		for _, t := range list {
			if s, ok := t.(string); ok {
				types[strings.ToLower(s)] = true
			}
		}
		topicID, ok := topicIDs[topic]
		if !ok {
			c.logf("ses events: event destination %s: no topic of the template has the ARN %q; its events reach nothing locally", id, topic)
			continue
		}
		for _, s := range subs[topic] {
			routes[set] = append(routes[set], sesRoute{
				destination: id, types: types, topicID: topicID, topicARN: topic,
				subscription: s.id, queueID: s.queueID, queueURL: c.namer.queues[s.queueID].url, raw: s.raw,
			})
		}
	}
	return routes, nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// sesSend is what a send request says about the mail, for its event document.
type sesSend struct {
	source       string
	sourceARN    string
	destinations []string
	configSet    string
	tags         map[string][]string // the message tags: Tags.member.N, or X-SES-MESSAGE-TAGS
	headers      []sesHeader
	common       sesCommonHeaders
}

type sesHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type sesCommonHeaders struct {
	ReturnPath string   `json:"returnPath,omitempty"`
	From       []string `json:"from,omitempty"`
	Sender     string   `json:"sender,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	Date       string   `json:"date,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	MessageID  string   `json:"messageId"`
	Subject    string   `json:"subject,omitempty"`
}

// sesMail and sesEvent are the event document, as AWS documents it ("Contents of event data
// that Amazon SES publishes to Amazon SNS"), in its field order.
type sesMail struct {
	Timestamp        string              `json:"timestamp"`
	Source           string              `json:"source"`
	SourceARN        string              `json:"sourceArn"`
	SendingAccountID string              `json:"sendingAccountId"`
	MessageID        string              `json:"messageId"`
	Destination      []string            `json:"destination"`
	HeadersTruncated bool                `json:"headersTruncated"`
	Headers          []sesHeader         `json:"headers"`
	CommonHeaders    sesCommonHeaders    `json:"commonHeaders"`
	Tags             map[string][]string `json:"tags"`
}

type sesEvent struct {
	EventType string   `json:"eventType"`
	Mail      sesMail  `json:"mail"`
	Send      struct{} `json:"send"`
}

// parseSESSend reads a SendRawEmail or SendEmail form. For SendRawEmail, what the form leaves
// out (Source, Destinations, ConfigurationSetName, Tags) comes from the message's headers, as
// SES takes it; the message's headers are read, never its body.
func parseSESSend(op string, form url.Values, region, account string) *sesSend {
	s := &sesSend{source: form.Get("Source"), configSet: form.Get("ConfigurationSetName"), tags: formTags(form)}
	var headerTags map[string][]string
	switch op {
	case "SendRawEmail":
		s.destinations = formMembers(form, "Destinations.member.")
		h := readRawHeaders(form.Get("RawMessage.Data"))
		s.headers = h
		get := func(name string) string {
			for _, x := range h {
				if strings.EqualFold(x.Name, name) {
					return x.Value
				}
			}
			return ""
		}
		all := func(name string) []string {
			var out []string
			for _, x := range h {
				if strings.EqualFold(x.Name, name) {
					out = append(out, x.Value)
				}
			}
			return out
		}
		if s.source == "" {
			s.source = get("From")
		}
		if len(s.destinations) == 0 {
			for _, k := range []string{"To", "Cc", "Bcc"} {
				for _, v := range all(k) {
					s.destinations = append(s.destinations, addresses(v, true)...)
				}
			}
		}
		if s.configSet == "" {
			s.configSet = strings.TrimSpace(get("X-SES-CONFIGURATION-SET"))
		}
		headerTags = parseTagHeader(get("X-SES-MESSAGE-TAGS"))
		dec := new(mime.WordDecoder)
		subject, err := dec.DecodeHeader(get("Subject"))
		if err != nil {
			subject = get("Subject")
		}
		s.common = sesCommonHeaders{
			ReturnPath: get("Return-Path"), From: addresses(get("From"), false), Sender: get("Sender"),
			ReplyTo: addresses(get("Reply-To"), false), Date: get("Date"),
			To: addresses(strings.Join(all("To"), ", "), false), Cc: addresses(strings.Join(all("Cc"), ", "), false),
			Bcc: addresses(strings.Join(all("Bcc"), ", "), false), Subject: subject,
		}
	case "SendEmail":
		to := formMembers(form, "Destination.ToAddresses.member.")
		cc := formMembers(form, "Destination.CcAddresses.member.")
		bcc := formMembers(form, "Destination.BccAddresses.member.")
		s.destinations = append(append(append([]string{}, to...), cc...), bcc...)
		subject := form.Get("Message.Subject.Data")
		s.headers = []sesHeader{{"From", s.source}}
		if len(to) > 0 {
			s.headers = append(s.headers, sesHeader{"To", strings.Join(to, ", ")})
		}
		if len(cc) > 0 {
			s.headers = append(s.headers, sesHeader{"Cc", strings.Join(cc, ", ")})
		}
		s.headers = append(s.headers, sesHeader{"Subject", subject}, sesHeader{"MIME-Version", "1.0"})
		s.common = sesCommonHeaders{From: []string{s.source}, To: to, Cc: cc, Subject: subject,
			ReplyTo: formMembers(form, "ReplyToAddresses.member."), ReturnPath: form.Get("ReturnPath")}
	}
	// SES takes the tags of the API parameters and ignores the header's when both are given;
	// it does not join them.
	if len(s.tags) == 0 {
		s.tags = headerTags
	}
	s.sourceARN = form.Get("SourceArn")
	if s.sourceARN == "" {
		// AWS names the verified identity, which may be the address's domain; the local cloud
		// verifies none and names the address (as its IAM checks do).
		if a, err := netmail.ParseAddress(s.source); err == nil {
			s.sourceARN = "arn:aws:ses:" + region + ":" + account + ":identity/" + a.Address
		}
	}
	return s
}

// event is the Send event document of a send SES accepted with the given MessageId.
func (s *sesSend) event(messageID string, at time.Time, sourceIP, account string) sesEvent {
	tags := map[string][]string{"ses:configuration-set": {s.configSet}}
	if sourceIP != "" {
		tags["ses:source-ip"] = []string{sourceIP}
	}
	if a, err := netmail.ParseAddress(s.source); err == nil {
		if _, domain, ok := strings.Cut(a.Address, "@"); ok {
			tags["ses:from-domain"] = []string{domain}
		}
	}
	for k, v := range s.tags {
		tags[k] = v
	}
	common := s.common
	// SES gives the message its own Message-ID, which the event's common headers show.
	common.MessageID = messageID
	dest := s.destinations
	if dest == nil {
		dest = []string{}
	}
	headers := s.headers
	if headers == nil {
		headers = []sesHeader{}
	}
	return sesEvent{EventType: "Send", Mail: sesMail{
		Timestamp: at.UTC().Format("2006-01-02T15:04:05.000Z"), Source: s.source, SourceARN: s.sourceARN,
		SendingAccountID: account, MessageID: messageID, Destination: dest, Headers: headers,
		CommonHeaders: common, Tags: tags,
	}}
}

// formTags reads Tags.member.N.Name / Tags.member.N.Value.
func formTags(form url.Values) map[string][]string {
	names := formMembers(form, "Tags.member.", ".Name")
	values := formMembers(form, "Tags.member.", ".Value")
	if len(names) == 0 || len(names) != len(values) {
		return nil
	}
	out := map[string][]string{}
	for i, n := range names {
		out[n] = append(out[n], values[i])
	}
	return out
}

// formMembers reads a query-protocol list, prefix1suffix, prefix2suffix, ..., in index order.
func formMembers(form url.Values, prefix string, suffix ...string) []string {
	sfx := strings.Join(suffix, "")
	var idx []int
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if rest, ok = strings.CutSuffix(rest, sfx); !ok {
			continue
		}
		if n, err := strconv.Atoi(rest); err == nil {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, form.Get(prefix+strconv.Itoa(n)+sfx))
	}
	return out
}

// parseTagHeader reads X-SES-MESSAGE-TAGS: "name1=value1, name2=value2".
func parseTagHeader(v string) map[string][]string {
	var out map[string][]string
	for _, part := range strings.Split(v, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(name) == "" {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		name = strings.TrimSpace(name)
		out[name] = append(out[name], strings.TrimSpace(value))
	}
	return out
}

// addresses splits an address-list header: bare addresses, or as written ("Name <addr>").
func addresses(v string, bare bool) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	list, err := netmail.ParseAddressList(v)
	if err != nil {
		return []string{strings.TrimSpace(v)}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		if bare || a.Name == "" {
			out = append(out, a.Address)
		} else {
			out = append(out, a.Name+" <"+a.Address+">")
		}
	}
	return out
}

// readRawHeaders returns a raw message's header fields in order, unfolded. Only the header
// block is decoded (at most 256 KiB of the message).
func readRawHeaders(data string) []sesHeader {
	dec := base64.NewDecoder(base64.StdEncoding, strings.NewReader(data))
	r := textproto.NewReader(bufio.NewReader(io.LimitReader(dec, 256<<10)))
	var out []sesHeader
	for {
		line, err := r.ReadContinuedLine()
		if line == "" {
			return out
		}
		if name, value, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(name, " \t") {
			out = append(out, sesHeader{Name: name, Value: strings.TrimSpace(value)})
		}
		if err != nil {
			return out
		}
	}
}

// sesMessageID reads the MessageId of SES's answer to a send.
func sesMessageID(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "MessageId" {
			var id string
			if d.DecodeElement(&id, &se) != nil {
				return ""
			}
			return strings.TrimSpace(id)
		}
	}
}

// snsNotification is the envelope SNS delivers a message in to a subscription without raw
// message delivery. The local cloud does not sign it: Signature, SignatureVersion and
// SigningCertURL are absent, so a consumer that verifies SNS signatures cannot run locally.
type snsNotification struct {
	Type           string `json:"Type"`
	MessageID      string `json:"MessageId"`
	TopicARN       string `json:"TopicArn"`
	Message        string `json:"Message"`
	Timestamp      string `json:"Timestamp"`
	UnsubscribeURL string `json:"UnsubscribeURL"`
}

// publishSESSend puts the Send event of an accepted send on every queue its configuration
// set's event destinations reach, after the proxy has answered (see the top of this file).
// Each event is logged on one line, without addresses.
func (p *iamProxy) publishSESSend(s *sesSend, messageID string, at time.Time, sourceIP string) {
	var routes []sesRoute
	for _, r := range p.sesRoutes[s.configSet] {
		if r.types["send"] {
			routes = append(routes, r)
		}
	}
	if len(routes) == 0 {
		return
	}
	doc, err := marshalPlain(s.event(messageID, at, sourceIP, p.c.namer.account))
	if err != nil {
		p.c.logf("ses events: %v", err)
		return
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return
	}
	p.events.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.events.Done()
		for _, r := range routes {
			body := string(doc)
			if !r.raw {
				env, _ := marshalPlain(snsNotification{
					Type: "Notification", MessageID: newUUID(), TopicARN: r.topicARN, Message: body,
					Timestamp:      time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
					UnsubscribeURL: "https://sns." + p.c.Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(r.topicARN+":"+r.subscription),
				})
				body = string(env)
			}
			ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
			_, err := p.c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.queueURL), MessageBody: aws.String(body)})
			cancel()
			if err != nil {
				if p.ctx.Err() == nil {
					p.c.logf("ses events: Send event of message %s (configuration set %s) to queue %s: %v", messageID, s.configSet, r.queueID, err)
				}
				continue
			}
			p.c.debugf("ses events: Send event of message %s (configuration set %s, destination %s) via topic %s to queue %s (raw: %v)",
				messageID, s.configSet, r.destination, r.topicID, r.queueID, r.raw)
		}
	}()
}

// marshalPlain is json.Marshal without HTML escaping: AWS's documents show "<" and ">" as
// they are (in "Name <address>").
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
