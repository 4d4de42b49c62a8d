package notices_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

var ctx = context.Background()

// errInjected is the failure a fake gives when a test asks it to fail.
var errInjected = errors.New("injected failure")

// delivery is one campaign's mail to one subject, as the fake store keeps it.
type delivery struct {
	state notices.DeliveryState
	owner string
}

type deliveryKey struct {
	campaign string
	id       privacy.SubjectID
}

// memStore is an in-memory fake of the notices package's store interfaces (ours, not an AWS
// API), keeping the contracts their doc comments state: versioned saves (privacy.ErrStale on
// another version), claims by an owner (taken over from another, dead, owner), deliveries
// ended (and counted) once, deliveries written once per subject.
type memStore struct {
	mu         sync.Mutex
	campaigns  map[string]notices.Campaign
	counts     map[string]notices.Counts
	accounts   map[privacy.SubjectID]privacy.Account
	ledgers    map[privacy.SubjectID][]privacy.ConsentEntry
	holds      map[privacy.SubjectID]map[string]bool
	deliveries map[deliveryKey]*delivery
	suppressed map[string]string
	// created counts the deliveries ever written (a second write of one would show here).
	created int
	// fail makes the next n calls of a method fail (PutDeliveries after writing half its page).
	fail map[string]int
	// failAt makes the call of a method with this number (1-based) fail.
	failAt map[string]int
	// calls counts the calls of each method.
	calls map[string]int
}

var (
	_ notices.CampaignStore = (*memStore)(nil)
	_ notices.PlanStore     = (*memStore)(nil)
	_ notices.SendStore     = (*memStore)(nil)
	_ notices.OperatorStore = (*memStore)(nil)
	_ notices.SuppressStore = (*memStore)(nil)
)

func newMemStore() *memStore {
	return &memStore{
		campaigns: map[string]notices.Campaign{}, counts: map[string]notices.Counts{},
		accounts: map[privacy.SubjectID]privacy.Account{}, ledgers: map[privacy.SubjectID][]privacy.ConsentEntry{},
		holds: map[privacy.SubjectID]map[string]bool{}, deliveries: map[deliveryKey]*delivery{},
		suppressed: map[string]string{}, fail: map[string]int{}, failAt: map[string]int{}, calls: map[string]int{},
	}
}

// failNext makes the next n calls of method fail.
func (m *memStore) failNext(method string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail[method] = n
}

// failing counts a call and reports whether it is to fail. The caller holds mu.
func (m *memStore) failing(method string) bool {
	m.calls[method]++
	if m.failAt[method] == m.calls[method] {
		return true
	}
	if m.fail[method] > 0 {
		m.fail[method]--
		return true
	}
	return false
}

func (m *memStore) PutCampaign(_ context.Context, c notices.Campaign) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing("PutCampaign") {
		return errInjected
	}
	if _, ok := m.campaigns[c.ID]; ok {
		return privacy.ErrStale
	}
	m.campaigns[c.ID] = c
	return nil
}

func (m *memStore) Campaign(_ context.Context, id string) (notices.Campaign, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing("Campaign") {
		return notices.Campaign{}, errInjected
	}
	c, ok := m.campaigns[id]
	if !ok {
		return notices.Campaign{}, privacy.Errorf(privacy.NotFound, "no campaign")
	}
	return c, nil
}

func (m *memStore) SaveCampaign(_ context.Context, c notices.Campaign) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing("SaveCampaign") {
		return errInjected
	}
	// "stale" makes the next saves find the campaign changed (by someone the test stands for).
	if m.failing("stale") {
		return privacy.ErrStale
	}
	cur, ok := m.campaigns[c.ID]
	if !ok || cur.Version != c.Version {
		return privacy.ErrStale
	}
	c.Version++
	m.campaigns[c.ID] = c
	return nil
}

func (m *memStore) Counts(_ context.Context, id string) (notices.Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[id], nil
}

