package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/privacy"
)

// campaignContentItem is a marketing campaign's content, as the consent worker's mail reads
// it: the operator's text, nothing about anyone. It sits beside the campaign's own item
// (notices.go) in the campaign's partition.
type campaignContentItem struct {
	PK         string              `dynamodbav:"PK"`
	SK         string              `dynamodbav:"SK"`
	Title      map[string]string   `dynamodbav:"title"`
	Paragraphs map[string][]string `dynamodbav:"paragraphs"`
}

// campaignPK is the partition of a campaign: its content, its item and its counters.
func campaignPK(id string) string { return "CAMPAIGN#" + id }

const campaignContentSK = "CONTENT"

// PutMarketingContent stores a marketing campaign's content, replacing what it had (the
// operator's tool writes it when it creates the campaign).
func (st *Store) PutMarketingContent(ctx context.Context, id string, title privacy.Text, paragraphs map[string][]string) error {
	_, err := st.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: marshal(campaignContentItem{
		PK: campaignPK(id), SK: campaignContentSK, Title: title, Paragraphs: paragraphs,
	})})
	if err != nil {
		return fmt.Errorf("put campaign content: %w", err)
	}
	return nil
}

// MarketingContent reads a marketing campaign's content (privacy.NotFound when there is none).
func (st *Store) MarketingContent(ctx context.Context, id string) (consent.Campaign, error) {
	var it campaignContentItem
	found, err := st.get(ctx, campaignPK(id), campaignContentSK, &it)
	if err != nil {
		return consent.Campaign{}, err
	}
	if !found {
		return consent.Campaign{}, privacy.Errorf(privacy.NotFound, "no such campaign")
	}
	return consent.Campaign{ID: id, Title: it.Title, Paragraphs: it.Paragraphs}, nil
}
