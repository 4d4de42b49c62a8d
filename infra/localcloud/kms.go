package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/privacyportal/portal/infra/samtemplate"
)

type keyInfo struct{ id, arn string }

// BuildLocalKMS builds the pinned KMS emulator (local-kms, served on a loopback address by
// infra/tools/localkms) into dir.
func BuildLocalKMS(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "localkms")
	err := run(ctx, filepath.Join(root, "infra", "tools"), environ("CGO_ENABLED=0"),
		"go", "build", "-o", bin, "./localkms")
	return bin, err
}

// createKeys creates the template's KMS keys in local-kms. Their IDs are random, as in AWS,
// so the template is resolved again afterwards for Ref and Fn::GetAtt to name them.
func (c *Cloud) createKeys(ctx context.Context, st *samtemplate.Stack) error {
	for _, id := range st.Resources("AWS::KMS::Key") {
		p := st.Properties(id)
		in := &kms.CreateKeyInput{}
		if d, ok := p["Description"].(string); ok {
			in.Description = &d
		}
		if s, ok := p["KeySpec"].(string); ok {
			in.KeySpec = kmstypes.KeySpec(s)
		}
		if u, ok := p["KeyUsage"].(string); ok {
			in.KeyUsage = kmstypes.KeyUsageType(u)
		}
		out, err := c.KMS.CreateKey(ctx, in)
		if err != nil {
			return fmt.Errorf("create key %s: %w", id, err)
		}
		c.namer.keys[id] = keyInfo{id: *out.KeyMetadata.KeyId, arn: *out.KeyMetadata.Arn}
		c.Names[id] = *out.KeyMetadata.KeyId
	}
	return nil
}

// createAliases creates the template's KMS aliases, once their keys exist. It reports whether
// there were any, so the template is resolved once more for Ref on an alias.
func (c *Cloud) createAliases(ctx context.Context, st *samtemplate.Stack) (bool, error) {
	ids := st.Resources("AWS::KMS::Alias")
	for _, id := range ids {
		p := st.Properties(id)
		name, _ := p["AliasName"].(string)
		target, _ := p["TargetKeyId"].(string)
		if name == "" || target == "" {
			return false, fmt.Errorf("alias %s: AliasName and TargetKeyId must resolve to strings", id)
		}
		if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &target}); err != nil {
			return false, fmt.Errorf("create alias %s: %w", id, err)
		}
		c.namer.aliases[id] = name
		c.Names[id] = name
	}
	return len(ids) > 0, nil
}

// keyPolicies reads each key's KeyPolicy (or the default one CloudFormation gives a key
// without: the account may use it through IAM policies), by key ARN.
func (c *Cloud) keyPolicies(st *samtemplate.Stack) (map[string]any, error) {
	out := map[string]any{}
	for _, id := range st.Resources("AWS::KMS::Key") {
		k, ok := c.namer.keys[id]
		if !ok {
			continue
		}
		doc, ok := st.Properties(id)["KeyPolicy"]
		if !ok {
			doc = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Sid": "Enable IAM User Permissions", "Effect": "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + c.namer.account + ":root"},
				"Action":    "kms:*", "Resource": "*",
			}}}
		}
		if s, ok := doc.(string); ok {
			// CloudFormation accepts the policy as a JSON string too.
			var m any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return nil, fmt.Errorf("key %s: KeyPolicy: %w", id, err)
			}
			doc = m
		}
		out[k.arn] = doc
	}
	return out, nil
}
