package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/localcloud"
	ddb "github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/sqs"
)

const (
	// campaignRateTarget is the least average rate a campaign may reach, as a multiple of the
	// SES rate its sender is configured with (SesSendRate).
	campaignRateTarget = 0.95
	// activeAccountsPartition is internal/dynamodb's GSI2 partition of every active account
	// (accountsPartition, unexported there), which a campaign to everyone reads.
	activeAccountsPartition = "ACCOUNTS"
	// mailboxEvery is how often the bench reads the SES emulator's new mail while the campaign
	// sends (see campaignMailbox).
	mailboxEvery = 5 * time.Second
)

// campaigns seeds b.cfg.recipients active accounts and sends them a breach notice (a campaign
// to every active account) through the local cloud's planner and sender, whose SES rate is
// b.cfg.sendRate (the cloud's SesSendRate). Counted from the SES emulator's mailbox: the
// average rate beside the configured one, the duplicate mails (beyond one per person) and
// the people planned who got none.
//
// The rate is taken over the whole seconds between the first mail's and the last's (the
// emulator stamps each mail with its second): the mails sent in them over their number.
func campaigns(ctx context.Context, b *bench) ([]Result, error) {
	c, err := b.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	n, perSecond := b.cfg.recipients, b.cfg.sendRate
	label := strconv.Itoa(n)
	if n%1000 == 0 {
		label = strconv.Itoa(n/1000) + "k"
	}
	st := &ddb.Store{Client: c.DynamoDB, Table: c.Names["PortalTable"]}
	op := &notices.Operator{
		Store: st, Content: st,
		Plans: &sqs.Jobs{Client: c.SQS, QueueURL: c.Names["NoticePlanQueue"]},
		Site:  &s3.Site{Client: c.S3, Bucket: c.Names["SiteBucket"]},
		Now:   time.Now, SiteURL: c.URL,
		Operator: mail.Operator{Name: "Bench Co.", Contact: "privacy@example.com", SiteURL: c.URL},
	}

	t := time.Now()
	addrs, err := seedActive(ctx, c, n)
	if err != nil {
		return nil, fmt.Errorf("seed %d active accounts: %w", n, err)
	}
	log.Printf("campaign: seeded %d active accounts in %s", n, time.Since(t).Round(100*time.Millisecond))

	title := fmt.Sprintf("Bench breach %d", benchRun)
	titles := map[string]bool{title: true, "数据泄露通知 " + title: true}
	now := time.Now()
	cp, err := op.Create(ctx, notices.Campaign{
		Kind: notices.KindBreach, Title: privacy.Text{privacy.LocaleEnglish: title, privacy.LocaleChinese: "数据泄露通知 " + title},
		Breach: &notices.Breach{
			Incident:  privacy.Text{privacy.LocaleEnglish: "A backup copy of our mailing list was exposed.", privacy.LocaleChinese: "我们邮件列表的备份副本被泄露。"},
			Impact:    privacy.Text{privacy.LocaleEnglish: "Your address may receive unwanted mail.", privacy.LocaleChinese: "您的邮箱可能会收到垃圾邮件。"},
			Measures:  privacy.Text{privacy.LocaleEnglish: "We closed the exposure and rotated every key.", privacy.LocaleChinese: "我们已关闭泄露渠道并更换了所有密钥。"},
			SelfHelp:  privacy.Text{privacy.LocaleEnglish: "Be wary of mail asking for codes.", privacy.LocaleChinese: "请警惕索要验证码的邮件。"},
			Remedies:  privacy.Text{privacy.LocaleEnglish: "We offer a year of spam filtering.", privacy.LocaleChinese: "我们提供一年的垃圾邮件过滤服务。"},
			DataKinds: []string{"email"}, People: n, Records: n, Contact: "dpo@example.com",
			Occurred: now.Add(-72 * time.Hour), Discovered: now.Add(-24 * time.Hour),
		},
		Audience: notices.Audience{All: true},
	})
	if err != nil {
		return nil, err
	}

	mb := newCampaignMailbox(c.MailboxURL, titles, time.Now().Unix()-1)
	cpu0, cpuErr := cpuTimes()
	started := time.Now()
	if _, err := op.Start(ctx, cp.ID); err != nil {
		return nil, err
	}
	// Time enough for the mails at a quarter of the rate, and the planning.
	deadline := started.Add(time.Duration(4*n/perSecond)*time.Second + 5*time.Minute)
	var p notices.Progress
	lastLog := started
	for {
		if err := sleep(ctx, mailboxEvery); err != nil {
			return nil, err
		}
		if p, err = op.Progress(ctx, cp.ID); err != nil {
			return nil, err
		}
		// Read after the progress: whatever it counts as sent is in the mailbox by now (the
		// emulator keeps a mail before it answers the send).
		if err := mb.fetch(ctx); err != nil {
			return nil, err
		}
		if p.Finished() {
			break
		}
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			log.Printf("campaign: %s: %s, %d planned, %d sent, %d mails in the mailbox (the last read took %s)",
				time.Since(started).Round(time.Second), p.Campaign.State, p.Campaign.Planned, p.Counts.Sent, len(mb.mails), mb.took.Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("campaign %s not finished after %s: %s, %d planned, %+v", cp.ID, time.Since(started).Round(time.Second),
				p.Campaign.State, p.Campaign.Planned, p.Counts)
		}
	}
	took := time.Since(started)
	if cpu1, err := cpuTimes(); err == nil && cpuErr == nil && cpu1.total > cpu0.total {
		log.Printf("campaign: the machine's %d CPUs were %.0f%% busy while it ran (the local cloud, the bench, and whatever else runs here)",
			runtime.NumCPU(), 100*float64(cpu1.busy-cpu0.busy)/float64(cpu1.total-cpu0.total))
	}
	log.Printf("campaign: finished in %s (planned in %s): %d planned, %+v", took.Round(100*time.Millisecond),
		p.Campaign.PlannedAt.Sub(p.Campaign.Started).Round(100*time.Millisecond), p.Campaign.Planned, p.Counts)
	if rss, peak, err := sesEmulatorMemory(c); err == nil {
		log.Printf("campaign: the SES emulator's resident set: %.0f MiB (peak %.0f MiB); %d mails read in %d windows (%.1f MiB of JSON; %d shared an earlier one's message ID), the last read took %s, the longest %s",
			float64(rss)/(1<<20), float64(peak)/(1<<20), mb.read, mb.reads, float64(mb.bytes)/(1<<20), mb.shared, mb.took.Round(time.Millisecond), mb.longest.Round(time.Millisecond))
	} else {
		log.Printf("campaign: the SES emulator's memory: %v", err)
	}

	// Per person: missing (planned, no mail) and duplicates (mails beyond the first).
	byAddr := map[string]int{}
	perSec := map[int64]int{}
	for _, m := range mb.mails {
		for _, to := range m.to {
			byAddr[strings.ToLower(to)]++
		}
		perSec[m.at]++
	}
	missing, duplicates, twice := 0, 0, 0
	seeded := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		seeded[a] = true
		if byAddr[a] == 0 {
			missing++
		}
	}
	others := 0
	for a, k := range byAddr {
		if k > 1 {
			duplicates += k - 1
			twice++
		}
		if !seeded[a] {
			others++
		}
	}
	// The cloud's other active accounts (those the round trips verified) are in the audience
	// too: those planned beyond the seeded and not mailed are missing as well.
	missing += max(0, p.Campaign.Planned-n-others)
	if p.Campaign.Planned < n {
		log.Printf("campaign: only %d of the %d seeded accounts were planned", p.Campaign.Planned, n)
	}
	log.Printf("campaign: %d mails to %d addresses (%d of them not seeded: the cloud's other active accounts); %d people got none, %d more than one",
		len(mb.mails), len(byAddr), others, missing, twice)

	rate, first, last, err := averageRate(perSec)
	if err != nil {
		return nil, err
	}
	log.Printf("campaign: mails stamped from second %d to %d (%d s); %.2f mails/s over the %d whole seconds between, %.2f over the span; the slowest whole second had %d",
		first, last, last-first+1, rate, last-first-1, float64(len(mb.mails))/float64(last-first+1), slowestSecond(perSec, first, last))
	// The planner shares the machine with the sender until every delivery is written: the
	// rate once it is done says what the sender reaches alone.
	if planned := p.Campaign.PlannedAt.Unix(); planned > first && planned < last-2 {
		after := map[int64]int{}
		for s, k := range perSec {
			if s >= planned {
				after[s] = k
			}
		}
		if r, _, _, err := averageRate(after); err == nil {
			log.Printf("campaign: %.2f mails/s from the end of planning (second %d) on", r, planned)
		}
	}

	rr := compare("campaign."+label+".rate", "mails/s", rate, "SesSendRate", float64(perSecond))
	rr.Value = round(rr.Value, 2)
	rr.target, rr.bound = campaignRateTarget, ratioAtLeast
	dr := compare("campaign."+label+".duplicates", "mails", float64(duplicates), "", 0)
	dr.bound = valueAtMost
	mr := compare("campaign."+label+".missing", "people", float64(missing), "", 0)
	mr.bound = valueAtMost
	return []Result{rr, dr, mr}, nil
}

