package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// Kinds of the requests feature.
const (
	// KindRequest is a data-subject request (REQUEST#<id>).
	KindRequest Kind = "REQUEST"
	// KindDecision is an automated decision about the subject (DECISION#<time>#<name>).
	KindDecision Kind = "DECISION"
)

const (
	// openRequests is the GSI1 partition of the open requests, by due date: the operator's
	// queue. Its sort key holds dates and the type, nothing about the requester.
	openRequests = "REQUESTS#OPEN"
	// GSI1 is the operator's work-queue index.
	gsi1 = "GSI1"
	// unprovedFor is how long a visitor's unproved request is kept: far past its code, then
	// TTL removes it.
	unprovedFor = 24 * time.Hour
)

// stepItem is one step of a request.
type stepItem struct {
	Status string `dynamodbav:"status"`
	At     string `dynamodbav:"at"`
}

// requestItem is a data-subject request. Its version counts its writes: each says which it
// read. An open request is in GSI1 by due date and never expires; an unproved one expires
// (TTL) a day after it was filed; a closed one (completed, refused) the store's
// Retention.ClosedRequests after it was closed (P12).
type requestItem struct {
	PK            string     `dynamodbav:"PK"`
	SK            string     `dynamodbav:"SK"`
	Type          string     `dynamodbav:"type"`
	Status        string     `dynamodbav:"status"`
	Email         string     `dynamodbav:"email"`
	Locale        string     `dynamodbav:"locale"`
	Received      string     `dynamodbav:"receivedAt"`
	Due           string     `dynamodbav:"dueAt"`
	Details       string     `dynamodbav:"details,omitempty"`
	Ground        string     `dynamodbav:"ground,omitempty"`
	ThirdParty    string     `dynamodbav:"thirdParty,omitempty"`
	Steps         []stepItem `dynamodbav:"steps"`
	RefusalGround string     `dynamodbav:"refusalGround,omitempty"`
	RefusalReason string     `dynamodbav:"refusalReason,omitempty"`
	Outcome       string     `dynamodbav:"outcome,omitempty"`
	Repeat        bool       `dynamodbav:"repeat,omitempty"`
	Reminded      []string   `dynamodbav:"reminded,omitempty,stringset"`
	Overdue       bool       `dynamodbav:"overdue,omitempty"`
	Version       int        `dynamodbav:"version"`

	ExportKey        string `dynamodbav:"exportKey,omitempty"`
	ExportBytes      int64  `dynamodbav:"exportBytes,omitempty"`
	ExportItems      int    `dynamodbav:"exportItems,omitempty"`
	ExportExpiresAt  string `dynamodbav:"exportExpiresAt,omitempty"`
	ExportMailed     bool   `dynamodbav:"exportMailed,omitempty"`
	ShareMailed      bool   `dynamodbav:"shareMailed,omitempty"`
	ExportUsed       bool   `dynamodbav:"exportUsed,omitempty"`
	Shared           bool   `dynamodbav:"shared,omitempty"`
	ThirdPartyMailed bool   `dynamodbav:"thirdPartyMailed,omitempty"`
	ThirdPartyUsed   bool   `dynamodbav:"thirdPartyUsed,omitempty"`

	GSI1PK    string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK    string `dynamodbav:"GSI1SK,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt,omitempty"`
}

// newRequestItem maps a request; closedKept is how long a closed request is kept.
func newRequestItem(r requests.Record, closedKept time.Duration) requestItem {
	it := requestItem{
		PK: SubjectPK(r.Subject), SK: SortKey(KindRequest, r.ID), Type: string(r.Type), Status: string(r.Status),
		Email: r.Email, Locale: r.Locale, Received: ts(r.Received), Due: ts(r.Due), Details: r.Details,
		Ground: string(r.Ground), ThirdParty: r.ThirdParty, Steps: []stepItem{}, Outcome: r.Outcome, Repeat: r.Repeat,
		Reminded: r.Reminded, Overdue: r.Overdue, Version: r.Version,
		ExportKey: r.Export.Key, ExportBytes: r.Export.Bytes, ExportItems: r.Export.Items,
		ExportMailed: r.Export.Mailed, ShareMailed: r.Export.ShareMailed, ExportUsed: r.Export.Used, Shared: r.Export.Shared,
		ThirdPartyMailed: r.Export.ThirdPartyMailed, ThirdPartyUsed: r.Export.ThirdPartyUsed,
	}
	if !r.Export.ExpiresAt.IsZero() {
		it.ExportExpiresAt = ts(r.Export.ExpiresAt)
	}
	for _, s := range r.Steps {
		it.Steps = append(it.Steps, stepItem{Status: string(s.Status), At: ts(s.At)})
	}
	if r.Refusal != nil {
		it.RefusalGround, it.RefusalReason = string(r.Refusal.Ground), r.Refusal.Reason
	}
	switch {
	case r.Status.Open():
		it.GSI1PK, it.GSI1SK = openRequests, ts(r.Due)+"#"+ts(r.Received)+"#"+string(r.Type)
	case r.Status == privacy.RequestReceived:
		it.ExpiresAt = r.Received.Add(unprovedFor).Unix()
	default: // closed: completed, refused (or any status that is neither open nor unproved)
		it.ExpiresAt = closedAt(r).Add(closedKept).Unix()
	}
	return it
}

