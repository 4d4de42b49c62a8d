package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MultipartAPI is the part of the S3 client MultipartWriter uses. An object written through it
// needs s3:PutObject on the key (which covers creating, uploading parts of and completing a
// multipart upload) and s3:AbortMultipartUpload.
type MultipartAPI interface {
	PutObject(ctx context.Context, in *awss3.PutObjectInput, optFns ...func(*awss3.Options)) (*awss3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *awss3.CreateMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *awss3.UploadPartInput, optFns ...func(*awss3.Options)) (*awss3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *awss3.CompleteMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *awss3.AbortMultipartUploadInput, optFns ...func(*awss3.Options)) (*awss3.AbortMultipartUploadOutput, error)
}

// PartSize is the size of every part of an upload but the last: S3's smallest.
const PartSize = 5 << 20

// maxParts is the most parts S3 takes in one upload (50 GiB at PartSize, far beyond an export).
const maxParts = 10000

// abortTimeout bounds the abort of an upload, which runs even when the writer's context has
// ended (that is often why it is aborted).
const abortTimeout = 30 * time.Second

// MultipartWriter uploads what is written to it as one S3 object, a part at a time, so that an
// object of any size is written in bounded memory: two buffers of PartSize, one filling while
// the other uploads. An object smaller than a part is one PutObject when the writer is closed.
//
// It is not the SDK's upload manager (feature/s3/manager) behind an io.Pipe: that one would
// work, but it holds PartSize times its concurrency (5 by default) in pooled buffers plus
// the pipe's, it is another module to pin (and deprecated in favour of transfermanager), and
// what it adds (concurrency, checksums of whole objects) an export does not need. This is two
// buffers and the four calls, each one visible to the local cloud's IAM proxy as it is.
//
// A MultipartWriter is not safe for concurrent use. Close completes the object; Abort (also
// after a failed Write or Close) discards it. Nothing is visible at the key before Close
// succeeds.
type MultipartWriter struct {
	ctx                      context.Context
	client                   MultipartAPI
	bucket, key, contentType string

	buf   []byte // the part being filled
	spare []byte // the other buffer, when no part is in flight

	uploadID string
	parts    []types.CompletedPart
	inflight chan partResult // the part being uploaded, if any
	sending  []byte          // its buffer
	err      error           // the first failure: every later call returns it
	done     bool            // completed or aborted
}

type partResult struct {
	number int32
	etag   *string
	err    error
}

// NewMultipartWriter returns a writer to the object at key in bucket, with the content type
// given. Its calls to S3 use ctx, which must last until Close.
func NewMultipartWriter(ctx context.Context, client MultipartAPI, bucket, key, contentType string) *MultipartWriter {
	return &MultipartWriter{ctx: ctx, client: client, bucket: bucket, key: key, contentType: contentType, buf: make([]byte, 0, PartSize)}
}

// Write buffers p, uploading a part each time a buffer is full. An upload's failure is
// reported by a later Write, or by Close.
func (w *MultipartWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, errors.New("s3: write to a finished upload")
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == PartSize {
			// Sent only once more data comes, so that the last part is never empty.
			if err := w.send(); err != nil {
				return n, err
			}
		}
		c := copy(w.buf[len(w.buf):PartSize], p)
		w.buf = w.buf[:len(w.buf)+c]
		p = p[c:]
		n += c
	}
	return n, nil
}

// send starts the upload of the full buffer as the next part, once the previous one is done,
// and carries on in the other buffer.
func (w *MultipartWriter) send() error {
	if err := w.wait(); err != nil {
		return err
	}
	if w.uploadID == "" {
		out, err := w.client.CreateMultipartUpload(w.ctx, &awss3.CreateMultipartUploadInput{Bucket: &w.bucket, Key: &w.key, ContentType: w.optContentType()})
		if err != nil {
			return w.fail(fmt.Errorf("s3: start upload of %s: %w", w.key, err))
		}
		w.uploadID = aws.ToString(out.UploadId)
	}
	number := int32(len(w.parts) + 1)
	if number > maxParts {
		return w.fail(fmt.Errorf("s3: %s is over %d parts", w.key, maxParts))
	}
	body := w.buf
	if w.spare == nil {
		w.spare = make([]byte, 0, PartSize)
	}
	w.buf, w.spare = w.spare[:0], nil
	ch := make(chan partResult, 1)
	w.inflight, w.sending = ch, body
	go func() {
		out, err := w.client.UploadPart(w.ctx, &awss3.UploadPartInput{
			Bucket: &w.bucket, Key: &w.key, UploadId: &w.uploadID, PartNumber: &number,
			Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		})
		r := partResult{number: number, err: err}
		if err == nil {
			r.etag = out.ETag
		}
		ch <- r
	}()
	return nil
}

// wait waits for the part in flight, if any, and takes its buffer back.
func (w *MultipartWriter) wait() error {
	if w.inflight == nil {
		return w.err
	}
	r := <-w.inflight
	w.inflight, w.spare, w.sending = nil, w.sending[:0], nil
	if r.err != nil {
		return w.fail(fmt.Errorf("s3: upload part %d of %s: %w", r.number, w.key, r.err))
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: r.etag, PartNumber: aws.Int32(r.number)})
	return w.err
}

func (w *MultipartWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *MultipartWriter) optContentType() *string {
	if w.contentType == "" {
		return nil
	}
	return &w.contentType
}

// Close uploads what is buffered and completes the object. When anything failed, it aborts
// the upload and returns the failure.
func (w *MultipartWriter) Close() error {
	if w.done {
		return w.err
	}
	err := w.complete()
	if err != nil {
		w.fail(err)
		_ = w.Abort()
		return w.err
	}
	w.done = true
	return nil
}

func (w *MultipartWriter) complete() error {
	if w.err != nil {
		return w.err
	}
	if w.uploadID == "" {
		// Smaller than a part: one request.
		_, err := w.client.PutObject(w.ctx, &awss3.PutObjectInput{
			Bucket: &w.bucket, Key: &w.key, ContentType: w.optContentType(),
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		})
		if err != nil {
			return fmt.Errorf("s3: put %s: %w", w.key, err)
		}
		return nil
	}
	if err := w.send(); err != nil { // the last part
		return err
	}
	if err := w.wait(); err != nil {
		return err
	}
	_, err := w.client.CompleteMultipartUpload(w.ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &w.bucket, Key: &w.key, UploadId: &w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		return fmt.Errorf("s3: complete upload of %s: %w", w.key, err)
	}
	return nil
}

// Abort discards the upload: the parts sent are deleted and no object appears. It is safe to
// call after Close (then it does nothing, so `defer w.Abort()` is the idiom) and more than
// once. It runs even when the writer's context has ended. (The exports bucket's lifecycle also
// removes incomplete uploads after a day, should an abort itself fail.)
func (w *MultipartWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.fail(errors.New("s3: upload aborted"))
	if w.inflight != nil {
		<-w.inflight
		w.inflight, w.sending = nil, nil
	}
	w.buf, w.spare = nil, nil
	if w.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	if _, err := w.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &w.bucket, Key: &w.key, UploadId: &w.uploadID}); err != nil {
		return fmt.Errorf("s3: abort upload of %s: %w", w.key, err)
	}
	return nil
}
