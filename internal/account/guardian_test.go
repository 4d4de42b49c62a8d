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

// registerChild registers a child, proves the child's address (which has the guardian asked)
// and returns the subject and the guardian's token.
func (w *world) registerChild(tb testing.TB, email, username, guardian string) (privacy.SubjectID, string) {
	tb.Helper()
	id, code, _ := w.mustRegister(tb, child(email, username, guardian))
	w.mustVerify(tb, email, code)
	ms := w.box.to(guardian, mail.GuardianConsent)
	if len(ms) == 0 {
		tb.Fatalf("no guardian mail to %s", guardian)
	}
	_, token, _ := strings.Cut(ms[len(ms)-1].Data.Link, "#token=")
	return id, token
}

func TestP24_GuardianDecides(t *testing.T) {
	for _, decision := range []string{"confirm", "refuse"} {
		t.Run(decision, func(t *testing.T) {
			w := newWorld(t)
			id, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
			confirmed, err := w.guardian.Decide(ctx, account.GuardianInput{Token: token, Decision: decision}, clientIP)
			if err != nil || confirmed != (decision == "confirm") {
				t.Fatalf("decide: %v, %v", confirmed, err)
			}
			a, err := w.store.Account(ctx, id)
			if decision == "refuse" {
				// The account stops at once; the worker, telling the guardian, deletes it.
				if err != nil || a.Status != privacy.StatusErasing {
					t.Errorf("right after the refusal: %+v %v, want the account being erased", a, err)
				}
				if _, err := w.sessions.SignIn(ctx, account.SignInInput{Login: "tim", Password: goodPassword}, clientIP); privacy.ErrorCode(err) != privacy.Unauthorized {
					t.Errorf("a refused child signs in: %v", err)
				}
			} else if err != nil || a.Status != privacy.StatusActive || !a.GuardianConfirmed {
				t.Errorf("account = %+v, %v; want active with the guardian's consent", a, err)
			}
			w.drain(t)
			d := w.box.to("parent@example.com", mail.GuardianDecision)
			if len(d) != 1 || d[0].Data.Confirmed != (decision == "confirm") || d[0].Data.ChildName != "Timmy Tester" {
				t.Errorf("decision mail = %+v", d)
			}
			if decision == "refuse" {
				if _, err := w.store.Account(ctx, id); privacy.ErrorCode(err) != privacy.NotFound {
					t.Errorf("a refused child's account survived its mail: %v", err)
				}
				if _, err := w.store.SubjectByUsername(ctx, w.env.Keys.UsernameKey("tim")); err == nil {
					t.Error("a refused child's username survived")
				}
			} else {
				ledger := decisions(w.store.consents[id])
				if len(ledger) != 1 || ledger[0].Source != privacy.SourceGuardian || ledger[0].Purpose != privacy.PurposeService {
					t.Errorf("ledger = %+v, want the guardian's consent to the service", ledger)
				}
				if _, ok := w.store.guardians[id]; ok {
					t.Error("the guardian's address is kept after their decision was mailed")
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
	id, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
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
	// A child who never proved their address has a request with no token: nothing works.
	unproved, _, _ := w.mustRegister(t, child("kid@example.com", "kid", "parent2@example.com"))
	wantField(t, "a request never mailed", decide(account.GuardianInput{Token: string(unproved) + ".", Decision: "confirm"}), "token")
	w.clock.Advance(7*24*time.Hour + time.Second)
	wantField(t, "an expired link", decide(account.GuardianInput{Token: token, Decision: "confirm"}), "token")
	if a, _ := w.store.Account(ctx, id); a.GuardianConfirmed {
		t.Error("a dead link confirmed the account")
	}

	w2 := newWorld(t)
	id2, token2 := w2.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	if err := w2.store.MarkErasing(ctx, id2); err != nil {
		t.Fatal(err)
	}
	wantField(t, "an account being erased", func() error {
		_, err := w2.guardian.Decide(ctx, account.GuardianInput{Token: token2, Decision: "confirm"}, clientIP)
		return err
	}(), "token")
}

// changingStore changes the account right after the guardian's request is read, as when the
// child's verification lands at the same moment: the guardian's write then finds the account
// changed and reads it again.
type changingStore struct {
	*memStore
	then func()
}

func (s changingStore) Guardian(ctx context.Context, id privacy.SubjectID) (privacy.GuardianRequest, error) {
	g, err := s.memStore.Guardian(ctx, id)
	if s.then != nil {
		s.then()
		s.then = nil
	}
	return g, err
}

func TestP24_GuardianConfirmingWhileTheAccountChangesEndsActive(t *testing.T) {
	w := newWorld(t)
	id, token := w.registerChild(t, "tim@example.com", "tim", "parent@example.com")
	// Read as unverified (as if the child's verification were landing right now).
	a := w.store.accounts[id]
	a.EmailVerified, a.Status = false, privacy.StatusUnverified
	w.store.accounts[id] = a
	g := &account.GuardianManager{Env: w.env, Store: changingStore{memStore: w.store, then: func() {
		w.store.mu.Lock()
		a := w.store.accounts[id]
		a.EmailVerified, a.Status = true, privacy.StatusPending
		w.store.accounts[id] = a
		w.store.mu.Unlock()
	}}}
	if confirmed, err := g.Decide(ctx, account.GuardianInput{Token: token, Decision: "confirm"}, clientIP); err != nil || !confirmed {
		t.Fatalf("decide: %v %v", confirmed, err)
	}
	if a, _ := w.store.Account(ctx, id); a.Status != privacy.StatusActive {
		t.Errorf("status %s, want active", a.Status)
	}
}
