package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

func TestCampaignCreate(t *testing.T) {
	t.Run("a breach notice", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		c := f.campaign(t, id)
		if c.Kind != notices.KindBreach || c.State != notices.StateDraft || !c.Created.Equal(now) || !c.Audience.All {
			t.Errorf("campaign %+v", c)
		}
		b := c.Breach
		if b == nil || b.People != 1200 || b.Records != 1500 || b.Contact != "dpo@example.com" || !slices.Equal(b.DataKinds, []string{"email", "name", "mobile"}) ||
			b.Remedies["zh-CN"] != "一年免费身份监测。" || b.SelfHelp["en"] != "Beware of mail that asks for your password." {
			t.Fatalf("breach %+v", b)
		}
		if !b.Occurred.Equal(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)) || !b.Discovered.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("occurred %v, discovered %v", b.Occurred, b.Discovered)
		}
		if len(f.plans.jobs) != 0 {
			t.Errorf("create queued %v: it must send nothing", f.plans.jobs)
		}
	})
	t.Run("a policy update", func(t *testing.T) {
		f := newCampaignFixture(t)
		c := f.campaign(t, f.create(t, policyFileJSON))
		p := c.Policy
		if p == nil || p.Version != "2026-04" || !p.Effective.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) || p.Summary["en"] == "" {
			t.Errorf("policy %+v", p)
		}
	})
	t.Run("a marketing campaign, its content kept for the consent worker", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, marketingFileJSON)
		if c := f.campaign(t, id); len(c.Paragraphs["zh-CN"]) != 2 {
			t.Errorf("paragraphs %v", c.Paragraphs)
		}
		if got := f.store.content[id]; len(got["en"]) != 2 {
			t.Errorf("marketing content %v", got)
		}
	})
	t.Run("from standard input, with the table alone", func(t *testing.T) {
		f := newCampaignFixture(t)
		f.env = map[string]string{envTable: "portal-table"}
		f.deps.Stdin = strings.NewReader(policyFileJSON)
		id := strings.TrimSpace(f.mustRun(t, "campaign", "create", "--file", "-"))
		if f.campaign(t, id).Kind != notices.KindPolicyUpdate {
			t.Errorf("campaign %s not created", id)
		}
	})
}

func TestCampaignCreateBadInputExits2AndWritesNothing(t *testing.T) {
	edit := func(base string, pairs ...string) string {
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(base, pairs[i]) {
				panic("no " + pairs[i])
			}
			base = strings.Replace(base, pairs[i], pairs[i+1], 1)
		}
		return base
	}
	for _, tc := range []struct {
		name, file, stderr string
	}{
		{"a breach without its remedies", edit(breachFileJSON, `"remedies": {"en": "A year of free identity monitoring.", "zh-CN": "一年免费身份监测。"},`, ""),
			"breach.remedies is required in en"},
		{"a breach without the measures in Chinese", edit(breachFileJSON, `"zh-CN": "我们已修复漏洞并重置所有会话。"`, `"zh-CN": " "`),
			"breach.measures is required in zh-CN"},
		{"a breach without its contact", edit(breachFileJSON, `"contact": "dpo@example.com",`, ""),
			"breach.contact is required"},
		{"a breach discovered tomorrow", edit(breachFileJSON, `"discovered": "2026-03-02"`, `"discovered": "2026-03-11"`),
			"breach.discovered must be in the past"},
		{"a time that is not one", edit(breachFileJSON, `"discovered": "2026-03-02"`, `"discovered": "last Tuesday"`),
			`breach.discovered "last Tuesday" is not a time`},
		{"a number that is a string", edit(breachFileJSON, `"people": 1200`, `"people": "1200"`),
			"breach.people must be a JSON number, not string"},
		{"a misspelt field", edit(breachFileJSON, `"selfHelp"`, `"selfHlep"`),
			`unknown field "selfHlep"`},
		{"an effective date under 7 days", edit(policyFileJSON, `"effective": "2026-04-01"`, `"effective": "2026-03-16"`),
			"policy.effective must be at least 7 days after the version is published"},
		{"a policy update to a list of people", edit(policyFileJSON, `{"all": true}`, `{"subjects": ["ann"]}`),
			"audience of a policy_update campaign is every active account (all)"},
		{"an unknown kind of data held", edit(breachFileJSON, `{"all": true}`, `{"holding": "shoeSize"}`),
			`audience.holding "shoeSize" is not a kind of data the portal holds`},
		{"no audience", edit(marketingFileJSON, `,
  "audience": {"all": true}`, ""), "audience must be exactly one of all, subjects, holding"},
		{"two audiences", edit(breachFileJSON, `{"all": true}`, `{"all": true, "holding": "mobile"}`), "audience must be exactly one"},
		{"an unknown kind", edit(marketingFileJSON, `"marketing"`, `"newsletter"`), "kind must be one of breach, policy_update, marketing"},
		{"a title in English only", edit(marketingFileJSON, `, "zh-CN": "春季新功能"`, ""), "title is required in zh-CN"},
		{"marketing with breach content", edit(marketingFileJSON, `"audience"`, `"breach": {}, "audience"`), "paragraphs a marketing campaign has only its paragraphs"},
		{"not JSON", "kind: breach", "is not a campaign: invalid character"},
		{"two objects", breachFileJSON + breachFileJSON, "holds more than one JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCampaignFixture(t)
			code, stdout, stderr := f.run(t, "campaign", "create", "--file", f.file(t, tc.file))
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "portalctl help") {
				t.Errorf("stderr %q does not say %q", stderr, tc.stderr)
			}
			if len(f.connected) != 0 {
				t.Errorf("connected to the portal with a bad campaign")
			}
			f.untouched(t)
		})
	}
	t.Run("a missing file", func(t *testing.T) {
		f := newCampaignFixture(t)
		code, _, stderr := f.run(t, "campaign", "create", "--file", "/nonexistent/campaign.json")
		if code != 1 || !strings.Contains(stderr, "read the campaign") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		f.untouched(t)
	})
}

