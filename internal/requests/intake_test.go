package requests_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/web"
)

func TestFileRefusesBadInputNamingTheField(t *testing.T) {
	tooLong := strings.Repeat("é", requests.MaxDetails+1)
	tests := []struct {
		name     string
		in       requests.FileInput
		signedIn bool
		field    string
	}{
		{"type missing", requests.FileInput{Email: "ada@example.com"}, false, "type"},
		{"type unknown", requests.FileInput{Type: "refund", Email: "ada@example.com"}, false, "type"},
		{"type in capitals", requests.FileInput{Type: "ACCESS", Email: "ada@example.com"}, false, "type"},
		{"visitor without email", requests.FileInput{Type: "access"}, false, "email"},
		{"visitor with a bad email", requests.FileInput{Type: "access", Email: "ada at example"}, false, "email"},
		{"signed in with an email", requests.FileInput{Type: "access", Email: "ada@example.com"}, true, "email"},
		{"correction without details", requests.FileInput{Type: "correction", Email: "ada@example.com"}, false, "details"},
		{"explanation without details", requests.FileInput{Type: "explanation", Email: "ada@example.com"}, false, "details"},
		{"complaint without details", requests.FileInput{Type: "complaint", Email: "ada@example.com"}, false, "details"},
		{"contact without details", requests.FileInput{Type: "contact", Email: "ada@example.com"}, false, "details"},
		{"withdrawal without details", requests.FileInput{Type: "withdrawal", Email: "ada@example.com"}, false, "details"},
		{"details of blanks", requests.FileInput{Type: "contact", Email: "ada@example.com", Details: " \n\t "}, false, "details"},
		{"details too long", requests.FileInput{Type: "contact", Email: "ada@example.com", Details: tooLong}, false, "details"},
		{"deletion without ground", requests.FileInput{Type: "deletion", Email: "ada@example.com"}, false, "ground"},
		{"deletion with an unknown ground", requests.FileInput{Type: "deletion", Email: "ada@example.com", Ground: "bored"}, false, "ground"},
		{"ground on an access request", requests.FileInput{Type: "access", Email: "ada@example.com", Ground: "no_consent"}, false, "ground"},
		{"third party on an access request", requests.FileInput{Type: "access", Email: "ada@example.com", ThirdParty: "bank@example.org"}, false, "thirdParty"},
		{"third party not an address", requests.FileInput{Type: "copy", Email: "ada@example.com", ThirdParty: "my bank"}, false, "thirdParty"},
		{"unknown locale", requests.FileInput{Type: "access", Email: "ada@example.com", Locale: "fr"}, false, "locale"},
		{"signed-in deletion without password", requests.FileInput{Type: "deletion", Ground: "left_service"}, true, "password"},
		{"signed-in cancellation without password", requests.FileInput{Type: "cancellation"}, true, "password"},
		{"signed-in copy without password", requests.FileInput{Type: "copy"}, true, "password"},
		{"visitor with a password", requests.FileInput{Type: "access", Email: "ada@example.com", Password: goodPassword}, false, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var caller *web.Caller
			if tc.signedIn {
				c := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
				caller = &c
			}
			_, err := w.intake.File(ctx, tc.in, caller, clientIP)
			wantField(t, "file", err, tc.field)
			if n := len(w.store.all()); n != 0 {
				t.Errorf("a refused request stored %d requests", n)
			}
			if r, wr := w.store.totalReads(), w.store.totalWrites(); r+wr != 0 {
				t.Errorf("a refused request made %d reads and %d writes: %v %v", r, wr, w.store.reads, w.store.writes)
			}
			if w.jobs.len()+w.work.len() != 0 {
				t.Errorf("a refused request queued %v %v", w.jobs.kinds(), w.work.kinds())
			}
		})
	}
}

