package dynamodb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

// smallPages makes every Scan read at most three items a page, so that a table of a few dozen
// items takes many pages, some of them with no subject at all (a filter applies after the
// limit).
type smallPages struct {
	dynamodb.API
	scans int
}

func (p *smallPages) Scan(ctx context.Context, in *ddb.ScanInput, optFns ...func(*ddb.Options)) (*ddb.ScanOutput, error) {
	p.scans++
	in.Limit = aws.Int32(3)
	return p.API.Scan(ctx, in, optFns...)
}

// A restore re-applies erasures to every subject of the restored table (P17): Subjects finds
// each partition once, however many items and pages it spans, and nothing that is not a
// subject's (look-ups, tombstones, data keys).
func TestP17_SubjectsListsEveryPartitionOnce(t *testing.T) {
	ctx := context.Background()
	p := &smallPages{API: tables.DynamoDB}
	st := &dynamodb.Store{Client: p, Table: tables.Names["PortalTable"]}
	var ours []privacy.SubjectID
	for i := range 2 {
		r := registration(fmt.Sprintf("subj%d-%d@example.com", i, time.Now().UnixNano()), fmt.Sprintf("subj%d%d", i, time.Now().UnixNano()))
		mustRegister(t, st, r)
		for j := range 4 {
			if err := st.PutSession(ctx, r.Account.SubjectID, privacy.Session{TokenHash: fmt.Sprint("s", j), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		ours = append(ours, r.Account.SubjectID)
	}
	if err := st.PutTombstone(ctx, privacy.Tombstone{Request: privacy.NewID(), Type: privacy.RequestCancellation, SubjectHash: "h", State: privacy.ErasureDone, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}

	got, err := st.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ours {
		if n := countOf(got, id); n != 1 {
			t.Errorf("subject %s listed %d times, want once", id, n)
		}
	}
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(got) {
		t.Errorf("Subjects lists a subject more than once")
	}
	for _, id := range got {
		if id == "" || strings.Contains(string(id), "#") {
			t.Errorf("Subjects lists %q, which is not a subject ID", id)
		}
	}
	if p.scans < 3 {
		t.Errorf("%d scans: the test meant to read many pages", p.scans)
	}
}

func countOf(ids []privacy.SubjectID, id privacy.SubjectID) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
