package requests_test

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/web"
)

// readyExport is a copy (or access) request whose archive is written and mailed: its ID, the
// requester's download token and, with a third party, the share confirmation's token.
type readyExport struct {
	id, download, share string
	caller              web.Caller
}

func (w *world) readyExport(tb testing.TB, in requests.FileInput) readyExport {
	tb.Helper()
	c := w.addAccount(tb, "ada@example.com", "Ada Lovelace", "en")
	e := readyExport{id: w.fileSignedIn(tb, c, in), caller: c}
	w.drain(tb)
	w.runExports(tb)
	w.drain(tb)
	ready := w.box.to("ada@example.com", mail.ExportReady)
	if len(ready) != 1 {
		tb.Fatalf("%d export mails, want 1", len(ready))
	}
	id, token := downloadLink(tb, ready[0].Data.Link)
	if id != e.id {
		tb.Fatalf("download link for %s, want %s", id, e.id)
	}
	e.download = token
	if in.ThirdParty != "" {
		confirm := w.box.to("ada@example.com", mail.ExportShareConfirm)
		if len(confirm) != 1 {
			tb.Fatalf("%d share confirmations, want 1", len(confirm))
		}
		id, e.share = fragmentLink(tb, confirm[0].Data.Link, "/requests/share/")
		if id != e.id {
			tb.Fatalf("share link for %s, want %s", id, e.id)
		}
	}
	return e
}

// linkToken is a link's token as the worker makes it (a keyed hash of the request and the
// link's purpose): for links the test needs before any mail would carry them.
func (w *world) linkToken(tb testing.TB, id, purpose string) string {
	tb.Helper()
	s, r := split(tb, id)
	return w.env.Keys.SecretHash(privacy.DomainToken, s, purpose, r)
}

func TestP21_DownloadLinkWorksOnce(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword})
	s, rid := split(t, e.id)
	u, ok, err := w.exports.Download(ctx, e.id, e.download)
	if err != nil || !ok || !strings.Contains(u, requests.ArchiveKey(s, rid)) {
		t.Fatalf("first download: %q %v %v", u, ok, err)
	}
	if r := w.stored(t, e.id); !r.Export.Used {
		t.Error("the used link is not marked")
	}
	u, ok, err = w.exports.Download(ctx, e.id, e.download)
	if err != nil || ok || u != "" {
		t.Errorf("second download: %q %v %v, want a dead link", u, ok, err)
	}
	if n := w.presigner.count(); n != 1 {
		t.Errorf("%d presigned URLs, want 1", n)
	}
}

func TestP21_DownloadRefusesForgedTokensWithoutReading(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	other := w.fileSignedIn(t, e.caller, requests.FileInput{Type: "access"})
	statusID, statusToken := w.lastStatusLink(t, "ada@example.com")
	if statusID != e.id {
		t.Fatalf("the latest receipt is for %s, want %s", statusID, e.id)
	}
	tests := []struct{ name, id, token string }{
		{"garbage", e.id, "garbage"},
		{"empty", e.id, ""},
		{"64 hex of nothing", e.id, strings.Repeat("ab", 32)},
		{"upper-case token", e.id, strings.ToUpper(e.download)},
		{"the share token", e.id, e.share},
		{"the request's status token", e.id, statusToken},
		{"another request's token", other, e.download},
		{"malformed id", "nodot", e.download},
		{"another subject", requests.ID(privacy.NewSubjectID(), strings.SplitN(e.id, ".", 2)[1]), e.download},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.store.resetCounts()
			u, ok, err := w.exports.Download(ctx, tc.id, tc.token)
			if err != nil || ok || u != "" {
				t.Errorf("download: %q %v %v, want a dead link", u, ok, err)
			}
			if n := w.store.totalReads(); n != 0 {
				t.Errorf("a forged token read the store %d times", n)
			}
		})
	}
	// The real link still works.
	if _, ok, err := w.exports.Download(ctx, e.id, e.download); err != nil || !ok {
		t.Errorf("the real link after forged ones: %v %v", ok, err)
	}
}

