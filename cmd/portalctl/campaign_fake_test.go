package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// fakeCampaigns keeps campaigns, their counters and the accounts they go to in memory: the
// notices.OperatorStore and notices.Content the Operator uses.
type fakeCampaigns struct {
	campaigns map[string]notices.Campaign
	counts    map[string]notices.Counts
	// active are the active accounts, in the order the index lists them; holding the optional
	// fields each holds.
	active []privacy.SubjectID
	// unindexed are active accounts the index does not list yet (activated before it existed).
	unindexed []privacy.SubjectID
	holding   map[privacy.SubjectID][]string
	content   map[string]map[string][]string
	writes    int
	countsOf  func(id string, n notices.Counts) notices.Counts // advances the counters on each read
}

var (
	_ notices.OperatorStore = (*fakeCampaigns)(nil)
	_ notices.Content       = (*fakeCampaigns)(nil)
)

func newFakeCampaigns() *fakeCampaigns {
	return &fakeCampaigns{
		campaigns: map[string]notices.Campaign{}, counts: map[string]notices.Counts{},
		active:  []privacy.SubjectID{"ann", "ben", "cai"},
		holding: map[privacy.SubjectID][]string{"cai": {"mobile"}},
		content: map[string]map[string][]string{},
	}
}

func (s *fakeCampaigns) PutCampaign(_ context.Context, c notices.Campaign) error {
	if _, ok := s.campaigns[c.ID]; ok {
		return privacy.ErrStale
	}
	c.Version = 1
	s.campaigns[c.ID] = c
	s.writes++
	return nil
}

func (s *fakeCampaigns) Campaign(_ context.Context, id string) (notices.Campaign, error) {
	c, ok := s.campaigns[id]
	if !ok {
		return notices.Campaign{}, privacy.Errorf(privacy.NotFound, "no campaign")
	}
	return c, nil
}

func (s *fakeCampaigns) SaveCampaign(_ context.Context, c notices.Campaign) error {
	cur, ok := s.campaigns[c.ID]
	if !ok || cur.Version != c.Version {
		return privacy.ErrStale
	}
	c.Version++
	s.campaigns[c.ID] = c
	s.writes++
	return nil
}

func (s *fakeCampaigns) Counts(_ context.Context, id string) (notices.Counts, error) {
	if s.countsOf != nil {
		s.counts[id] = s.countsOf(id, s.counts[id])
	}
	return s.counts[id], nil
}

func (s *fakeCampaigns) ActiveAccounts(_ context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error) {
	from := 0
	if cursor != "" {
		fmt.Sscan(cursor, &from)
	}
	to := min(len(s.active), from+limit)
	next := ""
	if to < len(s.active) {
		next = fmt.Sprint(to)
	}
	return slices.Clone(s.active[from:to]), next, nil
}

func (s *fakeCampaigns) IndexActiveAccounts(context.Context) (int, int, error) {
	n := len(s.unindexed)
	s.active = append(s.active, s.unindexed...)
	s.unindexed = nil
	s.writes += n
	return n, 0, nil
}

func (s *fakeCampaigns) Holds(_ context.Context, id privacy.SubjectID, field string) (bool, error) {
	return slices.Contains(s.holding[id], field), nil
}

func (s *fakeCampaigns) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	if !slices.Contains(s.active, id) {
		return privacy.Account{}, privacy.Errorf(privacy.NotFound, "no account")
	}
	return privacy.Account{SubjectID: id, Status: privacy.StatusActive}, nil
}

func (s *fakeCampaigns) PutMarketingContent(_ context.Context, id string, _ privacy.Text, paragraphs map[string][]string) error {
	s.content[id] = paragraphs
	s.writes++
	return nil
}

// fakeSite is the site's bucket.
type fakeSite struct{ objects map[string][]byte }

func (s *fakeSite) Put(_ context.Context, key string, body []byte) error {
	s.objects[key] = slices.Clone(body)
	return nil
}

func (s *fakeSite) Get(_ context.Context, key string) ([]byte, error) {
	b, ok := s.objects[key]
	if !ok {
		return nil, privacy.Errorf(privacy.NotFound, "no object")
	}
	return b, nil
}

// campaignFixture is the fixture's portal with campaigns: the store, the planner's queue and
// the site's bucket, named in the environment as make dev names them.
type campaignFixture struct {
	*fixture
	store *fakeCampaigns
	plans *recordingQueue
	site  *fakeSite
	// clock is the Operator's: fixed at now unless a test steps it.
	clock func() time.Time
}