// ActiveAccounts lists active accounts in ID order, as the GSI does: a cursor comes back
// whenever the page is full, even if nothing follows (DynamoDB's LastEvaluatedKey).
func (m *memStore) ActiveAccounts(_ context.Context, cursor string, limit int) ([]privacy.SubjectID, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing("ActiveAccounts") {
		return nil, "", errInjected
	}
	var ids []privacy.SubjectID
	for id, a := range m.accounts {
		if a.Status == privacy.StatusActive && string(id) > cursor {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) < limit {
		return ids, "", nil
	}
	ids = ids[:limit]
	return ids, string(ids[len(ids)-1]), nil
}

// IndexActiveAccounts: the fake's index always lists every active account.
func (m *memStore) IndexActiveAccounts(context.Context) (int, int, error) { return 0, 0, nil }

func (m *memStore) Holds(_ context.Context, id privacy.SubjectID, field string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	return ok && a.Status == privacy.StatusActive && m.holds[id][field], nil
}

func (m *memStore) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return privacy.Account{}, privacy.Errorf(privacy.NotFound, "no such account")
	}
	return a, nil
}

func (m *memStore) Accounts(_ context.Context, ids []privacy.SubjectID) (map[privacy.SubjectID]privacy.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[privacy.SubjectID]privacy.Account{}
	for _, id := range ids {
		if a, ok := m.accounts[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}

func (m *memStore) Ledger(_ context.Context, id privacy.SubjectID) ([]privacy.ConsentEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ledgers[id]), nil
}

// PutDeliveries writes a pending delivery for each live subject without one and returns how
// many of ids have one now. Told to fail, it writes the first half of the page first, as a
// batch of transactions cut short would.
func (m *memStore) PutDeliveries(_ context.Context, campaign string, ids []privacy.SubjectID) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing("PutDeliveries") {
		for _, id := range ids[:len(ids)/2] {
			m.putDelivery(campaign, id)
		}
		return 0, errInjected
	}
	n := 0
	for _, id := range ids {
		if m.putDelivery(campaign, id) {
			n++
		}
	}
	return n, nil
}

// putDelivery writes a subject's delivery if it has none, and reports whether it has one now.
func (m *memStore) putDelivery(campaign string, id privacy.SubjectID) bool {
	a, ok := m.accounts[id]
	if !ok || a.Status == privacy.StatusErasing {
		return false
	}
	k := deliveryKey{campaign, id}
	if _, ok := m.deliveries[k]; !ok {
		m.deliveries[k] = &delivery{state: notices.DeliveryPending}
		m.created++
	}
	return true
}

// ClaimDelivery takes a pending delivery, or one another owner claimed and never ended (a
// sender that died); false if it has ended, is this owner's already, or is gone.
func (m *memStore) ClaimDelivery(_ context.Context, campaign string, id privacy.SubjectID, owner string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[deliveryKey{campaign, id}]
	if !ok {
		return false, nil
	}
	if d.state == notices.DeliveryPending || (d.state == notices.DeliverySending && d.owner != owner) {
		d.state, d.owner = notices.DeliverySending, owner
		return true, nil
	}
	return false, nil
}

func (m *memStore) EndDelivery(_ context.Context, campaign string, id privacy.SubjectID, state notices.DeliveryState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.deliveries[deliveryKey{campaign, id}]
	if !ok || d.state != notices.DeliverySending {
		return nil // ended already, or gone: counted nothing
	}
	n := m.counts[campaign]
	switch state {
	case notices.DeliverySent:
		n.Sent++
	case notices.DeliveryFailed:
		n.Failed++
	case notices.DeliverySuppressed:
		n.Suppressed++
	case notices.DeliverySkipped:
		n.Skipped++
	default:
		return fmt.Errorf("end delivery: %q is no final state", state)
	}
	m.counts[campaign] = n
	d.state, d.owner = state, ""
	return nil
}

func (m *memStore) DeliveryState(_ context.Context, campaign string, id privacy.SubjectID) (notices.DeliveryState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.deliveries[deliveryKey{campaign, id}]; ok {
		return d.state, nil
	}
	return "", nil
}

