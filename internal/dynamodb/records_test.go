package dynamodb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/privacy"
)

// pages wraps the emulator's client and notes, at each Query, how many records the export had
// been handed by then.
type pages struct {
	dynamodb.API
	mu      sync.Mutex
	handed  int
	atQuery []int
}

func (p *pages) Query(ctx context.Context, in *ddb.QueryInput, optFns ...func(*ddb.Options)) (*ddb.QueryOutput, error) {
	p.mu.Lock()
	p.atQuery = append(p.atQuery, p.handed)
	p.mu.Unlock()
	return p.API.Query(ctx, in, optFns...)
}

// mustPutAudits writes n audit entries of about 600 bytes each straight into a partition,
// as the adapter would (BatchWriteItem, 25 at a time).
func mustPutAudits(t *testing.T, id privacy.SubjectID, n int) {
	t.Helper()
	t0 := time.Now().Add(-time.Hour)
	var names []string
	for j := range 20 {
		names = append(names, fmt.Sprintf("field-%02d-%s", j, strings.Repeat("a", 20)))
	}
	for start := 0; start < n; start += 25 {
		var reqs []types.WriteRequest
		for i := start; i < min(start+25, n); i++ {
			at := dynamodb.Timestamp(t0.Add(time.Duration(i) * time.Millisecond))
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"PK":        &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(id)},
				"SK":        &types.AttributeValueMemberS{Value: dynamodb.SortKey(dynamodb.KindAudit, fmt.Sprintf("%s#%06d", at, i))},
				"createdAt": &types.AttributeValueMemberS{Value: at},
				"action":    &types.AttributeValueMemberS{Value: "profile.corrected"},
				"fields":    &types.AttributeValueMemberSS{Value: names},
			}}})
		}
		pending := map[string][]types.WriteRequest{tables.Names["PortalTable"]: reqs}
		for len(pending) > 0 {
			out, err := tables.DynamoDB.BatchWriteItem(context.Background(), &ddb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				t.Fatal(err)
			}
			pending = out.UnprocessedItems
		}
	}
}

func TestRecordsHandsOverThePartitionInOrderAPageAtATime(t *testing.T) {
	p := &pages{API: tables.DynamoDB}
	st := &dynamodb.Store{Client: p, Table: tables.Names["PortalTable"]}
	ctx := context.Background()
	r := registration(fmt.Sprintf("rec-%d@example.com", time.Now().UnixNano()), fmt.Sprintf("rec%d", time.Now().UnixNano()))
	mustRegister(t, st, r)
	id := r.Account.SubjectID
	const audits = 2500 // about 1.5 MB: two pages or more
	mustPutAudits(t, id, audits)
	if err := st.PutSession(ctx, id, privacy.Session{TokenHash: "h1", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	want := partitionSize(t, id)
	p.atQuery = nil

	var keys []string
	kinds := map[string]int{}
	err := st.Records(ctx, id, func(rec export.Record) error {
		p.mu.Lock()
		p.handed++
		p.mu.Unlock()
		keys = append(keys, rec.Key)
		kinds[rec.Kind]++
		if rec.Kind != string(dynamodb.KindOf(rec.Key)) {
			t.Errorf("%s has kind %s", rec.Key, rec.Kind)
		}
		if _, ok := rec.Fields["PK"]; ok {
			t.Errorf("%s has its PK among its fields", rec.Key)
		}
		if _, ok := rec.Fields["SK"]; ok {
			t.Errorf("%s has its SK among its fields", rec.Key)
		}
		switch rec.Kind {
		case "AUDIT":
			if f, ok := rec.Fields["fields"].([]string); !ok || (len(f) != 20 && len(f) != 2) {
				t.Errorf("%s fields: %#v, want a []string", rec.Key, rec.Fields["fields"])
			}
		case "SESSION":
			if _, ok := rec.Fields["expiresAt"].(float64); !ok {
				t.Errorf("%s expiresAt: %#v, want a float64", rec.Key, rec.Fields["expiresAt"])
			}
		case "PROFILE":
			if rec.Fields["email"] != r.Account.Profile.Email {
				t.Errorf("profile: %v", rec.Fields)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != want || !slices.IsSorted(keys) || len(slices.Compact(slices.Clone(keys))) != len(keys) {
		t.Errorf("%d records (sorted: %v), want each of the %d items once, in sort-key order", len(keys), slices.IsSorted(keys), want)
	}
	if kinds["AUDIT"] != audits+1 || kinds["PROFILE"] != 1 || kinds["CREDENTIAL"] != 1 || kinds["SESSION"] != 1 || kinds["OPTIONAL"] != 1 {
		t.Errorf("kinds: %v", kinds)
	}
	// Each page went to fn before the next was read.
	if len(p.atQuery) < 2 {
		t.Fatalf("%d queries for %d items: want pages", len(p.atQuery), want)
	}
	for i, n := range p.atQuery[1:] {
		if n <= p.atQuery[i] {
			t.Errorf("query %d came after %d records, query %d after %d: pages are held, not handed over", i+2, n, i+1, p.atQuery[i])
		}
	}

	stop := errors.New("stop")
	calls := 0
	if err := st.Records(ctx, id, func(export.Record) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("an error from fn: got %v after %d calls, want it after 1", err, calls)
	}
	none := 0
	if err := st.Records(ctx, privacy.NewSubjectID(), func(export.Record) error { none++; return nil }); err != nil || none != 0 {
		t.Errorf("nobody's partition: %d records, %v", none, err)
	}
}

// P15, P21: a copy of a real partition has every item, every field described, and no secret.
func TestP21_AnExportOfAPartitionHoldsEverythingButSecrets(t *testing.T) {
	st := newStore()
	ctx := context.Background()
	email := fmt.Sprintf("exp-%d@example.com", time.Now().UnixNano())
	r := registration(email, fmt.Sprintf("exp%d", time.Now().UnixNano()))
	r.PasswordHash = "$argon2id$v=19$m=32768,t=2,p=1$PASSWORDSECRET"
	if err := st.Register(ctx, r); err != nil {
		t.Fatal(err)
	}
	id := r.Account.SubjectID
	secrets := []string{r.PasswordHash, "CODESECRET", "LINKSECRET", "SESSIONSECRET", r.Account.EmailKey, r.Account.UsernameKey}
	if err := st.PutVerification(ctx, id, privacy.Verification{Kind: privacy.VerifyEmail, CodeHash: "CODESECRET", TokenHash: "LINKSECRET", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSession(ctx, id, privacy.Session{TokenHash: "SESSIONSECRET", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, locale := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
		var buf bytes.Buffer
		sum, err := export.Write(ctx, st, id, &buf, export.Options{Locale: locale})
		if err != nil {
			t.Fatal(err)
		}
		if want := partitionSize(t, id); sum.Items != want {
			t.Errorf("%s: %d items exported, the partition has %d", locale, sum.Items, want)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s holds the secret %q", locale, f.Name, s)
				}
			}
			switch f.Name {
			case export.IndexFile:
				if bytes.Contains(b, []byte("暂无说明")) || bytes.Contains(b, []byte("No description")) {
					t.Errorf("%s: index.html has a field with no description:\n%s", locale, b)
				}
			case export.DataFile:
				var d struct {
					Items map[string][]map[string]any `json:"items"`
				}
				if err := json.Unmarshal(b, &d); err != nil {
					t.Fatalf("data.json: %v", err)
				}
				if p := d.Items["PROFILE"]; len(p) != 1 || p[0]["fields"].(map[string]any)["email"] != email {
					t.Errorf("data.json profile: %v", p)
				}
			}
		}
	}
}
