package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// Time formats: minutes in the queue's table, seconds where steps follow one another.
const (
	dayTime  = "2006-01-02 15:04"
	fullTime = "2006-01-02 15:04:05"
)

func at(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(layout)
}

// daysLeft is how many days are left until due, rounded up, as in the operator's digest; once
// the due date has passed it is negative, also rounded away from zero (two hours past due is
// one day overdue), and overdue is true.
func daysLeft(due, now time.Time) (left int, overdue bool) {
	d := due.Sub(now).Hours() / 24
	if d > 0 {
		return int(math.Ceil(d)), false
	}
	return -int(math.Ceil(-d)), true
}

// queueItem is a line of the queue in JSON: IDs, type and dates, nothing about the requester.
type queueItem struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Status   string    `json:"status"`
	Received time.Time `json:"received"`
	Due      time.Time `json:"due"`
	DaysLeft int       `json:"daysLeft"`
	Overdue  bool      `json:"overdue"`
	Repeat   bool      `json:"repeat"`
}

func queueJSON(vs []requests.View, now time.Time) []queueItem {
	out := make([]queueItem, 0, len(vs))
	for _, v := range vs {
		left, overdue := daysLeft(v.Due, now)
		out = append(out, queueItem{
			ID: v.ID, Type: v.Type, Status: v.Status, Received: v.Received, Due: v.Due,
			DaysLeft: left, Overdue: overdue, Repeat: v.Repeat,
		})
	}
	return out
}

