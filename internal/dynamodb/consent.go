package dynamodb

import (
	"fmt"

	"github.com/privacyportal/portal/internal/privacy"
)

// consentItem is one entry of the consent ledger. Its sort key orders the ledger by time; the
// sequence number keeps entries of one instant apart. Entries are only ever added.
type consentItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Purpose       string `dynamodbav:"purpose"`
	Granted       bool   `dynamodbav:"granted"`
	At            string `dynamodbav:"consentedAt"`
	PolicyVersion string `dynamodbav:"policyVersion"`
	Source        string `dynamodbav:"source,omitempty"`
}

func newConsentItem(id privacy.SubjectID, c privacy.ConsentEntry, seq int) consentItem {
	return consentItem{
		PK: SubjectPK(id), SK: SortKey(KindConsent, fmt.Sprintf("%s#%02d#%s", ts(c.At), seq, c.Purpose)),
		Purpose: c.Purpose, Granted: c.Granted, At: ts(c.At), PolicyVersion: c.PolicyVersion, Source: string(c.Source),
	}
}

func (it consentItem) entry() privacy.ConsentEntry {
	return privacy.ConsentEntry{Purpose: it.Purpose, Granted: it.Granted, At: parseTS(it.At), PolicyVersion: it.PolicyVersion, Source: privacy.Source(it.Source)}
}
