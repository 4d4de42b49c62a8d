// Package s3 implements the portal's object storage on Amazon S3.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/privacyportal/portal/internal/privacy"
)

// GetObjectAPI is the part of the S3 client Objects uses.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
}

// Objects reads objects from one bucket.
type Objects struct {
	Client GetObjectAPI
	Bucket string
	// MaxBytes bounds what Get reads; 0 means 1 MiB.
	MaxBytes int64
}

// Get returns the object at key. A missing object is a privacy.NotFound error.
func (o *Objects) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := o.Client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &o.Bucket, Key: &key})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, &privacy.Error{Code: privacy.NotFound, Message: "not found", Err: err}
		}
		return nil, fmt.Errorf("get s3 object %s: %w", key, err)
	}
	defer out.Body.Close()
	limit := o.MaxBytes
	if limit == 0 {
		limit = 1 << 20
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read s3 object %s: %w", key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("s3 object %s is over %d bytes", key, limit)
	}
	return b, nil
}

// OutboxAPI is the part of the S3 client Outbox uses.
type OutboxAPI interface {
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *awss3.DeleteObjectInput, optFns ...func(*awss3.Options)) (*awss3.DeleteObjectOutput, error)
}

// Outbox writes objects to one bucket: where recipients collect what is disclosed to them.
type Outbox struct {
	Client OutboxAPI
	Bucket string
}

// Delete removes the object at key; one that is not there (collected) is no error.
func (o *Outbox) Delete(ctx context.Context, key string) error {
	if _, err := o.Client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &o.Bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete s3 object: %w", err)
	}
	return nil
}

// Put writes one JSON object at key.
func (o *Outbox) Put(ctx context.Context, key string, body []byte) error {
	ct := "application/json"
	if _, err := o.Client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &o.Bucket, Key: &key, Body: bytes.NewReader(body), ContentType: &ct}); err != nil {
		return fmt.Errorf("put s3 object: %w", err)
	}
	return nil
}

// PresignGetAPI is the part of the S3 presign client Presigner uses. The URL it makes acts
// with the signer's credentials, so the signer needs s3:GetObject on the key, and the URL
// works only while those credentials do (a Lambda's last hours at most): hence URLs are made
// when a link is followed, for minutes, and never mailed.
type PresignGetAPI interface {
	PresignGetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Presigner makes short-lived download URLs for the objects of one bucket.
type Presigner struct {
	Client PresignGetAPI
	Bucket string
}

// PresignGet returns a URL that downloads the object at key for ttl, as an attachment.
func (p *Presigner) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	disposition := `attachment; filename="` + path.Base(key) + `"`
	out, err := p.Client.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: &p.Bucket, Key: &key, ResponseContentDisposition: &disposition},
		awss3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign s3 object: %w", err)
	}
	return out.URL, nil
}