func printQueue(w io.Writer, vs []requests.View, now time.Time) {
	if len(vs) == 0 {
		fmt.Fprintln(w, "No open requests.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tRECEIVED\tDUE\tDAYS LEFT\tREPEAT")
	overdue := 0
	for _, q := range queueJSON(vs, now) {
		days := strconv.Itoa(q.DaysLeft)
		if q.Overdue {
			days += " OVERDUE"
			overdue++
		}
		repeat := ""
		if q.Repeat {
			repeat = "repeat"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", clean(q.ID), clean(q.Type), clean(q.Status),
			at(q.Received, dayTime), at(q.Due, dayTime), days, repeat)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d open, %d overdue (times UTC).\n", len(vs), overdue)
}

// caseOut is one request in JSON, with what answering it needs.
type caseOut struct {
	Request requests.View `json:"request"`
	// AnswerTo and Language are where and in which language the answer is mailed.
	AnswerTo string `json:"answerTo"`
	Language string `json:"language"`
	// DaysLeft and Overdue are set while the request is open.
	DaysLeft  *int          `json:"daysLeft,omitempty"`
	Overdue   bool          `json:"overdue"`
	Account   *accountOut   `json:"account"`
	Decisions []decisionOut `json:"decisions"`
}

type accountOut struct {
	Subject  string `json:"subject"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Username string `json:"username"`
	Status   string `json:"status"`
	Locale   string `json:"locale"`
}

type decisionOut struct {
	At           time.Time         `json:"at"`
	Name         string            `json:"name"`
	LogicVersion string            `json:"logicVersion"`
	Inputs       map[string]string `json:"inputs"`
	Outcome      string            `json:"outcome"`
}

func caseJSON(k requests.Case, now time.Time) caseOut {
	out := caseOut{Request: k.Request, AnswerTo: k.Email, Language: k.Locale, Decisions: []decisionOut{}}
	if privacy.RequestStatus(k.Request.Status).Open() {
		left, overdue := daysLeft(k.Request.Due, now)
		out.DaysLeft, out.Overdue = &left, overdue
	}
	if a := k.Account; a != nil {
		out.Account = &accountOut{
			Subject: string(a.SubjectID), Name: a.Profile.Name, Email: a.Profile.Email,
			Username: a.Profile.Username, Status: string(a.Status), Locale: a.Profile.Locale,
		}
	}
	for _, d := range k.Decisions {
		out.Decisions = append(out.Decisions, decisionOut{At: d.At, Name: d.Name, LogicVersion: d.LogicVersion, Inputs: d.Inputs, Outcome: d.Outcome})
	}
	return out
}

func printCase(w io.Writer, k requests.Case, now time.Time) {
	const width = 14
	field := func(name, value string) {
		if value == "" {
			return
		}
		first, rest, more := strings.Cut(clean(value), "\n")
		fmt.Fprintf(w, "%-*s%s\n", width, name, first)
		if more {
			fmt.Fprintln(w, indent(rest, strings.Repeat(" ", width)))
		}
	}
	v := k.Request
	field("Request", v.ID)
	field("Type", v.Type)
	field("Status", v.Status)
	field("Received", at(v.Received, fullTime))
	due := at(v.Due, fullTime)
	if privacy.RequestStatus(v.Status).Open() {
		switch left, overdue := daysLeft(v.Due, now); {
		case overdue:
			due += fmt.Sprintf("  OVERDUE by %d day(s)", -left)
		default:
			due += fmt.Sprintf("  (%d day(s) left)", left)
		}
	}
	field("Due", due)
	field("Answer to", k.Email)
	field("Language", k.Locale+" (write the answer in it: it is mailed as you write it)")
	if v.Repeat {
		field("Repeat", "yes: asked again beyond the free count (see the decisions); you decide")
	}
	field("Ground", v.Ground)
	field("Third party", v.Third)
	if e := v.Export; e != nil {
		if e.Ready {
			field("Export", "written; its link works until "+at(e.ExpiresAt, fullTime))
		} else {
			field("Export", "not written yet")
		}
	}
	field("Details", v.Details)
	field("Outcome", v.Outcome)
	if r := v.Refusal; r != nil {
		field("Refused", r.Ground+": "+r.Reason)
	}

	fmt.Fprintln(w, "\nSteps")
	for _, s := range v.Steps {
		fmt.Fprintf(w, "  %s  %s\n", at(s.At, fullTime), clean(s.Status))
	}

	fmt.Fprintln(w, "\nAccount")
	if a := k.Account; a == nil {
		fmt.Fprintln(w, "  none: the requester has no account here")
	} else {
		for _, f := range [][2]string{
			{"Subject", string(a.SubjectID)}, {"Name", a.Profile.Name}, {"E-mail", a.Profile.Email},
			{"Username", a.Profile.Username}, {"Status", string(a.Status)}, {"Language", a.Profile.Locale},
		} {
			fmt.Fprintf(w, "  %-10s%s\n", f[0], clean(f[1]))
		}
	}

	fmt.Fprintf(w, "\nAutomated decisions about the subject (%d)\n", len(k.Decisions))
	if len(k.Decisions) == 0 {
		fmt.Fprintln(w, "  none on record")
	}
	for _, d := range k.Decisions {
		fmt.Fprintf(w, "  %s  %s (logic %s)\n", at(d.At, fullTime), clean(d.Name), clean(d.LogicVersion))
		for _, key := range slices.Sorted(maps.Keys(d.Inputs)) {
			fmt.Fprintf(w, "    input    %s = %s\n", clean(key), clean(d.Inputs[key]))
		}
		fmt.Fprintf(w, "    outcome  %s\n", clean(d.Outcome))
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// clean makes text safe to print on the operator's terminal: a request's details are a
// stranger's words, and an escape sequence in them could rewrite the screen. Control and
// bidirectional-formatting characters are shown escaped; newlines and tabs stay.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// indent prefixes every line of s but the empty ones with prefix.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// progress counts the reads of the queue: Operator.Queue reads every open request, one by
// one, and a long queue must show it is moving. On a terminal the count is rewritten in
// place; elsewhere (a log) it is a line every 100 reads. It writes to stderr only, never
// into the output.
type progress struct {
	requests.Store
	w           io.Writer
	terminal    bool
	total, done int
}

func (p *progress) OpenRequests(ctx context.Context) ([]requests.Ref, error) {
	refs, err := p.Store.OpenRequests(ctx)
	p.total = len(refs)
	return refs, err
}

func (p *progress) Request(ctx context.Context, subject privacy.SubjectID, id string) (requests.Record, error) {
	r, err := p.Store.Request(ctx, subject, id)
	p.done++
	switch {
	case p.terminal:
		fmt.Fprintf(p.w, "\rread %d/%d", p.done, p.total)
	case p.done%100 == 0:
		fmt.Fprintf(p.w, "read %d/%d\n", p.done, p.total)
	}
	return r, err
}

// end clears the terminal's counter.
func (p *progress) end() {
	if p.terminal && p.done > 0 {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
