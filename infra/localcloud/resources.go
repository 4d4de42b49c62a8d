package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// namer gives local resources their names: the stack prefix and the logical ID, as
// CloudFormation would (minus its random suffix), so several clouds can share one emulator.
type namer struct {
	prefix  string
	region  string
	account string
	queues  map[string]queueInfo // by logical ID, once created
	keys    map[string]keyInfo   // KMS keys by logical ID, once created
	aliases map[string]string    // KMS alias names by logical ID, once read
}

type queueInfo struct{ name, url, arn string }

func (n *namer) name(id, typ string) string {
	switch typ {
	case "AWS::S3::Bucket":
		return strings.ToLower(n.prefix + "-" + id)
	}
	return n.prefix + "-" + id
}

// Ref is a queue's URL and a KMS key's ID once created, an alias's name, an SNS topic's ARN
// (as CloudFormation's Ref of a topic is), and every other resource's name.
func (n *namer) Ref(id, typ string) string {
	if typ == "AWS::SNS::Topic" {
		return samtemplate.GenericAttr(n.name(id, typ), typ, "Arn", n.region, n.account)
	}
	if q, ok := n.queues[id]; ok && typ == "AWS::SQS::Queue" {
		return q.url
	}
	if k, ok := n.keys[id]; ok && typ == "AWS::KMS::Key" {
		return k.id
	}
	if a, ok := n.aliases[id]; ok && typ == "AWS::KMS::Alias" {
		return a
	}
	return n.name(id, typ)
}

func (n *namer) Attr(id, typ, attr string) string {
	if typ == "AWS::SQS::Queue" {
		if q, ok := n.queues[id]; ok {
			switch attr {
			case "Arn":
				return q.arn
			case "QueueName":
				return q.name
			case "QueueUrl":
				return q.url
			}
		}
	}
	if typ == "AWS::SNS::Topic" && attr == "TopicArn" {
		return n.Ref(id, typ)
	}
	if typ == "AWS::KMS::Key" {
		if k, ok := n.keys[id]; ok {
			switch attr {
			case "Arn":
				return k.arn
			case "KeyId":
				return k.id
			}
		}
	}
	return samtemplate.GenericAttr(n.name(id, typ), typ, attr, n.region, n.account)
}

// convert copies generic template values into SDK types, whose field names match
// CloudFormation's property names.
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

func (c *Cloud) createTables(ctx context.Context, st *samtemplate.Stack) error {
	for _, id := range st.Resources("AWS::DynamoDB::Table") {
		p := st.Properties(id)
		name := c.namer.name(id, "AWS::DynamoDB::Table")
		in := &dynamodb.CreateTableInput{TableName: &name, BillingMode: ddbtypes.BillingModePayPerRequest}
		if err := convert(p["AttributeDefinitions"], &in.AttributeDefinitions); err != nil {
			return fmt.Errorf("table %s: %w", id, err)
		}
		if err := convert(p["KeySchema"], &in.KeySchema); err != nil {
			return fmt.Errorf("table %s: %w", id, err)
		}
		if g, ok := p["GlobalSecondaryIndexes"]; ok {
			if err := convert(g, &in.GlobalSecondaryIndexes); err != nil {
				return fmt.Errorf("table %s: %w", id, err)
			}
		}
		if _, err := c.DynamoDB.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("create table %s: %w", id, err)
		}
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok {
			var spec ddbtypes.TimeToLiveSpecification
			if err := convert(ttl, &spec); err != nil {
				return err
			}
			// DynamoDB Local records the TTL setting but, unlike DynamoDB, never deletes expired
			// items: code must treat an expired item as absent, not rely on it being gone.
			if _, err := c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &name, TimeToLiveSpecification: &spec}); err != nil {
				return fmt.Errorf("table %s ttl: %w", id, err)
			}
		}
		c.Names[id] = name
	}
	return nil
}

// createQueues creates every queue, then sets the attributes that refer to other queues
// (redrive policies), once their ARNs exist.
func (c *Cloud) createQueues(ctx context.Context, ids []string) error {
	for _, id := range ids {
		name := c.namer.name(id, "AWS::SQS::Queue")
		out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
		if err != nil {
			return fmt.Errorf("create queue %s: %w", id, err)
		}
		attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			return fmt.Errorf("queue %s arn: %w", id, err)
		}
		c.namer.queues[id] = queueInfo{name: name, url: *out.QueueUrl, arn: attrs.Attributes["QueueArn"]}
		c.Names[id] = *out.QueueUrl
	}
	return nil
}

var queueAttributes = []string{"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout"}

func (c *Cloud) configureQueues(ctx context.Context, st *samtemplate.Stack) error {
	for _, id := range st.Resources("AWS::SQS::Queue") {
		p := st.Properties(id)
		attrs := map[string]string{}
		for _, a := range queueAttributes {
			if v, ok := p[a]; ok {
				attrs[a] = fmt.Sprint(v)
			}
		}
		if rp, ok := p["RedrivePolicy"]; ok {
			b, err := json.Marshal(rp)
			if err != nil {
				return err
			}
			attrs["RedrivePolicy"] = string(b)
		}
		if len(attrs) == 0 {
			continue
		}
		url := c.namer.queues[id].url
		if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: attrs}); err != nil {
			return fmt.Errorf("configure queue %s: %w", id, err)
		}
	}
	return nil
}

// nameUnemulated records in Names the resources no emulator holds that functions and the
// local cloud still name: SES configuration sets (their name) and SNS topics (their ARN, what
// Ref gives).
func (c *Cloud) nameUnemulated(st *samtemplate.Stack) {
	for _, typ := range []string{"AWS::SES::ConfigurationSet", "AWS::SNS::Topic"} {
		for _, id := range st.Resources(typ) {
			c.Names[id] = c.namer.Ref(id, typ)
		}
	}
}

func (c *Cloud) createBuckets(ctx context.Context, st *samtemplate.Stack) error {
	for _, id := range st.Resources("AWS::S3::Bucket") {
		name := c.namer.name(id, "AWS::S3::Bucket")
		// Lifecycle rules, encryption and bucket policies are not created: s3rver implements
		// none of them. The template tests check them instead.
		if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
			return fmt.Errorf("create bucket %s: %w", id, err)
		}
		c.Names[id] = name
	}
	return nil
}

// uploadSite copies the built site into the site bucket, as a deploy does, so functions read
// the same published files (e.g. policy/versions.json) they read in AWS.
func (c *Cloud) uploadSite(ctx context.Context, bucket string) error {
	return filepath.WalkDir(c.SiteDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(c.SiteDir, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		ct := mime.TypeByExtension(filepath.Ext(path))
		if ct == "" {
			ct = "application/octet-stream"
		}
		_, err = c.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: aws.String(filepath.ToSlash(rel)), Body: f, ContentType: &ct,
		})
		if err != nil {
			return fmt.Errorf("upload %s: %w", rel, err)
		}
		return nil
	})
}
