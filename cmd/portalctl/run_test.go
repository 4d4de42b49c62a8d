package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// lineOf returns the line of out that starts with prefix, and its index.
func lineOf(tb testing.TB, out, prefix string) (string, int) {
	tb.Helper()
	for i, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l, i
		}
	}
	tb.Fatalf("no line starting with %q in:\n%s", prefix, out)
	return "", 0
}

func TestQueueListsOpenRequestsSoonestDueFirst(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "queue")

	zed, iz := lineOf(t, out, overdueID)
	carol, ic := lineOf(t, out, explanationID)
	bob, ib := lineOf(t, out, contactID)
	_, ie := lineOf(t, out, accessID)
	if !(iz < ic && ic < ib && ib < ie) {
		t.Errorf("order %s %d, %s %d, %s %d, %s %d; want soonest due first:\n%s", overdueID, iz, explanationID, ic, contactID, ib, accessID, ie, out)
	}
	for _, tc := range []struct {
		name, line, want string
		overdue, repeat  bool
	}{
		{"overdue by 10 days", zed, "-10 OVERDUE", true, false},
		{"2 days left, a repeat", carol, "  2  ", false, true},
		{"25 days left", bob, "  25  ", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.line, tc.want) {
				t.Errorf("line %q does not say %q", tc.line, tc.want)
			}
			if got := strings.Contains(tc.line, "OVERDUE"); got != tc.overdue {
				t.Errorf("line %q: OVERDUE shown = %v, want %v", tc.line, got, tc.overdue)
			}
			if got := strings.Contains(tc.line, "repeat"); got != tc.repeat {
				t.Errorf("line %q: repeat shown = %v, want %v", tc.line, got, tc.repeat)
			}
		})
	}
	if !strings.Contains(zed, "2026-01-29 12:00") || !strings.Contains(zed, "2026-02-28 12:00") {
		t.Errorf("line %q does not show received 2026-01-29 12:00 and due 2026-02-28 12:00", zed)
	}
	if strings.Contains(out, completedID) {
		t.Errorf("the completed request %s is in the queue:\n%s", completedID, out)
	}
	if !strings.Contains(out, "4 open, 1 overdue") {
		t.Errorf("no summary \"4 open, 1 overdue\" in:\n%s", out)
	}
	// The queue names no one: no address, no name, no details.
	for _, personal := range []string{"@example.com", "Zed", "surname"} {
		if strings.Contains(out, personal) {
			t.Errorf("the queue shows %q:\n%s", personal, out)
		}
	}
	f.unchanged(t)
}

func TestQueueEmpty(t *testing.T) {
	f := newFixture(t)
	f.store.records = map[string]requests.Record{}
	if out := f.mustRun(t, "queue"); !strings.Contains(out, "No open requests.") {
		t.Errorf("empty queue printed:\n%s", out)
	}
	if out := f.mustRun(t, "queue", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty queue in JSON = %q, want []", out)
	}
}

func TestQueueJSON(t *testing.T) {
	f := newFixture(t)
	var got []struct {
		ID       string    `json:"id"`
		Type     string    `json:"type"`
		Due      time.Time `json:"due"`
		DaysLeft int       `json:"daysLeft"`
		Overdue  bool      `json:"overdue"`
		Repeat   bool      `json:"repeat"`
	}
	out := f.mustRun(t, "queue", "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("queue --json is not JSON: %v\n%s", err, out)
	}
	want := []struct {
		id              string
		daysLeft        int
		overdue, repeat bool
	}{{overdueID, -10, true, false}, {explanationID, 2, false, true}, {contactID, 25, false, false}, {accessID, 27, false, false}}
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.DaysLeft != w.daysLeft || g.Overdue != w.overdue || g.Repeat != w.repeat {
			t.Errorf("[%d] = %+v, want id %s, daysLeft %d, overdue %v, repeat %v", i, g, w.id, w.daysLeft, w.overdue, w.repeat)
		}
	}
}

