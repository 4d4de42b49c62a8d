// Command erasurerun is the erasure bench's worker: a process of its own, as the erasure
// function is, so that its peak memory is a worker's and not the bench's. With -mode erasure
// it makes the erasure worker's three passes over a subject's partition (dynamodb.Store's
// CountItems, EraseSubject and Remains); with -mode floor it makes the bare calls that erasure
// cannot do without: a Query of every page of the partition's keys and BatchWriteItem deletes
// of those keys, 25 a call, one call at a time. It is configured as a function is
// (internal/awsenv: AWS_REGION, credentials and AWS_ENDPOINT_URL_<SERVICE>), and prints one
// JSON line: the time taken, what it counted and deleted, the DynamoDB calls it made, and its
// peak resident set (VmHWM).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/privacyportal/portal/infra/cmd/bench/runstat"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/privacy"
)

// Result is what a run prints.
type Result struct {
	Mode string  `json:"mode"`
	MS   float64 `json:"ms"`
	// Counted is what CountItems counted, every kind together (erasure only).
	Counted int `json:"counted"`
	// Items are the partition items deleted; Lookups the look-ups (erasure only).
	Items   int `json:"items"`
	Lookups int `json:"lookups"`
	// Found is what Remains found left (erasure only).
	Found []string `json:"found"`
	// Passes are the erasure's three passes' times (CountItems, EraseSubject, Remains), in
	// milliseconds (erasure only).
	Passes map[string]float64 `json:"passes,omitempty"`
	// Calls counts the DynamoDB operations made, by name (retries not counted again).
	Calls map[string]int `json:"calls"`
	// PeakRSS is the process's peak resident set size in bytes (VmHWM).
	PeakRSS int64 `json:"peakRSS"`
}

func main() {
	mode := flag.String("mode", "erasure", "erasure, or floor (a bare Query of the partition's keys and BatchWriteItem deletes of them)")
	table := flag.String("table", "", "the table")
	subject := flag.String("subject", "", "the subject whose partition is erased")
	emailKey := flag.String("email-key", "", "with -mode erasure: the subject's keyed address hash")
	usernameKey := flag.String("username-key", "", "with -mode erasure: the subject's keyed username hash")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("erasurerun: ")
	if *table == "" || *subject == "" {
		log.Fatal("-table and -subject are required")
	}
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	calls := &counter{n: map[string]int{}}
	db := awsddb.NewFromConfig(cfg, func(o *awsddb.Options) {
		o.BaseEndpoint = awsenv.Endpoint("DYNAMODB")
		o.APIOptions = append(o.APIOptions, calls.add)
	})
	id := privacy.SubjectID(*subject)

	stopProfile, err := runstat.Profile(*cpuProfile)
	if err != nil {
		log.Fatal(err)
	}
	var r Result
	switch *mode {
	case "erasure":
		r, err = runErasure(ctx, &dynamodb.Store{Client: db, Table: *table}, id, *emailKey, *usernameKey)
	case "floor":
		r, err = runFloor(ctx, db, *table, id)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	stopProfile()
	if err != nil {
		log.Fatal(err)
	}
	r.Calls = calls.n
	if r.PeakRSS, err = runstat.PeakRSS(); err != nil {
		log.Fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		log.Fatal(err)
	}
}

// runErasure is what the erasure worker does with the table: count the partition's items for
// the tombstone, erase them and the look-ups, then search for what is left.
func runErasure(ctx context.Context, store *dynamodb.Store, id privacy.SubjectID, emailKey, usernameKey string) (Result, error) {
	t := time.Now()
	counts, err := store.CountItems(ctx, id)
	if err != nil {
		return Result{}, err
	}
	counted := time.Now()
	items, lookups, err := store.EraseSubject(ctx, id, emailKey, usernameKey)
	if err != nil {
		return Result{}, err
	}
	erased := time.Now()
	found, err := store.Remains(ctx, id, emailKey, usernameKey)
	if err != nil {
		return Result{}, err
	}
	r := Result{Mode: "erasure", MS: runstat.MS(time.Since(t)), Items: items, Lookups: lookups, Found: found, Passes: map[string]float64{
		"CountItems": runstat.MS(counted.Sub(t)), "EraseSubject": runstat.MS(erased.Sub(counted)), "Remains": runstat.MS(time.Since(erased)),
	}}
	for _, n := range counts {
		r.Counted += n
	}
	return r, nil
}

// runFloor is the least an erasure could do: read every page of the partition's keys,
// decoding nothing, and delete them, 25 a call, one call at a time.
func runFloor(ctx context.Context, db *awsddb.Client, table string, id privacy.SubjectID) (Result, error) {
	t := time.Now()
	in := &awsddb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ProjectionExpression:      aws.String("PK, SK"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(id)}},
		ConsistentRead:            aws.Bool(true),
	}
	items := 0
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return Result{}, err
		}
		for keys := out.Items; len(keys) > 0; {
			chunk := keys[:min(25, len(keys))]
			keys = keys[len(chunk):]
			reqs := make([]types.WriteRequest, len(chunk))
			for i, k := range chunk {
				reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
			}
			pending := map[string][]types.WriteRequest{table: reqs}
			for attempt := 0; len(pending) > 0; attempt++ {
				if attempt == 10 {
					return Result{}, fmt.Errorf("DynamoDB Local keeps %d deletes unprocessed", len(pending[table]))
				}
				out, err := db.BatchWriteItem(ctx, &awsddb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return Result{}, err
				}
				pending = out.UnprocessedItems
				if len(pending) > 0 {
					time.Sleep(time.Duration(20<<attempt) * time.Millisecond)
				}
			}
			items += len(chunk)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return Result{Mode: "floor", MS: runstat.MS(time.Since(t)), Items: items}, nil
}

// counter counts a client's operations by name, once each however often the SDK retries it.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCount", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.n[awsmiddleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}
