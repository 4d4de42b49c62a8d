// Package dynamodb stores the portal's data in one DynamoDB table under the subject-partition
// rule: everything about a person is under PK = SUBJECT#<id>, so reading, exporting or erasing
// it is one Query. Look-up items (keyed hashes of e-mail and username) and short-lived
// rate-limit counters (keyed hashes, expiring within their window) are the only items outside.
//
// Each kind of item has a file of its own with its small struct and mapping; keys.go holds the
// key layout and transactions. Store implements every feature's store interface; the checks
// below say so at compile time.
package dynamodb

import (
	"cmp"
	"context"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/ratelimit"
	"github.com/privacyportal/portal/internal/requests"
)

// API is the part of the DynamoDB client the store uses. Each call needs its IAM action in
// the calling function's policy (dynamodb:<Name>; TransactWriteItems is authorized per item as
// PutItem, UpdateItem, DeleteItem or ConditionCheckItem).
type API interface {
	GetItem(ctx context.Context, in *ddb.GetItemInput, optFns ...func(*ddb.Options)) (*ddb.GetItemOutput, error)
	PutItem(ctx context.Context, in *ddb.PutItemInput, optFns ...func(*ddb.Options)) (*ddb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *ddb.UpdateItemInput, optFns ...func(*ddb.Options)) (*ddb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *ddb.DeleteItemInput, optFns ...func(*ddb.Options)) (*ddb.DeleteItemOutput, error)
	Query(ctx context.Context, in *ddb.QueryInput, optFns ...func(*ddb.Options)) (*ddb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *ddb.TransactWriteItemsInput, optFns ...func(*ddb.Options)) (*ddb.TransactWriteItemsOutput, error)
	BatchWriteItem(ctx context.Context, in *ddb.BatchWriteItemInput, optFns ...func(*ddb.Options)) (*ddb.BatchWriteItemOutput, error)
	BatchGetItem(ctx context.Context, in *ddb.BatchGetItemInput, optFns ...func(*ddb.Options)) (*ddb.BatchGetItemOutput, error)
	// Scan is only Subjects's, which only the operator's tool calls, on a restored table: no
	// function's role allows dynamodb:Scan.
	Scan(ctx context.Context, in *ddb.ScanInput, optFns ...func(*ddb.Options)) (*ddb.ScanOutput, error)
}

// Store is the portal's table.
type Store struct {
	Client API
	Table  string
	// Retention says how long the items kept for a configured period live (P12); its zero
	// fields mean DefaultRetention's.
	Retention Retention
}

// Retention is how long items of the kinds whose lifetime is configuration are kept, from
// the event that starts their clock, before TTL deletes them (expiresAt). The functions set it
// from template.yaml's parameters; docs/retention.md lists every kind's rule.
type Retention struct {
	// ClosedRequests keeps a completed or refused request this long after it was closed
	// (CLOSED_REQUEST_RETENTION_DAYS). An open request never expires.
	ClosedRequests time.Duration
	// Audit keeps an audit entry this long after the change it records (AUDIT_RETENTION_DAYS).
	Audit time.Duration
}

// DefaultRetention is template.yaml's defaults, for a Store built without configuration (the
// operator's tool against a stack without the outputs, tests): never "keep for ever".
var DefaultRetention = Retention{ClosedRequests: 365 * 24 * time.Hour, Audit: 365 * 24 * time.Hour}

func (st *Store) closedRequestsKept() time.Duration {
	return cmp.Or(st.Retention.ClosedRequests, DefaultRetention.ClosedRequests)
}

func (st *Store) auditKept() time.Duration {
	return cmp.Or(st.Retention.Audit, DefaultRetention.Audit)
}

var (
	_ account.RegistrationStore = (*Store)(nil)
	_ account.VerificationStore = (*Store)(nil)
	_ account.SessionStore      = (*Store)(nil)
	_ account.ProfileStore      = (*Store)(nil)
	_ account.GuardianStore     = (*Store)(nil)
	_ account.SweepStore        = (*Store)(nil)
	_ account.PasswordStore     = (*Store)(nil)
	_ account.MailStore         = (*Store)(nil)
	_ ratelimit.Counter         = (*Store)(nil)
	_ consent.Store             = (*Store)(nil)
	_ consent.UnsubscribeStore  = (*Store)(nil)
	_ consent.MailStore         = (*Store)(nil)
	_ consent.PageViews         = (*Store)(nil)
	_ consent.LedgerReader      = (*Store)(nil)
	_ consent.DiscloseStore     = (*Store)(nil)
	_ keyring.Ciphertexts       = (*Store)(nil)
	_ export.Source             = (*Store)(nil)
	_ erasure.Store             = (*Store)(nil)
	_ erasure.NoticeStore       = (*Store)(nil)
	_ erasure.StaleStore        = (*Store)(nil)
	_ erasure.ReapplyStore      = (*Store)(nil)
)

var _ requests.Store = (*Store)(nil)

var (
	_ notices.CampaignStore = (*Store)(nil)
	_ notices.PlanStore     = (*Store)(nil)
	_ notices.SendStore     = (*Store)(nil)
	_ notices.OperatorStore = (*Store)(nil)
	_ notices.Content       = (*Store)(nil)
	_ notices.SuppressStore = (*Store)(nil)
)