func TestFileAcceptsEveryTypeWithWhatItNeeds(t *testing.T) {
	for _, typ := range privacy.RequestTypes {
		t.Run(string(typ), func(t *testing.T) {
			w := newWorld(t)
			in := requests.FileInput{Type: string(typ), Email: " ada@Example.COM ", Locale: "zh-CN"}
			if typ.NeedsDetails() {
				in.Details = "  " + strings.Repeat("字", requests.MaxDetails-2) + "ok  " // exactly the most, after trimming
			}
			if typ == privacy.RequestDeletion {
				in.Ground = string(privacy.GroundLeftService)
			}
			if typ == privacy.RequestCopy {
				in.ThirdParty = "Bank@Example.ORG"
			}
			id := w.file(t, in)
			r := w.stored(t, id)
			if r.Type != typ || r.Email != "ada@example.com" || r.Locale != "zh-CN" || r.Status != privacy.RequestReceived {
				t.Errorf("stored %s %q %s %s", r.Type, r.Email, r.Locale, r.Status)
			}
			if typ.NeedsDetails() && len([]rune(r.Details)) != requests.MaxDetails {
				t.Errorf("details kept %d characters, want the %d typed", len([]rune(r.Details)), requests.MaxDetails)
			}
			if typ == privacy.RequestCopy && r.ThirdParty != "Bank@example.org" {
				t.Errorf("third party kept as %q", r.ThirdParty)
			}
			if typ == privacy.RequestDeletion && r.Ground != privacy.GroundLeftService {
				t.Errorf("ground kept as %q", r.Ground)
			}
		})
	}
}

func TestFileDefaultsTheLocaleToEnglish(t *testing.T) {
	w := newWorld(t)
	id := w.file(t, requests.FileInput{Type: "access", Email: "ada@example.com"})
	if got := w.stored(t, id).Locale; got != privacy.LocaleEnglish {
		t.Errorf("locale = %q, want %q", got, privacy.LocaleEnglish)
	}
}

// A visitor's request is written to a partition of its own, and the answer, the reads and the
// work are the same whether or not the address has an account (P23: nothing to learn about
// who is registered).
func TestP23_VisitorRequestAnswersAlikeForAnyAddress(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	type outcome struct {
		answer requests.Filed
		reads  int
		jobs   []jobs.Job
		stored requests.Record
	}
	fileAs := func(email string) outcome {
		t.Helper()
		w.store.resetCounts()
		got, err := w.intake.File(ctx, requests.FileInput{Type: "access", Email: email}, nil, clientIP)
		if err != nil {
			t.Fatalf("file for %s: %v", email, err)
		}
		o := outcome{answer: got, reads: w.store.totalReads(), jobs: w.jobs.take(), stored: w.stored(t, got.Request)}
		if w.work.len() != 0 {
			t.Errorf("an unproved request queued work: %v", w.work.kinds())
		}
		return o
	}
	known, unknown := fileAs("ada@example.com"), fileAs("nobody@example.com")

	for name, o := range map[string]outcome{"known": known, "unknown": unknown} {
		if o.answer.Status != "check_email" {
			t.Errorf("%s address: status %q, want check_email", name, o.answer.Status)
		}
		if o.reads != 0 {
			t.Errorf("%s address: filing read the store %d times (%v), want none", name, o.reads, w.store.reads)
		}
		s, rid := split(t, o.answer.Request)
		if s == ada.Subject || s != o.stored.Subject || rid != o.stored.ID {
			t.Errorf("%s address: filed as %s, stored in %s, want a partition of its own", name, o.answer.Request, o.stored.Subject)
		}
		if o.stored.Status != privacy.RequestReceived || !slices.Equal(statuses(o.stored.Steps), []privacy.RequestStatus{privacy.RequestReceived}) {
			t.Errorf("%s address: stored %s with steps %v, want received", name, o.stored.Status, statuses(o.stored.Steps))
		}
		want := []jobs.Job{{Kind: requests.JobReceived, Subject: s, Request: rid, At: w.clock.Now()}}
		if !sameJobs(o.jobs, want) {
			t.Errorf("%s address: jobs %+v, want %+v", name, o.jobs, want)
		}
	}
	if len(known.answer.Request) != len(unknown.answer.Request) {
		t.Errorf("answers differ in shape: %q and %q", known.answer.Request, unknown.answer.Request)
	}
	// Apart from the IDs and the address typed, the two stored requests are the same.
	a, b := known.stored, unknown.stored
	a.ID, a.Subject, a.Email, b.ID, b.Subject, b.Email = "", "", "", "", "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("stored requests differ:\n%s\n%s", ja, jb)
	}
	if n := len(w.store.requests[ada.Subject]); n != 0 {
		t.Errorf("the account's partition got %d requests before any proof", n)
	}
}