func TestCampaignPreview(t *testing.T) {
	f := newCampaignFixture(t)
	id := f.create(t, breachFileJSON)
	f.store.writes = 0
	out := f.mustRun(t, "campaign", "preview", id)
	for _, want := range []string{
		"Campaign     " + id,
		"Kind         breach notice (draft)",
		"Title        en: A security incident affecting your account",
		"Title        zh-CN: 影响您账户的安全事件",
		"Recipients   3 people today",
		"Nothing was sent",
		"==== en ====\nSubject: ",
		"==== zh-CN ====\nSubject: ",
		// the five parts and the contact, in each language's text
		"On 1 March an attacker read part of our user table.", "A year of free identity monitoring.", "dpo@example.com",
		"3月1日，攻击者读取了部分用户表。", "一年免费身份监测。",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<html") || strings.Contains(out, "at most") {
		t.Errorf("the text preview shows HTML or an upper bound:\n%s", out)
	}
	if !strings.Contains(out, "Example Co.") {
		t.Errorf("the preview is not rendered with the operator's name:\n%s", out)
	}
	f.untouched(t)
	if c := f.campaign(t, id); c.State != notices.StateDraft {
		t.Errorf("state %s after a preview", c.State)
	}

	t.Run("--html", func(t *testing.T) {
		out := f.mustRun(t, "campaign", "preview", id, "--html")
		if strings.Count(out, "<html") != 2 {
			t.Errorf("--html does not print both HTML bodies:\n%s", out)
		}
	})
	t.Run("--out DIR", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "preview")
		out := f.mustRun(t, "campaign", "preview", id, "--out", dir)
		for _, name := range []string{id + ".en.txt", id + ".en.html", id + ".zh-CN.txt", id + ".zh-CN.html"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || len(b) == 0 {
				t.Errorf("%s: %v", name, err)
			}
			if !strings.Contains(out, filepath.Join(dir, name)) {
				t.Errorf("the output does not name %s:\n%s", name, out)
			}
		}
		if !strings.Contains(out, "Subject (zh-CN): ") {
			t.Errorf("no subject:\n%s", out)
		}
	})
	t.Run("--json", func(t *testing.T) {
		var got previewJSON
		if err := json.Unmarshal([]byte(f.mustRun(t, "campaign", "preview", "--json", id)), &got); err != nil {
			t.Fatal(err)
		}
		if got.Campaign != id || got.Recipients != 3 || got.AtMost || got.Mails["zh-CN"].Subject == "" || !strings.Contains(got.Mails["en"].HTML, "<html") {
			t.Errorf("--json = %+v", got)
		}
	})
	t.Run("everyone holding a kind of data", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, strings.Replace(breachFileJSON, `{"all": true}`, `{"holding": "mobile"}`, 1))
		if out := f.mustRun(t, "campaign", "preview", id); !strings.Contains(out, "Recipients   1 person today") {
			t.Errorf("preview:\n%s", out)
		}
	})
	t.Run("marketing: at most", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, marketingFileJSON)
		out := f.mustRun(t, "campaign", "preview", id)
		if !strings.Contains(out, "Recipients   at most 3 people today") || !strings.Contains(out, "ledger grants it when it is sent") {
			t.Errorf("preview:\n%s", out)
		}
	})
	t.Run("a policy update", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, policyFileJSON)
		out := f.mustRun(t, "campaign", "preview", id)
		if !strings.Contains(out, "https://portal.example.com/policy/2026-04/") || !strings.Contains(out, "https://portal.example.com/zh/policy/2026-04/") {
			t.Errorf("the policy update does not link the new version on the site:\n%s", out)
		}
	})
	t.Run("an unknown campaign", func(t *testing.T) {
		code, stdout, stderr := f.run(t, "campaign", "preview", "nope")
		if code != 1 || stdout != "" || stderr != "portalctl: No campaign nope.\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}

func TestCampaignStartNeedsTheTypedConfirmation(t *testing.T) {
	planJob := func(id string) jobs.Job { return jobs.Job{Kind: notices.JobPlan, Campaign: id, At: now} }
	for _, tc := range []struct {
		name, stdin string
		started     bool
		stderr      string
	}{
		{"the ID typed", "%s\n", true, ""},
		{"the ID typed, without a newline", "%s", true, ""},
		{"yes", "yes\n", false, "not started: the answer was not the campaign's ID (nothing was sent)"},
		{"the ID with a typo", "x%s\n", false, "not started"},
		{"nothing", "", false, "no answer on standard input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCampaignFixture(t)
			id := f.create(t, breachFileJSON)
			writes := f.store.writes
			stdin := tc.stdin
			if strings.Contains(stdin, "%s") {
				stdin = strings.Replace(stdin, "%s", id, 1)
			}
			f.deps.Stdin = strings.NewReader(stdin)
			code, stdout, stderr := f.run(t, "campaign", "start", id)
			for _, want := range []string{"Kind         breach notice (draft)", "Title        en: A security incident", "Send to 3 people? Type the campaign id to confirm: "} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the confirmation does not show %q:\n%s", want, stderr)
				}
			}
			c := f.campaign(t, id)
			if !tc.started {
				if code != 1 || stdout != "" || !strings.Contains(stderr, tc.stderr) {
					t.Errorf("exit %d, stdout %q, stderr %q; want 1, %q", code, stdout, stderr, tc.stderr)
				}
				if c.State != notices.StateDraft || len(f.plans.jobs) != 0 || f.store.writes != writes {
					t.Errorf("state %s, jobs %v: not confirmed, yet changed", c.State, f.plans.jobs)
				}
				return
			}
			if code != 0 || !strings.Contains(stdout, "Campaign "+id+" started") || !strings.Contains(stdout, "campaign progress "+id+" --watch") {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if c.State != notices.StatePlanning || !c.Started.Equal(now) || len(f.plans.jobs) != 1 || !reflect.DeepEqual(f.plans.jobs[0], planJob(id)) {
				t.Errorf("state %s, started %v, plan jobs %v", c.State, c.Started, f.plans.jobs)
			}
		})
	}
	t.Run("marketing: at most", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, marketingFileJSON)
		f.deps.Stdin = strings.NewReader("no\n")
		_, _, stderr := f.run(t, "campaign", "start", id)
		if !strings.Contains(stderr, "Send to at most 3 people? Type the campaign id to confirm: ") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("--yes asks nothing, and needs no operator", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		delete(f.env, envOperatorName)
		code, stdout, stderr := f.run(t, "campaign", "start", "--yes", id)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "started") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if len(f.plans.jobs) != 1 || f.campaign(t, id).State != notices.StatePlanning {
			t.Errorf("plan jobs %v", f.plans.jobs)
		}
	})
	t.Run("starting twice is refused, and sends nothing more", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		f.mustRun(t, "campaign", "start", id, "--yes")
		before := f.campaign(t, id)
		for _, args := range [][]string{{"campaign", "start", id, "--yes"}, {"campaign", "start", id}} {
			f.deps.Stdin = strings.NewReader(id + "\n")
			code, stdout, stderr := f.run(t, args...)
			if code != 1 || stdout != "" || stderr != "portalctl: Campaign "+id+" was started already (planning).\n" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
			if strings.Contains(stderr, "Type the campaign id") {
				t.Errorf("%v asked to confirm a campaign started already", args)
			}
		}
		if len(f.plans.jobs) != 1 || !reflect.DeepEqual(f.campaign(t, id), before) {
			t.Errorf("plan jobs %v; campaign changed: %+v", f.plans.jobs, f.campaign(t, id))
		}
	})
	t.Run("an invalid campaign in the store is not started", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, policyFileJSON)
		c := f.campaign(t, id)
		c.Policy.Effective = c.Policy.Published.AddDate(0, 0, 3)
		f.store.campaigns[id] = c
		code, _, stderr := f.run(t, "campaign", "start", id, "--yes")
		if code == 0 || !strings.Contains(stderr, "policy.effective must be at least 7 days") || len(f.plans.jobs) != 0 {
			t.Errorf("exit %d, stderr %q, jobs %v", code, stderr, f.plans.jobs)
		}
	})
}

