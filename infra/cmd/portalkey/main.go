// Command portalkey makes the portal's hash key, once, after the stack is deployed: KMS
// generates it under the stack's key (the PortalKeyId output), and only its encrypted form is
// stored in the table (the TableName output), where the functions, allowed only kms:Decrypt,
// read and decrypt it at their first request. Running it again changes nothing. infra/deploy.sh
// runs it with the operator's credentials; the local cloud does the same at its start.
//
// Usage: go run ./infra/cmd/portalkey -table NAME -key KEY-ID [-region REGION]
package main

import (
	"context"
	"flag"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
)

func main() {
	table := flag.String("table", "", "the portal's table (the stack's TableName output)")
	keyID := flag.String("key", "", "the portal's KMS key (the stack's PortalKeyId output)")
	region := flag.String("region", "", "the stack's region (default: the AWS configuration's)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("portalkey: ")
	if *table == "" || *keyID == "" {
		log.Fatal("-table and -key are required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		log.Fatal(err)
	}
	store := &dynamodb.Store{Client: awsddb.NewFromConfig(cfg), Table: *table}
	keys := &kms.DataKeys{Client: awskms.NewFromConfig(cfg), KeyID: *keyID}
	if err := Make(ctx, keys, store); err != nil {
		log.Fatal(err)
	}
	log.Print("the hash key is in place")
}

// Make makes the hash key if there is none. It never prints or returns the key.
func Make(ctx context.Context, keys keyring.DataKeys, store keyring.Ciphertexts) error {
	_, err := keyring.Load(ctx, keys, store, keyring.HashKeyName)
	return err
}
