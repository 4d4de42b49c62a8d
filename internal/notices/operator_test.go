package notices_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// memSite is a fake of the site bucket (ours: the Site interface).
type memSite struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (s *memSite) Put(_ context.Context, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = append([]byte(nil), body...)
	return nil
}

func (s *memSite) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	if !ok {
		return nil, privacy.Errorf(privacy.NotFound, "no such key")
	}
	return b, nil
}

func newOperator(st *memStore) (*notices.Operator, *memQueue, *memSite) {
	q, site := &memQueue{}, &memSite{objects: map[string][]byte{}}
	now := t0
	return &notices.Operator{
		Store: st, Content: st, Plans: q, Site: site, Now: func() time.Time { return now },
		SiteURL: "https://portal.example", Operator: operator,
	}, q, site
}

func mustCreate(tb testing.TB, o *notices.Operator, c notices.Campaign) notices.Campaign {
	tb.Helper()
	c, err := o.Create(ctx, c)
	if err != nil {
		tb.Fatalf("Create: %v", err)
	}
	return c
}

func TestOperatorCreate(t *testing.T) {
	st := newMemStore()
	o, q, _ := newOperator(st)

	c := breachCampaign("", notices.Audience{All: true})
	c.State, c.Planned, c.Published = notices.StateSending, 99, t0 // not the operator's to set
	c = mustCreate(t, o, c)
	stored := st.campaign(t, c.ID)
	if c.ID == "" || stored.State != notices.StateDraft || !stored.Created.Equal(t0) || stored.Planned != 0 || !stored.Published.IsZero() {
		t.Errorf("stored %+v, want a new draft", stored)
	}
	if st.calls["PutMarketingContent:"+c.ID] != 0 {
		t.Error("a breach notice wrote marketing content")
	}

	m := mustCreate(t, o, marketingCampaign("m1"))
	if st.calls["PutMarketingContent:m1"] != 1 || st.campaign(t, "m1").State != notices.StateDraft {
		t.Error("a marketing campaign's content was not written")
	}

	_, err := o.Create(ctx, marketingCampaign("m1"))
	wantCode(t, err, privacy.Conflict)
	if m.ID != "m1" {
		t.Errorf("ID %q", m.ID)
	}

	bad := policyCampaign("p-bad")
	bad.Policy.Effective = bad.Policy.Published.AddDate(0, 0, 3)
	_, err = o.Create(ctx, bad)
	wantField(t, err, "policy.effective")
	if _, err := st.Campaign(ctx, "p-bad"); privacy.ErrorCode(err) != privacy.NotFound {
		t.Error("an invalid campaign was written")
	}
	if len(q.all()) != 0 {
		t.Error("creating a campaign queued work")
	}
}

