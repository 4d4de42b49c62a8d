// Command exportrun is the export bench's worker: a process of its own, as the export function
// is, so that its peak memory is a worker's and not the bench's. With -mode export it streams
// a subject's partition as a zip into the exports bucket (dynamodb.Store.Records, export.Write,
// s3.MultipartWriter); with -mode floor it makes the bare calls that export cannot do without:
// a Query of every page of the partition and one PutObject of -bytes bytes. It is configured
// as a function is (internal/awsenv: AWS_REGION, credentials and AWS_ENDPOINT_URL_<SERVICE>),
// and prints one JSON line: the time taken, what it wrote, and its peak resident set (VmHWM).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/privacyportal/portal/infra/cmd/bench/runstat"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/s3"
)

// Result is what a run prints.
type Result struct {
	Mode  string  `json:"mode"`
	MS    float64 `json:"ms"`
	Items int     `json:"items"`
	Bytes int64   `json:"bytes"`
	// PeakRSS is the process's peak resident set size in bytes (VmHWM).
	PeakRSS int64 `json:"peakRSS"`
}

func main() {
	mode := flag.String("mode", "export", "export, or floor (a bare Query of the partition and a PutObject of -bytes)")
	table := flag.String("table", "", "the table")
	bucket := flag.String("bucket", "", "the exports bucket")
	subject := flag.String("subject", "", "the subject whose partition is read")
	key := flag.String("key", "", "the object key to write")
	locale := flag.String("locale", privacy.LocaleEnglish, "the language of index.html")
	size := flag.Int64("bytes", 0, "with -mode floor: the size of the object put")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("exportrun: ")
	if *table == "" || *bucket == "" || *subject == "" || *key == "" {
		log.Fatal("-table, -bucket, -subject and -key are required")
	}
	ctx := context.Background()
	cfg, err := awsenv.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	db := awsddb.NewFromConfig(cfg, func(o *awsddb.Options) { o.BaseEndpoint = awsenv.Endpoint("DYNAMODB") })
	st := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint = awsenv.Endpoint("S3")
		o.UsePathStyle = awsenv.S3PathStyle()
	})
	id := privacy.SubjectID(*subject)

	stopProfile, err := runstat.Profile(*cpuProfile)
	if err != nil {
		log.Fatal(err)
	}
	var r Result
	switch *mode {
	case "export":
		r, err = runExport(ctx, &dynamodb.Store{Client: db, Table: *table}, st, *bucket, *key, id, *locale)
	case "floor":
		r, err = runFloor(ctx, db, st, *table, *bucket, *key, id, *size)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	stopProfile()
	if err != nil {
		log.Fatal(err)
	}
	if r.PeakRSS, err = runstat.PeakRSS(); err != nil {
		log.Fatal(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		log.Fatal(err)
	}
}

// runExport is what the export worker does with a copy request: the partition, as a zip,
// streamed into the bucket.
func runExport(ctx context.Context, store *dynamodb.Store, client *awss3.Client, bucket, key string, id privacy.SubjectID, locale string) (Result, error) {
	t := time.Now()
	w := s3.NewMultipartWriter(ctx, client, bucket, key, "application/zip")
	defer w.Abort()
	sum, err := export.Write(ctx, store, id, w, export.Options{Locale: locale})
	if err != nil {
		return Result{}, err
	}
	if err := w.Close(); err != nil {
		return Result{}, err
	}
	return Result{Mode: "export", MS: runstat.MS(time.Since(t)), Items: sum.Items, Bytes: sum.Bytes}, nil
}

// runFloor is the least an export could do: read every page of the partition, decoding
// nothing, and put an object of the archive's size.
func runFloor(ctx context.Context, db *awsddb.Client, client *awss3.Client, table, bucket, key string, id privacy.SubjectID, size int64) (Result, error) {
	body := make([]byte, size) // made before the clock starts
	t := time.Now()
	in := &awsddb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: dynamodb.SubjectPK(id)}},
		ConsistentRead:            aws.Bool(true),
	}
	items := 0
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return Result{}, err
		}
		items += len(out.Items)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(size)})
	if err != nil {
		return Result{}, err
	}
	return Result{Mode: "floor", MS: runstat.MS(time.Since(t)), Items: items, Bytes: size}, nil
}
