package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// timingFixtures are the addresses a timing round compares: accounts and pending
// registrations the portal knows, and addresses it does not. The per-address limits allow 4
// more registrations and 10 sign-ins an hour for each account, and 5 resends for each pending
// registration: enough for one round's samples.
type timingFixtures struct {
	accounts, pending []person
	// Unknown addresses are reused as the known ones are, so that both sides find their
	// rate-limit counters in the same state: only whether the address is known differs.
	nobody []string
}

func newTimingFixtures(t *testing.T) timingFixtures {
	t.Helper()
	f := timingFixtures{accounts: make([]person, 10), pending: make([]person, 8), nobody: make([]string, 8)}
	for i := range f.accounts {
		f.accounts[i] = newPerson("timing")
		mustActive(t, f.accounts[i], nil)
	}
	for i := range f.pending {
		f.pending[i] = newPerson("timing")
		wantStatus(t, "register", newVisitor(t).register(f.pending[i].form(nil)), http.StatusAccepted)
	}
	for i := range f.nobody {
		f.nobody[i] = uniq("nobody") + "@example.com"
	}
	return f
}

type timingProbe struct {
	name           string
	known, unknown func(tb testing.TB, f timingFixtures, i int) reply
	status         int
}

var timingProbes = []timingProbe{{
	name: "register",
	known: func(tb testing.TB, f timingFixtures, i int) reply {
		q := newPerson("timing")
		q.Email = f.accounts[i%len(f.accounts)].Email
		return newVisitor(tb).register(q.form(nil))
	},
	unknown: func(tb testing.TB, f timingFixtures, _ int) reply {
		return newVisitor(tb).register(newPerson("timing").form(nil))
	},
	status: http.StatusAccepted,
}, {
	name: "resend",
	known: func(tb testing.TB, f timingFixtures, i int) reply {
		return newVisitor(tb).do("POST", "/api/verify/resend", map[string]string{"email": f.pending[i%len(f.pending)].Email})
	},
	unknown: func(tb testing.TB, f timingFixtures, i int) reply {
		return newVisitor(tb).do("POST", "/api/verify/resend", map[string]string{"email": f.nobody[i%len(f.nobody)]})
	},
	status: http.StatusAccepted,
}, {
	name: "verify",
	known: func(tb testing.TB, f timingFixtures, i int) reply {
		p := f.pending[i%len(f.pending)]
		return newVisitor(tb).do("POST", "/api/verify", map[string]string{"email": p.Email, "code": "000000", "password": p.Password})
	},
	unknown: func(tb testing.TB, f timingFixtures, i int) reply {
		return newVisitor(tb).do("POST", "/api/verify", map[string]string{"email": f.nobody[i%len(f.nobody)], "code": "000000", "password": goodPassword})
	},
	status: http.StatusBadRequest,
}, {
	name: "sign-in",
	known: func(tb testing.TB, f timingFixtures, i int) reply {
		return newVisitor(tb).signIn(f.accounts[i%len(f.accounts)].Email, "wrong "+goodPassword)
	},
	unknown: func(tb testing.TB, f timingFixtures, i int) reply {
		return newVisitor(tb).signIn(f.nobody[i%len(f.nobody)], "wrong "+goodPassword)
	},
	status: http.StatusUnauthorized,
}}

// TestP11_AnswersTakeAsLongForKnownAndUnknownAddresses: what a request does before it answers
// is the same whoever an address belongs to (the mail worker finds out, off the request's
// path), so a stranger timing the answers learns nothing. For register, resend, verify and
// sign-in, the median time for addresses the portal knows is within 20% of the median for
// addresses it does not. Known and unknown requests alternate, so the machine's other load
// falls on both alike. The fastest routes answer in a few milliseconds, where a busy machine
// (the whole suite runs its packages side by side) can move one median by 20%: a route gets
// up to three rounds, each with fresh addresses, and passes when one round is within 20%. A
// real difference (a route doing more work for known addresses, as resend and verify did,
// at 1.9x and 2.3x) shows in every round.
func TestP11_AnswersTakeAsLongForKnownAndUnknownAddresses(t *testing.T) {
	const samples, rounds = 30, 3
	fixtures := newTimingFixtures(t)
	for _, p := range timingProbes {
		t.Run(p.name, func(t *testing.T) {
			var ratios []float64
			for round := range rounds {
				if round > 0 {
					fixtures = newTimingFixtures(t)
				}
				k, u := timeProbe(t, p, fixtures, samples)
				ratio := float64(k) / float64(u)
				ratios = append(ratios, ratio)
				t.Logf("%s round %d: p50 known %s, unknown %s (ratio %.2f)", p.name, round+1, k.Round(10*time.Microsecond), u.Round(10*time.Microsecond), ratio)
				if ratio <= 1.2 && ratio >= 1/1.2 {
					return
				}
			}
			t.Errorf("%s: p50 for known addresses against unknown ones, in %d rounds: %.2f; more than 20%% apart every time", p.name, rounds, ratios)
		})
	}
}

// timeProbe measures one round: the medians for known and unknown addresses.
func timeProbe(t *testing.T, p timingProbe, f timingFixtures, samples int) (known, unknown time.Duration) {
	t.Helper()
	timed := func(what string, fn func(testing.TB, timingFixtures, int) reply, i int) time.Duration {
		start := time.Now()
		r := fn(t, f, i)
		d := time.Since(start)
		wantStatus(t, fmt.Sprintf("%s %s %d", p.name, what, i), r, p.status)
		return d
	}
	// One of each first, so that neither side pays a cold start.
	timed("known", p.known, samples)
	timed("unknown", p.unknown, samples)
	var ks, us []time.Duration
	for i := range samples {
		if i%2 == 0 {
			ks = append(ks, timed("known", p.known, i))
			us = append(us, timed("unknown", p.unknown, i))
		} else {
			us = append(us, timed("unknown", p.unknown, i))
			ks = append(ks, timed("known", p.known, i))
		}
	}
	return median(ks), median(us)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