// TestOperatorStartOnce: a draft starts once: the second start, or a concurrent one, is a
// conflict and queues nothing more.
func TestOperatorStartOnce(t *testing.T) {
	st := newMemStore()
	o, q, _ := newOperator(st)
	mustCreate(t, o, breachCampaign("c1", notices.Audience{All: true}))

	c, err := o.Start(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != notices.StatePlanning || !c.Started.Equal(t0) || st.campaign(t, "c1").State != notices.StatePlanning {
		t.Errorf("started: %s at %v", c.State, c.Started)
	}
	_, err = o.Start(ctx, "c1")
	wantCode(t, err, privacy.Conflict)
	jobs := q.all()
	if len(jobs) != 1 || jobs[0].Kind != notices.JobPlan || jobs[0].Campaign != "c1" {
		t.Errorf("queued %+v, want one plan job for c1", jobs)
	}

	_, err = o.Start(ctx, "nope")
	wantCode(t, err, privacy.NotFound)

	// Concurrent starts of another draft: one wins.
	mustCreate(t, o, policyCampaign("p1"))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := o.Start(ctx, "p1")
			mu.Lock()
			defer mu.Unlock()
			switch privacy.ErrorCode(err) {
			case "":
				ok++
			case privacy.Conflict:
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 7 || len(q.all()) != 2 {
		t.Errorf("%d starts, %d conflicts, %d jobs; want 1, 7, 2", ok, conflicts, len(q.all()))
	}
}

// TestOperatorStartQueueDown: a start whose plan job cannot be queued says so.
func TestOperatorStartQueueDown(t *testing.T) {
	st := newMemStore()
	o, q, _ := newOperator(st)
	mustCreate(t, o, breachCampaign("c1", notices.Audience{All: true}))
	q.fail = 1
	if _, err := o.Start(ctx, "c1"); err == nil || !strings.Contains(err.Error(), "could not be queued") {
		t.Errorf("Start = %v, want an error saying the planning was not queued", err)
	}
}

// TestOperatorPreview: a preview renders the mail in both languages and counts the people it
// goes to today.
func TestOperatorPreview(t *testing.T) {
	st := newMemStore()
	addAccounts(st, notices.PageSize+20)
	addAccount(st, person{id: "x-holds", holds: []string{"mobile"}})
	addAccount(st, person{id: "x-unverified", status: privacy.StatusUnverified, holds: []string{"mobile"}})
	o, _, _ := newOperator(st)
	for _, tc := range []struct {
		campaign   notices.Campaign
		recipients int
		consent    bool
		says       map[string]string
	}{
		{breachCampaign("b-all", notices.Audience{All: true}), notices.PageSize + 21, false,
			map[string]string{privacy.LocaleEnglish: "An old backup was copied.", privacy.LocaleChinese: "一份旧备份被复制。"}},
		{breachCampaign("b-holding", notices.Audience{Holding: "mobile"}), 1, false,
			map[string]string{privacy.LocaleEnglish: "dpo@portal.example", privacy.LocaleChinese: "dpo@portal.example"}},
		{breachCampaign("b-list", notices.Audience{Subjects: []privacy.SubjectID{"s00001", "x-unverified", "x-none"}}), 1, false,
			map[string]string{privacy.LocaleEnglish: "Beware of phishing mail.", privacy.LocaleChinese: "请警惕钓鱼邮件。"}},
		{policyCampaign("p1"), notices.PageSize + 21, false,
			map[string]string{privacy.LocaleEnglish: "/policy/1.2/#version-diff", privacy.LocaleChinese: "/zh/policy/1.2/#version-diff"}},
		{marketingCampaign("m1"), notices.PageSize + 21, true,
			map[string]string{privacy.LocaleEnglish: "New features.", privacy.LocaleChinese: "新功能。"}},
	} {
		t.Run(tc.campaign.ID, func(t *testing.T) {
			mustCreate(t, o, tc.campaign)
			p, err := o.Preview(ctx, tc.campaign.ID)
			if err != nil {
				t.Fatalf("Preview: %v", err)
			}
			if p.Recipients != tc.recipients || p.ConsentDecides != tc.consent {
				t.Errorf("%d recipients (consent decides: %v), want %d (%v)", p.Recipients, p.ConsentDecides, tc.recipients, tc.consent)
			}
			if len(p.Mails) != 2 {
				t.Errorf("%d languages, want 2", len(p.Mails))
			}
			for _, l := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
				r, ok := p.Mails[l]
				if !ok {
					t.Errorf("no preview in %s", l)
					continue
				}
				if !strings.Contains(r.Text, tc.says[l]) || !strings.Contains(r.HTML, tc.says[l]) {
					t.Errorf("%s preview lacks %q", l, tc.says[l])
				}
				if tc.campaign.Kind != notices.KindPolicyUpdate && r.Subject != tc.campaign.Title[l] {
					t.Errorf("%s subject %q, want %q", l, r.Subject, tc.campaign.Title[l])
				}
			}
			if st.campaign(t, tc.campaign.ID).State != notices.StateDraft {
				t.Error("a preview changed the campaign")
			}
		})
	}
	_, err := o.Preview(ctx, "nope")
	wantCode(t, err, privacy.NotFound)
}

func TestOperatorProgress(t *testing.T) {
	st := newMemStore()
	addAccounts(st, 3)
	o, _, _ := newOperator(st)
	batches := mustPlan(t, st, breachCampaign("c1", notices.Audience{All: true}))
	sendAll(t, newSender(st, newMemMail(t)), batches)
	p, err := o.Progress(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts.Sent != 3 || p.Left() != 0 || !p.Finished() {
		t.Errorf("progress %+v, left %d", p.Counts, p.Left())
	}
	_, err = o.Progress(ctx, "nope")
	wantCode(t, err, privacy.NotFound)
}

// TestP14_PublicNotice: a breach notice published on the site: its page in both languages
// with every part, and an active entry in the index; withdrawn, the entry goes inactive and
// the page stays. Only breach notices are published.
func TestP14_PublicNotice(t *testing.T) {
	st := newMemStore()
	o, _, site := newOperator(st)
	// An earlier notice is in the index already.
	earlier := `{"notices":[{"id":"old","title":{"en":"Old","zh-CN":"旧"},"published":"2025-01-01T00:00:00Z","active":false}]}`
	site.objects["notices/index.json"] = []byte(earlier)
	c := mustCreate(t, o, breachCampaign("c1", notices.Audience{All: true}))

	pub, err := o.Publish(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Published.Equal(t0) || !st.campaign(t, "c1").Published.Equal(t0) {
		t.Errorf("published %v, want %v", pub.Published, t0)
	}
	var page map[string]any
	if err := json.Unmarshal(site.objects["notices/c1.json"], &page); err != nil {
		t.Fatalf("notices/c1.json: %v", err)
	}
	b := c.Breach
	for key, want := range map[string]privacy.Text{
		"title": c.Title, "incident": b.Incident, "impact": b.Impact, "measures": b.Measures, "selfHelp": b.SelfHelp, "remedies": b.Remedies,
	} {
		got, _ := page[key].(map[string]any)
		for _, l := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
			if got[l] != want[l] {
				t.Errorf("%s[%s] = %v, want %q", key, l, got[l], want[l])
			}
		}
	}
	if page["id"] != "c1" || page["kind"] != "breach" || page["contact"] != b.Contact || page["people"] != float64(1200) ||
		page["records"] != float64(1500) || page["published"] != "2026-03-02T09:00:00Z" {
		t.Errorf("page %v", page)
	}
	if kinds, _ := page["dataKinds"].([]any); len(kinds) != 2 || kinds[0] != "email" || kinds[1] != "mobile" {
		t.Errorf("dataKinds %v", page["dataKinds"])
	}

	idx := readIndex(t, site)
	if len(idx.Notices) != 2 || idx.Notices[0].ID != "c1" || !idx.Notices[0].Active || !idx.Notices[0].Published.Equal(t0) ||
		idx.Notices[0].Title[privacy.LocaleChinese] != c.Title[privacy.LocaleChinese] || idx.Notices[1].ID != "old" {
		t.Errorf("index %+v", idx)
	}

	// Published again (a correction): one entry, the first publication's date.
	o.Now = func() time.Time { return t0.Add(time.Hour) }
	if _, err := o.Publish(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if idx := readIndex(t, site); len(idx.Notices) != 2 || !idx.Notices[0].Published.Equal(t0) {
		t.Errorf("index after a second publication %+v", idx)
	}

	w, err := o.Withdraw(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if w.Withdrawn.IsZero() || st.campaign(t, "c1").Withdrawn.IsZero() {
		t.Error("the campaign does not record the withdrawal")
	}
	idx = readIndex(t, site)
	if len(idx.Notices) != 2 || idx.Notices[0].ID != "c1" || idx.Notices[0].Active {
		t.Errorf("index after withdrawal %+v, want c1 inactive", idx)
	}
	if _, ok := site.objects["notices/c1.json"]; !ok {
		t.Error("the page went with the withdrawal")
	}

	mustCreate(t, o, policyCampaign("p1"))
	_, err = o.Publish(ctx, "p1")
	wantCode(t, err, privacy.Conflict)
	mustCreate(t, o, marketingCampaign("m1"))
	_, err = o.Publish(ctx, "m1")
	wantCode(t, err, privacy.Conflict)
	if _, ok := site.objects["notices/p1.json"]; ok {
		t.Error("a policy update was published")
	}
	mustCreate(t, o, breachCampaign("c2", notices.Audience{All: true}))
	_, err = o.Withdraw(ctx, "c2")
	wantCode(t, err, privacy.Conflict)
	_, err = o.Publish(ctx, "nope")
	wantCode(t, err, privacy.NotFound)
}

func readIndex(tb testing.TB, site *memSite) notices.NoticeIndex {
	tb.Helper()
	var idx notices.NoticeIndex
	if err := json.Unmarshal(site.objects["notices/index.json"], &idx); err != nil {
		tb.Fatalf("notices/index.json: %v", err)
	}
	return idx
}

// TestPublishWhilePlanning: the operator publishing a campaign while the planner is between
// reading and saving it: the planner's save is stale, it reads the campaign again and goes on,
// and both the publication and the plan are kept.
func TestPublishWhilePlanning(t *testing.T) {
	st := newMemStore()
	ids := addAccounts(st, 2*notices.PageSize)
	o, _, _ := newOperator(st)
	mustCreate(t, o, breachCampaign("c1", notices.Audience{All: true}))
	if _, err := o.Start(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	q := &memQueue{}
	q.onEnqueue = func() {
		if _, err := o.Publish(ctx, "c1"); err != nil {
			t.Error(err)
		}
	}
	if _, err := newPlanner(st, q).Plan(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	c := st.campaign(t, "c1")
	if !c.Published.Equal(t0) {
		t.Errorf("published %v, want %v", c.Published, t0)
	}
	checkPlanned(t, st, q, "c1", ids)
}

// TestPublishRetriesAStaleSave: a publication whose save finds the campaign changed reads it
// again and saves once more; one that keeps changing is a conflict to try again.
func TestPublishRetriesAStaleSave(t *testing.T) {
	st := newMemStore()
	o, _, _ := newOperator(st)
	mustCreate(t, o, breachCampaign("c1", notices.Audience{All: true}))
	st.failNext("stale", 2)
	if _, err := o.Publish(ctx, "c1"); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if st.campaign(t, "c1").Published.IsZero() {
		t.Error("the publication was not saved")
	}
	st.failNext("stale", 3)
	_, err := o.Withdraw(ctx, "c1")
	wantCode(t, err, privacy.Conflict)
	st.failNext("stale", 1)
	_, err = o.Start(ctx, "c1")
	wantCode(t, err, privacy.Conflict)
}
