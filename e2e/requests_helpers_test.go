package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/sqs"
)

// Mail kinds of data-subject requests, by the start of their English subjects.
const (
	kindRequestCode    = "Confirm your request to"
	kindRequestReceipt = "We have received your request"
	kindRequestStarted = "We have started on your request"
	kindRequestAnswer  = "Your request to" // completed or declined: the subject says which
	kindExportReady    = "Your copy of your data at"
	kindShareConfirm   = "Confirm sending a copy of your data"
	kindThirdParty     = "Someone asked"
)

var (
	statusLinkRE = regexp.MustCompile(`https?://\S+/requests/status/#id=([^&\s]+)&token=([0-9a-f]{64})`)
	exportLinkRE = regexp.MustCompile(`(https?://\S+/api/exports/[^\s?]+\?token=[0-9a-f]{64}\S*)`)
	shareLinkRE  = regexp.MustCompile(`https?://\S+/requests/share/#id=([^&\s]+)&token=([0-9a-f]{64})`)
)

// requestView is a request as GET /api/requests/{id} shows it.
type requestView struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Status   string    `json:"status"`
	Received time.Time `json:"received"`
	Due      time.Time `json:"due"`
	Steps    []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"steps"`
	Refusal *struct {
		Ground string `json:"ground"`
		Reason string `json:"reason"`
	} `json:"refusal"`
	Outcome string `json:"outcome"`
	Repeat  bool   `json:"repeat"`
	Export  *struct {
		Ready bool `json:"ready"`
	} `json:"export"`
}

func (r requestView) steps() []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Status)
	}
	return out
}

// fileRequest is POST /api/requests.
func (v *visitor) fileRequest(body map[string]any) reply {
	v.tb.Helper()
	return v.do("POST", "/api/requests", body)
}

// filed is the answer to an intake.
func filed(tb testing.TB, r reply) string {
	tb.Helper()
	var f struct {
		Status  string `json:"status"`
		Request string `json:"request"`
	}
	if err := json.Unmarshal(r.Body, &f); err != nil || f.Request == "" {
		tb.Fatalf("intake answer %s: %v", r, err)
	}
	return f.Request
}

// statusLink is a request's status link, from the receipt mail: the request's ID and token.
type statusLink struct{ id, token string }

func statusLinkIn(tb testing.TB, m portaltest.Mail) statusLink {
	tb.Helper()
	s := statusLinkRE.FindStringSubmatch(m.Body.Text)
	if s == nil {
		tb.Fatalf("no status link in mail %q:\n%s", m.Subject, m.Body.Text)
	}
	id, err := url.QueryUnescape(s[1])
	if err != nil {
		tb.Fatal(err)
	}
	return statusLink{id: id, token: s[2]}
}

// status reads a request through its status link.
func (l statusLink) status(tb testing.TB) requestView {
	tb.Helper()
	r := newVisitor(tb).do("GET", "/api/requests/"+url.PathEscape(l.id)+"?token="+l.token, nil)
	wantStatus(tb, "request status", r, http.StatusOK)
	var v requestView
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// fileAsVisitor files a request from the request page for an address, proves it with the
// mailed code (n is how many requests this address has filed, this one included) and
// returns its status link from the receipt.
func fileAsVisitor(tb testing.TB, email string, n int, body map[string]any) statusLink {
	tb.Helper()
	body["email"] = email
	v := newVisitor(tb)
	r := v.fileRequest(body)
	wantStatus(tb, "file a request", r, http.StatusAccepted)
	id := filed(tb, r)
	code := codeIn(tb, waitMail(tb, email, kindRequestCode, n))
	wantStatus(tb, "prove the request", v.do("POST", "/api/requests/"+url.PathEscape(id)+"/verify", map[string]string{"code": code}), http.StatusOK)
	return statusLinkIn(tb, waitMail(tb, email, kindRequestReceipt, n))
}

// operator is the operator's side of requests (what portalctl drives), on the local cloud's
// table and mail queue.
func operator(tb testing.TB) *requests.Operator {
	tb.Helper()
	cloud := portaltest.Cloud(tb)
	return &requests.Operator{
		Env:   &requests.Env{Jobs: &sqs.Jobs{Client: cloud.SQS, QueueURL: cloud.Names["MailQueue"]}, Now: time.Now},
		Store: store(tb),
	}
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// follow opens a link from an export mail and returns where it redirects.
func follow(tb testing.TB, link string) string {
	tb.Helper()
	resp, err := noRedirects.Get(link)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("GET %s: %d, want 303", link, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// archiveAt downloads an archive from a presigned URL.
func archiveAt(tb testing.TB, u string) *zip.Reader {
	tb.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("download the archive: %d %s", resp.StatusCode, b)
	}
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatalf("the download is not a zip: %v", err)
	}
	return z
}

// archiveData is data.json of an export archive.
type archiveData struct {
	Subject string `json:"subject"`
	Items   map[string][]struct {
		Key      string         `json:"key"`
		Fields   map[string]any `json:"fields"`
		Withheld []string       `json:"withheld"`
	} `json:"items"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

func dataOf(tb testing.TB, z *zip.Reader) (archiveData, string) {
	tb.Helper()
	var all strings.Builder
	var d archiveData
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		all.Write(b)
		if f.Name == "data.json" {
			if err := json.Unmarshal(b, &d); err != nil {
				tb.Fatalf("data.json: %v", err)
			}
		}
	}
	if d.Subject == "" {
		tb.Fatal("the archive has no data.json")
	}
	return d, all.String()
}

// shiftDue moves an open request's due date (and so its place in the operator's queue), as
// time passing would.
func shiftDue(tb testing.TB, id string, due time.Time) {
	tb.Helper()
	subject, rid, ok := requests.SplitID(id)
	if !ok {
		tb.Fatalf("request ID %q", id)
	}
	st := store(tb)
	r, err := st.Request(context.Background(), subject, rid)
	if err != nil {
		tb.Fatal(err)
	}
	r.Due = due
	if err := st.SaveRequest(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
}

// requestItems counts the request items under a subject.
func requestItems(tb testing.TB, id string) int {
	tb.Helper()
	n := 0
	for _, it := range partitionOf(tb, id) {
		if kindOf(it) == dynamodb.KindRequest {
			n++
		}
	}
	return n
}
