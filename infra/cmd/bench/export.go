package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/privacyportal/portal/infra/localcloud"
	ddb "github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

const (
	// exportTimeTarget is the most an export may take, as a multiple of its floor: the bare
	// Query of the partition and a PutObject of the archive's size.
	exportTimeTarget = 2
	// exportRSSBudget is the most memory an export worker may reach, whatever the partition's
	// size: half of the template's smallest Lambda (128 MB), far under the export function's.
	exportRSSBudget = 64 << 20
)

// exportSizes are the partitions measured, and how many runs of each are timed.
var exportSizes = []struct {
	label string
	items int
	runs  int
}{
	{"10k", 10_000, 5},
	{"100k", 100_000, 3},
}

// exportRun is what bench/exportrun prints.
type exportRun struct {
	MS      float64 `json:"ms"`
	Items   int     `json:"items"`
	Bytes   int64   `json:"bytes"`
	PeakRSS int64   `json:"peakRSS"`
}

// exports seeds a subject partition of each size in exportSizes and times its export beside
// the floor, each in a child process of its own (bench/exportrun) against the local cloud's
// emulators, as the export worker would run: the time is the median of the runs, the peak
// resident set (VmHWM) the highest of them.
func exports(ctx context.Context, b *bench) ([]Result, error) {
	c, err := b.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	bin, err := buildChild(ctx, b, "exportrun")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"AWS_REGION="+c.Region, "AWS_ACCESS_KEY_ID="+localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+localcloud.SecretAccessKey, "AWS_SESSION_TOKEN=",
		"AWS_ENDPOINT_URL_DYNAMODB="+c.Endpoints.DynamoDB, "AWS_ENDPOINT_URL_S3="+c.Endpoints.S3, "S3_FORCE_PATH_STYLE=true",
		// s3rver rejects the SDK's default streaming checksums (see the README).
		"AWS_REQUEST_CHECKSUM_CALCULATION=when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required")
	table, bucket := c.Names["PortalTable"], c.Names["ExportsBucket"]

	var rs []Result
	for _, size := range exportSizes {
		id := privacy.NewSubjectID()
		t := time.Now()
		if err := seedPartition(ctx, c.DynamoDB, table, id, size.items); err != nil {
			return rs, fmt.Errorf("seed %s items: %w", size.label, err)
		}
		log.Printf("export: seeded %d items in %s", size.items, time.Since(t).Round(100*time.Millisecond))
		run := func(args ...string) (exportRun, error) {
			var r exportRun
			err := runChild(ctx, bin, env, append([]string{"-table", table, "-bucket", bucket, "-subject", string(id)}, args...), &r)
			return r, err
		}
		var times, floors []float64
		var peak, archive int64
		// Export and floor alternate (which goes first too), so both see the same machine.
		for i := range size.runs {
			key := fmt.Sprintf("exports/bench-%s-%d.zip", size.label, i)
			var ex, fl exportRun
			var eerr, ferr error
			exportIt := func() {
				ex, eerr = run("-mode", "export", "-key", key, "-locale", []string{privacy.LocaleEnglish, privacy.LocaleChinese}[i%2])
			}
			floorIt := func(n int64) { fl, ferr = run("-mode", "floor", "-key", key+".floor", "-bytes", fmt.Sprint(n)) }
			if i%2 == 0 {
				exportIt()
				if eerr == nil {
					floorIt(ex.Bytes)
				}
			} else {
				// The archive is the same size every run, but for the bytes of the time in it.
				floorIt(archive)
				exportIt()
			}
			if eerr != nil {
				return rs, eerr
			}
			if ferr != nil {
				return rs, fmt.Errorf("floor: %w", ferr)
			}
			if ex.Items != size.items+2 || fl.Items != ex.Items {
				return rs, fmt.Errorf("%s: the export read %d items and the floor %d; seeded %d", size.label, ex.Items, fl.Items, size.items+2)
			}
			archive = ex.Bytes
			times, floors = append(times, ex.MS), append(floors, fl.MS)
			peak = max(peak, ex.PeakRSS)
		}
		tr := compare("export."+size.label+".time", "ms", percentile(times, 50), "Query + PutObject", percentile(floors, 50))
		tr.target = exportTimeTarget
		mr := compare("export."+size.label+".peak_rss", "bytes", float64(peak), "64 MiB budget", exportRSSBudget)
		mr.target = 1
		rs = append(rs, tr, mr)
	}
	return rs, nil
}