func TestFileCountsTheIPLimitBeforeValidating(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.IntakePerIP = ratelimit.Limit{N: 2, Window: time.Hour}
	bad := requests.FileInput{Type: "refund"}
	for i := range 2 {
		_, err := w.intake.File(ctx, bad, nil, clientIP)
		wantField(t, "bad input "+string(rune('1'+i)), err, "type")
	}
	_, err := w.intake.File(ctx, bad, nil, clientIP)
	pe := wantCode(t, "bad input over the limit", err, privacy.RateLimited, "")
	if pe.RetryAfterSeconds <= 0 {
		t.Errorf("429 without Retry-After: %+v", pe)
	}
	_, err = w.intake.File(ctx, requests.FileInput{Type: "access", Email: "ada@example.com"}, nil, clientIP)
	wantCode(t, "good input over the limit", err, privacy.RateLimited, "")
	if n := len(w.store.all()); n != 0 {
		t.Errorf("over the limit, %d requests were stored", n)
	}
	// Another client is not limited by this one.
	if _, err := w.intake.File(ctx, requests.FileInput{Type: "access", Email: "ada@example.com"}, nil, "203.0.113.9"); err != nil {
		t.Errorf("another client: %v", err)
	}
	// And the window ends.
	w.clock.Advance(time.Hour)
	if _, err := w.intake.File(ctx, requests.FileInput{Type: "access", Email: "ada@example.com"}, nil, clientIP); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestFileLimitsCodesPerMailbox(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.CodesPerMailbox = ratelimit.Limit{N: 2, Window: 24 * time.Hour}
	w.file(t, requests.FileInput{Type: "access", Email: "ada.l@example.com"})
	w.file(t, requests.FileInput{Type: "access", Email: "adal+x@example.com"})
	// The same mailbox, spelt a third way, from another client.
	_, err := w.intake.File(ctx, requests.FileInput{Type: "access", Email: "ADA.L+y@Example.com"}, nil, "203.0.113.9")
	wantCode(t, "third code to one mailbox", err, privacy.RateLimited, "")
	if n := len(w.store.all()); n != 2 {
		t.Errorf("stored %d requests, want 2", n)
	}
	w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
}

func TestP23_SignedInRequestIsProvedBySessionAndPassword(t *testing.T) {
	tests := []struct {
		in     requests.FileInput
		export bool
	}{
		{requests.FileInput{Type: "access"}, true},
		{requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"}, true},
		{requests.FileInput{Type: "deletion", Ground: "no_consent", Password: goodPassword}, false},
		{requests.FileInput{Type: "correction", Details: "My name is spelt Lovelace."}, false},
		{requests.FileInput{Type: "withdrawal", Details: "Stop the newsletter."}, false},
		{requests.FileInput{Type: "explanation", Details: "Why was my request flagged?"}, false},
		{requests.FileInput{Type: "complaint", Details: "You were late."}, false},
		{requests.FileInput{Type: "contact", Details: "Who is your officer?", Locale: "en"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in.Type, func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "zh-CN")
			id := w.fileSignedIn(t, ada, tc.in)
			s, rid := split(t, id)
			if s != ada.Subject {
				t.Fatalf("filed as %s, want in the account's partition %s", id, ada.Subject)
			}
			r := w.stored(t, id)
			now := w.clock.Now()
			wantSteps := []privacy.RequestStep{{Status: privacy.RequestReceived, At: now}, {Status: privacy.RequestVerified, At: now}}
			if r.Status != privacy.RequestVerified || !slices.Equal(r.Steps, wantSteps) {
				t.Errorf("stored %s with steps %v, want verified at once", r.Status, r.Steps)
			}
			if r.Email != "ada@example.com" || r.Locale != "zh-CN" {
				t.Errorf("answers go to %q in %q, want the account's address and language", r.Email, r.Locale)
			}
			if got := w.jobs.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobVerified, Subject: s, Request: rid, At: now}}) {
				t.Errorf("mail jobs %+v, want the receipt", got)
			}
			var want []jobs.Job
			if tc.export {
				want = []jobs.Job{{Kind: requests.JobExport, Subject: s, Request: rid, At: now}}
			}
			if got := w.work.take(); !sameJobs(got, want) {
				t.Errorf("work jobs %+v, want %+v", got, want)
			}
		})
	}
}

