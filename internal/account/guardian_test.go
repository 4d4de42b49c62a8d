package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// registerChild registers a child and returns its subject, code and the guardian's token.
func (w *world) registerChild(tb testing.TB, email, username, guardian string) (privacy.SubjectID, string, string) {
	tb.Helper()
	id, code, _ := w.mustRegister(tb, child(email, username, guardian))
	ms := w.box.to(guardian, mail.GuardianConsent)
	_, token, _ := strings.Cut(ms[len(ms)-1].Data.Link, "#token=")
	return id, code, token
}

func TestP24_GuardianDecides(t *testing.T) {
	tests := []struct {
		name           string
		verifyFirst    bool
		decision       string
		wantStatus     privacy.AccountStatus // "" when the account is gone
		wantConfirmed  bool
		wantDecisionOK bool
	}{
		{"confirms a verified child", true, "confirm", privacy.StatusActive, true, true},
		{"confirms before the child verifies", false, "confirm", privacy.StatusUnverified, true, true},
		{"refuses", true, "refuse", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			id, code, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
			if tc.verifyFirst {
				if err := w.verify.Verify(ctx, account.VerifyInput{Email: "tim@example.com", Code: code}, clientIP); err != nil {
					t.Fatal(err)
				}
			}
			confirmed, err := w.guardian.Decide(ctx, account.GuardianInput{Token: token, Decision: tc.decision}, clientIP)
			if err != nil || confirmed != tc.wantConfirmed {
				t.Fatalf("decide: %v, %v", confirmed, err)
			}
			a, err := w.store.Account(ctx, id)
			switch {
			case tc.wantStatus == "" && err == nil:
				t.Error("a refused child's account still exists")
			case tc.wantStatus != "" && (err != nil || a.Status != tc.wantStatus || !a.GuardianConfirmed):
				t.Errorf("account = %+v, %v; want %s with the guardian's consent", a, err, tc.wantStatus)
			}
			d := w.box.to("parent@example.com", mail.GuardianDecision)
			if len(d) != 1 || d[0].Data.Confirmed != tc.wantDecisionOK || d[0].Data.ChildName != "Timmy Tester" {
				t.Errorf("decision mail = %+v", d)
			}
			if tc.wantConfirmed {
				ledger := w.store.consents[id]
				if len(ledger) != 1 || ledger[0].Source != privacy.SourceGuardian || ledger[0].Purpose != privacy.PurposeService {
					t.Errorf("ledger = %+v, want the guardian's consent to the service", ledger)
				}
			}
			wantField(t, "the link again", func() error {
				_, err := w.guardian.Decide(ctx, account.GuardianInput{Token: token, Decision: "confirm"}, clientIP)
				return err
			}(), "token")
		})
	}
}

func TestP24_GuardianLinksThatDoNotWork(t *testing.T) {
	w := newWorld(t)
	id, _, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	decide := func(in account.GuardianInput) error {
		_, err := w.guardian.Decide(ctx, in, clientIP)
		return err
	}
	wantField(t, "no decision", decide(account.GuardianInput{Token: token}), "decision")
	wantField(t, "a malformed token", decide(account.GuardianInput{Token: "nonsense", Decision: "confirm"}), "token")
	wantField(t, "a forged token", decide(account.GuardianInput{Token: string(id) + ".forged", Decision: "confirm"}), "token")
	wantField(t, "a token of no one", decide(account.GuardianInput{Token: "nobody.secret", Decision: "confirm"}), "token")
	adultID, _, _ := w.mustRegister(t, adult("ada@example.com", "ada"))
	wantField(t, "an adult's subject", decide(account.GuardianInput{Token: string(adultID) + ".secret", Decision: "confirm"}), "token")
	w.clock.Advance(7*24*time.Hour + time.Second)
	wantField(t, "an expired link", decide(account.GuardianInput{Token: token, Decision: "confirm"}), "token")
	if a, _ := w.store.Account(ctx, id); a.GuardianConfirmed {
		t.Error("a dead link confirmed the account")
	}

	w2 := newWorld(t)
	id2, _, token2 := w2.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	if err := w2.store.MarkErasing(ctx, id2); err != nil {
		t.Fatal(err)
	}
	wantField(t, "an account being erased", func() error {
		_, err := w2.guardian.Decide(ctx, account.GuardianInput{Token: token2, Decision: "confirm"}, clientIP)
		return err
	}(), "token")
}

// verifyingStore lets the child verify right after the guardian's link is read, as when both
// arrive together: the guardian's write then finds the account changed and reads it again.
type verifyingStore struct {
	*memStore
	then func()
}

func (s verifyingStore) Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error) {
	g, err := s.memStore.Guardian(ctx, id)
	if s.then != nil {
		s.then()
	}
	return g, err
}

func TestP24_ChildVerifyingWhileTheGuardianConfirmsEndsActive(t *testing.T) {
	w := newWorld(t)
	id, code, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	g := &account.GuardianManager{Env: w.env, Store: verifyingStore{memStore: w.store, then: func() {
		if err := w.verify.Verify(ctx, account.VerifyInput{Email: "tim@example.com", Code: code}, clientIP); err != nil {
			t.Error(err)
		}
	}}}
	if confirmed, err := g.Decide(ctx, account.GuardianInput{Token: token, Decision: "confirm"}, clientIP); err != nil || !confirmed {
		t.Fatalf("decide: %v %v", confirmed, err)
	}
	if a, _ := w.store.Account(ctx, id); a.Status != privacy.StatusActive {
		t.Errorf("status %s, want active", a.Status)
	}
}
