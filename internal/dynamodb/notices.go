package dynamodb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// A campaign of notices (internal/notices) lives in its own partition, CAMPAIGN#<id>: the
// campaign's item (the operator's text, its audience, where planning stands, its version), its
// delivery counters, and for a marketing campaign the content the consent worker's mail reads
// (campaign.go). Its deliveries are in the recipients' partitions (delivery.go).
const (
	campaignSK = "CAMPAIGN"
	countsSK   = "COUNTS"
)

// campaignItem is a campaign. It holds nothing about anyone, except, for a campaign to named
// people, their subject IDs (audience.subjects).
type campaignItem struct {
	PK         string              `dynamodbav:"PK"`
	SK         string              `dynamodbav:"SK"`
	Kind       string              `dynamodbav:"kind"`
	Created    string              `dynamodbav:"created"`
	Title      map[string]string   `dynamodbav:"title"`
	Breach     *breachItem         `dynamodbav:"breach,omitempty"`
	Policy     *policyUpdateItem   `dynamodbav:"policy,omitempty"`
	Paragraphs map[string][]string `dynamodbav:"paragraphs,omitempty"`
	Audience   audienceItem        `dynamodbav:"audience"`
	State      string              `dynamodbav:"state"`
	Started    string              `dynamodbav:"started,omitempty"`
	Planned    int                 `dynamodbav:"planned"`
	Cursor     string              `dynamodbav:"cursor,omitempty"`
	PlannedAt  string              `dynamodbav:"plannedAt,omitempty"`
	Published  string              `dynamodbav:"published,omitempty"`
	Withdrawn  string              `dynamodbav:"withdrawn,omitempty"`
	// Version counts the saves: each save names the version it read (SaveCampaign).
	Version int `dynamodbav:"version"`
}

type breachItem struct {
	Incident   map[string]string `dynamodbav:"incident"`
	Impact     map[string]string `dynamodbav:"impact"`
	Measures   map[string]string `dynamodbav:"measures"`
	SelfHelp   map[string]string `dynamodbav:"selfHelp"`
	Remedies   map[string]string `dynamodbav:"remedies"`
	DataKinds  []string          `dynamodbav:"dataKinds,omitempty"`
	People     int               `dynamodbav:"people"`
	Records    int               `dynamodbav:"records"`
	Contact    string            `dynamodbav:"contact"`
	Occurred   string            `dynamodbav:"occurred,omitempty"`
	Discovered string            `dynamodbav:"discovered,omitempty"`
}

type policyUpdateItem struct {
	Version   string            `dynamodbav:"version"`
	Summary   map[string]string `dynamodbav:"summary"`
	Published string            `dynamodbav:"published,omitempty"`
	Effective string            `dynamodbav:"effective,omitempty"`
}

type audienceItem struct {
	All      bool     `dynamodbav:"all"`
	Subjects []string `dynamodbav:"subjects,omitempty"`
	Holding  string   `dynamodbav:"holding,omitempty"`
}

// optTS writes a time that may be unset: "" (omitted) for the zero time.
func optTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ts(t)
}

// optTime reads what optTS wrote.
func optTime(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	return parseTS(v)
}

func newCampaignItem(c notices.Campaign) campaignItem {
	it := campaignItem{
		PK: campaignPK(c.ID), SK: campaignSK, Kind: string(c.Kind), Created: optTS(c.Created), Title: c.Title,
		Paragraphs: c.Paragraphs, State: string(c.State), Started: optTS(c.Started), Planned: c.Planned,
		Cursor: c.Cursor, PlannedAt: optTS(c.PlannedAt), Published: optTS(c.Published), Withdrawn: optTS(c.Withdrawn),
		Version:  c.Version,
		Audience: audienceItem{All: c.Audience.All, Holding: c.Audience.Holding},
	}
	for _, id := range c.Audience.Subjects {
		it.Audience.Subjects = append(it.Audience.Subjects, string(id))
	}
	if b := c.Breach; b != nil {
		it.Breach = &breachItem{
			Incident: b.Incident, Impact: b.Impact, Measures: b.Measures, SelfHelp: b.SelfHelp, Remedies: b.Remedies,
			DataKinds: b.DataKinds, People: b.People, Records: b.Records, Contact: b.Contact,
			Occurred: optTS(b.Occurred), Discovered: optTS(b.Discovered),
		}
	}
	if p := c.Policy; p != nil {
		it.Policy = &policyUpdateItem{Version: p.Version, Summary: p.Summary, Published: optTS(p.Published), Effective: optTS(p.Effective)}
	}
	return it
}

func (it campaignItem) campaign(id string) notices.Campaign {
	c := notices.Campaign{
		ID: id, Kind: notices.Kind(it.Kind), Created: optTime(it.Created), Title: it.Title, Paragraphs: it.Paragraphs,
		State: notices.State(it.State), Started: optTime(it.Started), Planned: it.Planned, Cursor: it.Cursor,
		PlannedAt: optTime(it.PlannedAt), Published: optTime(it.Published), Withdrawn: optTime(it.Withdrawn),
		Version:  it.Version,
		Audience: notices.Audience{All: it.Audience.All, Holding: it.Audience.Holding},
	}
	for _, s := range it.Audience.Subjects {
		c.Audience.Subjects = append(c.Audience.Subjects, privacy.SubjectID(s))
	}
	if b := it.Breach; b != nil {
		c.Breach = &notices.Breach{
			Incident: b.Incident, Impact: b.Impact, Measures: b.Measures, SelfHelp: b.SelfHelp, Remedies: b.Remedies,
			DataKinds: b.DataKinds, People: b.People, Records: b.Records, Contact: b.Contact,
			Occurred: optTime(b.Occurred), Discovered: optTime(b.Discovered),
		}
	}
	if p := it.Policy; p != nil {
		c.Policy = &notices.PolicyUpdate{Version: p.Version, Summary: p.Summary, Published: optTime(p.Published), Effective: optTime(p.Effective)}
	}
	return c
}