// closedAt is when a closed request was closed: the time of its last step into its status,
// so that every later write (the export's link used, a mail sent) keeps the same expiry; else
// its last step's, else when it was received.
func closedAt(r requests.Record) time.Time {
	for _, s := range slices.Backward(r.Steps) {
		if s.Status == r.Status {
			return s.At
		}
	}
	if len(r.Steps) > 0 {
		return r.Steps[len(r.Steps)-1].At
	}
	return r.Received
}

func (it requestItem) record() requests.Record {
	r := requests.Record{
		Request: privacy.Request{
			ID: SuffixOf(it.SK), Subject: privacy.SubjectID(strings.TrimPrefix(it.PK, subjectPrefix)),
			Type: privacy.RequestType(it.Type), Status: privacy.RequestStatus(it.Status), Email: it.Email, Locale: it.Locale,
			Received: parseTS(it.Received), Due: parseTS(it.Due), Details: it.Details, Ground: privacy.DeletionGround(it.Ground),
			ThirdParty: it.ThirdParty, Outcome: it.Outcome, Repeat: it.Repeat,
		},
		Version: it.Version, Reminded: it.Reminded, Overdue: it.Overdue,
		Export: requests.ExportState{
			Key: it.ExportKey, Bytes: it.ExportBytes, Items: it.ExportItems, ExpiresAt: parseTS(it.ExportExpiresAt),
			Mailed: it.ExportMailed, ShareMailed: it.ShareMailed, Used: it.ExportUsed, Shared: it.Shared,
			ThirdPartyMailed: it.ThirdPartyMailed, ThirdPartyUsed: it.ThirdPartyUsed,
		},
	}
	for _, s := range it.Steps {
		r.Steps = append(r.Steps, privacy.RequestStep{Status: privacy.RequestStatus(s.Status), At: parseTS(s.At)})
	}
	if it.RefusalGround != "" {
		r.Refusal = &privacy.Refusal{Ground: privacy.RefusalGround(it.RefusalGround), Reason: it.RefusalReason}
	}
	return r
}

// errRequestTaken is a request ID used already: IDs are random, so it is a retried write.
var errRequestTaken = privacy.Errorf(privacy.Conflict, "This request was filed already.")

// PutRequest writes a new request. A signed-in person's (proved) goes into a live account's
// partition, with the decision made about it, if any; a visitor's (unproved) into a partition
// of its own, which expires unless it is proved.
func (st *Store) PutRequest(ctx context.Context, r requests.Record, d *privacy.Decision) error {
	r.Version = 1
	if r.Status == privacy.RequestReceived {
		err := st.putNew(ctx, newRequestItem(r, st.closedRequestsKept()), "request")
		if errors.Is(err, privacy.ErrStale) {
			return errRequestTaken
		}
		return err
	}
	t := st.txn()
	t.accountLive(r.Subject)
	t.putIf(newRequestItem(r, st.closedRequestsKept()), "attribute_not_exists(PK)", nil, errRequestTaken)
	if d != nil {
		t.put(newDecisionItem(r.Subject, *d))
	}
	return st.commit(ctx, t)
}

// Request reads one request.
func (st *Store) Request(ctx context.Context, subject privacy.SubjectID, id string) (requests.Record, error) {
	var it requestItem
	found, err := st.get(ctx, SubjectPK(subject), SortKey(KindRequest, id), &it)
	if err != nil {
		return requests.Record{}, err
	}
	if !found || expired(it.ExpiresAt, time.Now()) {
		return requests.Record{}, privacy.Errorf(privacy.NotFound, "no such request")
	}
	return it.record(), nil
}

// Requests reads a subject's requests, oldest first.
func (st *Store) Requests(ctx context.Context, subject privacy.SubjectID) ([]requests.Record, error) {
	items, err := st.ofKind(ctx, subject, KindRequest)
	if err != nil {
		return nil, err
	}
	out := make([]requests.Record, 0, len(items))
	for _, raw := range items {
		var it requestItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("decode request: %w", err)
		}
		if !expired(it.ExpiresAt, time.Now()) {
			out = append(out, it.record())
		}
	}
	// Their sort keys are random IDs: order them by time.
	slices.SortStableFunc(out, func(a, b requests.Record) int { return a.Received.Compare(b.Received) })
	return out, nil
}

// versionRead is the condition that a request is still at the version its writer read.
func versionRead(r requests.Record) (string, Item) {
	return "attribute_exists(PK) AND version = :read", Item{":read": n(int64(r.Version))}
}