func newCampaignFixture(tb testing.TB) *campaignFixture {
	tb.Helper()
	f := &campaignFixture{fixture: newFixture(tb), store: newFakeCampaigns(), plans: &recordingQueue{}, site: &fakeSite{objects: map[string][]byte{}}}
	f.clock = func() time.Time { return now }
	maps.Copy(f.env, map[string]string{
		envNoticePlanQueue: "http://127.0.0.1:1/queue/plan", envSiteBucket: "portal-site",
		envOperatorName: "Example Co.", envOperatorContact: "privacy@example.com", envSiteURL: "https://portal.example.com",
	})
	f.deps.Now = func() time.Time { return now }
	f.deps.Every = time.Millisecond
	// As connectCampaigns: the queue and the bucket only if the configuration names them (a
	// stack named here stands for one with every output and parameter).
	f.deps.Campaigns = func(_ context.Context, c Config) (*notices.Operator, error) {
		f.connected = append(f.connected, c)
		if c.Stack != "" {
			c.NoticePlanQueueURL, c.SiteBucket, c.OperatorName, c.OperatorContact, c.SiteURL = "q", "b", "Stack Co.", "dpo@example.com", "https://stack.example.com"
		}
		op := &notices.Operator{
			Store: f.store, Content: f.store, Now: func() time.Time { return f.clock() }, SiteURL: c.SiteURL,
			Operator: mail.Operator{Name: c.OperatorName, Contact: c.OperatorContact, SiteURL: c.SiteURL},
		}
		if c.NoticePlanQueueURL != "" {
			op.Plans = f.plans
		}
		if c.SiteBucket != "" {
			op.Site = f.site
		}
		return op, nil
	}
	return f
}

// file writes a campaign file and returns its path.
func (f *campaignFixture) file(tb testing.TB, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "campaign.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// create creates a campaign from a file's text and returns its ID.
func (f *campaignFixture) create(tb testing.TB, body string) string {
	tb.Helper()
	return strings.TrimSpace(f.mustRun(tb, "campaign", "create", "--file", f.file(tb, body)))
}

// campaign reads a campaign from the store.
func (f *campaignFixture) campaign(tb testing.TB, id string) notices.Campaign {
	tb.Helper()
	c, ok := f.store.campaigns[id]
	if !ok {
		tb.Fatalf("no campaign %s in the store", id)
	}
	return c
}

// untouched fails if anything was written, queued or published.
func (f *campaignFixture) untouched(tb testing.TB) {
	tb.Helper()
	if f.store.writes != 0 || len(f.plans.jobs) != 0 || len(f.site.objects) != 0 {
		tb.Errorf("%d writes, plan jobs %v, site objects %v; want nothing changed", f.store.writes, f.plans.jobs, slices.Collect(maps.Keys(f.site.objects)))
	}
}

// The campaign files of docs/portalctl.md, one of each kind.
const (
	breachFileJSON = `{
  "kind": "breach",
  "title": {"en": "A security incident affecting your account", "zh-CN": "影响您账户的安全事件"},
  "breach": {
    "incident": {"en": "On 1 March an attacker read part of our user table.", "zh-CN": "3月1日，攻击者读取了部分用户表。"},
    "impact": {"en": "Your e-mail address and name may be known to others.", "zh-CN": "您的电子邮箱地址和姓名可能已被他人知悉。"},
    "measures": {"en": "We closed the hole and reset every session.", "zh-CN": "我们已修复漏洞并重置所有会话。"},
    "selfHelp": {"en": "Beware of mail that asks for your password.", "zh-CN": "请警惕索要密码的邮件。"},
    "remedies": {"en": "A year of free identity monitoring.", "zh-CN": "一年免费身份监测。"},
    "dataKinds": ["email", "name", "mobile"],
    "people": 1200,
    "records": 1500,
    "contact": "dpo@example.com",
    "occurred": "2026-03-01T02:00:00Z",
    "discovered": "2026-03-02"
  },
  "audience": {"all": true}
}`
	policyFileJSON = `{
  "kind": "policy_update",
  "title": {"en": "Our privacy policy changes on 1 April", "zh-CN": "我们的隐私政策将于4月1日变更"},
  "policy": {
    "version": "2026-04",
    "summary": {"en": "We keep closed requests for two years, not three.", "zh-CN": "已关闭的请求保存两年，而非三年。"},
    "published": "2026-03-10",
    "effective": "2026-04-01"
  },
  "audience": {"all": true}
}`
	marketingFileJSON = `{
  "kind": "marketing",
  "title": {"en": "What's new this spring", "zh-CN": "春季新功能"},
  "paragraphs": {
    "en": ["You can now download your data as CSV.", "See you soon."],
    "zh-CN": ["您现在可以以 CSV 格式下载您的数据。", "再见。"]
  },
  "audience": {"all": true}
}`
)