// averageRate is the mails a second over the whole seconds strictly between the first mail's
// second and the last's (each of those two holds only part of its second's sending).
func averageRate(perSec map[int64]int) (rate float64, first, last int64, err error) {
	if len(perSec) == 0 {
		return 0, 0, 0, fmt.Errorf("no campaign mail in the mailbox")
	}
	secs := make([]int64, 0, len(perSec))
	for s := range perSec {
		secs = append(secs, s)
	}
	first, last = slices.Min(secs), slices.Max(secs)
	if last-first < 2 {
		return 0, first, last, fmt.Errorf("the campaign's mails span %d s: too few to time (more -recipients)", last-first+1)
	}
	inner := 0
	for s, k := range perSec {
		if s > first && s < last {
			inner += k
		}
	}
	return float64(inner) / float64(last-first-1), first, last, nil
}

// slowestSecond is the fewest mails in a whole second between first and last.
func slowestSecond(perSec map[int64]int, first, last int64) int {
	fewest := -1
	for s := first + 1; s < last; s++ {
		if k := perSec[s]; fewest < 0 || k < fewest {
			fewest = k
		}
	}
	return fewest
}

// campaignMailbox reads the SES emulator's mail as it arrives. The emulator keeps every mail
// in its memory and GET /store answers with all of them since a second, as one JSON document
// with each mail's text and HTML: read once at the end, 100,000 breach notices would be one
// answer of about 460 MiB, near the longest string node can make. So the bench reads a window
// every mailboxEvery, from the newest second the last read brought.
//
// The store is a list the emulator appends to, stamping each mail with the second it is
// stored in, so a read from second s begins with the mails of s the last read brought, in the
// same order: those are skipped by position. They are not told apart by message ID: the
// emulator draws IDs at random from 900 million, and among 100,000 mails a few pairs share
// one (about 5 expected).
type campaignMailbox struct {
	url    string
	client *http.Client
	titles map[string]bool

	since int64
	// tail is the IDs of the mails of second since that the last read brought.
	tail  []string
	mails []campaignMail
	// read is how many mails (of any kind) the reads have brought, each counted once; ids
	// are their IDs, and shared how many had an ID an earlier one had.
	read          int
	ids           map[string]bool
	shared        int
	reads         int
	bytes         int64
	took, longest time.Duration
}