func TestP21_ExpiredLinksAreDead(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	w.clock.Advance(w.env.Config.ExportLinkTTL)
	if u, ok, err := w.exports.Download(ctx, e.id, e.download); err != nil || ok {
		t.Errorf("download after the link's life: %q %v %v", u, ok, err)
	}
	err := w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.share})
	wantField(t, "share after the link's life", err, "token")
	if w.jobs.len() != 0 || w.presigner.count() != 0 {
		t.Errorf("dead links queued %v and presigned %d", w.jobs.kinds(), w.presigner.count())
	}
}

func TestP21_ThirdPartyGetsTheCopyOnlyAfterTheRequesterConfirms(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	third := w.linkToken(t, e.id, "export-third-party")
	// Before the requester confirms, the third party's link opens nothing.
	if _, ok, err := w.exports.Download(ctx, e.id, third); err != nil || ok {
		t.Fatalf("third-party link before sharing: %v %v", ok, err)
	}
	if n := len(w.box.to("bank@example.org", "")); n != 0 {
		t.Fatalf("the third party got %d mails before the requester confirmed", n)
	}
	// The requester's download link is not a confirmation.
	wantField(t, "share with the download token", w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.download}), "token")

	if err := w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.share}); err != nil {
		t.Fatalf("share: %v", err)
	}
	s, rid := split(t, e.id)
	if got := w.jobs.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobShare, Subject: s, Request: rid, At: w.clock.Now()}}) {
		t.Errorf("share queued %+v", got)
	}
	wantField(t, "share twice", w.exports.Share(ctx, e.id, requests.ShareInput{Token: e.share}), "token")
	if w.jobs.len() != 0 {
		t.Errorf("a second share queued %v", w.jobs.kinds())
	}
	// The share job, run twice, mails the third party once.
	job := jobs.Job{Kind: requests.JobShare, Subject: s, Request: rid}
	for range 2 {
		if err := w.worker.Do(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	ms := w.box.to("bank@example.org", "")
	if len(ms) != 1 || ms[0].Kind != mail.ExportThirdParty || ms[0].Data.RequesterName != "Ada Lovelace" || ms[0].Data.Days != 7 {
		t.Fatalf("third-party mails %+v", ms)
	}
	id, token := downloadLink(t, ms[0].Data.Link)
	if id != e.id || token != third {
		t.Errorf("third-party link %s %s", id, token)
	}
	if u, ok, err := w.exports.Download(ctx, id, token); err != nil || !ok || u == "" {
		t.Fatalf("third-party download: %q %v %v", u, ok, err)
	}
	if _, ok, _ := w.exports.Download(ctx, id, token); ok {
		t.Error("the third party's link worked twice")
	}
	// The requester's own link is theirs, and still works once.
	if _, ok, err := w.exports.Download(ctx, e.id, e.download); err != nil || !ok {
		t.Errorf("the requester's link after the third party's: %v %v", ok, err)
	}
}

func TestP21_ShareNeedsAThirdParty(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword})
	if n := len(w.box.ofKind(mail.ExportShareConfirm)); n != 0 {
		t.Errorf("%d share confirmations for a copy with no third party", n)
	}
	err := w.exports.Share(ctx, e.id, requests.ShareInput{Token: w.linkToken(t, e.id, "export-share")})
	wantField(t, "share without a third party", err, "token")
	if w.jobs.len() != 0 || w.stored(t, e.id).Export.Shared {
		t.Error("a share with no third party was recorded")
	}
}

func TestP21_ShareChecksTheTokenBeforeReading(t *testing.T) {
	w := newWorld(t)
	e := w.readyExport(t, requests.FileInput{Type: "copy", Password: goodPassword, ThirdParty: "bank@example.org"})
	for _, token := range []string{"", "x", strings.Repeat("0", 64), e.download} {
		w.store.resetCounts()
		wantField(t, "forged share", w.exports.Share(ctx, e.id, requests.ShareInput{Token: token}), "token")
		if n := w.store.totalReads(); n != 0 {
			t.Errorf("a forged share token read the store %d times", n)
		}
	}
}

