package dynamodb

import (
	"context"
	"fmt"
	"time"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/privacyportal/portal/internal/privacy"
)

// sessionItem is a signed-in browser, keyed by the hash of its token. It expires by TTL.
type sessionItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	CreatedAt string `dynamodbav:"createdAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func newSessionItem(id privacy.SubjectID, sess privacy.Session) sessionItem {
	return sessionItem{PK: SubjectPK(id), SK: SortKey(KindSession, sess.TokenHash), CreatedAt: ts(sess.CreatedAt), ExpiresAt: sess.ExpiresAt.Unix()}
}

func (it sessionItem) session() privacy.Session {
	_, hash, _ := cutKind(it.SK)
	return privacy.Session{TokenHash: hash, CreatedAt: parseTS(it.CreatedAt), ExpiresAt: unixTime(it.ExpiresAt)}
}

// PutSession stores a session.
func (st *Store) PutSession(ctx context.Context, id privacy.SubjectID, sess privacy.Session) error {
	_, err := st.Client.PutItem(ctx, &ddb.PutItemInput{TableName: &st.Table, Item: marshal(newSessionItem(id, sess))})
	if err != nil {
		return fmt.Errorf("put session: %w", err)
	}
	return nil
}

// Session returns a live session, or privacy.ErrStale when it is gone or expired.
func (st *Store) Session(ctx context.Context, id privacy.SubjectID, tokenHash string, now time.Time) (privacy.Session, error) {
	var it sessionItem
	found, err := st.get(ctx, SubjectPK(id), SortKey(KindSession, tokenHash), &it)
	if err != nil {
		return privacy.Session{}, err
	}
	if !found || expired(it.ExpiresAt, now) {
		return privacy.Session{}, privacy.ErrStale
	}
	return it.session(), nil
}

// DeleteSession revokes one session.
func (st *Store) DeleteSession(ctx context.Context, id privacy.SubjectID, tokenHash string) error {
	_, err := st.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: &st.Table, Key: key(SubjectPK(id), SortKey(KindSession, tokenHash))})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions revokes every session of a subject but the one whose token hash is keep.
func (st *Store) DeleteSessions(ctx context.Context, id privacy.SubjectID, keep string) error {
	items, err := st.ofKind(ctx, id, KindSession)
	if err != nil {
		return err
	}
	keys := make([]Item, 0, len(items))
	for _, it := range items {
		if sk := attr(it, "SK"); keep == "" || sk != SortKey(KindSession, keep) {
			keys = append(keys, key(attr(it, "PK"), sk))
		}
	}
	return st.batchDelete(ctx, keys)
}