func TestQueueProgressGoesToStderr(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		n        int
		want     []string
		notWant  []string
	}{
		{"a log: a line every 100", false, 250, []string{"read 100/250\n", "read 200/250\n"}, []string{"\r", "read 250/250"}},
		{"a terminal: a counter in place, cleared at the end", true, 3, []string{"\rread 1/3", "\rread 3/3", "\r\x1b[K"}, []string{"\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.records = map[string]requests.Record{}
			for i := range tc.n {
				f.store.put(requests.Record{Request: privacy.Request{
					ID: fmt.Sprint("r", i), Subject: "s", Type: privacy.RequestContact, Status: privacy.RequestVerified,
					Received: now, Due: now.Add(days(30)).Add(time.Duration(i) * time.Second),
				}})
			}
			f.deps.Terminal = tc.terminal
			code, stdout, stderr := f.run(t, "queue")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr %q contains %q", stderr, w)
				}
			}
			if strings.Contains(stdout, "read ") {
				t.Errorf("progress on stdout")
			}
			if got := strings.Count(stdout, "s.r"); got != tc.n {
				t.Errorf("%d requests listed, want %d", got, tc.n)
			}
		})
	}
}

func TestShowPrintsStepsAccountAndDecisions(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "show", explanationID)
	for _, want := range []string{
		"Request       " + explanationID,
		"Type          explanation",
		"Status        verified",
		"(2 day(s) left)",
		"Details       Why was my request flagged?",
		"Repeat        yes",
		// steps, with their times
		"2026-02-10 12:00:00  received",
		"2026-02-10 12:01:00  verified",
		// the account
		"Name      Carol Chen",
		"E-mail    carol@example.com",
		"Username  carolc",
		"Status    active",
		// the decisions, with time, logic version, inputs and outcome
		"Automated decisions about the subject (2)",
		"2026-02-10 12:00:00  request.repeat (logic repeats-1)",
		"input    earlierOfTheType = 2",
		"input    windowDays = 365",
		"outcome  flagged as a repeat",
		"2025-11-30 12:00:00  account.guardian_required (logic age-1)",
		"input    ageGroup = under14",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %q:\n%s", want, out)
		}
	}
	f.unchanged(t)
}

func TestShowOverdueAndNoAccount(t *testing.T) {
	f := newFixture(t)
	if out := f.mustRun(t, "show", overdueID); !strings.Contains(out, "OVERDUE by 10 day(s)") || !strings.Contains(out, "Language  zh-CN") {
		t.Errorf("show %s does not say OVERDUE by 10 day(s) and the account's language:\n%s", overdueID, out)
	}
	out := f.mustRun(t, "show", contactID)
	if !strings.Contains(out, "none: the requester has no account") || !strings.Contains(out, "none on record") {
		t.Errorf("show %s does not say there is no account and no decision:\n%s", contactID, out)
	}
}

func TestShowEscapesControlCharacters(t *testing.T) {
	f := newFixture(t)
	r := f.store.get(t, contactID)
	r.Details = "Hello\x1b[2J\x1b]0;owned\x07 there\u202eevil\nsecond line"
	f.store.put(r)
	out := f.mustRun(t, "show", contactID)
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("show printed raw control characters: %q", out)
	}
	if !strings.Contains(out, `Hello\x1b[2J`) || !strings.Contains(out, `\u202eevil`) {
		t.Errorf("show does not print the control characters escaped: %q", out)
	}
	if !strings.Contains(out, "\n              second line") {
		t.Errorf("a second line of details is not indented under the first: %q", out)
	}
}

