package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/localcloud"
	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

const (
	kindReceipt = "Receipt for your consent choices"
)

// consentView is GET /api/consent as a test reads it.
type consentView struct {
	Purposes []struct {
		ID      string `json:"id"`
		Granted bool   `json:"granted"`
		New     bool   `json:"new"`
		Source  string `json:"source"`
		Signal  string `json:"signal"`
	} `json:"purposes"`
	Signals struct{ GPC, DNT bool } `json:"signals"`
	Policy  struct {
		InForce, SHA256, Accepted string
		MustAccept                bool `json:"mustAccept"`
	} `json:"policy"`
	Ledger []struct {
		At            time.Time `json:"at"`
		Purpose       string    `json:"purpose"`
		Action        string    `json:"action"`
		PolicyVersion string    `json:"policyVersion"`
		PolicySHA256  string    `json:"policySha256"`
		Source        string    `json:"source"`
		ReceiptID     string    `json:"receiptId"`
	} `json:"ledger"`
	Receipts []struct{ ID string } `json:"receipts"`
	Receipt  *struct{ ID string }  `json:"receipt"`
}

func (c consentView) granted(id string) bool {
	for _, p := range c.Purposes {
		if p.ID == id {
			return p.Granted
		}
	}
	return false
}

func (c consentView) purpose(id string) (p struct {
	ID      string `json:"id"`
	Granted bool   `json:"granted"`
	New     bool   `json:"new"`
	Source  string `json:"source"`
	Signal  string `json:"signal"`
}) {
	for _, q := range c.Purposes {
		if q.ID == id {
			return q
		}
	}
	return p
}

func decodeConsent(tb testing.TB, r reply) consentView {
	tb.Helper()
	var v consentView
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

func (v *visitor) consent() consentView {
	v.tb.Helper()
	r := v.do("GET", "/api/consent", nil)
	wantStatus(v.tb, "GET /api/consent", r, http.StatusOK)
	return decodeConsent(v.tb, r)
}

func (v *visitor) choose(choices map[string]bool) consentView {
	v.tb.Helper()
	r := v.do("PUT", "/api/consent", map[string]any{"choices": choices, "source": "form"})
	wantStatus(v.tb, fmt.Sprintf("PUT /api/consent %v", choices), r, http.StatusOK)
	return decodeConsent(v.tb, r)
}

func TestP18_ConsentIsAnAppendOnlyLedgerWithReceipts(t *testing.T) {
	p := newPerson("ledger")
	v, _ := mustActive(t, p, nil)
	c := v.consent()
	if !c.granted("service") || c.granted("marketing") || c.granted("analytics") {
		t.Fatalf("a new account's consents: %+v", c.Purposes)
	}
	if c.Policy.InForce == "" || c.Policy.MustAccept || len(c.Ledger) != 1 || c.Ledger[0].Action != "accept" || c.Ledger[0].PolicySHA256 == "" {
		t.Errorf("after registering: policy %+v, ledger %+v; want the policy in force accepted, with its hash", c.Policy, c.Ledger)
	}

	granted := v.choose(map[string]bool{"marketing": true})
	if granted.Receipt == nil || !granted.granted("marketing") {
		t.Fatalf("grant: %+v", granted)
	}
	withdrawn := v.choose(map[string]bool{"marketing": false})
	if withdrawn.Receipt == nil || withdrawn.granted("marketing") {
		t.Fatalf("withdraw: %+v", withdrawn)
	}
	l := withdrawn.Ledger
	if len(l) != 3 || l[1].Purpose != "marketing" || l[1].Action != "grant" || l[2].Action != "withdraw" || l[2].At.Before(l[1].At) ||
		l[1].ReceiptID != granted.Receipt.ID || l[2].ReceiptID != withdrawn.Receipt.ID || l[1].Source != "form" || l[1].PolicyVersion != c.Policy.InForce {
		t.Errorf("ledger = %+v, want the grant then the withdrawal, in order, each with its receipt", l)
	}

	// Both receipts are mailed, each with the Kantara receipt attached, and downloadable.
	mails := waitMails(t, p.Email, kindReceipt, 2)
	for i, id := range []string{granted.Receipt.ID, withdrawn.Receipt.ID} {
		r := v.do("GET", "/api/consent/receipts/"+id, nil)
		wantStatus(t, "download receipt", r, http.StatusOK)
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, id) {
			t.Errorf("Content-Disposition = %q", cd)
		}
		var kr consent.Receipt
		if err := json.Unmarshal(r.Body, &kr); err != nil {
			t.Fatal(err)
		}
		if kr.Version != "KI-CR-v1.1.0" || kr.ConsentReceiptID != id || kr.PIIPrincipalID == "" || kr.Services[0].Purposes[0].PurposeID != "marketing" ||
			kr.Services[0].Purposes[0].Granted != (i == 0) || kr.PolicySHA256 == "" {
			t.Errorf("receipt %d = %+v", i, kr)
		}
		found := false
		for _, m := range mails {
			if strings.Contains(m.Body.Text, id) {
				found = true
			}
		}
		if !found {
			t.Errorf("no receipt mail names receipt %s", id)
		}
	}
	other, _ := mustActive(t, newPerson("ledger"), nil)
	wantStatus(t, "another's receipt", other.do("GET", "/api/consent/receipts/"+granted.Receipt.ID, nil), http.StatusNotFound)

	// Bad input is refused and writes nothing.
	before := len(v.consent().Ledger)
	wantField(t, "an unknown purpose", v.do("PUT", "/api/consent", map[string]any{"choices": map[string]bool{"telepathy": true}, "source": "form"}), "choices")
	wantField(t, "the essential purpose", v.do("PUT", "/api/consent", map[string]any{"choices": map[string]bool{"service": false}, "source": "form"}), "choices")
	wantField(t, "an unknown source", v.do("PUT", "/api/consent", map[string]any{"choices": map[string]bool{"marketing": true}, "source": "gpc"}), "source")
	wantField(t, "a choice that is not true or false", v.do("PUT", "/api/consent", map[string]any{"choices": map[string]any{"marketing": "yes"}, "source": "form"}), "choices")
	wantField(t, "an unknown field", v.do("PUT", "/api/consent", map[string]any{"choices": map[string]bool{"marketing": true}, "source": "form", "admin": true}), "admin")
	wantStatus(t, "signed out", newVisitor(t).do("PUT", "/api/consent", map[string]any{"choices": map[string]bool{"marketing": true}, "source": "form"}), http.StatusUnauthorized)
	if after := len(v.consent().Ledger); after != before {
		t.Errorf("refused changes wrote %d entries", after-before)
	}
}

