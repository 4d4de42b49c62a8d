// Package kms makes and opens the portal's data keys with AWS KMS, bound to their name by an
// encryption context: a ciphertext made for one purpose does not decrypt for another, and a
// role's policy can allow a key's use for one purpose only (kms:EncryptionContext:purpose).
package kms

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// API is the part of the KMS client DataKeys uses: kms:GenerateDataKey and kms:Decrypt.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// DataKeys implements keyring.DataKeys with one KMS key.
type DataKeys struct {
	Client API
	// KeyID is the KMS key's ID or ARN.
	KeyID string
}

func purposeContext(name string) map[string]string {
	return map[string]string{"purpose": name + "-key"}
}

// Generate returns a new 256-bit data key, plain and encrypted under the KMS key.
func (d *DataKeys) Generate(ctx context.Context, name string) ([]byte, []byte, error) {
	out, err := d.Client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: &d.KeyID, KeySpec: types.DataKeySpecAes256, EncryptionContext: purposeContext(name),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("generate data key: %w", err)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Decrypt opens a data key made by Generate for the same name.
func (d *DataKeys) Decrypt(ctx context.Context, name string, ciphertext []byte) ([]byte, error) {
	out, err := d.Client.Decrypt(ctx, &kms.DecryptInput{
		KeyId: &d.KeyID, CiphertextBlob: ciphertext, EncryptionContext: purposeContext(name),
	})
	if err != nil {
		return nil, fmt.Errorf("decrypt data key: %w", err)
	}
	return out.Plaintext, nil
}