func TestShowJSON(t *testing.T) {
	f := newFixture(t)
	var got struct {
		Request  requests.View `json:"request"`
		DaysLeft *int          `json:"daysLeft"`
		Overdue  bool          `json:"overdue"`
		Account  *struct {
			Name, Email, Username, Status string
		} `json:"account"`
		Decisions []struct {
			At           time.Time         `json:"at"`
			Name         string            `json:"name"`
			LogicVersion string            `json:"logicVersion"`
			Inputs       map[string]string `json:"inputs"`
			Outcome      string            `json:"outcome"`
		} `json:"decisions"`
	}
	out := f.mustRun(t, "show", explanationID, "--json") // flags after the ID work too
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("show --json is not JSON: %v\n%s", err, out)
	}
	if got.Request.ID != explanationID || len(got.Request.Steps) != 2 || got.DaysLeft == nil || *got.DaysLeft != 2 || got.Overdue {
		t.Errorf("request = %+v, daysLeft %v, overdue %v", got.Request, got.DaysLeft, got.Overdue)
	}
	if got.Account == nil || got.Account.Email != "carol@example.com" || got.Account.Username != "carolc" || got.Account.Status != "active" {
		t.Errorf("account = %+v", got.Account)
	}
	if len(got.Decisions) != 2 || got.Decisions[0].LogicVersion != "repeats-1" || got.Decisions[0].Inputs["free"] != "2" || !got.Decisions[0].At.Equal(now.Add(-days(28))) {
		t.Errorf("decisions = %+v", got.Decisions)
	}

	out = f.mustRun(t, "show", "--json", contactID)
	var none map[string]any
	if err := json.Unmarshal([]byte(out), &none); err != nil {
		t.Fatal(err)
	}
	if none["account"] != nil || fmt.Sprint(none["decisions"]) != "[]" {
		t.Errorf("a visitor's request: account %v, decisions %v; want null and []", none["account"], none["decisions"])
	}
}

func TestShowUnknownRequest(t *testing.T) {
	f := newFixture(t)
	code, stdout, stderr := f.run(t, "show", "nobody.r9")
	if code != 1 || stdout != "" || stderr != "portalctl: No request nobody.r9.\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = f.run(t, "show", "not-an-id")
	if code != 1 || !strings.Contains(stderr, "<id> is not a request ID") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestStart(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "start", overdueID)
	if !strings.Contains(out, "in_progress") {
		t.Errorf("start printed %q", out)
	}
	r := f.store.get(t, overdueID)
	if r.Status != privacy.RequestInProgress || r.Steps[len(r.Steps)-1] != (privacy.RequestStep{Status: privacy.RequestInProgress, At: now}) {
		t.Errorf("after start: status %s, steps %v", r.Status, r.Steps)
	}
	f.mailed(t, overdueID)

	code, _, stderr := f.run(t, "start", completedID)
	if code != 1 || !strings.Contains(stderr, "is completed: it is not open") {
		t.Errorf("start on a completed request: exit %d, stderr %q", code, stderr)
	}
}

func TestComplete(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        []string
		stdin       string
		file        string // written to a temporary file, named by {file} in args
		code        int
		stderr      string
		wantOutcome string
	}{
		{name: "an outcome", args: []string{"complete", overdueID, "--outcome", "  Your surname is corrected.  "},
			wantOutcome: "Your surname is corrected."},
		{name: "an outcome from stdin", args: []string{"complete", "--outcome-file", "-", overdueID},
			stdin: "Corrected:\nsurname Zhang.\n", wantOutcome: "Corrected:\nsurname Zhang."},
		{name: "an outcome from a file", args: []string{"complete", overdueID, "--outcome-file", "{file}"},
			file: "Done.", wantOutcome: "Done."},
		{name: "no outcome", args: []string{"complete", overdueID},
			code: 1, stderr: "--outcome (or --outcome-file) is required"},
		{name: "a blank outcome", args: []string{"complete", overdueID, "--outcome", "   "},
			code: 1, stderr: "--outcome (or --outcome-file) is required"},
		{name: "an empty file", args: []string{"complete", overdueID, "--outcome-file", "{file}"}, file: "\n",
			code: 1, stderr: "is required"},
		{name: "a missing file", args: []string{"complete", overdueID, "--outcome-file", "/nonexistent/outcome.txt"},
			code: 1, stderr: "read the outcome"},
		{name: "a file that is not text", args: []string{"complete", overdueID, "--outcome-file", "{file}"}, file: "\xff\xfe",
			code: 1, stderr: "not UTF-8"},
		{name: "both an outcome and a file", args: []string{"complete", overdueID, "--outcome", "x", "--outcome-file", "-"},
			code: 2, stderr: "not both"},
		{name: "an access request", args: []string{"complete", accessID, "--outcome", "Here it is."},
			code: 1, stderr: "export worker completes it"},
		{name: "a completed request", args: []string{"complete", completedID, "--outcome", "Again."},
			code: 1, stderr: "is completed: it is not open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.deps.Stdin = strings.NewReader(tc.stdin)
			if tc.file != "" {
				path := filepath.Join(t.TempDir(), "outcome.txt")
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				for i, a := range tc.args {
					if a == "{file}" {
						tc.args[i] = path
					}
				}
			}
			code, stdout, stderr := f.run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr, tc.code, tc.stderr)
			}
			if tc.code != 0 {
				f.unchanged(t)
				return
			}
			id := tc.args[1]
			if id == "--outcome-file" {
				id = tc.args[3]
			}
			r := f.store.get(t, id)
			if r.Status != privacy.RequestCompleted || r.Outcome != tc.wantOutcome {
				t.Errorf("status %s, outcome %q; want completed, %q", r.Status, r.Outcome, tc.wantOutcome)
			}
			if !strings.Contains(stdout, "completed") {
				t.Errorf("stdout %q", stdout)
			}
			f.mailed(t, id)
		})
	}
}