func TestP09_GPCAndDNTOptOutAndALaterChoiceIsHonoured(t *testing.T) {
	p := newPerson("gpc")
	v, _ := mustActive(t, p, nil)
	v.choose(map[string]bool{"marketing": true, "analytics": true, "email.analytics": true, "profile.mobile": true})
	v.header = func(h http.Header) { h.Set("Sec-GPC", "1") }
	c := v.consent()
	if !c.Signals.GPC {
		t.Error("the view does not say GPC was sent")
	}
	for _, id := range []string{"marketing", "analytics", "email.analytics"} {
		if pp := c.purpose(id); pp.Granted || pp.Signal != "gpc" {
			t.Errorf("%s with GPC: %+v, want off by the signal", id, pp)
		}
	}
	if !c.granted("profile.mobile") {
		t.Error("GPC withdrew a profile field's consent")
	}
	last := c.Ledger[len(c.Ledger)-1]
	if last.Source != "gpc" || last.Action != "withdraw" {
		t.Errorf("the ledger's last entry %+v, want a withdrawal recorded as GPC", last)
	}
	// An explicit choice with the signal on is honoured.
	v.choose(map[string]bool{"analytics": true})
	if c = v.consent(); !c.granted("analytics") || c.granted("marketing") {
		t.Errorf("after turning analytics on with GPC: %+v", c.Purposes)
	}
	v.header = func(h http.Header) { h.Set("DNT", "1") }
	if c = v.consent(); c.granted("analytics") || c.purpose("analytics").Signal != "dnt" {
		t.Errorf("DNT after a choice made with GPC only: %+v", c.purpose("analytics"))
	}
}

