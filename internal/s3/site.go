package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// SiteAPI is the part of the S3 client Site uses.
type SiteAPI interface {
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
}

// Site reads and writes the JSON files the operator publishes into the site bucket at run time
// (public notices). Put marks them no-cache: CloudFront and browsers ask again each time, so a
// notice withdrawn leaves the home page at once.
type Site struct {
	Client SiteAPI
	Bucket string
}

// Get reads the object at key (privacy.NotFound if there is none).
func (s *Site) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, privacy.Errorf(privacy.NotFound, "no %s in the site bucket", key)
	}
	if err != nil {
		return nil, fmt.Errorf("get s3 object: %w", err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// Put writes one JSON object at key.
func (s *Site) Put(ctx context.Context, key string, body []byte) error {
	ct, cc := "application/json", "no-cache"
	if _, err := s.Client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &s.Bucket, Key: &key, Body: bytes.NewReader(body), ContentType: &ct, CacheControl: &cc,
	}); err != nil {
		return fmt.Errorf("put s3 object: %w", err)
	}
	return nil
}
