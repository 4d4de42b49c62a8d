package dynamodb

import (
	"github.com/privacyportal/portal/internal/privacy"
)

// auditItem records a change to the subject's data: the action and the names of the fields,
// never their values.
type auditItem struct {
	PK     string   `dynamodbav:"PK"`
	SK     string   `dynamodbav:"SK"`
	At     string   `dynamodbav:"createdAt"`
	Action string   `dynamodbav:"action"`
	Fields []string `dynamodbav:"fields,omitempty,stringset"`
}

func newAuditItem(id privacy.SubjectID, a privacy.AuditEntry) auditItem {
	return auditItem{
		PK: SubjectPK(id), SK: SortKey(KindAudit, ts(a.At)+"#"+privacy.NewID()[:6]),
		At: ts(a.At), Action: a.Action, Fields: a.Fields,
	}
}

func (it auditItem) entry() privacy.AuditEntry {
	return privacy.AuditEntry{At: parseTS(it.At), Action: it.Action, Fields: it.Fields}
}