// sending puts a started campaign in the store: planned, sending, with counters.
func (f *campaignFixture) sending(tb testing.TB, planned int, n notices.Counts) string {
	tb.Helper()
	id := f.create(tb, breachFileJSON)
	c := f.campaign(tb, id)
	c.State, c.Started, c.Planned = notices.StateSending, now.Add(-100*time.Second), planned
	f.store.campaigns[id] = c
	f.store.counts[id] = n
	f.store.writes = 0
	return id
}

func TestCampaignProgress(t *testing.T) {
	t.Run("one reading", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.sending(t, 1000, notices.Counts{Sent: 480, Failed: 5, Suppressed: 10, Skipped: 5})
		out := f.mustRun(t, "campaign", "progress", id)
		for _, want := range []string{
			"State        sending", "Planned      1000", "Sent         480", "Failed       5", "Suppressed   10", "Skipped      5", "Left         500",
			"Rate         5.0/s (since it started)", "Time left    1m40s",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("progress does not say %q:\n%s", want, out)
			}
		}
		f.untouched(t)
	})
	t.Run("--json", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.sending(t, 1000, notices.Counts{Sent: 480, Failed: 5, Suppressed: 10, Skipped: 5})
		var got progressJSON
		if err := json.Unmarshal([]byte(f.mustRun(t, "campaign", "progress", id, "--json")), &got); err != nil {
			t.Fatal(err)
		}
		if got.Campaign != id || got.State != "sending" || got.Planned != 1000 || got.Sent != 480 || got.Failed != 5 || got.Suppressed != 10 ||
			got.Skipped != 5 || got.Left != 500 || got.Finished || got.RatePerSecond == nil || *got.RatePerSecond != 5 || got.SecondsLeft == nil || *got.SecondsLeft != 100 {
			t.Errorf("--json = %+v", got)
		}
	})
	t.Run("a draft", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		out := f.mustRun(t, "campaign", "progress", id)
		if !strings.Contains(out, "nothing is sent until it is started") || strings.Contains(out, "Rate") {
			t.Errorf("progress of a draft:\n%s", out)
		}
		code, _, stderr := f.run(t, "campaign", "progress", id, "--watch")
		if code != 1 || !strings.Contains(stderr, "is a draft") {
			t.Errorf("--watch on a draft: exit %d, %q", code, stderr)
		}
	})
}