func TestRefuse(t *testing.T) {
	t.Run("an unknown ground lists the grounds and changes nothing", func(t *testing.T) {
		for _, args := range [][]string{
			{"refuse", overdueID, "--ground", "too_busy", "--reason", "We are busy."},
			{"refuse", overdueID, "--reason", "No ground given."},
		} {
			f := newFixture(t)
			code, stdout, stderr := f.run(t, args...)
			if code != 1 || stdout != "" {
				t.Errorf("%v: exit %d, stdout %q; want 1 and nothing", args, code, stdout)
			}
			for _, g := range privacy.RefusalGrounds {
				if !strings.Contains(stderr, "\n  "+string(g)+" ") {
					t.Errorf("%v: stderr does not list %s:\n%s", args, g, stderr)
				}
			}
			if r := f.store.get(t, overdueID); r.Status != privacy.RequestVerified || r.Refusal != nil {
				t.Errorf("%v: request now %s, refusal %v", args, r.Status, r.Refusal)
			}
			f.unchanged(t)
		}
	})
	t.Run("no reason", func(t *testing.T) {
		f := newFixture(t)
		code, _, stderr := f.run(t, "refuse", overdueID, "--ground", string(privacy.RefuseRepeated))
		if code != 1 || !strings.Contains(stderr, "--reason is required") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		f.unchanged(t)
	})
	t.Run("a ground and a reason", func(t *testing.T) {
		f := newFixture(t)
		out := f.mustRun(t, "refuse", explanationID, "--ground", string(privacy.RefuseRepeated), "--reason", "You asked three times this year.")
		if !strings.Contains(out, "refused (unreasonably_repeated)") {
			t.Errorf("stdout %q", out)
		}
		r := f.store.get(t, explanationID)
		want := privacy.Refusal{Ground: privacy.RefuseRepeated, Reason: "You asked three times this year."}
		if r.Status != privacy.RequestRefused || r.Refusal == nil || *r.Refusal != want {
			t.Errorf("status %s, refusal %v; want refused, %v", r.Status, r.Refusal, want)
		}
		f.mailed(t, explanationID)
	})
}

