package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestP11_AnswersTakeAsLongForKnownAndUnknownAddresses: what a request does before it answers
// is the same whoever an address belongs to (the mail worker finds out, off the request's
// path), so a stranger timing the answers learns nothing. For register, resend, verify and
// sign-in, the median time for addresses the portal knows is within 20% of the median for
// addresses it does not. Known and unknown requests alternate, so the machine's other load
// falls on both alike.
func TestP11_AnswersTakeAsLongForKnownAndUnknownAddresses(t *testing.T) {
	const samples = 30
	// The per-address limits allow 4 more registrations and 10 sign-ins an hour for each
	// account, and 5 resends for each pending registration: enough of each for the samples.
	accounts := make([]person, 10)
	for i := range accounts {
		accounts[i] = newPerson("timing")
		mustActive(t, accounts[i], nil)
	}
	pending := make([]person, 8)
	for i := range pending {
		pending[i] = newPerson("timing")
		wantStatus(t, "register", newVisitor(t).register(pending[i].form(nil)), http.StatusAccepted)
	}

	// Unknown addresses are reused as the known ones are, so that both sides find their
	// rate-limit counters in the same state: only whether the address is known differs.
	nobody := make([]string, len(pending))
	for i := range nobody {
		nobody[i] = uniq("nobody") + "@example.com"
	}

	type probe struct {
		name           string
		known, unknown func(i int) reply
		status         int
	}
	probes := []probe{{
		name: "register",
		known: func(i int) reply {
			q := newPerson("timing")
			q.Email = accounts[i%len(accounts)].Email
			return newVisitor(t).register(q.form(nil))
		},
		unknown: func(int) reply { return newVisitor(t).register(newPerson("timing").form(nil)) },
		status:  http.StatusAccepted,
	}, {
		name: "resend",
		known: func(i int) reply {
			return newVisitor(t).do("POST", "/api/verify/resend", map[string]string{"email": pending[i%len(pending)].Email})
		},
		unknown: func(i int) reply {
			return newVisitor(t).do("POST", "/api/verify/resend", map[string]string{"email": nobody[i%len(nobody)]})
		},
		status: http.StatusAccepted,
	}, {
		name: "verify",
		known: func(i int) reply {
			p := pending[i%len(pending)]
			return newVisitor(t).do("POST", "/api/verify", map[string]string{"email": p.Email, "code": "000000", "password": p.Password})
		},
		unknown: func(i int) reply {
			return newVisitor(t).do("POST", "/api/verify", map[string]string{"email": nobody[i%len(nobody)], "code": "000000", "password": goodPassword})
		},
		status: http.StatusBadRequest,
	}, {
		name: "sign-in",
		known: func(i int) reply {
			return newVisitor(t).signIn(accounts[i%len(accounts)].Email, "wrong "+goodPassword)
		},
		unknown: func(i int) reply { return newVisitor(t).signIn(nobody[i%len(nobody)], "wrong "+goodPassword) },
		status:  http.StatusUnauthorized,
	}}

	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			timed := func(what string, f func(int) reply, i int) time.Duration {
				start := time.Now()
				r := f(i)
				d := time.Since(start)
				wantStatus(t, fmt.Sprintf("%s %s %d", p.name, what, i), r, p.status)
				return d
			}
			// One of each first, so that neither side pays a cold start.
			timed("known", p.known, samples)
			timed("unknown", p.unknown, samples)
			var known, unknown []time.Duration
			for i := range samples {
				if i%2 == 0 {
					known = append(known, timed("known", p.known, i))
					unknown = append(unknown, timed("unknown", p.unknown, i))
				} else {
					unknown = append(unknown, timed("unknown", p.unknown, i))
					known = append(known, timed("known", p.known, i))
				}
			}
			k, u := median(known), median(unknown)
			ratio := float64(k) / float64(u)
			t.Logf("%s: p50 known %s, unknown %s (ratio %.2f)", p.name, k.Round(10*time.Microsecond), u.Round(10*time.Microsecond), ratio)
			if ratio > 1.2 || ratio < 1/1.2 {
				t.Errorf("%s: p50 for known addresses %s, for unknown %s: more than 20%% apart", p.name, k, u)
			}
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
