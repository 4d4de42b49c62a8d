package account_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/password"
	"github.com/privacyportal/portal/internal/password/strength"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/privacy"
)

// recorder is a fake of our own Store interface: it knows no accounts and counts writes.
type recorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *recorder) wrote(op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, op)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.writes)
}

var notFound = privacy.Errorf(privacy.NotFound, "no such account")

func (r *recorder) Register(context.Context, privacy.Registration) error { return r.wrote("register") }
func (r *recorder) ReserveUsername(context.Context, string, time.Time, time.Time) error {
	return r.wrote("reserve")
}
func (r *recorder) SubjectByEmail(context.Context, string) (privacy.SubjectID, error) {
	return "", notFound
}
func (r *recorder) SubjectByUsername(context.Context, string) (privacy.SubjectID, error) {
	return "", notFound
}
func (r *recorder) Record(context.Context, privacy.SubjectID, time.Time) (privacy.Record, error) {
	return privacy.Record{}, notFound
}
func (r *recorder) Login(context.Context, privacy.SubjectID, time.Time) (privacy.Record, error) {
	return privacy.Record{}, notFound
}
func (r *recorder) FailVerification(context.Context, privacy.SubjectID, privacy.VerificationKind) (int, error) {
	return 0, r.wrote("fail")
}
func (r *recorder) PutVerification(context.Context, privacy.SubjectID, privacy.Verification) error {
	return r.wrote("verification")
}
func (r *recorder) VerifyEmail(context.Context, privacy.SubjectID, privacy.Verification, bool, privacy.AccountStatus, privacy.AuditEntry) error {
	return r.wrote("verify")
}
func (r *recorder) ConfirmGuardian(context.Context, privacy.SubjectID, string, bool, privacy.AccountStatus, privacy.ConsentEntry, privacy.AuditEntry) error {
	return r.wrote("guardian")
}
func (r *recorder) PutSession(context.Context, privacy.SubjectID, privacy.Session) error {
	return r.wrote("session")
}
func (r *recorder) Session(context.Context, privacy.SubjectID, string, time.Time) (privacy.Session, error) {
	return privacy.Session{}, privacy.ErrStale
}
func (r *recorder) DeleteSession(context.Context, privacy.SubjectID, string) error {
	return r.wrote("signout")
}
func (r *recorder) DeleteSessions(context.Context, privacy.SubjectID) error {
	return r.wrote("signout-all")
}
func (r *recorder) Update(context.Context, privacy.SubjectID, privacy.AccountChange) error {
	return r.wrote("update")
}
func (r *recorder) ConfirmNewEmail(context.Context, privacy.SubjectID, privacy.Verification, string, privacy.AuditEntry) error {
	return r.wrote("email")
}
func (r *recorder) DeleteSubject(context.Context, privacy.SubjectID) (int, error) {
	return 0, r.wrote("delete")
}
func (r *recorder) MarkErasing(context.Context, privacy.SubjectID) error {
	return r.wrote("erasing")
}
func (r *recorder) DueForSweep(context.Context, time.Time, int32) ([]privacy.SubjectID, error) {
	return nil, nil
}

// Hit allows everything: rate-limit counters are not the subject's data.
func (r *recorder) Hit(context.Context, string, int, time.Duration, time.Time) (bool, time.Duration, error) {
	return true, 0, nil
}

type outbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	if _, err := mail.Render(mail.Operator{Name: "Example Co.", Contact: "privacy@example.com", SiteURL: "https://portal.example.com"}, m); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return nil
}

type fixedPolicy struct{}

func (fixedPolicy) InForce(context.Context) (policy.Version, error) {
	return policy.Version{ID: "1.0"}, nil
}

func newHandler(t testing.TB) (*account.Handler, *recorder, *outbox) {
	t.Helper()
	keys, err := privacy.NewKeyed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	store, box := &recorder{}, &outbox{}
	svc := &account.Service{
		Store: store, Mail: box, Policies: fixedPolicy{}, Keys: keys, Now: time.Now, Limits: account.DefaultLimits,
		Config: account.Config{
			SiteURL: "https://portal.example.com", CodeTTL: 15 * time.Minute, SessionTTL: time.Hour, PendingFor: 7 * 24 * time.Hour,
			Argon2: password.Argon2Params{Memory: 64, Time: 1, Threads: 1}, // cheap: the fuzzer hashes a lot
		},
	}
	svc.PasswordRule = strength.Validate
	return &account.Handler{Service: svc}, store, box
}

var routes = []struct{ method, resource string }{
	{"POST", "/api/register"}, {"POST", "/api/verify"}, {"POST", "/api/verify/resend"},
	{"POST", "/api/session"}, {"PATCH", "/api/account"}, {"POST", "/api/account/email"},
	{"POST", "/api/guardian"}, {"DELETE", "/api/session"}, {"GET", "/api/account"},
}

