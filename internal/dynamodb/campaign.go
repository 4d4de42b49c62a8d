package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/privacy"
)

// campaignItem is a campaign's content: the operator's text, nothing about anyone.
type campaignItem struct {
	PK         string              `dynamodbav:"PK"`
	SK         string              `dynamodbav:"SK"`
	Title      map[string]string   `dynamodbav:"title"`
	Paragraphs map[string][]string `dynamodbav:"paragraphs"`
}

func campaignPK(id string) string { return "CAMPAIGN#" + id }

const campaignSK = "CONTENT"

// PutCampaign stores a campaign's content (the operator's tool writes it).
func (st *Store) PutCampaign(ctx context.Context, c consent.Campaign) error {
	_, err := st.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: marshal(campaignItem{
		PK: campaignPK(c.ID), SK: campaignSK, Title: c.Title, Paragraphs: c.Paragraphs,
	})})
	if err != nil {
		return fmt.Errorf("put campaign: %w", err)
	}
	return nil
}

// Campaign reads a campaign's content.
func (st *Store) Campaign(ctx context.Context, id string) (consent.Campaign, error) {
	var it campaignItem
	found, err := st.get(ctx, campaignPK(id), campaignSK, &it)
	if err != nil {
		return consent.Campaign{}, err
	}
	if !found {
		return consent.Campaign{}, privacy.Errorf(privacy.NotFound, "no such campaign")
	}
	return consent.Campaign{ID: id, Title: it.Title, Paragraphs: it.Paragraphs}, nil
}