// SaveRequest writes a request read at r.Version; privacy.ErrStale if it changed since (or is
// gone).
func (st *Store) SaveRequest(ctx context.Context, r requests.Record) error {
	cond, vals := versionRead(r)
	next := r
	next.Version++
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName: &st.Table, Item: marshal(newRequestItem(next, st.closedRequestsKept())), ConditionExpression: &cond, ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("save request: %w", err)
	}
	return nil
}

// MoveRequest proves a visitor's request, in one transaction: the unproved request (at the
// version read, still unproved) and its code are deleted, and r is written to r.Subject's
// partition (a live account's, with the decision made about it) or, when r.Subject is from,
// the request is rewritten where it is.
func (st *Store) MoveRequest(ctx context.Context, from privacy.SubjectID, r requests.Record, d *privacy.Decision) error {
	read := r
	read.Subject = from
	cond, vals := versionRead(read)
	cond += " AND #st = :received"
	vals[":received"] = s(string(privacy.RequestReceived))
	t := st.txn()
	next := r
	next.Version++
	if r.Subject == from {
		p := &types.Put{TableName: &t.table, Item: marshal(newRequestItem(next, st.closedRequestsKept())), ConditionExpression: &cond,
			ExpressionAttributeValues: vals, ExpressionAttributeNames: map[string]string{"#st": "status"}}
		t.add(types.TransactWriteItem{Put: p}, privacy.ErrStale)
	} else {
		t.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &t.table, Key: key(SubjectPK(from), SortKey(KindRequest, r.ID)),
			ConditionExpression: &cond, ExpressionAttributeValues: vals, ExpressionAttributeNames: map[string]string{"#st": "status"}}}, privacy.ErrStale)
		t.accountLive(r.Subject)
		t.putIf(newRequestItem(next, st.closedRequestsKept()), "attribute_not_exists(PK)", nil, errRequestTaken)
	}
	if d != nil {
		t.put(newDecisionItem(r.Subject, *d))
	}
	t.del(SubjectPK(from), SortKey(KindVerification, string(privacy.VerifyRequest)), "", nil, nil)
	return st.commit(ctx, t)
}

// OpenRequests lists the open requests by due date, soonest first: one Query of GSI1, which
// holds keys only, so everything a Ref holds comes from them.
func (st *Store) OpenRequests(ctx context.Context) ([]requests.Ref, error) {
	var out []requests.Ref
	var start Item
	for {
		res, err := st.Client.Query(ctx, &ddb.QueryInput{
			TableName: &st.Table, IndexName: aws.String(gsi1), KeyConditionExpression: aws.String("GSI1PK = :open"),
			ExpressionAttributeValues: Item{":open": s(openRequests)}, ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("query open requests: %w", err)
		}
		for _, it := range res.Items {
			parts := strings.SplitN(attr(it, "GSI1SK"), "#", 3)
			if len(parts) != 3 {
				return nil, errors.New("open requests: an index entry of another form")
			}
			out = append(out, requests.Ref{
				Subject: privacy.SubjectID(strings.TrimPrefix(attr(it, "PK"), subjectPrefix)), Request: SuffixOf(attr(it, "SK")),
				Due: parseTS(parts[0]), Received: parseTS(parts[1]), Type: privacy.RequestType(parts[2]),
			})
		}
		if res.LastEvaluatedKey == nil {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// decisionItem is an automated decision about the subject, with its inputs and the version of
// the logic that made it (P22).
type decisionItem struct {
	PK           string            `dynamodbav:"PK"`
	SK           string            `dynamodbav:"SK"`
	At           string            `dynamodbav:"decidedAt"`
	Name         string            `dynamodbav:"name"`
	LogicVersion string            `dynamodbav:"logicVersion"`
	Inputs       map[string]string `dynamodbav:"inputs"`
	Outcome      string            `dynamodbav:"outcome"`
}

func newDecisionItem(id privacy.SubjectID, d privacy.Decision) decisionItem {
	return decisionItem{
		PK: SubjectPK(id), SK: SortKey(KindDecision, ts(d.At)+"#"+d.Name), At: ts(d.At), Name: d.Name,
		LogicVersion: d.LogicVersion, Inputs: d.Inputs, Outcome: d.Outcome,
	}
}

func (it decisionItem) decision() privacy.Decision {
	return privacy.Decision{At: parseTS(it.At), Name: it.Name, LogicVersion: it.LogicVersion, Inputs: it.Inputs, Outcome: it.Outcome}
}

// Decisions reads a subject's automated decisions, oldest first.
func (st *Store) Decisions(ctx context.Context, id privacy.SubjectID) ([]privacy.Decision, error) {
	items, err := st.ofKind(ctx, id, KindDecision)
	if err != nil {
		return nil, err
	}
	out := make([]privacy.Decision, 0, len(items))
	for _, raw := range items {
		var it decisionItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("decode decision: %w", err)
		}
		out = append(out, it.decision())
	}
	return out, nil
}
