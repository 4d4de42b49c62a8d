package dynamodb

import (
	"context"

	"github.com/privacyportal/portal/internal/privacy"
)

// dataKeyItem holds a data key encrypted by KMS (keyring): never the key itself. It is no
// one's data, so it sits outside every subject's partition, like the look-ups.
type dataKeyItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	Ciphertext []byte `dynamodbav:"ciphertext"`
}

func dataKeyPK(name string) string { return "KEY#" + name }

const dataKeySK = "KEY"

// DataKey returns a stored encrypted data key (privacy.NotFound when there is none).
func (st *Store) DataKey(ctx context.Context, name string) ([]byte, error) {
	var it dataKeyItem
	found, err := st.get(ctx, dataKeyPK(name), dataKeySK, &it)
	if err != nil {
		return nil, err
	}
	if !found || len(it.Ciphertext) == 0 {
		return nil, privacy.Errorf(privacy.NotFound, "no data key %s", name)
	}
	return it.Ciphertext, nil
}

// PutDataKey stores an encrypted data key unless one is stored already (privacy.ErrStale).
func (st *Store) PutDataKey(ctx context.Context, name string, ciphertext []byte) error {
	return st.putNew(ctx, dataKeyItem{PK: dataKeyPK(name), SK: dataKeySK, Ciphertext: ciphertext}, "data key")
}
