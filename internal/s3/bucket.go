package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// BucketAPI is the part of the S3 client Bucket uses.
type BucketAPI interface {
	ListObjectsV2(ctx context.Context, in *awss3.ListObjectsV2Input, optFns ...func(*awss3.Options)) (*awss3.ListObjectsV2Output, error)
	HeadObject(ctx context.Context, in *awss3.HeadObjectInput, optFns ...func(*awss3.Options)) (*awss3.HeadObjectOutput, error)
	DeleteObject(ctx context.Context, in *awss3.DeleteObjectInput, optFns ...func(*awss3.Options)) (*awss3.DeleteObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
}

// Bucket lists, finds, deletes and writes the objects of one bucket: what erasure does to the
// objects about a person. Listing needs s3:ListBucket on the bucket; Exists needs s3:GetObject
// on the key and s3:ListBucket on the bucket (without the latter, S3 answers a missing key with
// 403, not 404).
type Bucket struct {
	Client BucketAPI
	Bucket string
}

// List returns the keys under prefix.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := awss3.NewListObjectsV2Paginator(b.Client, &awss3.ListObjectsV2Input{Bucket: &b.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3 objects: %w", err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
	}
	return keys, nil
}

// Exists reports whether there is an object at key.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.Client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.Bucket, Key: &key})
	var missing *types.NotFound
	if errors.As(err, &missing) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("head s3 object: %w", err)
	}
	return true, nil
}

// Delete removes the object at key; one that is not there is no error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if _, err := b.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &b.Bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete s3 object: %w", err)
	}
	return nil
}

// Put writes one JSON object at key.
func (b *Bucket) Put(ctx context.Context, key string, body []byte) error {
	ct := "application/json"
	if _, err := b.Client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &b.Bucket, Key: &key, Body: bytes.NewReader(body), ContentType: &ct}); err != nil {
		return fmt.Errorf("put s3 object: %w", err)
	}
	return nil
}
