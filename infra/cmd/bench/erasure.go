package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/localcloud"
	ddb "github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

const (
	// erasureTimeTarget is the most an erasure's passes over the table (CountItems,
	// EraseSubject, Remains) may take, as a multiple of its floor: the bare Query of the
	// partition's keys and the BatchWriteItem deletes of them.
	erasureTimeTarget = 1.5
	// erasureRSSBudget is the most memory an erasure worker may reach, whatever the
	// partition's size: the export worker's budget, half of the template's smallest Lambda.
	erasureRSSBudget = exportRSSBudget
)

// erasureSizes are the partitions measured, and how many runs of each are timed. Each run
// erases what it measures, so each seeds its two partitions afresh.
var erasureSizes = []struct {
	label string
	items int
	runs  int
}{
	{"100k", 100_000, 3},
}

// erasureRun is what bench/erasurerun prints.
type erasureRun struct {
	MS      float64            `json:"ms"`
	Counted int                `json:"counted"`
	Items   int                `json:"items"`
	Lookups int                `json:"lookups"`
	Found   []string           `json:"found"`
	Passes  map[string]float64 `json:"passes"`
	Calls   map[string]int     `json:"calls"`
	PeakRSS int64              `json:"peakRSS"`
}

// erasures seeds, for each run, two subject partitions of each size in erasureSizes (as the
// export bench does, and the erased one's address and username look-ups), then times the
// erasure of one beside the floor on the other, each in a child process of its own
// (bench/erasurerun) against the local cloud's DynamoDB, as the erasure worker would run: the
// time is the median of the runs, the peak resident set (VmHWM) the highest of them.
func erasures(ctx context.Context, b *bench) ([]Result, error) {
	c, err := b.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	bin, err := buildChild(ctx, b, "erasurerun")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"AWS_REGION="+c.Region, "AWS_ACCESS_KEY_ID="+localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+localcloud.SecretAccessKey, "AWS_SESSION_TOKEN=",
		"AWS_ENDPOINT_URL_DYNAMODB="+c.Endpoints.DynamoDB)
	table := c.Names["PortalTable"]
	run := func(args ...string) (erasureRun, error) {
		var r erasureRun
		err := runChild(ctx, bin, env, append([]string{"-table", table}, args...), &r)
		return r, err
	}

	var rs []Result
	for _, size := range erasureSizes {
		var times, floors []float64
		var peak int64
		for i := range size.runs {
			// Both partitions are seeded before either is timed.
			erased, bare := privacy.NewSubjectID(), privacy.NewSubjectID()
			emailKey, usernameKey := "bench-erasure-email-"+string(erased), "bench-erasure-username-"+string(erased)
			t := time.Now()
			for _, id := range []privacy.SubjectID{erased, bare} {
				if err := seedPartition(ctx, c.DynamoDB, table, id, size.items); err != nil {
					return rs, fmt.Errorf("seed %s items: %w", size.label, err)
				}
			}
			if err := seedLookups(ctx, c.DynamoDB, table, erased, emailKey, usernameKey); err != nil {
				return rs, fmt.Errorf("seed look-ups: %w", err)
			}
			log.Printf("erasure: seeded 2x%d items in %s", size.items, time.Since(t).Round(100*time.Millisecond))

			var er, fl erasureRun
			var eerr, ferr error
			eraseIt := func() {
				er, eerr = run("-mode", "erasure", "-subject", string(erased), "-email-key", emailKey, "-username-key", usernameKey)
			}
			floorIt := func() { fl, ferr = run("-mode", "floor", "-subject", string(bare)) }
			// Erasure and floor alternate which goes first, so both see the same machine.
			if i%2 == 0 {
				eraseIt()
				if eerr == nil {
					floorIt()
				}
			} else {
				floorIt()
				if ferr == nil {
					eraseIt()
				}
			}
			if eerr != nil {
				return rs, eerr
			}
			if ferr != nil {
				return rs, fmt.Errorf("floor: %w", ferr)
			}
			want := size.items + 2
			if er.Counted != want || er.Items != want || er.Lookups != 2 || len(er.Found) > 0 || fl.Items != want {
				return rs, fmt.Errorf("%s: the erasure counted %d items, deleted %d and %d look-ups and found %v left, the floor deleted %d; seeded %d and 2 look-ups",
					size.label, er.Counted, er.Items, er.Lookups, er.Found, fl.Items, want)
			}
			log.Printf("erasure: run %d: erasure %.0f ms (CountItems %.0f, EraseSubject %.0f, Remains %.0f; calls %v), floor %.0f ms (calls %v)",
				i+1, er.MS, er.Passes["CountItems"], er.Passes["EraseSubject"], er.Passes["Remains"], er.Calls, fl.MS, fl.Calls)
			times, floors = append(times, er.MS), append(floors, fl.MS)
			peak = max(peak, er.PeakRSS)
		}
		tr := compare("erasure."+size.label+".time", "ms", percentile(times, 50), "Query + BatchWriteItem", percentile(floors, 50))
		tr.target = erasureTimeTarget
		mr := compare("erasure."+size.label+".peak_rss", "bytes", float64(peak), "64 MiB budget", erasureRSSBudget)
		mr.target = 1
		rs = append(rs, tr, mr)
	}
	return rs, nil
}

// seedLookups writes the subject's address and username look-ups, as registration does.
func seedLookups(ctx context.Context, db *dynamodb.Client, table string, id privacy.SubjectID, emailKey, usernameKey string) error {
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, pk := range []string{ddb.EmailLookupPK(emailKey), ddb.UsernameLookupPK(usernameKey)} {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]types.AttributeValue{
			"PK": str(pk), "SK": str(ddb.LookupSK), "subjectId": str(string(id)),
		}})
		if err != nil {
			return err
		}
	}
	return nil
}