func TestExplainComposesFromTheDecisions(t *testing.T) {
	f := newFixture(t)
	out := f.mustRun(t, "explain", explanationID, "--remedy", "We have waived the fee.")
	r := f.store.get(t, explanationID)
	if r.Status != privacy.RequestCompleted {
		t.Fatalf("status %s, want completed", r.Status)
	}
	for _, want := range []string{
		"request.repeat (logic repeats-1)", "earlierOfTheType = 2", "flagged as a repeat",
		"account.guardian_required (logic age-1)", "ageGroup = under14",
		"10 February 2026 12:00 UTC",
		"We have waived the fee.",
	} {
		if !strings.Contains(r.Outcome, want) {
			t.Errorf("the explanation does not say %q:\n%s", want, r.Outcome)
		}
	}
	if !strings.HasSuffix(r.Outcome, "\n\nWe have waived the fee.") {
		t.Errorf("the remedy is not last:\n%s", r.Outcome)
	}
	if !strings.Contains(out, "  We have waived the fee.") || !strings.Contains(out, "mailed this explanation") {
		t.Errorf("explain does not show the operator what was mailed:\n%s", out)
	}
	f.mailed(t, explanationID)

	f = newFixture(t)
	code, _, stderr := f.run(t, "explain", overdueID)
	if code != 1 || !strings.Contains(stderr, "is a correction request, not an explanation") {
		t.Errorf("explain on a correction: exit %d, stderr %q", code, stderr)
	}
	f.unchanged(t)
}

func TestErase(t *testing.T) {
	for _, typ := range []privacy.RequestType{privacy.RequestDeletion, privacy.RequestCancellation} {
		t.Run("a "+string(typ)+" request", func(t *testing.T) {
			f := newFixture(t)
			id := f.erasable(typ)
			out := f.mustRun(t, "erase", id)
			if !strings.Contains(out, "Request fay.r6: in_progress.") || !strings.Contains(out, "mailed the outcome") {
				t.Errorf("erase printed %q", out)
			}
			r := f.store.get(t, id)
			if r.Status != privacy.RequestInProgress || r.Steps[len(r.Steps)-1] != (privacy.RequestStep{Status: privacy.RequestInProgress, At: now}) {
				t.Errorf("after erase: status %s, steps %v", r.Status, r.Steps)
			}
			if a := f.store.accounts["fay"]; a.Status != privacy.StatusErasing || !slices.Equal(f.store.closed, []privacy.SubjectID{"fay"}) {
				t.Errorf("account %s, closed %v; want erasing, [fay]", a.Status, f.store.closed)
			}
			want := jobs.Job{Kind: requests.JobErase, Subject: "fay", Request: "r6", At: now}
			if len(f.erasure.jobs) != 1 || !reflect.DeepEqual(f.erasure.jobs[0], want) {
				t.Errorf("erasure jobs = %v, want [%v]", f.erasure.jobs, want)
			}
			// The outcome is mailed by the erasure worker, once it is done: nothing yet.
			if len(f.mail.jobs) != 0 {
				t.Errorf("mail jobs = %v, want none", f.mail.jobs)
			}
		})
	}
	t.Run("--json", func(t *testing.T) {
		f := newFixture(t)
		id := f.erasable(privacy.RequestDeletion)
		out := f.mustRun(t, "erase", "--json", id)
		var v requests.View
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("erase --json is not JSON: %v\n%s", err, out)
		}
		if v.ID != id || v.Type != "deletion" || v.Status != "in_progress" || len(v.Steps) != 3 {
			t.Errorf("erase --json = %+v", v)
		}
		if len(f.erasure.jobs) != 1 {
			t.Errorf("erasure jobs = %v, want one", f.erasure.jobs)
		}
	})
	t.Run("a deletion started before: the job is queued, the request unchanged", func(t *testing.T) {
		f := newFixture(t)
		id := f.erasable(privacy.RequestDeletion)
		f.mustRun(t, "start", id)
		steps := f.store.get(t, id).Steps
		f.mustRun(t, "erase", id)
		if r := f.store.get(t, id); r.Status != privacy.RequestInProgress || !slices.Equal(r.Steps, steps) {
			t.Errorf("after start then erase: status %s, steps %v; want in_progress, %v", r.Status, r.Steps, steps)
		}
		if len(f.erasure.jobs) != 1 || f.erasure.jobs[0].Kind != requests.JobErase {
			t.Errorf("erasure jobs = %v, want one erase", f.erasure.jobs)
		}
	})
	t.Run("without an erasure queue the other commands work", func(t *testing.T) {
		f := newFixture(t)
		delete(f.env, envErasureQueue)
		f.mustRun(t, "queue")
		f.mustRun(t, "start", overdueID)
		f.mailed(t, overdueID)
	})
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"a correction", []string{"erase", overdueID}, "asks for correction: only deletion and cancellation"},
		{"an access request", []string{"erase", accessID, "--json"}, "asks for access: only deletion and cancellation"},
		{"an unknown request", []string{"erase", "nobody.r9"}, "portalctl: No request nobody.r9.\n"},
		{"not an ID", []string{"erase", "not-an-id"}, "<id> is not a request ID"},
	} {
		t.Run(tc.name+" is not erased", func(t *testing.T) {
			f := newFixture(t)
			f.erasable(privacy.RequestDeletion)
			code, stdout, stderr := f.run(t, tc.args...)
			if code != 1 || stdout != "" || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, %q", code, stdout, stderr, tc.stderr)
			}
			f.unchanged(t)
		})
	}
	t.Run("a refused deletion is not erased", func(t *testing.T) {
		f := newFixture(t)
		id := f.erasable(privacy.RequestDeletion)
		r := f.store.get(t, id)
		r.Status, r.Refusal = privacy.RequestRefused, &privacy.Refusal{Ground: privacy.RefuseCriminal, Reason: "Kept for a trial."}
		f.store.put(r)
		code, _, stderr := f.run(t, "erase", id)
		if code != 1 || !strings.Contains(stderr, "is refused: it is not open") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
		if got := f.store.get(t, id); got.Status != privacy.RequestRefused || len(f.erasure.jobs) != 0 || f.store.saves != 0 {
			t.Errorf("request now %s, erasure jobs %v, %d writes; want refused, none, none", got.Status, f.erasure.jobs, f.store.saves)
		}
	})
	t.Run("a stack without the erasure queue's output", func(t *testing.T) {
		f := newFixture(t)
		f.env = map[string]string{envStack: "portal-old"}
		id := f.erasable(privacy.RequestDeletion)
		code, stdout, stderr := f.run(t, "erase", id)
		if code != 2 || stdout != "" || !strings.Contains(stderr, "stack portal-old has no output ErasureQueueURL") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		f.unchanged(t)
		if r := f.store.get(t, id); r.Status != privacy.RequestVerified {
			t.Errorf("request now %s", r.Status)
		}
	})
}

