package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/privacyportal/portal/infra/portaltest"
	"github.com/privacyportal/portal/internal/privacy"
)

// TestP12_SweeperErasesUnderItsPolicy: the sweeper's policy is what AWS would enforce. Under
// the policy it first had (Query, GetItem, BatchWriteItem: no UpdateItem for the claim it
// makes before deleting), the sweep is refused and erases nothing, as it would in AWS; under
// the template's it erases the account that is due.
func TestP12_SweeperErasesUnderItsPolicy(t *testing.T) {
	cloud := portaltest.Cloud(t)
	p := newPerson("iamsweep")
	wantStatus(t, "register", newVisitor(t).register(p.form(nil)), http.StatusAccepted)
	id := subjectOfToken(tokenIn(t, waitMail(t, p.Email, kindVerify, 1), verifyRE))
	before := profileOf(partitionOf(t, id))
	if err := store(t).SetSweepAt(context.Background(), privacy.SubjectID(id), time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("move the due date: %v", err)
	}

	first, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect":   "Allow",
		"Action":   []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchWriteItem"},
		"Resource": []string{cloud.ARN("PortalTable"), cloud.ARN("PortalTable") + "/index/GSI2"},
	}}})
	if err := cloud.SetPolicy("SweeperFunction", string(first)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.ResetPolicy("SweeperFunction") })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	from := len(cloud.IAMCalls())
	if err := cloud.FireSchedule(ctx, "SweeperFunction"); err == nil {
		t.Error("the sweep under its first policy reported no error")
	}
	denied := false
	for _, c := range cloud.IAMCalls()[from:] {
		if c.Function == "SweeperFunction" && !c.Allowed && c.Action == "dynamodb:UpdateItem" {
			denied = true
		}
	}
	if !denied {
		t.Error("no dynamodb:UpdateItem refused to the sweeper under its first policy")
	}
	if profileOf(partitionOf(t, id)) == nil {
		t.Fatal("the sweep under its first policy deleted the account")
	}

	if err := cloud.ResetPolicy("SweeperFunction"); err != nil {
		t.Fatal(err)
	}
	if err := cloud.FireSchedule(ctx, "SweeperFunction"); err != nil {
		t.Fatalf("the sweep under the template's policy: %v", err)
	}
	assertErased(t, id, before)
}