// watched is a campaign that sends 100 a second (a reading a second) until 500 are sent.
func (f *campaignFixture) watched(tb testing.TB) string {
	tb.Helper()
	id := f.sending(tb, 500, notices.Counts{})
	clock := now
	f.clock = func() time.Time { clock = clock.Add(time.Second); return clock }
	f.store.countsOf = func(_ string, n notices.Counts) notices.Counts {
		n.Sent = min(500, n.Sent+100)
		return n
	}
	return id
}

func TestCampaignProgressWatch(t *testing.T) {
	t.Run("a line a reading when stdout is no terminal", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.watched(t)
		out := f.mustRun(t, "campaign", "progress", id, "--watch")
		if strings.Contains(out, "\r") {
			t.Errorf("the log redraws:\n%q", out)
		}
		lines := strings.Split(out, "\n")
		for i, want := range []string{
			"2026-03-10 12:00:01  sending   sent 100  failed 0  suppressed 0  skipped 0  left 400  rate 1.0/s  time left 6m44s",
			"2026-03-10 12:00:02  sending   sent 200  failed 0  suppressed 0  skipped 0  left 300  rate 100.0/s  time left 3s",
			"2026-03-10 12:00:05  sending   sent 500  failed 0  suppressed 0  skipped 0  left 0  rate 100.0/s  time left 0s",
		} {
			idx := []int{0, 1, 4}[i]
			if len(lines) <= idx || lines[idx] != want {
				t.Errorf("line %d = %q, want %q\n%s", idx, lines[min(idx, len(lines)-1)], want, out)
			}
		}
		if !strings.Contains(out, "\nCampaign "+id+" finished: 1m45s from its start to the sample that saw it done (average 4.8/s).\nSent 500, failed 0, suppressed 0, skipped 0, left 0, of 500 planned.\n") {
			t.Errorf("no final report:\n%s", out)
		}
	})
	t.Run("a bar redrawn on a terminal", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.watched(t)
		f.deps.OutTerminal = true
		out := f.mustRun(t, "campaign", "progress", id, "--watch")
		if got := strings.Count(out, "\r["); got != 5 {
			t.Errorf("%d bars drawn, want 5:\n%q", got, out)
		}
		for _, want := range []string{
			"\r[####................]  20%  sent 100  failed 0  left 400", "\r[####################] 100%  sent 500  failed 0  left 0  100.0/s  0s left\x1b[K\n",
			"finished: 1m45s",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the bar does not show %q:\n%q", want, out)
			}
		}
	})
	t.Run("--json: a line of JSON a reading", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.watched(t)
		out := strings.TrimSpace(f.mustRun(t, "campaign", "progress", id, "--watch", "--json"))
		lines := strings.Split(out, "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines, want 5:\n%s", len(lines), out)
		}
		var last progressJSON
		if err := json.Unmarshal([]byte(lines[4]), &last); err != nil || !last.Finished || last.Sent != 500 || *last.RatePerSecond != 100 {
			t.Errorf("last line %+v, %v", last, err)
		}
	})
	t.Run("Ctrl-C stops watching, not sending", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.watched(t)
		ctx, cancel := context.WithCancel(context.Background())
		f.store.countsOf = func(_ string, n notices.Counts) notices.Counts {
			n.Sent += 10
			if n.Sent >= 30 {
				cancel()
			}
			return n
		}
		var out, errOut strings.Builder
		code := run(ctx, []string{"campaign", "progress", id, "--watch"}, &out, &errOut, f.deps)
		if code != 0 || errOut.Len() != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
		if !strings.Contains(out.String(), "Stopped watching campaign "+id+" after 2s; it goes on") || !strings.Contains(out.String(), "Sent 30, failed 0, suppressed 0, skipped 0, left 470, of 500 planned.") {
			t.Errorf("output:\n%s", out.String())
		}
	})
	t.Run("finished before", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.sending(t, 3, notices.Counts{Sent: 2, Skipped: 1})
		out := f.mustRun(t, "campaign", "progress", id, "--watch")
		if !strings.Contains(out, "had finished before this watch began") || strings.Count(out, "sending  ") != 1 {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("still planning", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.sending(t, 500, notices.Counts{Sent: 100})
		c := f.campaign(t, id)
		c.State = notices.StatePlanning
		f.store.campaigns[id] = c
		out := f.mustRun(t, "campaign", "progress", id)
		if !strings.Contains(out, "Left         400+") || !strings.Contains(out, "Time left    at least 6m40s") {
			t.Errorf("output:\n%s", out)
		}
	})
}