// seedPartition writes a realistic account of n+2 items: a profile, a credential, and n items
// of its audit trail (three in four) and consent ledger, with the adapter's keys (writeItems).
func seedPartition(ctx context.Context, db *dynamodb.Client, table string, id privacy.SubjectID, n int) error {
	pk := &types.AttributeValueMemberS{Value: ddb.SubjectPK(id)}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	t0 := time.Now().Add(-365 * 24 * time.Hour)
	item := func(i int) map[string]types.AttributeValue {
		at := ddb.Timestamp(t0.Add(time.Duration(i) * 3 * time.Minute))
		if i%4 == 3 {
			purpose := []string{"analytics", "marketing", "profile.mobile", "email.analytics", "ads", "share.support"}[i%6]
			return map[string]types.AttributeValue{
				"PK": pk, "SK": str(ddb.SortKey(ddb.KindConsent, fmt.Sprintf("%s#00#%s", at, purpose))),
				"purpose": str(purpose), "action": str([]string{"grant", "withdraw"}[i%2]), "granted": &types.AttributeValueMemberBOOL{Value: i%2 == 0},
				"consentedAt": str(at), "policyVersion": str("1.1"), "policySha256": str("4f1d0fb3f39e6c1b6f2b3f7a8e0c9d2b5a6e7f8091a2b3c4d5e6f708192a3b4c"),
				"source": str("form"), "receiptId": str(privacy.NewID()),
			}
		}
		return map[string]types.AttributeValue{
			"PK": pk, "SK": str(ddb.SortKey(ddb.KindAudit, at+"#"+privacy.NewID()[:6])),
			"createdAt": str(at), "action": str([]string{"session.started", "profile.corrected", "consent.changed", "password.changed"}[i%4]),
			"fields": &types.AttributeValueMemberSS{Value: []string{"email", "name", "username"}[:1+i%3]},
		}
	}
	fixed := []map[string]types.AttributeValue{
		{"PK": pk, "SK": str(string(ddb.KindProfile)), "subjectId": str(string(id)), "name": str("Bench Person"), "email": str("bench-export@example.com"),
			"username": str("benchexport"), "locale": str("en"), "ageGroup": str("14+"), "status": str("active"), "createdAt": str(ddb.Timestamp(t0))},
		{"PK": pk, "SK": str(string(ddb.KindCredential)), "passwordHash": str("$argon2id$v=19$m=32768,t=2,p=1$bench$bench")},
	}
	return writeItems(ctx, db, table, n+len(fixed), func(i int) map[string]types.AttributeValue {
		if i < len(fixed) {
			return fixed[i]
		}
		return item(i)
	})
}

// writeItems writes items 0 to n-1 in BatchWriteItem calls of 25 from four writers at once,
// each retrying what DynamoDB Local leaves unprocessed after a pause, so that it keeps up.
func writeItems(ctx context.Context, db *dynamodb.Client, table string, n int, item func(i int) map[string]types.AttributeValue) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for start := 0; start < n; start += 25 {
		g.Go(func() error {
			var reqs []types.WriteRequest
			for i := start; i < min(start+25, n); i++ {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(i)}})
			}
			pending := map[string][]types.WriteRequest{table: reqs}
			for attempt := 0; len(pending) > 0; attempt++ {
				if attempt == 10 {
					return fmt.Errorf("DynamoDB Local keeps %d writes unprocessed", len(pending[table]))
				}
				out, err := db.BatchWriteItem(gctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return err
				}
				pending = out.UnprocessedItems
				if len(pending) > 0 {
					time.Sleep(time.Duration(20<<attempt) * time.Millisecond)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