// PutCampaign writes a new campaign at its version (0 for a new one): privacy.ErrStale if
// its ID is taken.
func (st *Store) PutCampaign(ctx context.Context, c notices.Campaign) error {
	return st.putNew(ctx, newCampaignItem(c), "campaign")
}

// Campaign reads a campaign, with the version it is at (privacy.NotFound if there is none).
func (st *Store) Campaign(ctx context.Context, id string) (notices.Campaign, error) {
	var it campaignItem
	found, err := st.get(ctx, campaignPK(id), campaignSK, &it)
	if err != nil {
		return notices.Campaign{}, err
	}
	if !found {
		return notices.Campaign{}, privacy.Errorf(privacy.NotFound, "no such campaign")
	}
	return it.campaign(id), nil
}

// SaveCampaign writes a campaign read at c.Version, as version c.Version+1: privacy.ErrStale
// if it is at another version by now (or gone). Its counters are another item, which it leaves
// alone.
func (st *Store) SaveCampaign(ctx context.Context, c notices.Campaign) error {
	it := newCampaignItem(c)
	it.Version = c.Version + 1
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName: &st.Table, Item: marshal(it),
		ConditionExpression:       aws.String("version = :read"),
		ExpressionAttributeValues: Item{":read": n(int64(c.Version))},
	})
	if isConditionFailed(err) {
		return privacy.ErrStale
	}
	if err != nil {
		return fmt.Errorf("save campaign: %w", err)
	}
	return nil
}

// countsItem is a campaign's deliveries by how they ended: EndDelivery adds to it in the
// transaction that ends each, so it is exact.
type countsItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Sent       int    `dynamodbav:"sent"`
	Failed     int    `dynamodbav:"failed"`
	Suppressed int    `dynamodbav:"suppressed"`
	Skipped    int    `dynamodbav:"skipped"`
}

// counter is the attribute of countsItem that counts deliveries ended in a state.
var counter = map[notices.DeliveryState]string{
	notices.DeliverySent: "sent", notices.DeliveryFailed: "failed",
	notices.DeliverySuppressed: "suppressed", notices.DeliverySkipped: "skipped",
}

// Counts reads a campaign's delivery counters: all zero before the first delivery ends.
func (st *Store) Counts(ctx context.Context, id string) (notices.Counts, error) {
	var it countsItem
	if _, err := st.get(ctx, campaignPK(id), countsSK, &it); err != nil {
		return notices.Counts{}, err
	}
	return notices.Counts{Sent: it.Sent, Failed: it.Failed, Suppressed: it.Suppressed, Skipped: it.Skipped}, nil
}

// The suppression of an address sits beside its look-up items, in EMAIL#<emailKey>: it holds
// why and when, never the address or a subject ID, so erasure (which deletes the LOOKUP and
// PENDING items of the partition, and Remains, which checks those) leaves it, as it must: an
// address that bounced still bounces after its account is gone.
const suppressedSK = "SUPPRESSED"

// SuppressionKept is how long an address stays suppressed after its last permanent bounce or
// complaint: a year, after which campaign mail goes to it again (a mailbox may be given out
// anew, a complaint ages); a new bounce or complaint suppresses it for another year.
const SuppressionKept = 365 * 24 * time.Hour

type suppressionItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Why       string `dynamodbav:"why"`
	At        string `dynamodbav:"at"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// Suppress records that mail to an address (its look-up key) bounced for good or was
// complained about ("bounce", "complaint"), at a time: the address is suppressed for
// SuppressionKept from then. An event older than the one recorded (a redelivered
// notification) changes nothing.
func (st *Store) Suppress(ctx context.Context, emailKey, why string, at time.Time) error {
	if emailKey == "" {
		return fmt.Errorf("suppress: no address key")
	}
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{
		TableName: &st.Table,
		Item: marshal(suppressionItem{
			PK: EmailLookupPK(emailKey), SK: suppressedSK, Why: why, At: ts(at), ExpiresAt: at.Add(SuppressionKept).Unix(),
		}),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #at <= :at"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: Item{":at": s(ts(at))},
	})
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("suppress: %w", err)
	}
	return nil
}

// SuppressedKeys reports which of these addresses (their look-up keys) mail must no longer go
// to, reading them at once (BatchGetItem).
func (st *Store) SuppressedKeys(ctx context.Context, emailKeys []string) (map[string]bool, error) {
	keys := make([]Item, 0, len(emailKeys))
	seen := map[string]bool{}
	for _, k := range emailKeys {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, key(EmailLookupPK(k), suppressedSK))
		}
	}
	out := map[string]bool{}
	now := time.Now()
	err := st.batchGet(ctx, keys, func(raw Item) error {
		var it suppressionItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("decode suppression: %w", err)
		}
		if !expired(it.ExpiresAt, now) {
			out[strings.TrimPrefix(it.PK, EmailLookupPK(""))] = true
		}
		return nil
	})
	return out, err
}
