package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/chromedp"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

// TestBrowserP03_P20_APersonCancelsAndNothingOfThemIsLeft: in Chromium, a person with an export
// archive, consents (one a disclosure to a recipient), requests and an audit trail cancels from
// the account page: the password and the confirmation are asked for, the page that follows says
// what happens next, and at once signing in fails. Once the outcome mail has come, no item of
// the table and no object of the buckets holds their ID, address, username or name, and the
// tombstone left holds none of them either.
func TestBrowserP03_P20_APersonCancelsAndNothingOfThemIsLeft(t *testing.T) {
	base := portaltest.URL(t)
	p := newPerson("bcancel")
	p.Name = "Ada " + lettersOf(p.Username)
	v, id := mustActive(t, p, map[string]any{"mobile": "+44 20 7946 0005", "consents": []string{"profile.mobile"}})
	v.choose(map[string]bool{"share.support": true, "marketing": true})
	wantStatus(t, "ask for a copy", v.fileRequest(map[string]any{"type": "copy", "password": p.Password}), 201)
	waitMail(t, p.Email, kindExportReady, 1)
	wantStatus(t, "ask a question", v.fileRequest(map[string]any{"type": "contact", "details": "Who reads my data?"}), 201)
	waitSettled(t)
	if kinds := kindsIn(partitionOf(t, id)); !contains(kinds, "AUDIT") || !contains(kinds, "REQUEST") || !contains(kinds, "CONSENT") {
		t.Fatalf("the partition holds %v before the cancellation: the test would prove little", kinds)
	}

	ctx := portaltest.Browser(t)
	do(t, ctx, "sign in", chromedp.Navigate(base+"/signin/"),
		chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", p.Username), typeInto("signin-password", p.Password),
		chromedp.Click(chromedp.ID("signin-submit")),
		chromedp.WaitVisible(chromedp.ID("account-cancel-form")),
	)
	statement := run(t, ctx, chromedp.Text(chromedp.ID("account-cancel")))
	if !strings.Contains(statement, "35") {
		t.Errorf("the cancel section does not say when the backups forget:\n%s", statement)
	}
	do(t, ctx, "cancel without confirming",
		chromedp.WaitEnabled(chromedp.ID("account-cancel-submit")),
		typeInto("account-cancel-password", p.Password),
		chromedp.Click(chromedp.ID("account-cancel-submit")),
		chromedp.WaitVisible(chromedp.ID("account-cancel-confirm-error")),
	)
	do(t, ctx, "cancel with a wrong password",
		retype("account-cancel-password", p.Password+" not"),
		chromedp.Click(chromedp.ID("account-cancel-confirm")),
		chromedp.Click(chromedp.ID("account-cancel-submit")),
		waitFor(`!document.getElementById("account-cancel-password-error").hidden`),
	)
	if len(partitionOf(t, id)) == 0 {
		t.Fatal("a refused cancellation erased the account")
	}
	do(t, ctx, "cancel",
		retype("account-cancel-password", p.Password),
		chromedp.Click(chromedp.ID("account-cancel-submit")),
		waitFor(`location.pathname.endsWith("/account/cancelled/")`),
	)
	if page := run(t, ctx, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(page, "35") {
		t.Errorf("the page after cancelling does not say when the backups forget:\n%s", page)
	}
	// At once, before the erasure finishes: the session and signing in are refused.
	wantStatus(t, "the old session", v.do("GET", "/api/account", nil), 401)
	if s := newVisitor(t).signIn(p.Email, p.Password).Status; s < 400 {
		t.Errorf("sign-in right after the cancellation answered %d", s)
	}
	do(t, ctx, "sign in after cancelling", chromedp.Navigate(base+"/signin/"),
		chromedp.WaitEnabled(chromedp.ID("signin-submit")),
		typeInto("signin-login", p.Username), typeInto("signin-password", p.Password),
		chromedp.Click(chromedp.ID("signin-submit")),
		waitFor(`/[^…\s]\s*$/.test(document.getElementById("signin-status").textContent)`),
	)
	if loc := run(t, ctx, chromedp.Evaluate[string]("location.pathname")); strings.HasSuffix(loc, "/account/") {
		t.Error("the browser signed in to the cancelled account")
	}

	outcome := waitMail(t, p.Email, kindCancelled, 1)
	waitSettled(t)
	if left := holding(t, id, p.Email, p.Username, p.Name); len(left) != 0 {
		t.Errorf("after the cancellation, the person is still in: %v", left)
	}
	link := statusLinkIn(t, outcome)
	_, rid, _ := strings.Cut(link.id, ".")
	client, tableName := table(t)
	raw, err := client.GetItem(context.Background(), &ddb.GetItemInput{TableName: &tableName, Key: ddbItem{
		"PK": &types.AttributeValueMemberS{Value: dynamodb.TombstonePK(rid)}, "SK": &types.AttributeValueMemberS{Value: "TOMBSTONE"},
	}})
	if err != nil || raw.Item == nil {
		t.Fatalf("the tombstone: %v", err)
	}
	b, _ := json.Marshal(raw.Item)
	for _, n := range []string{id, p.Email, p.Username, p.Name} {
		if strings.Contains(string(b), n) {
			t.Errorf("the tombstone holds %q: %s", n, b)
		}
	}
	tomb, err := store(t).Tombstone(context.Background(), rid)
	if err != nil || tomb.State != privacy.ErasureDone || !tomb.Verified {
		t.Errorf("tombstone %+v (%v), want done and verified", tomb, err)
	}
	// The outcome link opens the status page, which shows the erasure from the tombstone.
	do(t, ctx, "open the outcome", chromedp.Navigate(statusLinkRE.FindString(outcome.Body.Text)),
		waitFor(`document.body.innerText.includes("35")`))
}

// retype replaces what a field holds: chromedp.Clear leaves a password field that was typed
// into as it was, so typeInto would append.
func retype(id, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.getElementById(`+jsString(id)+`).value = ""`),
		chromedp.SendKeys(chromedp.ID(id), text),
	)
}

// kindsIn lists the kinds of a partition's items.
func kindsIn(items []ddbItem) []string {
	var out []string
	for _, it := range items {
		if k := string(kindOf(it)); !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