// TestCampaignIndexAccounts: accounts activated before campaigns existed are missing from the
// index a notice to everyone reads; index-accounts adds them, and the preview counts them.
func TestCampaignIndexAccounts(t *testing.T) {
	f := newCampaignFixture(t)
	f.store.unindexed = []privacy.SubjectID{"dan", "eve"}
	id := f.create(t, breachFileJSON)
	if out := f.mustRun(t, "campaign", "preview", id); !strings.Contains(out, "Recipients   3 people today") {
		t.Fatalf("before: the preview does not count the 3 indexed accounts:\n%s", out)
	}
	out := f.mustRun(t, "campaign", "index-accounts")
	if !strings.Contains(out, "2 active accounts added to the index") {
		t.Errorf("index-accounts says:\n%s", out)
	}
	if out := f.mustRun(t, "campaign", "preview", id); !strings.Contains(out, "Recipients   5 people today") {
		t.Errorf("after: the preview does not count all 5 active accounts:\n%s", out)
	}
	if out := f.mustRun(t, "campaign", "index-accounts"); !strings.Contains(out, "0 active accounts added") {
		t.Errorf("a second run says:\n%s", out)
	}
}

func TestCampaignReport(t *testing.T) {
	f := newCampaignFixture(t)
	id := f.sending(t, 1200, notices.Counts{Sent: 1100, Failed: 3})
	out := f.mustRun(t, "campaign", "report", id)
	for _, want := range []string{
		"# Personal data breach notification: A security incident affecting your account",
		"## Nature of the breach", "On 1 March an attacker read part of our user table.",
		"People concerned: about 1200. Records concerned: about 1500.",
		"## Contact point", "dpo@example.com",
		"Breach discovered: 2 March 2026, 00:00 UTC.",
		"1100 of 1200 notices sent",
		"No public notice was published.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}

	var r notices.RegulatorReport
	if err := json.Unmarshal([]byte(f.mustRun(t, "campaign", "report", id, "--format", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Campaign != id || r.People != 1200 || r.Records != 1500 || r.Sent != 1100 || r.Planned != 1200 || r.Contact != "dpo@example.com" || !r.Written.Equal(now) {
		t.Errorf("--format json = %+v", r)
	}

	path := filepath.Join(t.TempDir(), "report.md")
	out = f.mustRun(t, "campaign", "report", id, "--out", path)
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "# Personal data breach notification") || !strings.Contains(out, "Wrote the regulator's report of campaign "+id+" to "+path) {
		t.Errorf("--out: %v, %q, stdout %q", err, b, out)
	}

	f2 := newCampaignFixture(t)
	pid := f2.create(t, policyFileJSON)
	code, stdout, stderr := f2.run(t, "campaign", "report", pid)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "only a breach has a regulator's report") {
		t.Errorf("a policy update's report: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestCampaignPublishAndWithdraw(t *testing.T) {
	f := newCampaignFixture(t)
	id := f.create(t, breachFileJSON)
	out := f.mustRun(t, "campaign", "publish", id)
	for _, want := range []string{
		"Campaign " + id + ": its public notice is on the site since 2026-03-10 12:00:00, linked from the home page",
		"https://portal.example.com/notices/?id=" + id, "https://portal.example.com/zh/notices/?id=" + id,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("publish does not say %q:\n%s", want, out)
		}
	}
	var n notices.PublicNotice
	if err := json.Unmarshal(f.site.objects["notices/"+id+".json"], &n); err != nil {
		t.Fatalf("notices/%s.json: %v", id, err)
	}
	if n.ID != id || n.Kind != notices.KindBreach || n.Remedies["zh-CN"] != "一年免费身份监测。" || n.People != 1200 || n.Contact != "dpo@example.com" {
		t.Errorf("the public notice: %+v", n)
	}
	index := func() notices.NoticeIndex {
		var idx notices.NoticeIndex
		if err := json.Unmarshal(f.site.objects["notices/index.json"], &idx); err != nil {
			t.Fatalf("notices/index.json: %v", err)
		}
		return idx
	}
	if idx := index(); len(idx.Notices) != 1 || idx.Notices[0].ID != id || !idx.Notices[0].Active {
		t.Errorf("index after publish: %+v", idx)
	}
	if c := f.campaign(t, id); !c.Published.Equal(now) || c.State != notices.StateDraft || len(f.plans.jobs) != 0 {
		t.Errorf("published %v, state %s, jobs %v", c.Published, c.State, f.plans.jobs)
	}

	out = f.mustRun(t, "campaign", "withdraw", id)
	if !strings.Contains(out, "the home page no longer links its public notice; the notice stays readable at:") {
		t.Errorf("withdraw printed:\n%s", out)
	}
	if idx := index(); len(idx.Notices) != 1 || idx.Notices[0].Active {
		t.Errorf("index after withdraw: %+v", idx)
	}
	if _, ok := f.site.objects["notices/"+id+".json"]; !ok {
		t.Errorf("withdraw removed the notice's page")
	}
	if c := f.campaign(t, id); !c.Withdrawn.Equal(now) {
		t.Errorf("withdrawn %v", c.Withdrawn)
	}

	t.Run("only a breach notice is published", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, marketingFileJSON)
		code, _, stderr := f.run(t, "campaign", "publish", id)
		if code != 1 || !strings.Contains(stderr, "only breach notices are published") || len(f.site.objects) != 0 {
			t.Errorf("exit %d, stderr %q, objects %d", code, stderr, len(f.site.objects))
		}
	})
	t.Run("withdrawing what was not published", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		code, _, stderr := f.run(t, "campaign", "withdraw", id)
		if code != 1 || !strings.Contains(stderr, "has no public notice") || len(f.site.objects) != 0 {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestCampaignUsageErrorsExit2AndTouchNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		stderr string
	}{
		{"no campaign command", []string{"campaign"}, nil, "campaign needs a command (one of create, index-accounts, preview, progress, publish, report, start, withdraw)"},
		{"an unknown campaign command", []string{"campaign", "send", "x"}, nil, `unknown command "campaign send" (campaign takes one of create,`},
		{"create without a file", []string{"campaign", "create"}, nil, "campaign create needs the campaign: portalctl campaign create --file FILE"},
		{"preview without an ID", []string{"campaign", "preview"}, nil, "campaign preview needs a campaign ID: portalctl campaign preview <id>"},
		{"start with two IDs", []string{"campaign", "start", "a", "b"}, nil, `campaign start: unexpected argument "b"`},
		{"a flag of another command", []string{"campaign", "start", "a", "--watch"}, nil, "-watch"},
		{"start without the planner queue", []string{"campaign", "start", "a", "--yes"}, map[string]string{envTable: "t"},
			"campaign start needs the planner's queue: name it (--notice-plan-queue-url URL, or " + envNoticePlanQueue},
		{"start asking, without the operator", []string{"campaign", "start", "a"}, map[string]string{envTable: "t", envNoticePlanQueue: "q"},
			"campaign start (without --yes, after a preview) renders the mail as the functions do, with the operator's name and contact and the site's address: name --operator-name or " + envOperatorName},
		{"preview without the site's address", []string{"campaign", "preview", "a"}, map[string]string{envTable: "t", envOperatorName: "n", envOperatorContact: "c"},
			"name --site-url or " + envSiteURL + " (make dev prints them)"},
		{"preview with two outputs", []string{"campaign", "preview", "a", "--html", "--json"}, nil, "one of --html, --out and --json"},
		{"publish without the site's bucket", []string{"campaign", "publish", "a"}, map[string]string{envTable: "t"},
			"campaign publish needs the site's bucket: name it (--site-bucket NAME, or " + envSiteBucket},
		{"withdraw without the site's bucket", []string{"campaign", "withdraw", "a"}, map[string]string{envTable: "t"}, "campaign withdraw needs the site's bucket"},
		{"a report in another format", []string{"campaign", "report", "a", "--format", "pdf"}, nil, `--format is md or json, not "pdf"`},
		{"no table", []string{"campaign", "progress", "a"}, map[string]string{envNoticePlanQueue: "q"}, "which portal?"},
		{"a stack and a site bucket", []string{"campaign", "publish", "a"}, map[string]string{envStack: "portal", envSiteBucket: "b"}, "names both a stack and a site bucket"},
		{"a stack and a planner queue", []string{"campaign", "start", "a"}, map[string]string{envStack: "portal", envNoticePlanQueue: "q"}, "names both a stack and a table or queue"},
		{"a stack and an operator", []string{"campaign", "preview", "a"}, map[string]string{envStack: "portal", envOperatorName: "n"}, "names both a stack and the operator"},
		{"a planner queue typed, the table in the environment", []string{"campaign", "start", "a", "--notice-plan-queue-url", "q"}, map[string]string{envTable: "t"}, "which portal?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCampaignFixture(t)
			id := f.create(t, breachFileJSON)
			f.store.writes, f.connected = 0, nil
			for i, a := range tc.args {
				if a == "a" {
					tc.args[i] = id
				}
			}
			if tc.env != nil {
				f.env = tc.env
			}
			code, stdout, stderr := f.run(t, tc.args...)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "portalctl help") {
				t.Errorf("stderr %q does not say %q and where help is", stderr, tc.stderr)
			}
			if len(f.connected) != 0 {
				t.Errorf("connected to the portal on a usage error")
			}
			f.untouched(t)
			if c := f.campaign(t, id); c.State != notices.StateDraft || !c.Published.IsZero() {
				t.Errorf("campaign now %s, published %v", c.State, c.Published)
			}
		})
	}
}

