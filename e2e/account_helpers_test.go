package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

// goodPassword passes the password rule and shares no word with the test identities.
const goodPassword = "correct horse battery staple"

var uniqSeq atomic.Int64

// uniq returns a name no other test (or earlier run against the same cloud) uses, made of
// letters and digits only, so it is a valid username and a valid e-mail local part.
func uniq(prefix string) string {
	return prefix + strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(uniqSeq.Add(1), 36)
}

// person is the registration data of one test identity.
type person struct {
	Name, Email, Username, Password string
}

func newPerson(prefix string) person {
	u := uniq(prefix)
	return person{Name: "Ada Lovelace", Email: u + "@example.com", Username: u, Password: goodPassword}
}

// form is the registration body for p, with extra fields merged in (nil values are removed).
func (p person) form(extra map[string]any) map[string]any {
	f := map[string]any{"name": p.Name, "email": p.Email, "username": p.Username, "password": p.Password, "ageGroup": "14+"}
	for k, v := range extra {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

// visitor is one simulated browser. It connects from its own loopback address (all of
// 127.0.0.0/8 is this machine), which the gateway reports as CloudFront does, so the
// per-address rate limits one test meets never reach another test. It carries its session
// cookie by hand: the cookie is Secure, and net/http/cookiejar never sends a Secure cookie
// over the local gateway's plain http. Like a browser, it sends Origin with every request
// that is not a GET: the portal's own, unless origin says otherwise ("-" sends none).
type visitor struct {
	tb     testing.TB
	base   string
	client *http.Client
	ip     string
	cookie string
	// origin, if set, is sent as the Origin header, as a browser does on other sites' pages.
	origin string
	// header, if set, is called for each request to add headers of the test's choosing.
	header func(http.Header)
}

func newVisitor(tb testing.TB) *visitor {
	tb.Helper()
	ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
	return &visitor{tb: tb, base: portaltest.URL(tb), client: clientFrom(ip, 60*time.Second), ip: ip}
}

// clientFrom is an HTTP client whose connections come from the given loopback address.
func clientFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext}}
}

// reply is an API answer.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is an RFC 9457 problem document as the API sends it.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Field    string `json:"field"`
	Instance string `json:"instance"`
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// problem decodes a problem document, failing the test if the answer is not one.
func (r reply) problem(tb testing.TB) problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q, want application/problem+json (%s)", ct, r)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		tb.Fatalf("problem document %s: %v", r.Body, err)
	}
	if p.Status != r.Status || p.Title == "" || p.Detail == "" {
		tb.Fatalf("incomplete problem document: %s", r)
	}
	return p
}

// do sends one API request; body, if not nil, is sent as JSON.
func (v *visitor) do(method, path string, body any) reply {
	v.tb.Helper()
	var rd io.Reader
	contentType := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			v.tb.Fatal(err)
		}
		rd, contentType = bytes.NewReader(b), "application/json"
	}
	return v.send(method, path, rd, contentType)
}

// doRaw sends a body as it is, with no Content-Type unless the visitor's header adds one.
func (v *visitor) doRaw(method, path, body string) reply {
	v.tb.Helper()
	return v.send(method, path, strings.NewReader(body), "")
}