func TestP15_ExportWritesOneArchiveOfEverythingHeldAndCompletes(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	id := w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	s, rid := split(t, id)
	jobsOfWork := w.work.take()
	if len(jobsOfWork) != 1 {
		t.Fatalf("work %+v", jobsOfWork)
	}
	w.jobs.take()
	w.clock.Advance(time.Minute)
	sum, err := w.exporter.Export(ctx, jobsOfWork[0])
	if err != nil {
		t.Fatal(err)
	}
	key := requests.ArchiveKey(s, rid)
	if got := w.archives.objectKeys(); !slices.Equal(got, []string{key}) {
		t.Fatalf("archives %v, want %s", got, key)
	}
	obj := w.archives.objects[key]
	zr, err := zip.NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		t.Fatalf("the archive is not a zip: %v", err)
	}
	var data []byte
	for _, f := range zr.File {
		if f.Name == "data.json" {
			rc, _ := f.Open()
			data, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	for _, want := range []string{"Ada Lovelace", "ada@example.com", string(s)} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("data.json lacks %q", want)
		}
	}
	r := w.store.record(t, s, rid)
	now := w.clock.Now()
	if r.Status != privacy.RequestCompleted ||
		!slices.Equal(statuses(r.Steps), []privacy.RequestStatus{privacy.RequestReceived, privacy.RequestVerified, privacy.RequestInProgress, privacy.RequestCompleted}) ||
		!r.Steps[3].At.Equal(now) {
		t.Errorf("after export: %s, steps %v", r.Status, r.Steps)
	}
	want := requests.ExportState{Key: key, Bytes: int64(len(obj)), Items: sum.Items, ExpiresAt: now.Add(w.env.Config.ExportLinkTTL)}
	if r.Export != want || sum.Items != 2 || sum.Bytes != int64(len(obj)) {
		t.Errorf("export state %+v (summary %+v), want %+v", r.Export, sum, want)
	}
	if got := w.jobs.take(); !sameJobs(got, []jobs.Job{{Kind: requests.JobExportReady, Subject: s, Request: rid, At: now}}) {
		t.Errorf("mail jobs %+v, want export_ready", got)
	}
}

func TestP21_ExportJobRunTwiceWritesOneArchiveAndOneMail(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword})
	job := w.work.take()[0]
	w.drain(t)
	for range 2 {
		if _, err := w.exporter.Export(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	r := w.store.record(t, job.Subject, job.Request)
	if len(w.archives.created) != 1 || w.archives.closed != 1 {
		t.Errorf("archives created %v, closed %d; want one", w.archives.created, w.archives.closed)
	}
	if n := slices.Index(statuses(r.Steps), privacy.RequestCompleted); n < 0 || len(r.Steps) != n+1 {
		t.Errorf("steps %v, want completed once", statuses(r.Steps))
	}
	w.drain(t)
	if n := len(w.box.ofKind(mail.ExportReady)); n != 1 {
		t.Errorf("%d export mails, want 1", n)
	}
	// And once mailed, a third run does nothing at all.
	if _, err := w.exporter.Export(ctx, job); err != nil {
		t.Fatal(err)
	}
	if w.jobs.len() != 0 || len(w.archives.created) != 1 {
		t.Errorf("a run after the mail queued %v, created %v", w.jobs.kinds(), w.archives.created)
	}
}

func TestP21_ExportThatFailsMidWriteIsAbortedAndTriedAgain(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "copy", Password: goodPassword})
	job := w.work.take()[0]
	w.jobs.take()
	w.archives.failAfter = 100
	if _, err := w.exporter.Export(ctx, job); err == nil {
		t.Fatal("an export whose archive failed reported success")
	}
	r := w.store.record(t, job.Subject, job.Request)
	if w.archives.aborted != 1 || len(w.archives.objectKeys()) != 0 {
		t.Errorf("aborted %d, objects %v; want the failed archive discarded", w.archives.aborted, w.archives.objectKeys())
	}
	if r.Status != privacy.RequestInProgress || r.Export.Key != "" {
		t.Errorf("after a failed export: %s %+v, want in progress with no archive", r.Status, r.Export)
	}
	if w.jobs.len() != 0 {
		t.Errorf("a failed export queued %v", w.jobs.kinds())
	}
	if _, err := w.exporter.Export(ctx, job); err != nil {
		t.Fatalf("retry: %v", err)
	}
	r = w.store.record(t, job.Subject, job.Request)
	if r.Status != privacy.RequestCompleted || r.Export.Key == "" || len(w.archives.objectKeys()) != 1 {
		t.Errorf("after the retry: %s %+v %v", r.Status, r.Export, w.archives.objectKeys())
	}
	want := []privacy.RequestStatus{privacy.RequestReceived, privacy.RequestVerified, privacy.RequestInProgress, privacy.RequestCompleted}
	if got := statuses(r.Steps); !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