func TestCampaignConfiguration(t *testing.T) {
	t.Run("the commands that need nothing more work with the table alone", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.sending(t, 10, notices.Counts{Sent: 10})
		f.env = map[string]string{envTable: "portal-table"}
		f.connected = nil
		f.mustRun(t, "campaign", "progress", id)
		f.mustRun(t, "campaign", "report", id)
		if len(f.connected) != 2 || f.connected[0] != (Config{Table: "portal-table"}) {
			t.Errorf("connected with %+v", f.connected)
		}
	})
	t.Run("flags replace the environment", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		f.connected = nil
		f.mustRun(t, "campaign", "publish", id, "--table", "t2", "--site-bucket", "b2", "--site-url", "http://127.0.0.1:8080")
		want := Config{Table: "t2", SiteBucket: "b2", SiteURL: "http://127.0.0.1:8080"}
		if len(f.connected) != 1 || f.connected[0] != want {
			t.Errorf("connected with %+v, want %+v", f.connected, want)
		}
	})
	t.Run("the environment's", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		f.connected = nil
		f.mustRun(t, "campaign", "preview", id)
		want := Config{
			Table: "portal-table", MailQueueURL: "http://127.0.0.1:1/queue/mail", ErasureQueueURL: "http://127.0.0.1:1/queue/erasure",
			NoticePlanQueueURL: "http://127.0.0.1:1/queue/plan", SiteBucket: "portal-site",
			OperatorName: "Example Co.", OperatorContact: "privacy@example.com", SiteURL: "https://portal.example.com",
		}
		if len(f.connected) != 1 || f.connected[0] != want {
			t.Errorf("connected with %+v, want %+v", f.connected, want)
		}
	})
	t.Run("a stack names everything", func(t *testing.T) {
		f := newCampaignFixture(t)
		id := f.create(t, breachFileJSON)
		f.env = map[string]string{envStack: "portal"}
		out := f.mustRun(t, "campaign", "preview", id)
		if !strings.Contains(out, "Stack Co.") {
			t.Errorf("the preview is not rendered with the stack's operator:\n%s", out)
		}
		f.deps.Stdin = strings.NewReader(id + "\n")
		f.mustRun(t, "campaign", "start", id)
		f.mustRun(t, "campaign", "publish", id)
		if len(f.plans.jobs) != 1 || len(f.site.objects) != 2 {
			t.Errorf("jobs %v, objects %d", f.plans.jobs, len(f.site.objects))
		}
	})
}

