package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
)

// campaigns is the operator's side of campaigns (what portalctl drives), on the local cloud.
func campaigns(tb testing.TB) *notices.Operator {
	tb.Helper()
	cloud := portaltest.Cloud(tb)
	return &notices.Operator{
		Store: store(tb), Content: store(tb),
		Plans: &sqs.Jobs{Client: cloud.SQS, QueueURL: cloud.Names["NoticePlanQueue"]},
		Site:  &s3.Site{Client: cloud.S3, Bucket: cloud.Names["SiteBucket"]},
		Now:   time.Now, SiteURL: portaltest.URL(tb),
		Operator: mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: portaltest.URL(tb)},
	}
}

func text(en, zh string) privacy.Text {
	return privacy.Text{privacy.LocaleEnglish: en, privacy.LocaleChinese: zh}
}

// breach is a breach notice's content, with a title no other test uses.
func breach(title string, audience notices.Audience) notices.Campaign {
	return notices.Campaign{
		Kind: notices.KindBreach, Title: text(title, "数据泄露通知 "+title),
		Breach: &notices.Breach{
			Incident:  text("A backup copy of our mailing list was exposed.", "我们邮件列表的备份副本被泄露。"),
			Impact:    text("Your phone number may be used for unwanted calls.", "您的手机号码可能会被用于骚扰电话。"),
			Measures:  text("We closed the exposure and rotated every key.", "我们已关闭泄露渠道并更换了所有密钥。"),
			SelfHelp:  text("Be wary of calls asking for codes.", "请警惕索要验证码的来电。"),
			Remedies:  text("We offer a year of call screening.", "我们提供一年的来电过滤服务。"),
			DataKinds: []string{"mobile", "email"}, People: 3, Records: 3, Contact: "dpo@example.com",
			Occurred: time.Now().Add(-72 * time.Hour), Discovered: time.Now().Add(-24 * time.Hour),
		},
		Audience: audience,
	}
}