func TestP25_AUserWhoAcceptedAnOlderVersionIsAskedToAcceptTheNewOne(t *testing.T) {
	p := newPerson("accept")
	v, id := mustActive(t, p, nil)
	inForce := v.consent().Policy.InForce
	if inForce != "1.1" {
		t.Fatalf("policy in force %q; this test needs 1.1 in force", inForce)
	}
	acceptedOnly(t, id, "1.0")
	c := v.consent()
	if !c.Policy.MustAccept || c.Policy.Accepted != "1.0" {
		t.Fatalf("policy = %+v, want 1.1 to be accepted", c.Policy)
	}
	if !c.purpose("ads").New || c.purpose("marketing").New {
		t.Error("purposes added in 1.1 are not shown as new to a person who accepted 1.0")
	}
	wantField(t, "accepting an old version", v.do("POST", "/api/consent/policy", map[string]string{"version": "1.0"}), "version")
	r := v.do("POST", "/api/consent/policy", map[string]string{"version": "1.1"})
	wantStatus(t, "accept 1.1", r, http.StatusOK)
	c = decodeConsent(t, r)
	last := c.Ledger[len(c.Ledger)-1]
	if c.Policy.MustAccept || last.Action != "accept" || last.PolicyVersion != "1.1" || last.PolicySHA256 != c.Policy.SHA256 {
		t.Errorf("after accepting: policy %+v, last entry %+v", c.Policy, last)
	}
}