func (v *visitor) send(method, path string, rd io.Reader, contentType string) reply {
	v.tb.Helper()
	req, err := http.NewRequest(method, v.base+path, rd)
	if err != nil {
		v.tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if v.cookie != "" {
		req.Header.Set("Cookie", account.CookieName+"="+v.cookie)
	}
	switch {
	case v.origin == "-":
	case v.origin != "":
		req.Header.Set("Origin", v.origin)
	case method != http.MethodGet && method != http.MethodHead:
		req.Header.Set("Origin", originOf(v.base))
	}
	if v.header != nil {
		v.header(req.Header)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.tb.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// originOf is the origin (scheme and host) of a base URL, as a browser sends it.
func originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// wantStatus fails the test unless r has the given status.
func wantStatus(tb testing.TB, what string, r reply, status int) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("%s: %s, want %d", what, r, status)
	}
}

// wantField fails the test unless r is a 400 problem naming field.
func wantField(tb testing.TB, what string, r reply, field string) problem {
	tb.Helper()
	wantStatus(tb, what, r, http.StatusBadRequest)
	p := r.problem(tb)
	if p.Field != field {
		tb.Fatalf("%s: field = %q, want %q (%s)", what, p.Field, field, r.Body)
	}
	return p
}

func (v *visitor) register(form map[string]any) reply {
	v.tb.Helper()
	return v.do("POST", "/api/register", form)
}

// signIn signs in and keeps the session cookie, after checking its attributes.
func (v *visitor) signIn(login, password string) reply {
	v.tb.Helper()
	r := v.do("POST", "/api/session", map[string]string{"login": login, "password": password})
	if r.Status != http.StatusOK {
		return r
	}
	c := sessionCookie(v.tb, r)
	if c == nil || c.Value == "" {
		v.tb.Fatalf("sign-in answered 200 without a session cookie: %v", r.Header["Set-Cookie"])
	}
	v.cookie = c.Value
	return r
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(tb testing.TB, r reply) *http.Cookie {
	tb.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			tb.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == account.CookieName {
			return c
		}
	}
	return nil
}

// accountView is GET /api/account's answer (docs/api.md).
type accountView struct {
	SubjectID string    `json:"subjectId"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	Profile   struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Username string `json:"username"`
		Locale   string `json:"locale"`
		AgeGroup string `json:"ageGroup"`
	} `json:"profile"`
	Optional map[string]struct {
		Value         string    `json:"value"`
		ConsentedAt   time.Time `json:"consentedAt"`
		PolicyVersion string    `json:"policyVersion"`
	} `json:"optional"`
	PendingEmail string       `json:"pendingEmail"`
	Consents     []consentRow `json:"consents"`
	Sessions     []struct {
		CreatedAt time.Time `json:"createdAt"`
		ExpiresAt time.Time `json:"expiresAt"`
		Current   bool      `json:"current"`
	} `json:"sessions"`
	Audit []struct {
		At     time.Time `json:"at"`
		Action string    `json:"action"`
		Fields []string  `json:"fields"`
	} `json:"audit"`
	Requests []struct {
		ID       string    `json:"id"`
		Type     string    `json:"type"`
		Status   string    `json:"status"`
		Received time.Time `json:"received"`
		Due      time.Time `json:"due"`
	} `json:"requests"`
	Decisions []struct {
		At           time.Time         `json:"at"`
		Name         string            `json:"name"`
		LogicVersion string            `json:"logicVersion"`
		Inputs       map[string]string `json:"inputs"`
		Outcome      string            `json:"outcome"`
	} `json:"decisions"`
}

func decodeAccount(tb testing.TB, r reply) accountView {
	tb.Helper()
	var a accountView
	if err := json.Unmarshal(r.Body, &a); err != nil {
		tb.Fatalf("account %s: %v", r.Body, err)
	}
	return a
}

// account reads GET /api/account, which must answer 200.
func (v *visitor) account() accountView {
	v.tb.Helper()
	r := v.do("GET", "/api/account", nil)
	wantStatus(v.tb, "GET /api/account", r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		v.tb.Errorf("GET /api/account: Cache-Control = %q, want no-store", cc)
	}
	return decodeAccount(v.tb, r)
}

func (v *visitor) patch(body map[string]any) reply {
	v.tb.Helper()
	return v.do("PATCH", "/api/account", body)
}

// consentRow is one consent ledger entry as the account page shows it.
type consentRow struct {
	Purpose       string    `json:"purpose"`
	Action        string    `json:"action"`
	Granted       bool      `json:"granted"`
	At            time.Time `json:"at"`
	PolicyVersion string    `json:"policyVersion"`
	Source        string    `json:"source"`
}

// decisions are the account's consent entries without its policy acceptances.
func (a accountView) decisions() []string {
	var out []string
	for _, c := range a.Consents {
		if c.Action != "accept" {
			out = append(out, c.Purpose+":"+c.Action)
		}
	}
	return out
}

// hasAudit reports whether the account's audit trail has an entry with action and fields.
func (a accountView) hasAudit(action string, fields ...string) bool {
	for _, e := range a.Audit {
		if e.Action == action && (fields == nil || slices.Equal(sorted(e.Fields), sorted(fields))) {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// ---------------------------------------------------------------- mail

// Mail kinds, told apart by the start of their English subjects.
const (
	kindVerify          = "Confirm your e-mail address"
	kindAlready         = "Someone tried to register"
	kindGuardianConsent = "Please confirm or refuse a child's account"
	kindGuardianOK      = "You confirmed a child's account"
	kindGuardianRefused = "The child's account at"
	kindNewEmailVerify  = "Confirm your new e-mail address"
	kindNewEmailNotice  = "A change of e-mail address was requested"
	kindReset           = "Reset your password"
	kindPasswordChanged = "Your password for"
)

// addressedTo reports whether m went to exactly addr (the emulator may keep a display name).
// Both are compared in canonical form: the SES emulator's mail parser shows a punycode domain
// decoded (xn--bcher-kva.example as bücher.example), though the portal sent the ASCII form.
func addressedTo(m portaltest.Mail, addr string) bool {
	addr = privacy.CanonicalEmail(addr)
	for _, to := range m.Destination.To {
		if a, err := mail.ParseAddress(to); err == nil {
			to = a.Address
		}
		if privacy.CanonicalEmail(to) == addr {
			return true
		}
	}
	return false
}

// mailsTo returns the mails of a kind ("" for all) sent to addr, oldest first.
func mailsTo(all []portaltest.Mail, addr, kind string) []portaltest.Mail {
	var out []portaltest.Mail
	for _, m := range all {
		if addressedTo(m, addr) && strings.HasPrefix(m.Subject, kind) {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b portaltest.Mail) int { return int(a.At - b.At) })
	return out
}

func allMail(tb testing.TB) []portaltest.Mail {
	tb.Helper()
	all, err := portaltest.NewMailbox(tb).All()
	if err != nil {
		tb.Fatal(err)
	}
	return all
}

// mailWait is how long a test waits for a mail: requests hand mail to the queue, and the
// worker sends it within a second or two; a busy 2-core machine running the whole suite can
// take many times that.
const mailWait = 45 * time.Second

// waitMails waits until addr has at least n mails of kind and returns them, oldest first.
func waitMails(tb testing.TB, addr, kind string, n int) []portaltest.Mail {
	tb.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		got := mailsTo(allMail(tb), addr, kind)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d mails %q to %s after %s, want %d", len(got), kind, addr, mailWait, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitMail waits for the n-th (1-based) mail of kind to addr.
func waitMail(tb testing.TB, addr, kind string, n int) portaltest.Mail {
	tb.Helper()
	return waitMails(tb, addr, kind, n)[n-1]
}

var (
	codeRE     = regexp.MustCompile(`(?m)^\s+(\d{6})\s*$`)
	verifyRE   = regexp.MustCompile(`https?://\S+/verify/#token=(\S+)`)
	guardianRE = regexp.MustCompile(`https?://\S+/guardian/#token=(\S+)`)
	resetRE    = regexp.MustCompile(`https?://\S+/reset/#token=(\S+)`)
)

// codeIn returns the 6-digit code in a mail's text.
func codeIn(tb testing.TB, m portaltest.Mail) string {
	tb.Helper()
	c := codeRE.FindStringSubmatch(m.Body.Text)
	if c == nil {
		tb.Fatalf("no 6-digit code in mail %q:\n%s", m.Subject, m.Body.Text)
	}
	return c[1]
}

// tokenIn returns the link token in a mail's text (re picks the link).
func tokenIn(tb testing.TB, m portaltest.Mail, re *regexp.Regexp) string {
	tb.Helper()
	t := re.FindStringSubmatch(m.Body.Text)
	if t == nil {
		tb.Fatalf("no %s link in mail %q:\n%s", re, m.Subject, m.Body.Text)
	}
	return t[1]
}

// subjectOfToken is the subject ID a link token starts with.
func subjectOfToken(token string) string {
	id, _, _ := strings.Cut(token, ".")
	return id
}

// verifyBody is POST /api/verify's body for p with a code.
func (p person) verifyBody(code string) map[string]string {
	return map[string]string{"email": p.Email, "code": code, "password": p.Password}
}

// mustActive registers p as an adult, verifies the address with the mailed code and the
// password, signs in and returns the signed-in visitor and the subject ID.
func mustActive(tb testing.TB, p person, extra map[string]any) (*visitor, string) {
	tb.Helper()
	v := newVisitor(tb)
	wantStatus(tb, "register", v.register(p.form(extra)), http.StatusAccepted)
	m := waitMail(tb, p.Email, kindVerify, 1)
	wantStatus(tb, "verify", v.do("POST", "/api/verify", p.verifyBody(codeIn(tb, m))), http.StatusOK)
	wantStatus(tb, "sign in", v.signIn(p.Email, p.Password), http.StatusOK)
	return v, subjectOfToken(tokenIn(tb, m, verifyRE))
}

// ---------------------------------------------------------------- DynamoDB

type ddbItem = map[string]types.AttributeValue

func table(tb testing.TB) (*ddb.Client, string) {
	tb.Helper()
	c := portaltest.Cloud(tb)
	return c.DynamoDB, c.Names["PortalTable"]
}

// store is the portal's table through the functions' own adapter, so the tests read keys and
// items as the functions write them.
func store(tb testing.TB) *dynamodb.Store {
	tb.Helper()
	db, name := table(tb)
	return &dynamodb.Store{Client: db, Table: name}
}

// partitionOf returns every item of a subject's partition.
func partitionOf(tb testing.TB, id string) []ddbItem {
	tb.Helper()
	items, err := store(tb).Partition(context.Background(), privacy.SubjectID(id))
	if err != nil {
		tb.Fatalf("read partition: %v", err)
	}
	return items
}

// attr returns a string (or number) attribute, "" if absent.
func attr(it ddbItem, name string) string {
	switch v := it[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	}
	return ""
}

// kindOf is an item's kind.
func kindOf(it ddbItem) dynamodb.Kind { return dynamodb.KindOf(attr(it, "SK")) }

// profileOf is the PROFILE item of a partition.
func profileOf(items []ddbItem) ddbItem { return itemOf(items, string(dynamodb.KindProfile)) }

// itemOf returns the item of a partition with the given sort key.
func itemOf(items []ddbItem, sk string) ddbItem {
	for _, it := range items {
		if attr(it, "SK") == sk {
			return it
		}
	}
	return nil
}

// lookupExists reports whether a look-up item (dynamodb.EmailLookupPK, UsernameLookupPK) exists.
func lookupExists(tb testing.TB, pk string) bool {
	tb.Helper()
	ok, err := store(tb).LookupExists(context.Background(), pk)
	if err != nil {
		tb.Fatalf("get look-up: %v", err)
	}
	return ok
}

// lookupsOf are the look-up items a PROFILE item names (none for nil).
func lookupsOf(profile ddbItem) []string {
	if profile == nil {
		return nil
	}
	return []string{dynamodb.EmailLookupPK(attr(profile, "emailKey")), dynamodb.UsernameLookupPK(attr(profile, "usernameKey"))}
}

// scanTable calls fn for every item of the portal's table.
func scanTable(tb testing.TB, fn func(ddbItem)) {
	tb.Helper()
	db, name := table(tb)
	var start ddbItem
	for {
		out, err := db.Scan(context.Background(), &ddb.ScanInput{TableName: &name, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			tb.Fatalf("scan: %v", err)
		}
		for _, it := range out.Items {
			fn(it)
		}
		if out.LastEvaluatedKey == nil {
			return
		}
		start = out.LastEvaluatedKey
	}
}

// profilesWith returns the PROFILE items whose attribute has the value (case-insensitive).
func profilesWith(tb testing.TB, name, value string) []ddbItem {
	tb.Helper()
	var out []ddbItem
	scanTable(tb, func(it ddbItem) {
		if kindOf(it) == dynamodb.KindProfile && strings.EqualFold(attr(it, name), value) {
			out = append(out, it)
		}
	})
	return out
}

// itemText is every string in an item, for searching.
func itemText(it ddbItem) string {
	var b strings.Builder
	var walk func(types.AttributeValue)
	walk = func(v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			b.WriteString(v.Value + "\n")
		case *types.AttributeValueMemberSS:
			b.WriteString(strings.Join(v.Value, "\n") + "\n")
		case *types.AttributeValueMemberB:
			b.Write(v.Value)
		case *types.AttributeValueMemberM:
			for k, x := range v.Value {
				b.WriteString(k + "\n")
				walk(x)
			}
		case *types.AttributeValueMemberL:
			for _, x := range v.Value {
				walk(x)
			}
		}
	}
	for k, v := range it {
		b.WriteString(k + "\n")
		walk(v)
	}
	return b.String()
}

// assertErased checks that a subject's partition is empty and that its look-up items (whose
// keys the PROFILE item held before the erasure) are gone.
func assertErased(tb testing.TB, id string, profile ddbItem) {
	tb.Helper()
	if items := partitionOf(tb, id); len(items) != 0 {
		kinds := []string{}
		for _, it := range items {
			kinds = append(kinds, attr(it, "SK"))
		}
		tb.Errorf("the partition of %s still holds %d items: %v", id, len(items), kinds)
	}
	for _, pk := range lookupsOf(profile) {
		if lookupExists(tb, pk) {
			tb.Errorf("look-up %s still exists", pk)
		}
	}
}

// eventually polls check until it returns nil, and fails the test with its last error if
// that takes longer than mailWait: for what the mail worker does off the request's path.
func eventually(tb testing.TB, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(mailWait)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %s: %v", mailWait, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitSettled waits until the mail worker has done every job handed to it so far: for a test
// that checks a mail was not sent.
func waitSettled(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mailWait)
	defer cancel()
	if err := portaltest.Cloud(tb).Settle(ctx); err != nil {
		tb.Fatal(err)
	}
}

// waitErased waits until the mail worker has erased a subject, then asserts nothing is left
// (and, given its profile as it was, that its look-ups are gone).
func waitErased(tb testing.TB, id string, profile ddbItem) {
	tb.Helper()
	eventually(tb, func() error {
		if items := partitionOf(tb, id); len(items) != 0 {
			return fmt.Errorf("the partition of %s still holds %d items", id, len(items))
		}
		return nil
	})
	assertErased(tb, id, profile)
}

// cloudLog returns the local cloud's log (emulators and functions), found among this
// process's open files, or "" if the cloud is not this process's.
func cloudLog(tb testing.TB) string {
	tb.Helper()
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || !strings.HasPrefix(filepath.Base(target), "localcloud-") || !strings.HasSuffix(target, ".log") {
			continue
		}
		b, err := os.ReadFile(target)
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
	return ""
}