func TestP23_SignedInRequestWithTheWrongPasswordIsRefused(t *testing.T) {
	for _, typ := range []string{"deletion", "cancellation", "copy"} {
		t.Run(typ, func(t *testing.T) {
			w := newWorld(t)
			ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
			in := requests.FileInput{Type: typ, Password: "not my password at all"}
			if typ == "deletion" {
				in.Ground = "left_service"
			}
			_, err := w.intake.File(ctx, in, &ada, clientIP)
			wantField(t, "wrong password", err, "password")
			if n, wr := len(w.store.all()), w.store.totalWrites(); n+wr != 0 {
				t.Errorf("a refused request stored %d requests, %d writes", n, wr)
			}
			if w.jobs.len()+w.work.len() != 0 {
				t.Errorf("a refused request queued %v %v", w.jobs.kinds(), w.work.kinds())
			}
		})
	}
}

func TestP23_VerifyProvesAVisitorsRequestWithTheMailedCode(t *testing.T) {
	w := newWorld(t)
	filedAt := w.clock.Now()
	unproved := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")
	w.clock.Advance(4 * time.Minute)
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: " " + code + " "}, clientIP); err != nil {
		t.Fatalf("verify: %v", err)
	}
	// No account has the address: the request stays in its own partition.
	r := w.stored(t, unproved)
	wantSteps := []privacy.RequestStep{{Status: privacy.RequestReceived, At: filedAt}, {Status: privacy.RequestVerified, At: w.clock.Now()}}
	if r.Status != privacy.RequestVerified || !slices.Equal(r.Steps, wantSteps) {
		t.Errorf("after proof: %s with steps %v, want verified with both steps", r.Status, r.Steps)
	}
	if _, ok := w.store.verification(r.Subject); ok {
		t.Error("the used code is still stored")
	}
	s, rid := split(t, unproved)
	if got := w.jobs.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobVerified, Subject: s, Request: rid, At: w.clock.Now()}}) {
		t.Errorf("mail jobs %+v, want the receipt", got)
	}
	if got := w.work.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobExport, Subject: s, Request: rid, At: w.clock.Now()}}) {
		t.Errorf("work jobs %+v, want the export", got)
	}
}

func TestP23_VerifyMovesTheRequestToTheAccountThatOwnsTheAddress(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	// Typed in another case: the address is the account's all the same.
	unproved := w.file(t, requests.FileInput{Type: "contact", Email: "ADA@Example.com", Details: "Who is your officer?"})
	w.drain(t)
	from, rid := split(t, unproved)
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: w.lastCode(t, "ADA@example.com")}, clientIP); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if _, err := w.store.Request(ctx, from, rid); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("the unproved request is still in its own partition (%v)", err)
	}
	if _, ok := w.store.verification(from); ok {
		t.Error("the unproved request's code is still stored")
	}
	r := w.store.record(t, ada.Subject, rid)
	if r.Status != privacy.RequestVerified || r.Email != "ada@example.com" || r.Details != "Who is your officer?" {
		t.Errorf("moved request: %s to %q (%q)", r.Status, r.Email, r.Details)
	}
	w.drain(t)
	id, token := w.lastStatusLink(t, "ada@example.com")
	if id != requests.ID(ada.Subject, rid) {
		t.Errorf("the receipt's status link names %s, want the account's %s", id, requests.ID(ada.Subject, rid))
	}
	if _, err := w.tracker.Status(ctx, id, token); err != nil {
		t.Errorf("status of the moved request: %v", err)
	}
}

func TestP23_WrongCodesAnswerAsAnUnknownRequestDoes(t *testing.T) {
	w := newWorld(t)
	first := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	firstCode := w.lastCode(t, "grace@example.com")
	second := w.file(t, requests.FileInput{Type: "access", Email: "alan@example.com"})
	w.drain(t)
	secondCode := w.lastCode(t, "alan@example.com")
	for secondCode == firstCode { // one chance in a million: mail the second request a new code
		s2, r2 := split(t, second)
		w.jobs.Enqueue(ctx, jobs.Job{Kind: requests.JobReceived, Subject: s2, Request: r2})
		w.drain(t)
		secondCode = w.lastCode(t, "alan@example.com")
	}
	wrong := "000000"
	if wrong == firstCode {
		wrong = "000001"
	}
	s, _ := split(t, first)

	reference := w.intake.Verify(ctx, first, requests.VerifyInput{Code: wrong}, clientIP)
	wantField(t, "wrong code", reference, "code")
	tests := []struct{ name, id, code string }{
		{"unknown request", requests.ID(privacy.NewSubjectID(), privacy.NewID()), firstCode},
		{"unknown request of a known subject", requests.ID(s, privacy.NewID()), firstCode},
		{"malformed id", "not-a-request-id", firstCode},
		{"empty id", "", firstCode},
		{"another request's code", second, firstCode},
		{"this request's code on another", first, secondCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := w.intake.Verify(ctx, tc.id, requests.VerifyInput{Code: tc.code}, clientIP)
			if err == nil || err.Error() != reference.Error() {
				t.Errorf("got %v, want the wrong code's %v", err, reference)
			}
		})
	}
	// The right codes still work: a wrong try does not spend one.
	for id, code := range map[string]string{first: firstCode, second: secondCode} {
		if err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, clientIP); err != nil {
			t.Errorf("right code after wrong ones: %v", err)
		}
	}
	// A code used once fails as a wrong one does.
	if err := w.intake.Verify(ctx, first, requests.VerifyInput{Code: firstCode}, clientIP); err == nil || err.Error() != reference.Error() {
		t.Errorf("replayed code: %v, want %v", err, reference)
	}
}