func TestUsageErrorsExit2AndTouchNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		stderr string
	}{
		{"no command", nil, nil, "no command"},
		{"an unknown command", []string{"delete", overdueID}, nil, `unknown command "delete"`},
		{"show without an ID", []string{"show"}, nil, "show needs a request ID"},
		{"refuse without an ID", []string{"refuse", "--ground", "abuse_of_rights", "--reason", "x"}, nil, "refuse needs a request ID"},
		{"two IDs", []string{"start", overdueID, contactID}, nil, `unexpected argument "bob.r2"`},
		{"an unquoted outcome", []string{"complete", overdueID, "--outcome", "Your", "surname"}, nil, `unexpected argument "surname"`},
		{"an unknown flag", []string{"queue", "--all"}, nil, "flag provided but not defined: -all"},
		{"a flag without its value", []string{"complete", overdueID, "--outcome"}, nil, "flag needs an argument"},
		{"a flag of another command", []string{"start", overdueID, "--json"}, nil, "-json"},
		{"no configuration", []string{"queue"}, map[string]string{}, "which portal?"},
		{"a table without a queue", []string{"queue", "--table", "t"}, nil, "names the table but no mail queue"},
		{"a stack and a table", []string{"queue"}, map[string]string{envStack: "portal", envTable: "t"}, "names both a stack and a table"},
		{"erase without an ID", []string{"erase", "--json"}, nil, "erase needs a request ID: portalctl erase <id> [--json]"},
		{"erase with a flag of another command", []string{"erase", overdueID, "--outcome", "x"}, nil, "-outcome"},
		{"erase without the erasure queue", []string{"erase", overdueID},
			map[string]string{envTable: "t", envMailQueue: "q"}, "erase needs the erasure queue: name it (--erasure-queue-url URL, or " + envErasureQueue},
		{"erase with the table and mail queue typed, the erasure queue in the environment", []string{"erase", overdueID, "--table", "t", "--mail-queue-url", "q"},
			nil, "erase needs the erasure queue"},
		{"an erasure queue alone", []string{"queue", "--erasure-queue-url", "e"}, nil, "names the erasure queue but no table and no mail queue"},
		{"a stack and an erasure queue", []string{"queue"}, map[string]string{envStack: "portal", envErasureQueue: "e"}, "names both a stack and a table or queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.env != nil {
				f.env = tc.env
			}
			code, stdout, stderr := f.run(t, tc.args...)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "portalctl help") {
				t.Errorf("stderr %q does not say %q and where help is", stderr, tc.stderr)
			}
			if len(f.connected) != 0 {
				t.Errorf("connected to the portal on a usage error")
			}
			f.unchanged(t)
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"queue", "-h"}} {
		f := newFixture(t)
		code, stdout, stderr := f.run(t, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
		want := []string{"--stack", envStack, envTable, envMailQueue, "--erasure-queue-url", envErasureQueue, "ErasureQueueURL",
			"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "--outcome-file", "--remedy", "--json",
			// what erase does, and when not to
			"deletion or cancellation request (only those)", "erases\n                           everything about the person",
			"cannot be undone", "mailed the outcome", "the law requires keeping\n                           the data, refuse"}
		for name := range commands {
			want = append(want, "\n  "+name+" ")
		}
		for _, g := range privacy.RefusalGrounds {
			want = append(want, string(g)+" ")
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: help does not mention %q", args, w)
			}
		}
		if len(f.connected) != 0 {
			t.Errorf("%v: help connected to the portal", args)
		}
	}
}