type campaignMail struct {
	to []string
	at int64
}

func newCampaignMailbox(url string, titles map[string]bool, since int64) *campaignMailbox {
	return &campaignMailbox{url: url, client: &http.Client{Timeout: 2 * time.Minute}, titles: titles, since: since, ids: map[string]bool{}}
}

type storedMail struct {
	MessageID   string `json:"messageId"`
	Subject     string `json:"subject"`
	Destination struct {
		To []string `json:"to"`
	} `json:"destination"`
	At int64 `json:"at"`
}

func (mb *campaignMailbox) fetch(ctx context.Context) error {
	t := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/store?since=%d", mb.url, mb.since), nil)
	if err != nil {
		return err
	}
	res, err := mb.client.Do(req)
	if err != nil {
		return fmt.Errorf("read the mailbox: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("read the mailbox: %s", res.Status)
	}
	var store struct {
		Emails []storedMail `json:"emails"`
	}
	body := &countingReader{r: res.Body}
	if err := json.NewDecoder(body).Decode(&store); err != nil {
		return fmt.Errorf("read the mailbox: %w", err)
	}
	if err := mb.take(store.Emails); err != nil {
		return err
	}
	mb.reads++
	mb.bytes += body.n
	mb.took = time.Since(t)
	mb.longest = max(mb.longest, mb.took)
	return nil
}

// take adds a read's mails: those after the last read's tail.
func (mb *campaignMailbox) take(emails []storedMail) error {
	if len(emails) < len(mb.tail) {
		return fmt.Errorf("read the mailbox: %d mails since second %d, where the last read had %d: was it cleared?", len(emails), mb.since, len(mb.tail))
	}
	for i, id := range mb.tail {
		if emails[i].MessageID != id {
			return fmt.Errorf("read the mailbox: mail %d since second %d is %s, where the last read had %s: was it cleared?", i, mb.since, emails[i].MessageID, id)
		}
	}
	prev := mb.since
	for _, e := range emails[len(mb.tail):] {
		if e.At < prev {
			return fmt.Errorf("read the mailbox: mail %s of second %d is stored after one of second %d: reads by second would miss mail", e.MessageID, e.At, prev)
		}
		prev = e.At
		mb.read++
		if mb.ids[e.MessageID] {
			mb.shared++
		}
		mb.ids[e.MessageID] = true
		if mb.titles[e.Subject] {
			mb.mails = append(mb.mails, campaignMail{to: e.Destination.To, at: e.At})
		}
	}
	if len(emails) == 0 {
		return nil
	}
	// The next read begins with the newest second's mails.
	newest := emails[len(emails)-1].At
	mb.since, mb.tail = newest, nil
	for _, e := range emails {
		if e.At == newest {
			mb.tail = append(mb.tail, e.MessageID)
		}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// seedActive writes n active accounts straight into the table, as years of registrations
// would have made them (each in the active accounts' index, which a campaign to everyone
// reads), and returns their addresses.
func seedActive(ctx context.Context, c *localcloud.Cloud, n int) ([]string, error) {
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	created := ddb.Timestamp(time.Now().Add(-30 * 24 * time.Hour))
	addrs := make([]string, n)
	items := make([]map[string]types.AttributeValue, n)
	for i := range n {
		id := privacy.NewSubjectID()
		addrs[i] = fmt.Sprintf("reader-%d-%d@example.com", benchRun, i)
		items[i] = map[string]types.AttributeValue{
			"PK": str(ddb.SubjectPK(id)), "SK": str(string(ddb.KindProfile)), "subjectId": str(string(id)),
			"createdAt": str(created), "name": str("Reader"), "email": str(addrs[i]),
			"username": str(fmt.Sprintf("r%d-%d", benchRun%1_000_000, i)), "locale": str(privacy.LocaleEnglish), "ageGroup": str("14+"),
			"status": str(string(privacy.StatusActive)), "emailVerified": &types.AttributeValueMemberBOOL{Value: true},
			"emailKey": str("bench-" + string(id)), "usernameKey": str("bench-" + string(id)),
			"GSI2PK": str(activeAccountsPartition), "GSI2SK": str(string(id)),
		}
	}
	return addrs, writeItems(ctx, c.DynamoDB, c.Names["PortalTable"], len(items), func(i int) map[string]types.AttributeValue { return items[i] })
}

// sesEmulatorMemory reads the SES emulator's resident set and its peak (VmRSS, VmHWM) from
// /proc: the node process whose command line names aws-ses-v2-local and the emulator's port.
func sesEmulatorMemory(c *localcloud.Cloud) (rss, peak int64, err error) {
	port := c.Endpoints.SES[strings.LastIndex(c.Endpoints.SES, ":")+1:]
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		i := slices.Index(args, "--port")
		if !strings.Contains(string(b), "aws-ses-v2-local") || i < 0 || i+1 >= len(args) || args[i+1] != port {
			continue
		}
		status, err := os.ReadFile(filepath.Join(filepath.Dir(p), "status"))
		if err != nil {
			return 0, 0, err
		}
		for _, line := range strings.Split(string(status), "\n") {
			var kb int64
			if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
				rss = kb << 10
			}
			if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
				peak = kb << 10
			}
		}
		return rss, peak, nil
	}
	return 0, 0, fmt.Errorf("no aws-ses-v2-local process on port %s", port)
}

// cpuTimes reads the machine's CPU time, busy and in all, from /proc/stat (in clock ticks).
type cpuTime struct{ busy, total int64 }

func cpuTimes() (cpuTime, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTime{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuTime{}, fmt.Errorf("/proc/stat: %q", line)
	}
	var t cpuTime
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return cpuTime{}, fmt.Errorf("/proc/stat: %q", line)
		}
		// user nice system idle iowait irq softirq steal (guest time is counted in user).
		if i >= 8 {
			break
		}
		t.total += v
		if i != 3 && i != 4 {
			t.busy += v
		}
	}
	return t, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