func TestP23_ReplayedCodeOfAMovedRequestFails(t *testing.T) {
	w := newWorld(t)
	w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	unproved := w.file(t, requests.FileInput{Type: "access", Email: "ada@example.com"})
	w.drain(t)
	code := w.lastCode(t, "ada@example.com")
	if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: code}, clientIP); err != nil {
		t.Fatal(err)
	}
	w.jobs.take()
	w.work.take()
	err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: code}, clientIP)
	wantField(t, "replayed code", err, "code")
	if w.jobs.len()+w.work.len() != 0 {
		t.Errorf("a replayed code queued %v %v", w.jobs.kinds(), w.work.kinds())
	}
}

func TestP23_FiveWrongCodesKillTheCode(t *testing.T) {
	w := newWorld(t)
	id := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")
	wrong := "123456"
	if wrong == code {
		wrong = "654321"
	}
	for i := range privacy.MaxCodeAttempts {
		err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: wrong}, clientIP)
		wantField(t, "wrong code "+string(rune('1'+i)), err, "code")
	}
	err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, clientIP)
	wantField(t, "right code after five wrong ones", err, "code")
	if r := w.stored(t, id); r.Status != privacy.RequestReceived {
		t.Errorf("status %s, want still received", r.Status)
	}
	if w.jobs.len()+w.work.len() != 0 {
		t.Errorf("a dead code queued %v %v", w.jobs.kinds(), w.work.kinds())
	}
}

func TestP23_ExpiredCodeFails(t *testing.T) {
	w := newWorld(t)
	id := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")
	w.clock.Advance(w.env.Config.CodeTTL)
	err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, clientIP)
	wantField(t, "expired code", err, "code")
	if r := w.stored(t, id); r.Status != privacy.RequestReceived {
		t.Errorf("status %s, want still received", r.Status)
	}
}

func TestP23_VerifyCountsItsLimitsBeforeComparing(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.VerifyPerIP = ratelimit.Limit{N: 3, Window: 15 * time.Minute}
	id := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")
	s, _ := split(t, id)

	// A malformed code is refused before anything is read, and counts.
	w.store.resetCounts()
	err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: "12a456"}, clientIP)
	wantField(t, "malformed code", err, "code")
	if n := w.store.totalReads(); n != 0 {
		t.Errorf("a malformed code read the store %d times", n)
	}
	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	for range 2 {
		wantField(t, "wrong code", w.intake.Verify(ctx, id, requests.VerifyInput{Code: wrong}, clientIP), "code")
	}
	before, _ := w.store.verification(s)
	w.store.resetCounts()
	err = w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, clientIP)
	wantCode(t, "right code over the limit", err, privacy.RateLimited, "")
	after, _ := w.store.verification(s)
	if n := w.store.totalReads() + w.store.totalWrites(); n != 0 || after.Attempts != before.Attempts {
		t.Errorf("over the limit: %d reads and writes, attempts %d -> %d; want nothing compared", n, before.Attempts, after.Attempts)
	}
	if err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, "203.0.113.9"); err != nil {
		t.Errorf("right code from another client: %v", err)
	}
}