func TestEveryGroundIsDescribed(t *testing.T) {
	for _, g := range privacy.RefusalGrounds {
		if groundHelp[g] == "" {
			t.Errorf("refusal ground %s has no description in groundHelp", g)
		}
	}
	if len(groundHelp) != len(privacy.RefusalGrounds) {
		t.Errorf("groundHelp has %d grounds, the policy %d", len(groundHelp), len(privacy.RefusalGrounds))
	}
}

func TestConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want Config
	}{
		{"the environment's table and queue (the local cloud)",
			map[string]string{envTable: "t", envMailQueue: "q"}, nil, Config{Table: "t", MailQueueURL: "q"}},
		{"the environment's table and queues",
			map[string]string{envTable: "t", envMailQueue: "q", envErasureQueue: "e"}, nil, Config{Table: "t", MailQueueURL: "q", ErasureQueueURL: "e"}},
		{"a table and queues on the command line replace the environment's",
			map[string]string{envTable: "t", envMailQueue: "q", envErasureQueue: "e"}, []string{"--table", "t2", "--mail-queue-url", "q2", "--erasure-queue-url", "e2"},
			Config{Table: "t2", MailQueueURL: "q2", ErasureQueueURL: "e2"}},
		{"the environment's stack",
			map[string]string{envStack: "portal-prod"}, nil, Config{Stack: "portal-prod"}},
		{"a stack on the command line replaces the environment's table and queue",
			map[string]string{envTable: "t", envMailQueue: "q"}, []string{"--stack", "portal-prod"}, Config{Stack: "portal-prod"}},
		{"a table and queue after the command, and a region",
			map[string]string{envStack: "portal-prod"}, []string{"--table", "t2", "--mail-queue-url", "q2", "--region", "eu-west-1"},
			Config{Table: "t2", MailQueueURL: "q2", Region: "eu-west-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.env = tc.env
			args := append([]string{"queue"}, tc.args...)
			f.mustRun(t, args...)
			if len(f.connected) != 1 || f.connected[0] != tc.want {
				t.Errorf("connected with %+v, want %+v", f.connected, tc.want)
			}
		})
	}
	t.Run("flags before the command", func(t *testing.T) {
		f := newFixture(t)
		f.env = map[string]string{}
		f.mustRun(t, "--stack", "portal-dev", "show", overdueID)
		if len(f.connected) != 1 || f.connected[0] != (Config{Stack: "portal-dev"}) {
			t.Errorf("connected with %+v", f.connected)
		}
	})
}

