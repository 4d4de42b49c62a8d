package localcloud

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// BenchmarkIAMProxy compares a DynamoDB GetItem made straight to DynamoDB Local with the same
// call made through the IAM proxy with a function's credentials: the difference is what the
// proxy costs every call a function makes.
//
//	go test -run '^$' -bench IAMProxy ./infra/localcloud/
func BenchmarkIAMProxy(b *testing.B) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	ctx := context.Background()
	c, err := StartServices(ctx, Config{Root: root, Prefix: "bench"}, "dynamodb")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// Resolved for this stack's names, as Start resolves it for the functions' policies.
	st, err := samtemplate.Load(c.cfg.Template, samtemplate.Options{Region: c.Region, AccountID: c.namer.account, StackName: c.prefix, Namer: c.namer})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.startIAMProxy(st); err != nil {
		b.Fatal(err)
	}
	table := c.Names["PortalTable"]
	pr := c.iam.byFn["SweeperFunction"] // allowed GetItem on the table
	viaProxy := dynamodb.NewFromConfig(aws.Config{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(pr.accessKey, pr.secret, pr.token),
		HTTPClient:  c.AWS.HTTPClient,
	}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(c.FunctionEndpoints.DynamoDB) })
	in := &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "a"}, "SK": &types.AttributeValueMemberS{Value: "b"}}}
	for _, bc := range []struct {
		name   string
		client *dynamodb.Client
	}{{"direct", c.DynamoDB}, {"proxy", viaProxy}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if _, err := bc.client.GetItem(cctx, in); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
	}
}