func TestExportDoesNothingForRequestsWithoutAnArchive(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	correction := w.fileSignedIn(t, ada, requests.FileInput{Type: "correction", Details: "x"})
	refused := w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	if _, err := w.operator.Refuse(ctx, refused, privacy.RefuseAbuse, "No."); err != nil {
		t.Fatal(err)
	}
	w.jobs.take()
	w.work.take()
	for name, id := range map[string]string{"correction": correction, "refused": refused, "gone": requests.ID(ada.Subject, privacy.NewID())} {
		s, rid := split(t, id)
		sum, err := w.exporter.Export(ctx, jobs.Job{Kind: requests.JobExport, Subject: s, Request: rid})
		if err != nil || sum.Items != 0 {
			t.Errorf("%s: %+v %v", name, sum, err)
		}
	}
	if len(w.archives.created) != 0 || w.jobs.len() != 0 {
		t.Errorf("created %v, queued %v", w.archives.created, w.jobs.kinds())
	}
	if _, err := w.exporter.Export(ctx, jobs.Job{Kind: requests.JobVerified, Subject: ada.Subject, Request: "x"}); err == nil {
		t.Error("the exporter took another kind of job")
	}
	if r := w.stored(t, refused); r.Status != privacy.RequestRefused {
		t.Errorf("a refused request became %s", r.Status)
	}
}

// An export that stopped after recording its archive but before handing over the mail job
// (the queue failed) is retried by the queue: the retry writes nothing and hands the link
// over, so the requester still gets it, once.
func TestP21_ExportRetriedAfterItsMailJobWasLostMailsTheLink(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	job := w.work.take()[0]
	w.drain(t)
	w.jobs.fail = errSend
	if _, err := w.exporter.Export(ctx, job); err == nil {
		t.Fatal("an export whose mail job was lost reported success")
	}
	if r := w.store.record(t, job.Subject, job.Request); r.Status != privacy.RequestCompleted || r.Export.Key == "" {
		t.Fatalf("after the lost job: %s %+v", r.Status, r.Export)
	}
	w.jobs.fail = nil
	sum, err := w.exporter.Export(ctx, job)
	if err != nil || sum.Items != 0 {
		t.Fatalf("retry: %+v %v, want nothing written", sum, err)
	}
	if len(w.archives.created) != 1 {
		t.Errorf("archives created %v, want one", w.archives.created)
	}
	w.drain(t)
	if n := len(w.box.to("ada@example.com", mail.ExportReady)); n != 1 {
		t.Errorf("%d export mails after the retry, want 1", n)
	}
}

// TestP17_AnExportThatOutlivesItsSubjectsErasureLeavesNoArchive: the person is erased while
// their archive is being written; the export finds its request gone, deletes the archive it
// wrote, and mails nothing.
func TestP17_AnExportThatOutlivesItsSubjectsErasureLeavesNoArchive(t *testing.T) {
	w := newWorld(t)
	ada := w.addAccount(t, "ada@example.com", "Ada Lovelace", "en")
	w.fileSignedIn(t, ada, requests.FileInput{Type: "access"})
	job := w.work.take()[0]
	w.jobs.take()
	w.source.during = func() {
		w.store.mu.Lock()
		defer w.store.mu.Unlock()
		delete(w.store.requests, ada.Subject)
		delete(w.store.accounts, ada.Subject)
	}
	if _, err := w.exporter.Export(ctx, job); err != nil {
		t.Fatalf("export: %v", err)
	}
	if got := w.archives.objectKeys(); len(got) != 0 {
		t.Errorf("archives left after the subject's erasure: %v", got)
	}
	if len(w.archives.created) != 1 {
		t.Errorf("%d archives written, want the one (then deleted)", len(w.archives.created))
	}
	if got := w.jobs.take(); len(got) != 0 {
		t.Errorf("mail jobs %+v after the subject was erased, want none", got)
	}
}