func TestP23_VerifyLimitsCodesPerClient(t *testing.T) {
	w := newWorld(t)
	w.env.Limits.CodesPerClient = ratelimit.Limit{N: 2, Window: 24 * time.Hour}
	id := w.file(t, requests.FileInput{Type: "access", Email: "grace@example.com"})
	w.drain(t)
	code := w.lastCode(t, "grace@example.com")
	for _, guess := range []string{"111111", "222222"} {
		if guess == code {
			continue
		}
		wantField(t, "guess", w.intake.Verify(ctx, id, requests.VerifyInput{Code: guess}, clientIP), "code")
	}
	err := w.intake.Verify(ctx, id, requests.VerifyInput{Code: code}, clientIP)
	wantCode(t, "third code a day", err, privacy.RateLimited, "")
}

func TestP23_DueDateIsReceivedPlusTheResponseDays(t *testing.T) {
	for _, days := range []int{30, 14} {
		t.Run(fmt.Sprint(days, " days"), func(t *testing.T) {
			w := newWorld(t)
			w.env.Config.ResponseDays = days
			filed := w.clock.Now()
			unproved := w.file(t, requests.FileInput{Type: "contact", Email: "grace@example.com", Details: "A question."})
			w.drain(t)
			w.clock.Advance(10 * time.Minute)
			if err := w.intake.Verify(ctx, unproved, requests.VerifyInput{Code: w.lastCode(t, "grace@example.com")}, clientIP); err != nil {
				t.Fatal(err)
			}
			r := w.stored(t, unproved)
			if want := filed.AddDate(0, 0, days); !r.Received.Equal(filed) || !r.Due.Equal(want) {
				t.Errorf("received %v, due %v; want %v and %v (counted from filing, not proving)", r.Received, r.Due, filed, want)
			}
			w.drain(t)
			receipt := w.box.to("grace@example.com", mail.RequestReceipt)
			if len(receipt) != 1 || !receipt[0].Data.Due.Equal(r.Due) || !receipt[0].Data.Received.Equal(filed) {
				t.Errorf("receipt %+v, want the due date %v", receipt, r.Due)
			}
			w.clock.Advance(time.Hour)
			started := w.clock.Now()
			if _, err := w.operator.Start(ctx, unproved); err != nil {
				t.Fatal(err)
			}
			r = w.stored(t, unproved)
			want := []privacy.RequestStep{
				{Status: privacy.RequestReceived, At: filed}, {Status: privacy.RequestVerified, At: filed.Add(10 * time.Minute)},
				{Status: privacy.RequestInProgress, At: started},
			}
			if !slices.Equal(r.Steps, want) || !r.Due.Equal(filed.AddDate(0, 0, days)) {
				t.Errorf("steps %v (due %v), want %v", r.Steps, r.Due, want)
			}
		})
	}
}

func TestP23_ThirdRequestOfATypeInTheWindowIsARepeat(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	grace := w.addAccount(t, "grace@example.com", "Grace Hopper", "en")
	var ids []string
	for range 3 {
		ids = append(ids, w.fileSignedIn(t, ada, requests.FileInput{Type: "access"}))
		w.clock.Advance(30 * 24 * time.Hour)
	}
	for i, id := range ids {
		if got, want := w.stored(t, id).Repeat, i == 2; got != want {
			t.Errorf("request %d: repeat = %v, want %v", i+1, got, want)
		}
	}
	ds := w.store.decisions[ada.Subject]
	if len(ds) != 1 {
		t.Fatalf("decisions %+v, want one for the third request", ds)
	}
	d := ds[0]
	third := w.stored(t, ids[2])
	if requests.DecisionRepeat != "request.repeat" || d.Name != requests.DecisionRepeat || d.LogicVersion == "" || !d.At.Equal(third.Received) || d.Outcome == "" {
		t.Errorf("decision %+v", d)
	}
	for k, v := range map[string]string{"type": "access", "earlierOfTheType": "2", "windowDays": "365", "free": "2"} {
		if d.Inputs[k] != v {
			t.Errorf("decision input %s = %q, want %q", k, d.Inputs[k], v)
		}
	}
	w.drain(t)
	receipts := w.box.to("ada@example.com", mail.RequestReceipt)
	if len(receipts) != 3 || receipts[0].Data.Repeat || !receipts[2].Data.Repeat {
		t.Errorf("receipts flag repeats %v", func() (out []bool) {
			for _, m := range receipts {
				out = append(out, m.Data.Repeat)
			}
			return out
		}())
	}
	id, token := w.lastStatusLink(t, "ada@example.com")
	if v, err := w.tracker.Status(ctx, id, token); err != nil || !v.Repeat {
		t.Errorf("status of the third: %+v, %v; want it flagged", v, err)
	}

	// Another type, or another person, does not count.
	if r := w.stored(t, w.fileSignedIn(t, ada, requests.FileInput{Type: "correction", Details: "Fix my name."})); r.Repeat {
		t.Error("a first correction was flagged as a repeat")
	}
	if r := w.stored(t, w.fileSignedIn(t, grace, requests.FileInput{Type: "access"})); r.Repeat {
		t.Error("another person's first access was flagged as a repeat")
	}
	if n := len(w.store.decisions[ada.Subject]) + len(w.store.decisions[grace.Subject]); n != 1 {
		t.Errorf("%d decisions, want still one", n)
	}
}