// waitCampaign waits until every delivery of a campaign has ended, and returns its progress.
func waitCampaign(tb testing.TB, id string, within time.Duration) notices.Progress {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		p, err := campaigns(tb).Progress(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		if p.Finished() {
			return p
		}
		if time.Now().After(deadline) {
			tb.Fatalf("campaign %s not finished within %s: %+v, %d planned", id, within, p.Counts, p.Campaign.Planned)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestP14_ABreachNoticeReachesThoseAffectedOnceInTheirLanguage: a breach that exposed phone
// numbers is told to everyone holding one, whatever their marketing choice, once, in their
// language, with the five parts and the contact; a campaign missing a part, or started twice,
// is refused and sends nothing. The notice is then published on the site, and the regulator's
// report is written from the same data.
func TestP14_ABreachNoticeReachesThoseAffectedOnceInTheirLanguage(t *testing.T) {
	ctx := context.Background()
	en, zh, none := newPerson("breachen"), newPerson("breachzh"), newPerson("breachnone")
	mustActive(t, en, map[string]any{"mobile": "+44 20 7946 0101", "consents": []string{"profile.mobile"}})
	vz, _ := mustActive(t, zh, map[string]any{"mobile": "+44 20 7946 0102", "consents": []string{"profile.mobile"}})
	wantStatus(t, "read Chinese", vz.patch(map[string]any{"locale": "zh-CN"}), http.StatusOK)
	mustActive(t, none, nil)
	op := campaigns(t)
	title := "Breach " + uniq("n")

	bad := breach(title, notices.Audience{Holding: "mobile"})
	bad.Breach.SelfHelp = text("Be wary.", "")
	if _, err := op.Create(ctx, bad); privacy.ErrorCode(err) != privacy.Invalid || !strings.Contains(err.Error(), "selfHelp") {
		t.Errorf("a breach without its Chinese self-help part: %v, want a field error naming it", err)
	}
	unknown := breach(title, notices.Audience{Holding: "shoe size"})
	if _, err := op.Create(ctx, unknown); privacy.ErrorCode(err) != privacy.Invalid {
		t.Errorf("an unknown recipient set: %v, want a field error", err)
	}

	c, err := op.Create(ctx, breach(title, notices.Audience{Holding: "mobile"}))
	if err != nil {
		t.Fatal(err)
	}
	pv, err := op.Preview(ctx, c.ID)
	if err != nil || pv.Recipients < 2 || !strings.Contains(pv.Mails[privacy.LocaleChinese].Text, "我们邮件列表的备份副本被泄露") {
		t.Fatalf("preview: %d recipients (%v); Chinese text:\n%s", pv.Recipients, err, pv.Mails[privacy.LocaleChinese].Text)
	}
	if n := len(mailsTo(allMail(t), en.Email, title)); n != 0 {
		t.Fatal("the preview sent mail")
	}
	if _, err := op.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Start(ctx, c.ID); privacy.ErrorCode(err) != privacy.Conflict {
		t.Errorf("starting it twice: %v, want a conflict", err)
	}
	got := waitCampaign(t, c.ID, 2*time.Minute)
	if got.Counts.Sent != got.Campaign.Planned || got.Counts.Sent < 2 {
		t.Errorf("progress %+v of %d planned", got.Counts, got.Campaign.Planned)
	}
	m := waitMail(t, en.Email, title, 1)
	for _, part := range []string{"A backup copy of our mailing list was exposed.", "unwanted calls", "rotated every key", "wary of calls", "call screening", "dpo@example.com"} {
		if !strings.Contains(m.Body.Text, part) {
			t.Errorf("the English notice does not say %q:\n%s", part, m.Body.Text)
		}
	}
	if linkTokenRE.MatchString(m.Body.Text) || strings.Contains(strings.ToLower(m.Body.Text), "unsubscribe") {
		t.Error("a breach notice offers to unsubscribe: it is not marketing")
	}
	if z := waitMail(t, zh.Email, "数据泄露通知 "+title, 1); !strings.Contains(z.Body.Text, "我们已关闭泄露渠道") {
		t.Errorf("the Chinese reader's notice is not in Chinese:\n%s", z.Body.Text)
	}
	waitSettled(t)
	for addr, want := range map[string]int{en.Email: 1, zh.Email: 1, none.Email: 0} {
		n := len(mailsTo(allMail(t), addr, title)) + len(mailsTo(allMail(t), addr, "数据泄露通知 "+title))
		if n != want {
			t.Errorf("%d notices to %s, want %d", n, addr, want)
		}
	}

	// The public notice, on the site, and off the home page once withdrawn.
	if _, err := op.Publish(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	index := getJSON[notices.NoticeIndex](t, "/notices/index.json")
	if len(index.Notices) == 0 || index.Notices[0].ID != c.ID || !index.Notices[0].Active {
		t.Errorf("the site's notice index = %+v, want this notice first and active", index)
	}
	page := getJSON[notices.PublicNotice](t, "/notices/"+c.ID+".json")
	if page.Incident[privacy.LocaleEnglish] == "" || page.Contact != "dpo@example.com" {
		t.Errorf("the public notice = %+v", page)
	}
	if _, err := op.Withdraw(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if index := getJSON[notices.NoticeIndex](t, "/notices/index.json"); index.Notices[0].Active {
		t.Error("a withdrawn notice is still active on the home page")
	}

	report, err := notices.Report(got, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	md := report.Markdown()
	for _, want := range []string{"Nature of the breach", "A backup copy", "dpo@example.com", "Likely consequences", "Measures taken or proposed", "Breach discovered"} {
		if !strings.Contains(md, want) {
			t.Errorf("the regulator's report lacks %q:\n%s", want, md)
		}
	}
}

func getJSON[T any](tb testing.TB, path string) T {
	tb.Helper()
	res, err := http.Get(portaltest.URL(tb) + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("GET %s: %v in %s", path, err, b)
	}
	return v
}

// TestP25_APolicyUpdateGoesToEveryActiveAccountAWeekAhead: a policy update effective less
// than seven days after publication is refused; one a week ahead goes to every active account,
// once, with the summary, the date and the diff link, and to no unverified registration.
func TestP25_APolicyUpdateGoesToEveryActiveAccountAWeekAhead(t *testing.T) {
	ctx := context.Background()
	active, pending := newPerson("policyon"), newPerson("policyoff")
	mustActive(t, active, nil)
	wantStatus(t, "register", newVisitor(t).register(pending.form(nil)), http.StatusAccepted)
	op := campaigns(t)
	published := time.Now()
	update := func(days int) notices.Campaign {
		return notices.Campaign{
			Kind: notices.KindPolicyUpdate, Title: text("Policy 1.1", "政策 1.1"), Audience: notices.Audience{All: true},
			Policy: &notices.PolicyUpdate{Version: "1.1", Summary: text("Consent ledger "+uniq("s"), "同意记录"),
				Published: published, Effective: published.AddDate(0, 0, days)},
		}
	}
	if _, err := op.Create(ctx, update(6)); privacy.ErrorCode(err) != privacy.Invalid || !strings.Contains(err.Error(), "effective") {
		t.Errorf("an update effective in 6 days: %v, want a field error on the effective date", err)
	}
	c := update(7)
	c, err := op.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got := waitCampaign(t, c.ID, 3*time.Minute)
	if got.Counts.Failed != 0 || got.Counts.Sent == 0 {
		t.Errorf("progress %+v", got.Counts)
	}
	summary := c.Policy.Summary[privacy.LocaleEnglish]
	m := waitMail(t, active.Email, "Our privacy policy changes", 1)
	if !strings.Contains(m.Body.Text, summary) || !strings.Contains(m.Body.Text, "/policy/1.1/#version-diff") ||
		!strings.Contains(m.Body.Text, c.Policy.Effective.UTC().Format("2 January 2006")) {
		t.Errorf("the policy update mail lacks the summary, diff link or date:\n%s", m.Body.Text)
	}
	waitSettled(t)
	count := func(addr string) int {
		n := 0
		for _, m := range mailsTo(allMail(t), addr, "Our privacy policy changes") {
			if strings.Contains(m.Body.Text, summary) {
				n++
			}
		}
		return n
	}
	if n := count(active.Email); n != 1 {
		t.Errorf("%d updates to the active account, want 1", n)
	}
	if n := count(pending.Email); n != 0 {
		t.Errorf("%d updates to an unverified registration, want 0", n)
	}
}

// TestP19_AMarketingCampaignReachesOnlyThoseWhoGrantItWithOneClickUnsubscribe, and a bounce
// or complaint that comes back stops later campaign mail to that address.
func TestP19_AMarketingCampaignReachesOnlyThoseWhoGrantItWithOneClickUnsubscribe(t *testing.T) {
	ctx := context.Background()
	yes, no, bounced := newPerson("mktyes"), newPerson("mktno"), newPerson("mktbounce")
	vy, _ := mustActive(t, yes, nil)
	mustActive(t, no, nil)
	vb, _ := mustActive(t, bounced, nil)
	vy.choose(map[string]bool{"marketing": true})
	vb.choose(map[string]bool{"marketing": true})
	// SES reports the third address bounced for good (locally, the test puts SES's event
	// document where the configuration set's destination would).
	cloud := portaltest.Cloud(t)
	event := fmt.Sprintf(`{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":%q}],"timestamp":%q},"mail":{"messageId":"x"}}`,
		bounced.Email, time.Now().UTC().Format(time.RFC3339))
	if _, err := cloud.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(cloud.Names["NoticeFeedbackQueue"]), MessageBody: aws.String(event)}); err != nil {
		t.Fatal(err)
	}
	waitSettled(t)

	title := "News " + uniq("m")
	c, err := campaigns(t).Create(ctx, notices.Campaign{Kind: notices.KindMarketing, Title: text(title, "新闻 "+title),
		Paragraphs: map[string][]string{privacy.LocaleEnglish: {"New features."}, privacy.LocaleChinese: {"新功能。"}},
		Audience:   notices.Audience{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns(t).Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got := waitCampaign(t, c.ID, 3*time.Minute)
	m := waitMail(t, yes.Email, title, 1)
	// The one-click headers themselves are checked on the raw mail in internal/ses (the SES
	// emulator's store does not keep headers); the link the mail shows is the same token.
	if !linkTokenRE.MatchString(m.Body.Text) {
		t.Errorf("the marketing mail has no one-click unsubscribe link:\n%s", m.Body.Text)
	}
	waitSettled(t)
	if n := len(mailsTo(allMail(t), no.Email, title)); n != 0 {
		t.Error("a marketing campaign went to a person who did not grant marketing")
	}
	if n := len(mailsTo(allMail(t), bounced.Email, title)); n != 0 {
		t.Error("a marketing campaign went to an address that bounced for good")
	}
	if got.Counts.Suppressed < 1 || got.Counts.Skipped < 1 {
		t.Errorf("progress %+v: want the bounced address suppressed and the one without consent skipped", got.Counts)
	}
}

// seedActive writes n active accounts straight into the table, as years of registrations
// would have made them, and returns their IDs and addresses.
func seedActive(tb testing.TB, prefix string, n int) ([]privacy.SubjectID, map[privacy.SubjectID]string) {
	tb.Helper()
	client, tableName := table(tb)
	ctx := context.Background()
	ids := make([]privacy.SubjectID, 0, n)
	addrs := make(map[privacy.SubjectID]string, n)
	base := uniq(prefix)
	var reqs []types.WriteRequest
	flush := func() {
		for len(reqs) > 0 {
			out, err := client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tableName: reqs}})
			if err != nil {
				tb.Fatal(err)
			}
			reqs = out.UnprocessedItems[tableName]
		}
	}
	for i := range n {
		id := privacy.NewSubjectID()
		addr := fmt.Sprintf("%s-%d@example.com", base, i)
		ids, addrs[id] = append(ids, id), addr
		str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: ddbItem{
			"PK": str(dynamodb.SubjectPK(id)), "SK": str(string(dynamodb.KindProfile)), "subjectId": str(string(id)),
			"createdAt": str(dynamodb.Timestamp(time.Now())), "name": str("Reader"), "email": str(addr),
			"username": str(fmt.Sprintf("%s%d", base, i)), "locale": str(privacy.LocaleEnglish), "ageGroup": str("14+"),
			"status": str(string(privacy.StatusActive)), "emailVerified": &types.AttributeValueMemberBOOL{Value: true},
			"emailKey": str("seed-" + string(id)), "usernameKey": str("seed-" + string(id)),
		}}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()
	return ids, addrs
}

// TestP14_ACampaignSurvivesSESStoppingAndItsSenderDying: a breach notice to 10,000 people at
// 200 mails a second. Part of the way through, SES stops answering for five seconds; later the
// sender is killed in the middle of a batch (on one of its sends, as a crash or a Lambda
// timeout would). Counted from the SES mailbox, every one of the 10,000 gets the notice, and
// no one gets it twice: the mails SES took just before the sender died, whose deliveries it
// had not recorded yet, are settled by SES's Send events (the local cloud publishes them as
// SES does), and the next sender takes over only what they did not settle.
func TestP14_ACampaignSurvivesSESStoppingAndItsSenderDying(t *testing.T) {
	cloud := portaltest.Cloud(t)
	ctx := context.Background()
	const people = 10000
	ids, addrs := seedActive(t, "flood", people)
	// A batch the killed sender held comes back after the queue's visibility timeout: made
	// short here, as the export's crash test does, so the test does not wait 90 minutes.
	queue := cloud.Names["NoticeQueue"]
	setVisibility := func(seconds string) {
		t.Helper()
		if _, err := cloud.SQS.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &queue,
			Attributes: map[string]string{"VisibilityTimeout": seconds}}); err != nil {
			t.Fatal(err)
		}
	}
	setVisibility("15")
	t.Cleanup(func() {
		// Every batch settles (one held while its claims waited is received again within
		// 15 s and ends) before the template's 90 minutes come back: a batch received after
		// that would stay in flight for them, and the next tests could never settle.
		// SES's 10,000 Send events drain from the feedback queue meanwhile: longer than a mail.
		settle, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		if err := cloud.Settle(settle); err != nil {
			t.Errorf("the queues did not settle after the campaign: %v", err)
		}
		setVisibility("5400")
		cloud.ResetCrashes("NoticeSenderFunction")
	})

	title := "Flood " + uniq("f")
	c := breach(title, notices.Audience{Subjects: ids})
	c.Breach.People = people
	op := campaigns(t)
	c, err := op.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	since, calls := time.Now().Unix(), len(cloud.IAMCalls())
	fired := cloud.CrashOnNth("NoticeSenderFunction", "ses:SendRawEmail", 6000)
	if _, err := op.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	// SES stops answering for five seconds once about a quarter has gone.
	eventually(t, func() error {
		p, err := op.Progress(ctx, c.ID)
		if err != nil || p.Counts.Sent < people/4 {
			return fmt.Errorf("%+v sent so far (%v)", p.Counts, err)
		}
		return nil
	})
	if err := cloud.PauseEmulator("ses", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// The batch the killed sender held comes back every 15 s, and its unsettled deliveries
	// wait notices.TakeOver (a minute) before another sender takes them over.
	got := waitCampaign(t, c.ID, 6*time.Minute)
	if !fired() {
		t.Error("the sender was never killed: the test proved less than it says")
	}
	if got.Counts.Sent != people || got.Counts.Done() != people {
		t.Errorf("progress %+v, want all %d sent", got.Counts, people)
	}
	// The killed sender had mails at SES it never recorded: their Send events ended those
	// deliveries, through the feedback function's UpdateItem (which the IAM walk never needs).
	settled := false
	for _, call := range cloud.IAMCalls()[calls:] {
		settled = settled || (call.Function == "NoticeFeedbackFunction" && call.Action == "dynamodb:UpdateItem" && call.Allowed)
	}
	if !settled {
		t.Error("no Send event settled a delivery the killed sender left: the test proved less than it says")
	}

	// Counted from the mailbox, once, at the end: the store is large by now.
	mb := portaltest.NewMailbox(t)
	mb.Client.Timeout = 2 * time.Minute
	res, err := mb.Client.Get(fmt.Sprintf("%s/store?since=%d", mb.URL, since))
	if err != nil {
		t.Fatal(err)
	}
	var store struct {
		Emails []portaltest.Mail `json:"emails"`
	}
	err = json.NewDecoder(res.Body).Decode(&store)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[string]int{}
	for _, m := range store.Emails {
		if m.Subject == title {
			for _, to := range m.Destination.To {
				byAddr[strings.ToLower(to)]++
			}
		}
	}
	missing, twice := 0, 0
	for _, id := range ids {
		switch n := byAddr[addrs[id]]; {
		case n == 0:
			missing++
		case n > 1:
			twice++
			for _, m := range store.Emails {
				if m.Subject == title && m.To(addrs[id]) {
					t.Logf("%s (subject %s) got message %s at %d", addrs[id], id, m.MessageID, m.At)
				}
			}
		}
	}
	if missing != 0 || twice != 0 {
		t.Errorf("of %d people, %d got no notice and %d got it more than once", people, missing, twice)
	}
	if !strings.Contains(cloudLog(t), "Runtime.ExitError") {
		t.Error("the cloud's log shows no killed invocation")
	}
	// The later tests read the whole mailbox at each wait: leave it as small as it was.
	if res, err := mb.Client.Post(mb.URL+"/clear-store", "application/json", nil); err == nil {
		res.Body.Close()
	}
}
