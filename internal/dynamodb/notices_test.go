package dynamodb_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// active registers an account and proves its address, as a person does: it is active.
func active(t *testing.T, st *dynamodb.Store) privacy.SubjectID {
	t.Helper()
	n := time.Now().UnixNano()
	r := registration(fmt.Sprintf("act-%d@example.com", n), fmt.Sprintf("act%d", n))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	if err := st.VerifyEmail(context.Background(), id, code, false, privacy.StatusActive, privacy.AuditEntry{At: time.Now(), Action: "email.verified"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// notZero fails for every field of v (followed into structs and pointers) left at its zero
// value: a campaign with every field set round-trips every field, and a field added to
// notices.Campaign and not to the store's item fails here until it is set and stored.
func notZero(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil():
		notZero(t, v.Elem(), path)
	case v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]():
		for i := range v.NumField() {
			notZero(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case v.IsZero():
		t.Errorf("the test campaign leaves %s unset: set it (and store it)", path)
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func text(s string) privacy.Text { return privacy.Text{"en": s, "zh-CN": s + "（中文）"} }

func fullCampaign() notices.Campaign {
	return notices.Campaign{
		ID: uniqueName("camp"), Kind: notices.KindBreach, Created: at("2026-03-01T10:00:00.123456789Z"), Title: text("Title"),
		Breach: &notices.Breach{
			Incident: text("incident"), Impact: text("impact"), Measures: text("measures"), SelfHelp: text("self-help"),
			Remedies: text("remedies"), DataKinds: []string{"email", "mobile"}, People: 120, Records: 340,
			Contact: "dpo@example.com", Occurred: at("2026-02-20T00:00:00Z"), Discovered: at("2026-02-25T08:30:00Z"),
		},
		Policy: &notices.PolicyUpdate{
			Version: "1.2", Summary: text("summary"), Published: at("2026-03-01T00:00:00Z"), Effective: at("2026-03-15T00:00:00Z"),
		},
		Paragraphs: map[string][]string{"en": {"one", "two"}, "zh-CN": {"一"}},
		Audience:   notices.Audience{All: true, Subjects: []privacy.SubjectID{"s1", "s2"}, Holding: "mobile"},
		State:      notices.StateSending, Started: at("2026-03-02T00:00:00Z"), Planned: 7, Cursor: "s2",
		PlannedAt: at("2026-03-02T00:05:00Z"), Published: at("2026-03-03T00:00:00Z"), Withdrawn: at("2026-03-04T00:00:00Z"),
		Version: 3,
	}
}

func TestCampaignsAreWrittenOnceAndSavedAtTheVersionRead(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	c := fullCampaign()
	notZero(t, reflect.ValueOf(c), "Campaign")
	if err := st.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCampaign(ctx, c); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a second campaign with the ID: %v, want ErrStale", err)
	}
	got, err := st.Campaign(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, c)
	}

	// A draft with only what a policy update has: nothing else comes back set.
	d := notices.Campaign{
		ID: uniqueName("camp"), Kind: notices.KindPolicyUpdate, Created: at("2026-03-01T10:00:00Z"), Title: text("New policy"),
		Policy:   &notices.PolicyUpdate{Version: "2.0", Summary: text("s"), Published: at("2026-03-01T00:00:00Z"), Effective: at("2026-03-10T00:00:00Z")},
		Audience: notices.Audience{All: true}, State: notices.StateDraft,
	}
	if err := st.PutCampaign(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err = st.Campaign(ctx, d.ID)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Errorf("a draft read back %+v, %v\nwant %+v", got, err, d)
	}

	// Saves go from the version read; a save from an older one is stale and changes nothing.
	started := got
	started.State, started.Started = notices.StatePlanning, at("2026-03-02T00:00:00Z")
	if err := st.SaveCampaign(ctx, started); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Campaign(ctx, d.ID); got.Version != 1 || got.State != notices.StatePlanning || !got.Started.Equal(started.Started) {
		t.Errorf("after a save: version %d, state %s, started %v", got.Version, got.State, got.Started)
	}
	stale := d
	stale.Title = text("stale")
	if err := st.SaveCampaign(ctx, stale); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("a save from version 0 after version 1: %v, want ErrStale", err)
	}
	cur, _ := st.Campaign(ctx, d.ID)
	if cur.Title["en"] != "New policy" || cur.Version != 1 {
		t.Errorf("a stale save changed the campaign: %+v", cur)
	}
	cur.Planned = 5
	if err := st.SaveCampaign(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Campaign(ctx, d.ID); got.Version != 2 || got.Planned != 5 {
		t.Errorf("after the second save: version %d, planned %d", got.Version, got.Planned)
	}
	if err := st.SaveCampaign(ctx, notices.Campaign{ID: uniqueName("none")}); !errors.Is(err, privacy.ErrStale) {
		t.Errorf("saving a campaign that is not there: %v, want ErrStale", err)
	}
	if _, err := st.Campaign(ctx, uniqueName("none")); privacy.ErrorCode(err) != privacy.NotFound {
		t.Errorf("no campaign: %v, want NotFound", err)
	}
	if n, err := st.Counts(ctx, d.ID); err != nil || n != (notices.Counts{}) {
		t.Errorf("counts before any delivery = %+v, %v", n, err)
	}

	// A marketing campaign's content for the consent worker sits beside the campaign.
	m := notices.Campaign{ID: uniqueName("camp"), Kind: notices.KindMarketing, Title: text("News"), Paragraphs: map[string][]string{"en": {"p"}, "zh-CN": {"段"}}, Audience: notices.Audience{All: true}, State: notices.StateDraft}
	if err := st.PutMarketingContent(ctx, m.ID, m.Title, m.Paragraphs); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCampaign(ctx, m); err != nil {
		t.Fatal(err)
	}
	content, err := st.MarketingContent(ctx, m.ID)
	if err != nil || content.Title["zh-CN"] != "News（中文）" || content.Paragraphs["zh-CN"][0] != "段" {
		t.Errorf("content = %+v, %v", content, err)
	}
	if got, err := st.Campaign(ctx, m.ID); err != nil || got.Kind != notices.KindMarketing || got.Paragraphs["en"][0] != "p" {
		t.Errorf("campaign = %+v, %v", got, err)
	}
}

// deliveryItem reads a delivery as stored (nil when there is none).
func deliveryItem(t *testing.T, id privacy.SubjectID, campaign string) dynamodb.Item {
	t.Helper()
	out, err := tables.DynamoDB.GetItem(context.Background(), &ddb.GetItemInput{
		TableName: aws.String(tables.Names["PortalTable"]), ConsistentRead: aws.Bool(true),
		Key: dynamodb.Item{
			"PK": &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(id)},
			"SK": &types.AttributeValueMemberS{Value: dynamodb.SortKey(dynamodb.KindDelivery, campaign)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestDeliveriesAreWrittenOnceAndOnlyForLiveAccounts(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	a, b := active(t, st), active(t, st)
	closed := active(t, st)
	if err := st.CloseAccount(ctx, closed); err != nil {
		t.Fatal(err)
	}
	erased := active(t, st)
	if _, err := st.DeleteSubject(ctx, erased); err != nil {
		t.Fatal(err)
	}
	never := privacy.NewSubjectID()
	campaign := uniqueName("camp")
	n, err := st.PutDeliveries(ctx, campaign, []privacy.SubjectID{a, closed, erased, b, never})
	if err != nil || n != 2 {
		t.Fatalf("PutDeliveries = %d, %v; want the 2 live accounts", n, err)
	}
	for _, id := range []privacy.SubjectID{a, b} {
		if it := deliveryItem(t, id, campaign); state(it) != "pending" || it["expiresAt"] != nil || it["owner"] != nil {
			t.Errorf("a new delivery: %v", it)
		}
	}
	if it := deliveryItem(t, closed, campaign); it != nil {
		t.Errorf("a closed account got a delivery: %v", it)
	}
	accounts, err := st.Accounts(ctx, []privacy.SubjectID{a, closed, erased, never, a})
	if err != nil || len(accounts) != 2 || accounts[a].Status != privacy.StatusActive || accounts[closed].Status == privacy.StatusActive {
		t.Errorf("Accounts = %+v, %v; want a's (active) and closed's (not active)", accounts, err)
	}
	for id, want := range map[privacy.SubjectID]notices.DeliveryState{a: notices.DeliveryPending, closed: ""} {
		if got, err := st.DeliveryState(ctx, campaign, id); got != want || err != nil {
			t.Errorf("DeliveryState = %q, %v; want %q", got, err, want)
		}
	}
	for _, id := range []privacy.SubjectID{erased, never} {
		if n := partitionSize(t, id); n != 0 {
			t.Errorf("%d items written into the partition of a subject with no account", n)
		}
	}
	// Planned again (a planner that died after writing them): nothing new, nothing reset, and
	// counted the same, each subject once; one whose account closed since still has its
	// delivery, and counts.
	if ok, _ := st.ClaimDelivery(ctx, campaign, a, "run1"); !ok {
		t.Fatal("cannot claim a pending delivery")
	}
	if err := st.CloseAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PutDeliveries(ctx, campaign, []privacy.SubjectID{a, closed, erased, b, never, a}); err != nil || n != 2 {
		t.Errorf("planning again = %d, %v; want the same 2", n, err)
	}
	if state(deliveryItem(t, a, campaign)) != "sending" || state(deliveryItem(t, b, campaign)) != "pending" {
		t.Error("planning again reset a delivery")
	}

	// Many at once, in transactions of many deliveries, in parallel: each written once; the
	// transaction holding one closed account writes the others all the same.
	var many []privacy.SubjectID
	for range 120 {
		many = append(many, active(t, st))
	}
	if err := st.CloseAccount(ctx, many[70]); err != nil {
		t.Fatal(err)
	}
	other := uniqueName("camp")
	if n, err := st.PutDeliveries(ctx, other, append(many, many[:10]...)); err != nil || n != len(many)-1 {
		t.Errorf("PutDeliveries of %d (10 twice, 1 closed) = %d, %v; want %d", len(many), n, err, len(many)-1)
	}
	for i, id := range many {
		if it := deliveryItem(t, id, other); (it == nil) != (i == 70) {
			t.Errorf("subject %d of many: delivery %v", i, it)
		}
	}
	if n, err := st.PutDeliveries(ctx, other, nil); err != nil || n != 0 {
		t.Errorf("PutDeliveries of none = %d, %v", n, err)
	}
}

func TestDeliveriesAreClaimedEndedOnceAndReleased(t *testing.T) {
	st := newStore()
	st.Retention.Audit = 48 * time.Hour
	ctx := context.Background()
	a, b, c := active(t, st), active(t, st), active(t, st)
	campaign := uniqueName("camp")
	if _, err := st.PutDeliveries(ctx, campaign, []privacy.SubjectID{a, b, c}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claim := func(id privacy.SubjectID, owner string) bool {
		t.Helper()
		ok, err := st.ClaimDelivery(ctx, campaign, id, owner)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	counts := func() notices.Counts {
		t.Helper()
		n, err := st.Counts(ctx, campaign)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	if !claim(a, "run1") {
		t.Fatal("a pending delivery cannot be claimed")
	}
	// Claimed again by the same run: held (its own send had no answer, or a batch redelivered
	// within one run), never claimed twice.
	if ok, err := st.ClaimDelivery(ctx, campaign, a, "run1"); ok || !errors.Is(err, notices.ErrHeld) {
		t.Errorf("a run claiming its own delivery again: %v, %v; want held", ok, err)
	}
	// Another run waits notices.TakeOver for SES's Send event to settle a claim a run left
	// (the sender died), then takes it over.
	if _, err := st.ClaimDelivery(ctx, campaign, a, "run2"); !errors.Is(err, notices.ErrHeld) {
		t.Errorf("claiming a delivery another run claimed a moment ago: %v, want ErrHeld", err)
	}
	if _, err := st.Client.UpdateItem(ctx, &ddb.UpdateItemInput{
		TableName: &st.Table, Key: dynamodb.Item{"PK": &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(a)}, "SK": &types.AttributeValueMemberS{Value: dynamodb.SortKey(dynamodb.KindDelivery, campaign)}},
		UpdateExpression:          aws.String("SET claimed = :then"),
		ExpressionAttributeValues: dynamodb.Item{":then": &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(-notices.TakeOver - time.Second).UnixMilli())}},
	}); err != nil {
		t.Fatal(err)
	}
	if !claim(a, "run2") {
		t.Error("a delivery another run claimed long enough ago and never ended cannot be claimed")
	}
	if it := deliveryItem(t, a, campaign); attrS(it, "owner") != "run2" {
		t.Errorf("claimed by run2, the owner is %q", attrS(it, "owner"))
	}
	if _, err := st.ClaimDelivery(ctx, campaign, b, ""); err == nil {
		t.Error("a claim with no owner was accepted")
	}
	// Ending one not claimed changes nothing and counts nothing.
	if err := st.EndDelivery(ctx, campaign, b, notices.DeliverySent); err != nil {
		t.Fatal(err)
	}
	if s := state(deliveryItem(t, b, campaign)); s != "pending" || counts() != (notices.Counts{}) {
		t.Errorf("ending a pending delivery: state %s, counts %+v", s, counts())
	}
	// Ended twice, even at once: counted once.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := st.EndDelivery(ctx, campaign, a, notices.DeliverySent); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := st.EndDelivery(ctx, campaign, a, notices.DeliveryFailed); err != nil {
		t.Fatal(err)
	}
	if n := counts(); n != (notices.Counts{Sent: 1}) {
		t.Errorf("counts after ending one delivery several times = %+v, want 1 sent", n)
	}
	it := deliveryItem(t, a, campaign)
	if state(it) != "sent" || it["owner"] != nil || it["ended"] == nil {
		t.Errorf("an ended delivery: %v", it)
	}
	if exp := expiresAt(t, dynamodb.SubjectPK(a), dynamodb.SortKey(dynamodb.KindDelivery, campaign)); exp < now.Add(47*time.Hour).Unix() || exp > time.Now().Add(49*time.Hour).Unix() {
		t.Errorf("an ended delivery expires at %v, want 48 hours after it ended", time.Unix(exp, 0))
	}
	if claim(a, "run3") {
		t.Error("an ended delivery was claimed")
	}
	if err := st.ReleaseDelivery(ctx, campaign, a); err != nil || state(deliveryItem(t, a, campaign)) != "sent" {
		t.Errorf("releasing an ended delivery: %v, state %s", err, state(deliveryItem(t, a, campaign)))
	}

	// Released: pending again, without an owner, and claimable at once, by the same run too.
	if !claim(b, "run1") {
		t.Fatal("cannot claim b")
	}
	if err := st.ReleaseDelivery(ctx, campaign, b); err != nil {
		t.Fatal(err)
	}
	if it := deliveryItem(t, b, campaign); state(it) != "pending" || it["owner"] != nil || it["expiresAt"] != nil {
		t.Errorf("a released delivery: %v", it)
	}
	if err := st.ReleaseDelivery(ctx, campaign, b); err != nil {
		t.Errorf("releasing a pending delivery: %v", err)
	}
	if !claim(b, "run1") {
		t.Fatal("a released delivery cannot be claimed")
	}
	if err := st.EndDelivery(ctx, campaign, b, notices.DeliverySuppressed); err != nil {
		t.Fatal(err)
	}
	if !claim(c, "run1") {
		t.Fatal("cannot claim c")
	}
	if err := st.EndDelivery(ctx, campaign, c, notices.DeliverySkipped); err != nil {
		t.Fatal(err)
	}
	if n := counts(); n != (notices.Counts{Sent: 1, Suppressed: 1, Skipped: 1}) {
		t.Errorf("counts = %+v", n)
	}
	if err := st.EndDelivery(ctx, campaign, c, notices.DeliverySending); err == nil {
		t.Error("ending a delivery in a state that is not final was accepted")
	}

	// A delivery that is not there (its subject erased) is neither claimed nor counted.
	gone := privacy.NewSubjectID()
	if claim(gone, "run1") {
		t.Error("claimed a delivery that does not exist")
	}
	if err := st.EndDelivery(ctx, campaign, gone, notices.DeliveryFailed); err != nil {
		t.Error(err)
	}
	if err := st.ReleaseDelivery(ctx, campaign, gone); err != nil {
		t.Error(err)
	}
	if n := partitionSize(t, gone); n != 0 || counts().Failed != 0 {
		t.Errorf("a missing delivery left %d items, counts %+v", n, counts())
	}
}

func attrS(it dynamodb.Item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func state(it dynamodb.Item) string { return attrS(it, "state") }

// allActive pages through the active accounts, limit at a time.
func allActive(t *testing.T, st *dynamodb.Store, limit int) []privacy.SubjectID {
	t.Helper()
	var all []privacy.SubjectID
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("the pages never end")
		}
		ids, next, err := st.ActiveAccounts(context.Background(), cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > limit {
			t.Fatalf("a page of %d, limit %d", len(ids), limit)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func TestActiveAccountsListsEveryActiveAccountOnce(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	var mine []privacy.SubjectID
	for range 7 {
		mine = append(mine, active(t, st))
	}
	// A child's account, active once its guardian confirms.
	n := time.Now().UnixNano()
	r := registration(fmt.Sprintf("child-%d@example.com", n), fmt.Sprintf("child%d", n))
	r.Account.Profile.AgeGroup = privacy.AgeChild
	r.Guardian = &privacy.GuardianRequest{Email: "p@example.com"}
	mustRegister(t, st, r)
	child := r.Account.SubjectID
	audit := privacy.AuditEntry{At: time.Now(), Action: "x"}
	if err := st.VerifyEmail(ctx, child, code, false, privacy.StatusPending, audit); err != nil {
		t.Fatal(err)
	}
	if err := st.SetGuardianToken(ctx, child, "g", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(allActive(t, st, 1000), child) {
		t.Error("a child's account waiting for its guardian is listed as active")
	}
	grant := privacy.Grant(privacy.PurposeService, privacy.SourceGuardian, privacy.PolicyRef{Version: "1.0"}, time.Now())
	if err := st.ConfirmGuardian(ctx, child, "g", true, privacy.StatusActive, grant, audit); err != nil {
		t.Fatal(err)
	}
	mine = append(mine, child)
	// Never active: never listed.
	n = time.Now().UnixNano()
	unverified := registration(fmt.Sprintf("unv-%d@example.com", n), fmt.Sprintf("unv%d", n))
	mustRegister(t, st, unverified)

	for _, limit := range []int{1, 2, 3, 1000} {
		all := allActive(t, st, limit)
		seen := map[privacy.SubjectID]bool{}
		for _, id := range all {
			if seen[id] {
				t.Errorf("limit %d: %s listed twice", limit, id)
			}
			seen[id] = true
		}
		for _, id := range mine {
			if !seen[id] {
				t.Errorf("limit %d: active account %s not listed", limit, id)
			}
		}
		if seen[unverified.Account.SubjectID] {
			t.Errorf("limit %d: an unverified account is listed", limit)
		}
		if !slices.IsSorted(all) {
			t.Errorf("limit %d: not in ID order", limit)
		}
	}
	if places, err := st.Remains(ctx, mine[0], "", ""); err != nil || !slices.Contains(places, "accounts index") {
		t.Errorf("Remains of an active account = %v, %v; want the accounts index among them", places, err)
	}

	// Closed: no longer listed, and not left in the index for erasure to find.
	if err := st.CloseAccount(ctx, mine[0]); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(allActive(t, st, 3), mine[0]) {
		t.Error("a closed account is still listed")
	}
	if places, err := st.Remains(ctx, mine[0], "", ""); err != nil || slices.Contains(places, "accounts index") {
		t.Errorf("Remains of a closed account = %v, %v; want no accounts index", places, err)
	}
	// An account erased from its partition is gone from the index with its profile.
	if _, err := st.DeleteSubject(ctx, mine[1]); err != nil {
		t.Fatal(err)
	}
	if places, err := st.Remains(ctx, mine[1], "", ""); err != nil || len(places) != 0 {
		t.Errorf("Remains of an erased account = %v, %v", places, err)
	}
	if slices.Contains(allActive(t, st, 1000), mine[1]) {
		t.Error("an erased account is still listed")
	}
}

func TestHoldsOnlyWhatAnActiveAccountKeeps(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	id := active(t, st) // registered with a mobile number
	for field, want := range map[string]bool{"mobile": true, "job": false, "": false} {
		if got, err := st.Holds(ctx, id, field); err != nil || got != want {
			t.Errorf("Holds(%q) = %v, %v; want %v", field, got, err, want)
		}
	}
	n := time.Now().UnixNano()
	r := registration(fmt.Sprintf("hold-%d@example.com", n), fmt.Sprintf("hold%d", n))
	mustRegister(t, st, r)
	if got, err := st.Holds(ctx, r.Account.SubjectID, "mobile"); err != nil || got {
		t.Errorf("an unverified account holds its mobile: %v, %v; want false", got, err)
	}
	if err := st.Update(ctx, id, privacy.AccountChange{DeleteOptional: []string{"mobile"}, Audit: privacy.AuditEntry{At: time.Now(), Action: "x"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Holds(ctx, id, "mobile"); err != nil || got {
		t.Errorf("a deleted mobile is held: %v, %v", got, err)
	}
	if got, err := st.Holds(ctx, privacy.NewSubjectID(), "mobile"); err != nil || got {
		t.Errorf("no account holds: %v, %v", got, err)
	}
}

func TestSuppressedAddressesStaySuppressedForAYear(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	suppressed := func(k string) (bool, error) {
		got, err := st.SuppressedKeys(ctx, []string{k, uniqueName("never")})
		return got[k], err
	}
	key := uniqueName("k")
	if off, err := suppressed(key); err != nil || off {
		t.Fatalf("an address never suppressed: %v, %v", off, err)
	}
	now := time.Now()
	if err := st.Suppress(ctx, key, "bounce", now); err != nil {
		t.Fatal(err)
	}
	if off, err := suppressed(key); err != nil || !off {
		t.Errorf("a bounced address: %v, %v; want suppressed", off, err)
	}
	// An older event (a redelivered notification) does not shorten it.
	if err := st.Suppress(ctx, key, "complaint", now.Add(-400*day)); err != nil {
		t.Fatal(err)
	}
	if off, _ := suppressed(key); !off {
		t.Error("an older event lifted a suppression")
	}
	if exp := expiresAt(t, dynamodb.EmailLookupPK(key), "SUPPRESSED"); exp != now.Add(dynamodb.SuppressionKept).Unix() {
		t.Errorf("expires at %v, want a year after the bounce", time.Unix(exp, 0))
	}
	out, err := tables.DynamoDB.GetItem(ctx, &ddb.GetItemInput{
		TableName: aws.String(tables.Names["PortalTable"]), ConsistentRead: aws.Bool(true),
		Key: dynamodb.Item{"PK": &types.AttributeValueMemberS{Value: dynamodb.EmailLookupPK(key)}, "SK": &types.AttributeValueMemberS{Value: "SUPPRESSED"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range out.Item {
		if !slices.Contains([]string{"PK", "SK", "why", "at", "expiresAt"}, name) {
			t.Errorf("a suppression holds %s", name)
		}
	}
	// A year on, it has run out (whether or not TTL deleted it yet).
	old := uniqueName("k")
	if err := st.Suppress(ctx, old, "bounce", now.Add(-dynamodb.SuppressionKept-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if off, err := suppressed(old); err != nil || off {
		t.Errorf("a suppression older than a year: %v, %v; want lifted", off, err)
	}
	if off, err := suppressed(""); err != nil || off {
		t.Errorf("no address: %v, %v", off, err)
	}
	// Many at once: more than one call's worth (100 keys), each reported.
	var many []string
	for i := range 130 {
		k := uniqueName("many")
		many = append(many, k)
		if i%3 == 0 {
			if err := st.Suppress(ctx, k, "bounce", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := st.SuppressedKeys(ctx, append(many, many[0], old, ""))
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range many {
		if got[k] != (i%3 == 0) {
			t.Errorf("address %d of many: suppressed %v, want %v", i, got[k], i%3 == 0)
		}
	}
	if len(got) != 44 {
		t.Errorf("%d addresses suppressed, want the 44 of many", len(got))
	}
}

// TestP17_ErasureCountsTheDeliveriesItDropsAsSkipped: a person erased after a campaign was
// planned for them leaves no delivery behind, and the campaign counts theirs as skipped, so
// its sending still finishes; one that had ended is only deleted.
func TestP17_ErasureCountsTheDeliveriesItDropsAsSkipped(t *testing.T) {
	ctx := context.Background()
	st := newStore()
	c := fullCampaign()
	c.ID = uniqueName("erasecampaign")
	if err := st.PutCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	pending, sent := active(t, st), active(t, st)
	if n, err := st.PutDeliveries(ctx, c.ID, []privacy.SubjectID{pending, sent}); err != nil || n != 2 {
		t.Fatalf("put deliveries: %d, %v", n, err)
	}
	if ok, err := st.ClaimDelivery(ctx, c.ID, sent, "owner"); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if err := st.EndDelivery(ctx, c.ID, sent, notices.DeliverySent); err != nil {
		t.Fatal(err)
	}
	for _, id := range []privacy.SubjectID{pending, sent} {
		if _, _, err := st.EraseSubject(ctx, id, "", ""); err != nil {
			t.Fatal(err)
		}
		if items, _ := st.Partition(ctx, id); len(items) != 0 {
			t.Errorf("%d items left of an erased subject", len(items))
		}
	}
	got, err := st.Counts(ctx, c.ID)
	if err != nil || got.Sent != 1 || got.Skipped != 1 || got.Done() != 2 {
		t.Errorf("counts after the erasures: %+v (%v), want 1 sent and 1 skipped", got, err)
	}
	// Erasing again counts nothing more.
	if _, _, err := st.EraseSubject(ctx, pending, "", ""); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.Counts(ctx, c.ID); again != got {
		t.Errorf("counts after a second erasure: %+v, want %+v", again, got)
	}
}

// TestIndexActiveAccountsBackfillsTheIndexOnce: accounts activated before the active accounts'
// index existed (no GSI2 key, or the sweep's left behind) are put into it, a closed one is not,
// and a second run indexes nothing.
func TestIndexActiveAccountsBackfillsTheIndexOnce(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	profile := func(id privacy.SubjectID) dynamodb.Item {
		return dynamodb.Item{
			"PK": &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(id)},
			"SK": &types.AttributeValueMemberS{Value: string(dynamodb.KindProfile)},
		}
	}
	update := func(id privacy.SubjectID, expr string, vals dynamodb.Item) {
		t.Helper()
		if _, err := tables.DynamoDB.UpdateItem(ctx, &ddb.UpdateItemInput{
			TableName: aws.String(tables.Names["PortalTable"]), Key: profile(id),
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals,
		}); err != nil {
			t.Fatal(err)
		}
	}
	gsi2 := func(id privacy.SubjectID) (string, string) {
		t.Helper()
		out, err := tables.DynamoDB.GetItem(ctx, &ddb.GetItemInput{
			TableName: aws.String(tables.Names["PortalTable"]), Key: profile(id), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		pk, _ := out.Item["GSI2PK"].(*types.AttributeValueMemberS)
		sk, _ := out.Item["GSI2SK"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return "", ""
		}
		return pk.Value, sk.Value
	}
	old, swept, closed := active(t, st), active(t, st), active(t, st)
	update(old, "REMOVE GSI2PK, GSI2SK", nil)
	update(swept, "SET GSI2PK = :sweep", dynamodb.Item{":sweep": &types.AttributeValueMemberS{Value: "SWEEP"}})
	if err := st.CloseAccount(ctx, closed); err != nil {
		t.Fatal(err)
	}
	update(closed, "REMOVE GSI2PK, GSI2SK", nil)

	indexed, left, err := st.IndexActiveAccounts(ctx)
	if err != nil || indexed < 2 || left != 0 {
		t.Fatalf("IndexActiveAccounts = %d indexed, %d left, %v; want at least the 2 old accounts", indexed, left, err)
	}
	for _, id := range []privacy.SubjectID{old, swept} {
		if pk, sk := gsi2(id); pk != "ACCOUNTS" || sk != string(id) {
			t.Errorf("an old active account's GSI2 key is %q/%q, want ACCOUNTS/<id>", pk, sk)
		}
	}
	if pk, _ := gsi2(closed); pk != "" {
		t.Errorf("a closed account was indexed: %q", pk)
	}
	if indexed, left, err := st.IndexActiveAccounts(ctx); err != nil || indexed != 0 || left != 0 {
		t.Errorf("a second run = %d indexed, %d left, %v; want nothing", indexed, left, err)
	}
}
