package dynamodb_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

const day = 24 * time.Hour

// retainingStore is the table with the retention a deploy's parameters would give it.
func retainingStore(r dynamodb.Retention) *dynamodb.Store {
	st := newStore()
	st.Retention = r
	return st
}

// registered writes a registration and returns its subject.
func registered(t *testing.T, st *dynamodb.Store) privacy.SubjectID {
	t.Helper()
	n := time.Now().UnixNano()
	r := registration(fmt.Sprintf("ret-%d@example.com", n), fmt.Sprintf("ret%d", n))
	mustRegister(t, st, r)
	return r.Account.SubjectID
}

// expiresAt reads an item's expiresAt as stored (0 when it has none).
func expiresAt(t *testing.T, pk, sk string) int64 {
	t.Helper()
	out, err := tables.DynamoDB.GetItem(context.Background(), &ddb.GetItemInput{
		TableName: aws.String(tables.Names["PortalTable"]), ConsistentRead: aws.Bool(true),
		Key: dynamodb.Item{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatalf("no item %s", dynamodb.KindOf(sk))
	}
	v, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// openRequest is a signed-in person's request, proved at once.
func openRequest(id privacy.SubjectID, received time.Time) requests.Record {
	return requests.Record{Request: privacy.Request{
		ID: privacy.NewID(), Subject: id, Type: privacy.RequestContact, Status: privacy.RequestVerified,
		Email: "ada@example.com", Locale: "en", Received: received, Due: received.Add(30 * day),
		Steps: []privacy.RequestStep{{Status: privacy.RequestVerified, At: received}},
	}}
}

func inQueue(t *testing.T, st *dynamodb.Store, id string) bool {
	t.Helper()
	refs, err := st.OpenRequests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(refs, func(r requests.Ref) bool { return r.Request == id })
}

func TestP12_ClosedRequestsExpireAfterTheirRetentionAndOpenOnesNever(t *testing.T) {
	ctx := context.Background()
	keep := 400 * day
	st := retainingStore(dynamodb.Retention{ClosedRequests: keep, Audit: 500 * day})
	for _, closing := range []privacy.RequestStatus{privacy.RequestCompleted, privacy.RequestRefused} {
		t.Run(string(closing), func(t *testing.T) {
			id := registered(t, st)
			received := time.Now().Add(-48 * time.Hour).UTC()
			r := openRequest(id, received)
			if err := st.PutRequest(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
			pk, sk := dynamodb.SubjectPK(id), dynamodb.SortKey(dynamodb.KindRequest, r.ID)
			if got := expiresAt(t, pk, sk); got != 0 {
				t.Errorf("a verified request expires at %d, want never: the operator's queue would lose it", got)
			}
			r.Version = 1
			r.Status = privacy.RequestInProgress
			r.Steps = append(r.Steps, privacy.RequestStep{Status: privacy.RequestInProgress, At: received.Add(time.Hour)})
			if err := st.SaveRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got := expiresAt(t, pk, sk); got != 0 || !inQueue(t, st, r.ID) {
				t.Errorf("a request in progress: expiresAt %d, in the queue %v; want none, true", got, inQueue(t, st, r.ID))
			}

			closedAt := received.Add(2 * time.Hour)
			r.Version = 2
			r.Status = closing
			r.Steps = append(r.Steps, privacy.RequestStep{Status: closing, At: closedAt})
			if err := st.SaveRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			want := closedAt.Add(keep).Unix()
			if got := expiresAt(t, pk, sk); got != want {
				t.Errorf("a %s request expires at %d, want its closing time plus the retention, %d", closing, got, want)
			}
			if inQueue(t, st, r.ID) {
				t.Errorf("a %s request is still in the operator's queue", closing)
			}
			// A later write (a mail sent, a link used) keeps the expiry: the clock started at
			// the closing.
			r.Version = 3
			r.Export.Mailed = true
			if err := st.SaveRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			if got := expiresAt(t, pk, sk); got != want {
				t.Errorf("after a later write the request expires at %d, want still %d", got, want)
			}
		})
	}
}

func TestP12_ClosedRequestsWithoutConfigurationGetTheDefault(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	id := registered(t, st)
	r := openRequest(id, time.Now().Add(-time.Hour).UTC())
	closedAt := time.Now().UTC()
	r.Status = privacy.RequestCompleted
	r.Steps = append(r.Steps, privacy.RequestStep{Status: privacy.RequestCompleted, At: closedAt})
	if err := st.PutRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := expiresAt(t, dynamodb.SubjectPK(id), dynamodb.SortKey(dynamodb.KindRequest, r.ID)), closedAt.Add(dynamodb.DefaultRetention.ClosedRequests).Unix(); got != want {
		t.Errorf("expiresAt = %d, want the default retention's %d", got, want)
	}
}

func TestP12_ExpiredClosedRequestsAreGoneEvenBeforeTTLDeletion(t *testing.T) {
	ctx := context.Background()
	st := retainingStore(dynamodb.Retention{ClosedRequests: time.Hour})
	id := registered(t, st)
	r := openRequest(id, time.Now().Add(-3*time.Hour).UTC())
	r.Status = privacy.RequestRefused
	r.Steps = append(r.Steps, privacy.RequestStep{Status: privacy.RequestRefused, At: time.Now().Add(-2 * time.Hour)})
	if err := st.PutRequest(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Request(ctx, id, r.ID); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("Request of an expired closed request: %v, want not found", err)
	}
	if rs, err := st.Requests(ctx, id); err != nil || len(rs) != 0 {
		t.Errorf("Requests = %d requests, %v; want none", len(rs), err)
	}
	rec, err := st.Record(ctx, id, time.Now())
	if err != nil || len(rec.Requests) != 0 {
		t.Errorf("Record shows %d requests, %v; want none", len(rec.Requests), err)
	}
}

func TestP12_AuditEntriesExpireAfterTheirRetention(t *testing.T) {
	ctx := context.Background()
	keep := 500 * day
	st := retainingStore(dynamodb.Retention{ClosedRequests: 400 * day, Audit: keep})
	id := registered(t, st)
	at := time.Now().Add(-time.Minute).UTC()
	entry := privacy.AuditEntry{At: at, Action: "data.disclosed", Fields: []string{"recipient:x"}, ID: "ret-audit"}
	if err := st.AddAudit(ctx, id, entry); err != nil {
		t.Fatal(err)
	}
	items, err := st.Partition(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	audits := 0
	for _, it := range items {
		sk := it["SK"].(*types.AttributeValueMemberS).Value
		if dynamodb.KindOf(sk) != dynamodb.KindAudit {
			continue
		}
		audits++
		created, err := time.Parse(time.RFC3339Nano, it["createdAt"].(*types.AttributeValueMemberS).Value)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := expiresAt(t, dynamodb.SubjectPK(id), sk), created.Add(keep).Unix(); got != want {
			t.Errorf("audit entry %s expires at %d, want its time plus the retention, %d", it["action"].(*types.AttributeValueMemberS).Value, got, want)
		}
	}
	if audits != 2 { // the registration's and the disclosure's
		t.Fatalf("%d audit entries, want 2", audits)
	}

	// One past its retention is gone for readers before TTL deletes it.
	short := retainingStore(dynamodb.Retention{Audit: time.Hour})
	old := privacy.AuditEntry{At: time.Now().Add(-2 * time.Hour), Action: "data.disclosed", Fields: []string{"recipient:y"}, ID: "ret-old"}
	if err := short.AddAudit(ctx, id, old); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Record(ctx, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Audit) != 2 || slices.ContainsFunc(rec.Audit, func(a privacy.AuditEntry) bool { return slices.Contains(a.Fields, "recipient:y") }) {
		t.Errorf("Record shows %d audit entries (%+v), want the 2 not expired", len(rec.Audit), rec.Audit)
	}
}
