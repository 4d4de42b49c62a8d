package dynamodb

import (
	"github.com/privacyportal/portal/internal/privacy"
)

// optionalItem is an optional profile field's value, with the consent it is kept under.
type optionalItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Value         string `dynamodbav:"value"`
	ConsentedAt   string `dynamodbav:"consentedAt"`
	PolicyVersion string `dynamodbav:"policyVersion"`
}

func newOptionalItem(id privacy.SubjectID, field string, v privacy.OptionalValue) optionalItem {
	return optionalItem{PK: SubjectPK(id), SK: SortKey(KindOptional, field), Value: v.Value, ConsentedAt: ts(v.ConsentedAt), PolicyVersion: v.PolicyVersion}
}

func (it optionalItem) field() (string, privacy.OptionalValue) {
	_, field, _ := cutKind(it.SK)
	return field, privacy.OptionalValue{Value: it.Value, ConsentedAt: parseTS(it.ConsentedAt), PolicyVersion: it.PolicyVersion}
}