// FuzzDecoders sends anything to every account route: the answer is never a 5xx, a 400 names
// the field at fault, and a refused request writes nothing and mails nobody.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"under14","guardianEmail":"p@example.com"}`,
		`{"name":"Ada","email":"ada@example.com","username":"ada","password":"correct horse battery staple","ageGroup":"14+","mobile":"+1 555 0100"}`,
		`{"email":"ada@example.com","code":"123456"}`, `{"token":"abc.def"}`, `{"login":"ada","password":"x"}`,
		`{"name":null}`, `{"consents":["marketing"]}`, `{"decision":"confirm","token":"a.b"}`, `{"code":"12345a"}`,
		`{`, `[]`, `""`, `{"name":"\u0000"}`, `{"email":"a@b.c","email":"d@e.f"}`, `{"password":` + `"` + strings.Repeat("x", 300) + `"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s, "application/json", "")
	}
	f.Add(uint8(3), `{"login":"ada","password":"correct horse battery staple"}`, "application/json", "session=abc.def")
	f.Fuzz(func(t *testing.T, route uint8, body, ctype, cookie string) {
		h, store, box := newHandler(t)
		rt := routes[int(route)%len(routes)]
		req := events.APIGatewayProxyRequest{
			HTTPMethod: rt.method, Resource: rt.resource, Path: rt.resource, Body: body,
			Headers: map[string]string{"Content-Type": ctype, "Cookie": cookie},
		}
		resp, err := apigw.Handle(h.Handle)(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q -> %d %s", rt.method, rt.resource, body, resp.StatusCode, resp.Body)
		}
		if resp.StatusCode < 400 {
			return
		}
		if resp.Headers["Content-Type"] != apigw.ProblemContentType {
			t.Fatalf("error without a problem document: %d %v", resp.StatusCode, resp.Headers)
		}
		var p apigw.Problem
		if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Status != resp.StatusCode || p.Detail == "" {
			t.Fatalf("bad problem document %s", resp.Body)
		}
		if resp.StatusCode == http.StatusBadRequest && p.Field == "" {
			t.Fatalf("a 400 names no field: %s", resp.Body)
		}
		if n := store.count(); n > 0 && resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("refused request (%d) wrote %v", resp.StatusCode, store.writes)
		}
		if len(box.sent) > 0 {
			t.Fatalf("refused request (%d) sent mail", resp.StatusCode)
		}
	})
}

func TestHandlerRefusesCrossSiteWrites(t *testing.T) {
	h, store, _ := newHandler(t)
	req := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/register", Body: `{}`,
		Headers: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"},
	}
	resp, _ := apigw.Handle(h.Handle)(context.Background(), req)
	if resp.StatusCode != http.StatusForbidden || store.count() != 0 {
		t.Fatalf("cross-site POST = %d (%d writes), want 403 and nothing written", resp.StatusCode, store.count())
	}
	req.Headers["Origin"] = "https://portal.example.com"
	resp, _ = apigw.Handle(h.Handle)(context.Background(), req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("same-origin POST with an empty form = %d, want 400", resp.StatusCode)
	}
}

func TestP01_RegisterNamesTheMissingField(t *testing.T) {
	full := map[string]string{"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada", "password": "correct horse battery staple", "ageGroup": "14+"}
	for _, missing := range []string{"name", "email", "username", "password", "ageGroup"} {
		t.Run(missing, func(t *testing.T) {
			h, store, box := newHandler(t)
			in := map[string]string{}
			for k, v := range full {
				if k != missing {
					in[k] = v
				}
			}
			b, _ := json.Marshal(in)
			resp, _ := apigw.Handle(h.Handle)(context.Background(), events.APIGatewayProxyRequest{
				HTTPMethod: "POST", Resource: "/api/register", Body: string(b), Headers: map[string]string{"Content-Type": "application/json"},
			})
			var p apigw.Problem
			_ = json.Unmarshal([]byte(resp.Body), &p)
			if resp.StatusCode != 400 || p.Field != missing || store.count() != 0 || len(box.sent) != 0 {
				t.Errorf("without %s: %d field %q, %d writes, %d mails", missing, resp.StatusCode, p.Field, store.count(), len(box.sent))
			}
		})
	}
	h, store, box := newHandler(t)
	b, _ := json.Marshal(full)
	resp, _ := apigw.Handle(h.Handle)(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/register", Body: string(b), Headers: map[string]string{"Content-Type": "application/json"},
	})
	if resp.StatusCode != 202 || store.count() != 1 || len(box.sent) != 1 || box.sent[0].Kind != mail.VerifyEmail {
		t.Errorf("complete form: %d, %d writes, mails %v", resp.StatusCode, store.count(), box.sent)
	}
}

func TestHandlerAnswersOnlyRequestsThroughCloudFront(t *testing.T) {
	h, store, _ := newHandler(t)
	h.Service.Config.OriginSecret = "s3cret-from-cloudfront"
	req := events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Resource: "/api/verify/resend", Body: `{"email":"ada@example.com"}`,
		Headers: map[string]string{"Content-Type": "application/json"},
	}
	for name, header := range map[string]string{"no header": "", "wrong secret": "guess"} {
		if header != "" {
			req.Headers[account.OriginHeader] = header
		}
		resp, _ := apigw.Handle(h.Handle)(context.Background(), req)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	req.Headers[account.OriginHeader] = "s3cret-from-cloudfront"
	if resp, _ := apigw.Handle(h.Handle)(context.Background(), req); resp.StatusCode != http.StatusAccepted {
		t.Errorf("through CloudFront: %d %s, want 202", resp.StatusCode, resp.Body)
	}
	if store.count() != 0 {
		t.Errorf("refused requests wrote %v", store.writes)
	}
}
