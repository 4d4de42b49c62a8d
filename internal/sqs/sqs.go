// Package sqs hands the functions' jobs to their workers through an SQS queue.
package sqs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/privacyportal/portal/internal/jobs"
)

// SendMessageAPI is the part of the SQS client Jobs uses: sqs:SendMessage.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Jobs implements jobs.Queue with one queue. A job names subjects and keyed hashes only, so
// a message (and the dead-letter queue it may end in) holds nothing personal.
type Jobs struct {
	Client   SendMessageAPI
	QueueURL string
}

var _ jobs.Queue = (*Jobs)(nil)

// Enqueue sends one job.
func (q *Jobs) Enqueue(ctx context.Context, j jobs.Job) error {
	body, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	s := string(body)
	if _, err := q.Client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.QueueURL, MessageBody: &s}); err != nil {
		return fmt.Errorf("send job: %w", err)
	}
	return nil
}
