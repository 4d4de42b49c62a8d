package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacyportal/portal/infra/localcloud"
)

// roundTrip is an API call timed through the local cloud's gateway, beside the bare emulator
// call that is its floor. A new one (say register beside a DynamoDB PutItem) is one entry in
// roundTrips.
type roundTrip struct {
	// name gives the results their names: roundtrip.<name>.p50 and .p99.
	name      string
	call      func(ctx context.Context, c *localcloud.Cloud, i int) error
	floorName string
	floor     func(ctx context.Context, c *localcloud.Cloud, i int) error
	// setup, when set, runs once before the calls (e.g. to create accounts to sign in to).
	setup func(ctx context.Context, c *localcloud.Cloud) error
}

var roundTrips = []roundTrip{
	// The floor is not a lower bound here: the status function keeps policy/versions.json in
	// memory for a minute, so a warm GET /api/status (gateway, RIE, handler) does not reach S3
	// and measured ~1.6 ms p50 against ~2.8 ms for one GetObject from s3rver. The ratio shows
	// what S3 would add to every call without that cache.
	{name: "status", call: getStatus, floorName: "S3 GetObject", floor: getPolicyVersions},
	// Registration counts its limits, validates (the password rule), hashes the password
	// (argon2id, 32 MiB, 2 passes), reads the address's look-ups, writes one transaction and
	// hands the mail to the queue; the floor is one bare PutItem.
	{name: "register", call: register, floorName: "DynamoDB PutItem", floor: putItem},
	// Sign-in: three rate-limit updates, the login's look-up, a Query, argon2id, and a PutItem.
	{name: "signin", call: signIn, floorName: "DynamoDB PutItem", floor: putItem, setup: signInAccounts},
	// A consent change: the session, the account and its ledger read, one transaction (the
	// account checked live, the entry put) and the receipt handed to the queue.
	{name: "consent", call: putConsent, floorName: "DynamoDB PutItem", floor: putItem, setup: consentAccounts},
}

// versionsKey is what the status function reads (status.VersionsKey, which is internal to
// functions/).
const versionsKey = "policy/versions.json"

// apiClient keeps connections alive between calls, as a browser does.
var apiClient = &http.Client{Timeout: 15 * time.Second}

// getStatus is GET /api/status through the gateway: a Lambda invoke under RIE, which reads
// policy/versions.json from S3 when its cache is cold (then serves it from memory for a
// minute, so most of these calls do not reach S3).
func getStatus(ctx context.Context, c *localcloud.Cloud, _ int) error {
	return get(ctx, c.URL+"/api/status")
}

// getPolicyVersions is the bare S3 read behind the status endpoint.
func getPolicyVersions(ctx context.Context, c *localcloud.Cloud, _ int) error {
	out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.Names["SiteBucket"]), Key: aws.String(versionsKey)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	_, err = io.Copy(io.Discard, out.Body)
	return err
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

// roundTripsThroughCloud runs every round trip against one local cloud. A call and its floor
// alternate (which goes first alternates too), so both see the same machine.
func roundTripsThroughCloud(ctx context.Context, b *bench) ([]Result, error) {
	c, err := b.Cloud(ctx)
	if err != nil {
		return nil, err
	}
	var rs []Result
	for _, rt := range roundTrips {
		if rt.setup != nil {
			if err := rt.setup(ctx, c); err != nil {
				return rs, fmt.Errorf("%s setup: %w", rt.name, err)
			}
		}
		calls, floors, err := timeRoundTrips(ctx, c, rt, b.cfg.warmUps, b.cfg.roundTrips)
		if err != nil {
			return rs, fmt.Errorf("%s: %w", rt.name, err)
		}
		for _, p := range []float64{50, 99} {
			rs = append(rs, compare(fmt.Sprintf("roundtrip.%s.p%g", rt.name, p), "ms",
				percentile(calls, p), rt.floorName, percentile(floors, p)))
		}
	}
	return rs, nil
}

func timeRoundTrips(ctx context.Context, c *localcloud.Cloud, rt roundTrip, warmUps, n int) (calls, floors []float64, err error) {
	timed := func(f func(context.Context, *localcloud.Cloud, int) error, i int) (float64, error) {
		t := time.Now()
		err := f(ctx, c, i)
		return float64(time.Since(t)) / float64(time.Millisecond), err
	}
	for i := range warmUps + n {
		var call, floor float64
		var cerr, ferr error
		if i%2 == 0 {
			call, cerr = timed(rt.call, i)
			floor, ferr = timed(rt.floor, i)
		} else {
			floor, ferr = timed(rt.floor, i)
			call, cerr = timed(rt.call, i)
		}
		if cerr != nil {
			return nil, nil, cerr
		}
		if ferr != nil {
			return nil, nil, fmt.Errorf("floor: %w", ferr)
		}
		if i >= warmUps {
			calls, floors = append(calls, call), append(floors, floor)
		}
	}
	return calls, floors, nil
}