// acceptedOnly makes an account look registered under an older policy version: it replaces
// the registration's acceptance with one of that version (as accounts made before the newer
// version was published have), straight in the table.
func acceptedOnly(t *testing.T, id, version string) {
	t.Helper()
	db, name := table(t)
	var at time.Time
	for _, it := range partitionOf(t, id) {
		if kindOf(it) == "CONSENT" && attr(it, "purpose") == privacy.PurposePolicy {
			at, _ = time.Parse(time.RFC3339Nano, attr(it, "consentedAt"))
			if _, err := db.DeleteItem(context.Background(), &ddb.DeleteItemInput{TableName: &name, Key: ddbItem{
				"PK": &types.AttributeValueMemberS{Value: attr(it, "PK")}, "SK": &types.AttributeValueMemberS{Value: attr(it, "SK")},
			}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := privacy.Accept(privacy.PolicyRef{Version: version, SHA256: strings.Repeat("0", 64)}, privacy.SourceRegistration, at)
	if err := store(t).AppendConsents(context.Background(), privacy.SubjectID(id), []privacy.ConsentEntry{e}); err != nil {
		t.Fatal(err)
	}
}

var linkTokenRE = regexp.MustCompile(`/unsubscribe/\?token=([A-Za-z0-9%._-]+)`)

// sendCampaign writes a campaign and hands its marketing mail for one subject to the mail
// worker, as the operator's campaign planner does.
func sendCampaign(t *testing.T, subject string) string {
	t.Helper()
	id := uniq("campaign")
	c := consent.Campaign{ID: id, Title: privacy.Text{"en": "Winter news " + id, "zh-CN": "冬季新闻 " + id},
		Paragraphs: map[string][]string{"en": {"Our new features are here."}, "zh-CN": {"新功能上线了。"}}}
	if err := store(t).PutMarketingContent(context.Background(), c.ID, c.Title, c.Paragraphs); err != nil {
		t.Fatal(err)
	}
	cloud := portaltest.Cloud(t)
	body, _ := json.Marshal(jobs.Job{Kind: consent.JobMarketing, Subject: privacy.SubjectID(subject), Campaign: id, At: time.Now()})
	if _, err := cloud.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(cloud.Names["MailQueue"]), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	return "Winter news " + id
}

func TestP19_MarketingMailOnlyWithConsentAndOneClickUnsubscribe(t *testing.T) {
	p := newPerson("news")
	v, id := mustActive(t, p, nil)
	cloud := portaltest.Cloud(t)

	title := sendCampaign(t, id)
	waitSettled(t)
	if got := mailsTo(allMail(t), p.Email, title); len(got) != 0 {
		t.Fatal("a marketing mail went to a person who did not agree to it")
	}

	v.choose(map[string]bool{"marketing": true})
	from := len(cloud.IAMCalls())
	title = sendCampaign(t, id)
	m := waitMail(t, p.Email, title, 1)
	match := linkTokenRE.FindStringSubmatch(m.Body.Text)
	if match == nil {
		t.Fatalf("no unsubscribe link in the marketing mail:\n%s", m.Body.Text)
	}
	token, _ := url.QueryUnescape(match[1])
	// P08: without the e-mail tracking consent, the mail went through the set without tracking.
	if set := configurationSetOf(cloud.IAMCalls()[from:]); !strings.HasSuffix(set, "-MailConfigurationSet") {
		t.Errorf("marketing mail without tracking consent sent through %q, want MailConfigurationSet", set)
	}

	// The mail's List-Unsubscribe URL: a GET changes nothing, one POST unsubscribes.
	api := "/api/unsubscribe?token=" + url.QueryEscape(token)
	anon := newVisitor(t)
	anon.origin = "-"
	anon.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := anon.do("GET", api, nil)
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/unsubscribe/?token=") {
		t.Errorf("GET of the unsubscribe URL: %s, Location %q; want 303 to the confirmation page", r, loc)
	}
	if !v.consent().granted("marketing") {
		t.Fatal("a GET of the unsubscribe URL withdrew marketing")
	}
	oneClick := func() reply {
		anon.header = func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }
		defer func() { anon.header = nil }()
		return anon.doRaw("POST", api, "List-Unsubscribe=One-Click")
	}
	r = oneClick()
	wantStatus(t, "one-click unsubscribe", r, http.StatusOK)
	c := v.consent()
	if c.granted("marketing") || c.purpose("marketing").Source != "unsubscribe" {
		t.Errorf("after unsubscribing: %+v", c.purpose("marketing"))
	}
	wantField(t, "the link replayed", oneClick(), "token")
	forged := api[:len(api)-1] + map[bool]string{true: "0", false: "1"}[!strings.HasSuffix(api, "0")]
	anon.header = func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }
	wantField(t, "a forged link", anon.doRaw("POST", forged, "List-Unsubscribe=One-Click"), "token")
	if n := len(v.consent().Ledger); n != len(c.Ledger) {
		t.Error("a refused unsubscribe wrote to the ledger")
	}

	title = sendCampaign(t, id)
	waitSettled(t)
	if got := mailsTo(allMail(t), p.Email, title); len(got) != 0 {
		t.Error("a marketing mail went out after unsubscribing")
	}

	// P08: with e-mail tracking granted, marketing goes through the tracked set.
	v.choose(map[string]bool{"marketing": true, "email.analytics": true})
	from = len(cloud.IAMCalls())
	title = sendCampaign(t, id)
	waitMail(t, p.Email, title, 1)
	if set := configurationSetOf(cloud.IAMCalls()[from:]); !strings.HasSuffix(set, "-TrackedMailConfigurationSet") {
		t.Errorf("marketing mail with tracking consent sent through %q, want TrackedMailConfigurationSet", set)
	}
}

// configurationSetOf is the SES configuration set (its local name, <prefix>-<logical ID>) of
// the last mail the mail worker sent among calls, as the IAM proxy checked it.
func configurationSetOf(calls []localcloud.IAMCall) string {
	set := ""
	for _, c := range calls {
		if c.Function == "MailerFunction" && c.Action == "ses:SendRawEmail" {
			if _, name, ok := strings.Cut(c.Resource, ":configuration-set/"); ok {
				set = name
			}
		}
	}
	return set
}

func TestP06_PageViewsAreCountedOnlyWithAnalyticsConsentAndNeverWithGPC(t *testing.T) {
	// A page of the site no other test counts (the counter counts only the site's pages).
	const path = "/zh/policy/1.0/"
	day := time.Now().UTC().Format("2006-01-02")
	views := func() int {
		n, err := store(t).PageViews(context.Background(), day, path)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	send := func(cookie string, header map[string]string) {
		w := newVisitor(t)
		w.header = func(h http.Header) {
			if cookie != "" {
				h.Set("Cookie", cookie)
			}
			for k, v := range header {
				h.Set(k, v)
			}
		}
		r := w.do("POST", "/api/events", map[string]string{"type": "pageview", "path": path})
		wantStatus(t, "POST /api/events", r, http.StatusNoContent)
		if r.Header.Get("Set-Cookie") != "" {
			t.Error("the page-view counter set a cookie")
		}
	}
	banner := "cc_cookie=" + url.QueryEscape(`{"categories":["necessary","analytics"],"revision":0}`)
	start := views()
	send("", nil)
	send("cc_cookie="+url.QueryEscape(`{"categories":["necessary"]}`), nil)
	if views() != start {
		t.Fatal("counted without the analytics consent")
	}
	send(banner, map[string]string{"Sec-GPC": "1"})
	send(banner, map[string]string{"DNT": "1"})
	if views() != start {
		t.Fatal("P09: counted with GPC or DNT on")
	}
	before := views()
	send(banner, nil)
	if views() != before+1 {
		t.Fatalf("views = %d with the banner's consent, want %d", views(), before+1)
	}
	// A signed-in visitor counts by their ledger, not by the banner.
	p := newPerson("views")
	v, _ := mustActive(t, p, nil)
	v.header = func(h http.Header) { h.Set("Cookie", h.Get("Cookie")+"; "+banner) }
	wantStatus(t, "signed-in page view", v.do("POST", "/api/events", map[string]string{"type": "pageview", "path": path}), http.StatusNoContent)
	if views() != before+1 {
		t.Error("a signed-in visitor without the analytics consent in the ledger was counted")
	}
	wantField(t, "a bad event", newVisitor(t).do("POST", "/api/events", map[string]string{"type": "pageview", "path": "https://evil.example/"}), "path")
	// A path that is no page of the site is not counted: the counter holds only the site's pages.
	made := "/" + uniq("page") + "/"
	w := newVisitor(t)
	w.header = func(h http.Header) { h.Set("Cookie", banner) }
	wantStatus(t, "a page the site does not have", w.do("POST", "/api/events", map[string]string{"type": "pageview", "path": made}), http.StatusNoContent)
	if n, _ := store(t).PageViews(context.Background(), day, made); n != 0 {
		t.Error("a path that is no page of the site was counted")
	}
}

func TestP04_P10_DisclosuresOnlyWithConsentDeIdentifiedAbroadAndAudited(t *testing.T) {
	p := newPerson("share")
	v, id := mustActive(t, p, nil)
	cloud := portaltest.Cloud(t)
	bucket := aws.String(cloud.Names["SharingOutboxBucket"])
	outbox := func(recipient string) map[string]string {
		t.Helper()
		out := map[string]string{}
		list, err := cloud.S3.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(recipient + "/")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Contents {
			got, err := cloud.S3.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: bucket, Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(got.Body)
			got.Body.Close()
			out[*o.Key] = string(b)
		}
		return out
	}
	disclosures := func() []string {
		var out []string
		for _, e := range v.account().Audit {
			if e.Action == consent.ActionDisclosed {
				out = append(out, strings.Join(e.Fields, ","))
			}
		}
		return out
	}
	abroadBefore := outbox("global-support")

	v.choose(map[string]bool{"marketing": true})
	waitSettled(t)
	if got := disclosures(); len(got) != 0 {
		t.Fatalf("disclosures without a sharing consent: %v", got)
	}

	v.choose(map[string]bool{"share.support": true, "transfer.crossborder": true})
	waitSettled(t)
	got := disclosures()
	if len(got) != 2 || !strings.Contains(strings.Join(got, " "), "recipient:support-affiliate") || !strings.Contains(strings.Join(got, " "), "recipient:global-support") {
		t.Fatalf("the audit trail's disclosures = %v, want one to each recipient", got)
	}
	// The affiliate in the home region gets what its purpose names, this person's included.
	mine := 0
	for _, body := range outbox("support-affiliate") {
		if strings.Contains(body, id) {
			mine++
			if !strings.Contains(body, p.Email) || strings.Contains(body, "createdAt") {
				t.Errorf("the affiliate's disclosure: %s", body)
			}
		}
	}
	if mine != 1 {
		t.Errorf("%d disclosures of this person to the affiliate, want 1", mine)
	}
	// The transfer abroad is de-identified: a pseudonym, no subject ID, name, address or username.
	abroad := outbox("global-support")
	added := 0
	for key, body := range abroad {
		if _, old := abroadBefore[key]; old {
			continue
		}
		added++
		if strings.Contains(body, id) || strings.Contains(body, p.Email) || strings.Contains(body, p.Username) || !strings.Contains(body, "pseudonym") {
			t.Errorf("a transfer abroad that is not de-identified: %s", body)
		}
	}
	if added != 1 {
		t.Errorf("%d new transfers abroad, want 1", added)
	}

	// Withdrawn: what the affiliate has not collected yet is taken back.
	v.choose(map[string]bool{"share.support": false})
	waitSettled(t)
	for _, body := range outbox("support-affiliate") {
		if strings.Contains(body, id) {
			t.Error("the affiliate can still collect this person's data after the withdrawal")
		}
	}
}