func (m *memStore) ReleaseDelivery(_ context.Context, campaign string, id privacy.SubjectID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.deliveries[deliveryKey{campaign, id}]; ok && d.state == notices.DeliverySending {
		d.state, d.owner = notices.DeliveryPending, ""
	}
	return nil
}

func (m *memStore) SuppressedKeys(_ context.Context, emailKeys []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for _, k := range emailKeys {
		if _, ok := m.suppressed[k]; ok {
			out[k] = true
		}
	}
	return out, nil
}

func (m *memStore) Suppress(_ context.Context, emailKey, why string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.suppressed[emailKey] = why
	return nil
}

// deliveryStates are the states of a campaign's deliveries by subject.
func (m *memStore) deliveryStates(campaign string) map[privacy.SubjectID]notices.DeliveryState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[privacy.SubjectID]notices.DeliveryState{}
	for k, d := range m.deliveries {
		if k.campaign == campaign {
			out[k.id] = d.state
		}
	}
	return out
}

func (m *memStore) campaign(tb testing.TB, id string) notices.Campaign {
	tb.Helper()
	c, err := m.Campaign(ctx, id)
	if err != nil {
		tb.Fatalf("campaign %s: %v", id, err)
	}
	return c
}

func (m *memStore) setStatus(id privacy.SubjectID, s privacy.AccountStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.accounts[id]
	a.Status = s
	m.accounts[id] = a
}

func (m *memStore) remove(id privacy.SubjectID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.accounts, id)
}

// PutMarketingContent is the Content fake: it records what it was given.
func (m *memStore) PutMarketingContent(_ context.Context, id string, title privacy.Text, paragraphs map[string][]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["PutMarketingContent:"+id]++
	return nil
}

// ---- accounts ----

var keys = mustKeys()