func TestFromStackCampaignOutputs(t *testing.T) {
	c, err := fromStack(Config{Stack: "portal"}, map[string]string{
		outputTable: "t", outputMailQueue: "q", outputNoticePlanQueue: "https://sqs/plan", outputSiteBucket: "portal-site-1", outputPortalURL: "https://portal.example.com",
	})
	want := Config{Stack: "portal", Table: "t", MailQueueURL: "q", NoticePlanQueueURL: "https://sqs/plan", SiteBucket: "portal-site-1", SiteURL: "https://portal.example.com"}
	if err != nil || c != want {
		t.Errorf("fromStack = %+v, %v; want %+v", c, err, want)
	}
}

func TestHelpNamesTheCampaignCommands(t *testing.T) {
	f := newCampaignFixture(t)
	for _, args := range [][]string{{"help"}, {"campaign", "help"}, {"campaign", "-h"}, {"campaign", "start", "-h"}} {
		code, stdout, stderr := f.run(t, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		want := []string{envNoticePlanQueue, envSiteBucket, envOperatorName, envOperatorContact, envSiteURL, "NoticePlanQueueURL", "SiteBucketName",
			"--notice-plan-queue-url", "--site-bucket", "--operator-name", "--site-url", "AWS_ENDPOINT_URL_S3", "type\n                           the campaign's ID"}
		for name := range campaignCommands {
			want = append(want, "\n  campaign "+name+" ")
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: help does not mention %q", args, w)
			}
		}
	}
	if len(f.connected) != 0 {
		t.Errorf("help connected to the portal")
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-03-02T09:30:00Z", time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), false},
		{"2026-03-02T17:30:00+08:00", time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC), false},
		{"2026-03-02", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), false},
		{"", time.Time{}, false},
		{"02/03/2026", time.Time{}, true},
	} {
		got, err := parseTime("f", tc.in)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && privacy.ErrorCode(err) != privacy.Invalid {
			t.Errorf("parseTime(%q): %v is no field error", tc.in, err)
		}
	}
}

// The docs' campaign files are campaigns: one of each kind, each created as it stands.
func TestDocsCampaignFilesAreCampaigns(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "portalctl.md"))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []notices.Kind
	for _, block := range strings.Split(string(doc), "```json\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		f := newCampaignFixture(t)
		kinds = append(kinds, f.campaign(t, f.create(t, body)).Kind)
	}
	if !slices.Equal(kinds, notices.Kinds) {
		t.Errorf("the docs show campaigns of kinds %v, want one of each of %v", kinds, notices.Kinds)
	}
}