func TestP23_RepeatsCountOnlyProvedRequestsInTheWindow(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	now := w.clock.Now()
	seed := func(status privacy.RequestStatus, ago time.Duration) {
		w.store.put(requests.Record{Request: privacy.Request{ID: privacy.NewID(), Subject: ada.Subject, Type: privacy.RequestAccess,
			Status: status, Email: "ada@example.com", Locale: "en", Received: now.Add(-ago), Due: now.Add(-ago).AddDate(0, 0, 30)}})
	}
	seed(privacy.RequestReceived, time.Hour)
	seed(privacy.RequestReceived, 2*time.Hour)
	seed(privacy.RequestExpired, 3*time.Hour)
	seed(privacy.RequestCompleted, 400*24*time.Hour)
	seed(privacy.RequestCompleted, 366*24*time.Hour)
	seed(privacy.RequestRefused, 10*24*time.Hour) // counts: it was asked, and answered
	if r := w.stored(t, w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})); r.Repeat {
		t.Error("flagged as a repeat with one proved request in the window")
	}
	if r := w.stored(t, w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})); !r.Repeat {
		t.Error("not flagged with two proved requests in the window")
	}
}

func TestP23_VisitorRequestProvedIntoAnAccountCountsTowardRepeats(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword})
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword})
	id, _ := w.proveVisitor(t, requests.FileInput{Type: "copy", Email: "ada@example.com"})
	if s, _ := split(t, id); s != ada.Subject {
		t.Fatalf("proved into %s, want the account's partition", s)
	}
	if !w.stored(t, id).Repeat {
		t.Error("a third copy in the window, asked as a visitor, was not flagged")
	}
	if ds := w.store.decisions[ada.Subject]; len(ds) != 1 || ds[0].Name != requests.DecisionRepeat {
		t.Errorf("decisions %+v, want the repeat in the account's partition", ds)
	}
}

// The decision's inputs are what an explanation shows (P22): they must be what the rule
// looked at, which is the proved requests of the type inside the window.
func TestP22_RepeatDecisionRecordsTheRequestsItCounted(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	now := w.clock.Now()
	w.store.put(requests.Record{Request: privacy.Request{ID: privacy.NewID(), Subject: ada.Subject, Type: privacy.RequestAccess,
		Status: privacy.RequestCompleted, Email: "ada@example.com", Locale: "en", Received: now.AddDate(-2, 0, 0), Due: now.AddDate(-2, 0, 30)}})
	w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	third := w.stored(t, w.fileSignedIn(t, ada, requests.FileInput{Type: "access"}))
	if !third.Repeat {
		t.Fatal("the third access in the window was not flagged")
	}
	ds := w.store.decisions[ada.Subject]
	if len(ds) != 1 {
		t.Fatalf("decisions %+v", ds)
	}
	if got := ds[0].Inputs["earlierOfTheType"]; got != "2" {
		t.Errorf("earlierOfTheType = %s, want 2: the rule counted the two in the 365-day window, not the one of two years ago", got)
	}
}

func TestP11_RequestLogsNameNoPerson(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada.logs@example.com", "Ada Logsworth", "en")
	id, _ := w.proveVisitor(t, requests.FileInput{Type: "correction", Email: "grace.logs@example.com", Details: "My secret middle name is Brewster."})
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank.logs@example.org"})
	w.runExports(t)
	w.drain(t)
	if _, err := w.operator.Refuse(ctx, id, privacy.RefuseImpractical, "We cannot change a middle name we never held."); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, secret := range []string{"logs@example", "Logsworth", "Brewster", goodPassword, "middle name"} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
	if !strings.Contains(out, string(ada.Subject)) {
		t.Error("the logs do not name the subject at all: is slog captured?")
	}
}