func mustKeys() *privacy.Keyed {
	k, err := privacy.NewKeyed(bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

// person is an account a test adds.
type person struct {
	id      privacy.SubjectID
	locale  string
	status  privacy.AccountStatus
	holds   []string
	ledger  []privacy.ConsentEntry
	address string
}

func addAccount(m *memStore, p person) privacy.Account {
	if p.locale == "" {
		p.locale = privacy.LocaleEnglish
	}
	if p.status == "" {
		p.status = privacy.StatusActive
	}
	if p.address == "" {
		p.address = string(p.id) + "@example.com"
	}
	a := privacy.Account{SubjectID: p.id, Status: p.status, EmailKey: keys.EmailKey(p.address), Profile: privacy.Profile{
		Name: "Reader " + string(p.id), Email: p.address, Locale: p.locale, AgeGroup: privacy.AgeAdult,
	}}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accounts[p.id] = a
	m.ledgers[p.id] = p.ledger
	m.holds[p.id] = map[string]bool{}
	for _, f := range p.holds {
		m.holds[p.id][f] = true
	}
	return a
}

// addAccounts adds n active English accounts s0000, s0001, ... and returns their IDs.
func addAccounts(m *memStore, n int) []privacy.SubjectID {
	ids := make([]privacy.SubjectID, n)
	for i := range ids {
		ids[i] = privacy.SubjectID(fmt.Sprintf("s%05d", i))
		addAccount(m, person{id: ids[i]})
	}
	return ids
}

// ---- campaigns ----

var (
	t0        = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	published = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

func both(en, zh string) privacy.Text {
	return privacy.Text{privacy.LocaleEnglish: en, privacy.LocaleChinese: zh}
}

func breachCampaign(id string, a notices.Audience) notices.Campaign {
	return notices.Campaign{
		ID: id, Kind: notices.KindBreach, Title: both("Security incident", "安全事件通知"),
		Breach: &notices.Breach{
			Incident:  both("An old backup was copied.", "一份旧备份被复制。"),
			Impact:    both("Your e-mail address may be known to others.", "您的电子邮箱地址可能已被他人知晓。"),
			Measures:  both("We closed the bucket and rotated the keys.", "我们已关闭存储桶并更换密钥。"),
			SelfHelp:  both("Beware of phishing mail.", "请警惕钓鱼邮件。"),
			Remedies:  both("A year of identity monitoring, free.", "免费提供一年身份监测服务。"),
			DataKinds: []string{"email", "mobile"}, People: 1200, Records: 1500,
			Contact:  "dpo@portal.example",
			Occurred: t0.Add(-72 * time.Hour), Discovered: t0.Add(-24 * time.Hour),
		},
		Audience: a,
	}
}

func policyCampaign(id string) notices.Campaign {
	return notices.Campaign{
		ID: id, Kind: notices.KindPolicyUpdate, Title: both("Policy 1.2", "隐私政策 1.2"),
		Policy: &notices.PolicyUpdate{
			Version: "1.2", Summary: both("We now keep logs for 30 days.", "日志现保存30天。"),
			Published: published, Effective: published.AddDate(0, 0, 14),
		},
		Audience: notices.Audience{All: true},
	}
}

func marketingCampaign(id string) notices.Campaign {
	return notices.Campaign{
		ID: id, Kind: notices.KindMarketing, Title: both("Spring news", "春季新闻"),
		Paragraphs: map[string][]string{privacy.LocaleEnglish: {"Hello.", "New features."}, privacy.LocaleChinese: {"你好。", "新功能。"}},
		Audience:   notices.Audience{All: true},
	}
}

// ---- queues, mail ----

// memQueue records the jobs put on it; told to, it fails the next calls.
type memQueue struct {
	mu   sync.Mutex
	jobs []jobs.Job
	fail int
	// failAt fails the call with this number (1-based), once.
	failAt, calls int
	// onEnqueue runs once, at the first call (as if something happened meanwhile).
	onEnqueue func()
}

func (q *memQueue) Enqueue(_ context.Context, j jobs.Job) error {
	q.mu.Lock()
	if f := q.onEnqueue; f != nil {
		q.onEnqueue = nil
		q.mu.Unlock()
		f()
		q.mu.Lock()
	}
	defer q.mu.Unlock()
	q.calls++
	if q.fail > 0 || q.calls == q.failAt {
		if q.fail > 0 {
			q.fail--
		}
		return errInjected
	}
	j.Subjects = slices.Clone(j.Subjects)
	q.jobs = append(q.jobs, j)
	return nil
}

func (q *memQueue) all() []jobs.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.jobs)
}

var operator = mail.Operator{Name: "Privacy Portal", Contact: "privacy@portal.example", SiteURL: "https://portal.example"}

// sent is a mail the fake sender took, rendered as SES would send it.
type sent struct {
	mail.Message
	mail.Rendered
	at time.Time
}

// memMail is a fake mail sender (the SES adapter is ours: its interface is MailSender). It
// renders every message, as the adapter does, so a mail that could not be rendered fails the
// test, and records it. It can fail: the first failFirst calls, every call until failUntil,
// and every call to an address in reject.
type memMail struct {
	mu        sync.Mutex
	tb        testing.TB
	sent      []sent
	calls     int
	failFirst int
	failUntil time.Time
	failErr   error
	reject    map[string]bool
	// tookAnyway makes a failing call still deliver the mail (SES took it, its answer was lost).
	tookAnyway bool
}

func newMemMail(tb testing.TB) *memMail { return &memMail{tb: tb, reject: map[string]bool{}} }

var (
	errThrottled = &smithy.GenericAPIError{Code: "Throttling", Message: "Maximum sending rate exceeded."}
	errRejected  = &smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified."}
	// errConnection is SES not reached at all: the call never went.
	errConnection = fmt.Errorf("operation error SES: SendRawEmail: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	// errNoAnswer is a call SES did not answer in time: it may have taken the mail.
	errNoAnswer = fmt.Errorf("operation error SES: SendRawEmail: %w", context.DeadlineExceeded)
)

func (s *memMail) Send(_ context.Context, m mail.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= s.failFirst || time.Now().Before(s.failUntil) {
		if s.tookAnyway {
			r, _ := mail.Render(operator, m)
			s.sent = append(s.sent, sent{Message: m, Rendered: r, at: time.Now()})
		}
		return s.failErr
	}
	if s.reject[m.To] {
		return errRejected
	}
	r, err := mail.Render(operator, m)
	if err != nil {
		s.tb.Errorf("a %s mail does not render: %v", m.Kind, err)
		return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: err.Error()}
	}
	s.sent = append(s.sent, sent{Message: m, Rendered: r, at: time.Now()})
	return nil
}

func (s *memMail) all() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// byAddress counts the mails each address got.
func (s *memMail) byAddress() map[string]int {
	out := map[string]int{}
	for _, m := range s.all() {
		out[m.Message.To]++
	}
	return out
}

// consentMarketing is a fake Marketing: a mail only when the ledger grants marketing now,
// with a one-click unsubscribe link (the consent worker's rule).
type consentMarketing struct{}

func (consentMarketing) MarketingMessage(_ context.Context, a privacy.Account, ledger []privacy.ConsentEntry, campaign string) (mail.Message, bool, error) {
	if a.Status != privacy.StatusActive || !privacy.Allowed(ledger, "marketing") {
		return mail.Message{}, false, nil
	}
	p := a.Profile
	return mail.Message{
		To: p.Email, Locale: p.Locale, Kind: mail.Marketing, Campaign: campaign,
		Unsubscribe: "https://portal.example/api/unsubscribe?token=t-" + string(a.SubjectID),
		Data: mail.Data{
			Name: p.Name, Title: "Spring news", Paragraphs: []string{"Hello."},
			UnsubscribeLink: "https://portal.example/unsubscribe/?token=t-" + string(a.SubjectID),
			PreferencesLink: "https://portal.example/consent/",
		},
	}, true, nil
}

// newSender is a sender (one invocation of the function: an owner of its own) on the fakes,
// unpaced, quick to give up.
func newSender(st *memStore, m *memMail) *notices.Sender {
	return &notices.Sender{
		Store: st, Mail: m, Keys: keys, Marketing: consentMarketing{},
		Limiter: rate.NewLimiter(rate.Inf, 1), Workers: 4,
		Owner: privacy.NewID(), Patience: time.Second,
		SiteURL: func() string { return "https://portal.example" }, Now: time.Now,
	}
}

// mustPlan creates and starts a campaign in the store and plans it, and returns the sender's
// batches.
func mustPlan(tb testing.TB, st *memStore, c notices.Campaign) []jobs.Job {
	tb.Helper()
	c.State, c.Started = notices.StatePlanning, t0
	if err := st.PutCampaign(ctx, c); err != nil {
		tb.Fatalf("put campaign: %v", err)
	}
	q := &memQueue{}
	p := &notices.Planner{Store: st, Sends: q, Now: func() time.Time { return t0 }}
	if _, err := p.Plan(ctx, c.ID); err != nil {
		tb.Fatalf("plan: %v", err)
	}
	return q.all()
}

// sendAll sends every batch, and fails the test on an error.
func sendAll(tb testing.TB, s *notices.Sender, batches []jobs.Job) {
	tb.Helper()
	for _, j := range batches {
		if err := s.SendBatch(ctx, j); err != nil {
			tb.Fatalf("send batch: %v", err)
		}
	}
}

// wantField checks err is an Invalid error naming field.
func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	var e *privacy.Error
	if !errors.As(err, &e) || e.Code != privacy.Invalid || e.Field != field {
		tb.Fatalf("error = %v, want an invalid %s", err, field)
	}
}

// wantCode checks err has a code.
func wantCode(tb testing.TB, err error, code privacy.Code) {
	tb.Helper()
	if got := privacy.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (%s), want %s", err, got, code)
	}
}

func sortedIDs(ids []privacy.SubjectID) []privacy.SubjectID {
	out := slices.Clone(ids)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestMain keeps the package's logs out of the test output (TestFeedbackLogsNoAddress reads
// them itself).
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