func TestConnectionErrorExits1(t *testing.T) {
	f := newFixture(t)
	f.deps.Connect = func(context.Context, Config) (*requests.Operator, error) {
		return nil, errors.New("read the outputs of stack portal: access denied")
	}
	code, stdout, stderr := f.run(t, "queue")
	if code != 1 || stdout != "" || stderr != "portalctl: read the outputs of stack portal: access denied\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestFromStack(t *testing.T) {
	c, err := fromStack(Config{Stack: "portal"}, map[string]string{
		outputTable: "portal-PortalTable-1", outputMailQueue: "https://sqs.eu-west-1.amazonaws.com/1/portal-mail", "ApiId": "x",
	})
	if err != nil || c != (Config{Stack: "portal", Table: "portal-PortalTable-1", MailQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/portal-mail"}) {
		t.Errorf("fromStack = %+v, %v", c, err)
	}
	c, err = fromStack(Config{Stack: "portal"}, map[string]string{
		outputTable: "t", outputMailQueue: "q", outputErasureQueue: "https://sqs.eu-west-1.amazonaws.com/1/portal-erasure",
	})
	if err != nil || c != (Config{Stack: "portal", Table: "t", MailQueueURL: "q", ErasureQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/portal-erasure"}) {
		t.Errorf("fromStack with the erasure queue = %+v, %v", c, err)
	}
	_, err = fromStack(Config{Stack: "other"}, map[string]string{outputTable: "t"})
	if err == nil || !strings.Contains(err.Error(), "stack other has no output [MailQueueURL]") {
		t.Errorf("a stack without the mail queue output: %v", err)
	}
}

func TestP12_ClosedRequestRetentionFromStack(t *testing.T) {
	for _, tc := range []struct {
		name string
		outs map[string]string
		want time.Duration
	}{
		{"the stack's", map[string]string{outputClosedRequestDays: "730"}, 730 * 24 * time.Hour},
		{"missing: the store's default", map[string]string{}, 0},
		{"not a number: the store's default", map[string]string{outputClosedRequestDays: "x"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retentionFromStack(tc.outs).ClosedRequests; got != tc.want {
				t.Errorf("ClosedRequests = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDaysLeft(t *testing.T) {
	due := now
	for _, tc := range []struct {
		name    string
		at      time.Time
		left    int
		overdue bool
	}{
		{"a month before", due.Add(-days(30)), 30, false},
		{"a day and an hour before", due.Add(-days(1) - time.Hour), 2, false},
		{"two hours before", due.Add(-2 * time.Hour), 1, false},
		{"at the due time", due, 0, true},
		{"two hours after", due.Add(2 * time.Hour), -1, true},
		{"25 hours after", due.Add(25 * time.Hour), -2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			left, overdue := daysLeft(due, tc.at)
			if left != tc.left || overdue != tc.overdue {
				t.Errorf("daysLeft = %d, %v; want %d, %v", left, overdue, tc.left, tc.overdue)
			}
		})
	}
}

func TestParseAnywhere(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantRest []string
		wantJSON bool
	}{
		{"flags after arguments", []string{"a", "--json", "b"}, []string{"a", "b"}, true},
		{"nothing is a flag after --", []string{"a", "--", "--json", "-x"}, []string{"a", "--json", "-x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlagSet("test", &Config{})
			asJSON := fs.Bool("json", false, "")
			rest, err := parseAnywhere(fs, tc.args)
			if err != nil || !slices.Equal(rest, tc.wantRest) || *asJSON != tc.wantJSON {
				t.Errorf("parseAnywhere(%q) = %q, json %v, %v; want %q, json %v", tc.args, rest, *asJSON, err, tc.wantRest, tc.wantJSON)
			}
		})
	}
}
