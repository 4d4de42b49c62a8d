package iam

import (
	"encoding/json"
	"sort"
	"strings"
)

// KeyResolver returns the ARN of the key an alias (alias/name or its ARN) points to.
type KeyResolver func(alias string) (keyARN string, ok bool)

// kmsKeyOps are authorized as kms:<operation> on the key named by KeyId.
var kmsKeyOps = map[string]bool{
	"Encrypt": true, "GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true, "Sign": true, "Verify": true,
	"GenerateMac": true, "VerifyMac": true, "GetPublicKey": true, "DescribeKey": true, "GetKeyPolicy": true,
	"GetKeyRotationStatus": true, "EnableKey": true, "DisableKey": true, "ScheduleKeyDeletion": true,
	"CancelKeyDeletion": true, "ListResourceTags": true, "TagResource": true, "UntagResource": true,
	"UpdateKeyDescription": true, "EnableKeyRotation": true, "DisableKeyRotation": true, "PutKeyPolicy": true,
	"ListKeyPolicies": true, "ListGrants": true, "CreateGrant": true, "RevokeGrant": true,
	"GetParametersForImport": true, "ImportKeyMaterial": true, "DeleteImportedKeyMaterial": true,
	"DeriveSharedSecret": true, "RotateKeyOnDemand": true, "ListKeyRotations": true,
}

// kmsAccountOps name no key and are authorized on "*".
var kmsAccountOps = map[string]bool{
	"ListKeys": true, "ListAliases": true, "CreateKey": true, "GenerateRandom": true,
	"ListRetirableGrants": true, "DescribeCustomKeyStores": true,
}

type kmsRequest struct {
	KeyId, SourceKeyId, DestinationKeyId                                           string
	CiphertextBlob                                                                 []byte
	EncryptionContext, SourceEncryptionContext, DestinationEncryptionContext       map[string]string
	EncryptionAlgorithm, SourceEncryptionAlgorithm, DestinationEncryptionAlgorithm string
	AliasName, TargetKeyId                                                         string
	KeySpec, KeyUsage, KeyPairSpec, SigningAlgorithm, MacAlgorithm                 string
}

// KMSChecks maps a KMS request (AWS JSON 1.1, X-Amz-Target TrentService.<Op>) to the checks
// IAM makes. A key named by an alias is authorized on the key the alias points to, with
// kms:RequestAlias set; Decrypt without a KeyId is authorized on the key the ciphertext
// names (local-kms's ciphertext starts with the key's ARN).
func KMSChecks(target string, body []byte, region, account string, resolve KeyResolver) (op string, checks []Check, err error) {
	op, ok := strings.CutPrefix(target, "TrentService.")
	if !ok {
		return target, nil, unknownOperation("KMS", target)
	}
	var req kmsRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return op, nil, serialization("the request body is not valid JSON")
		}
	}
	prefix := "arn:aws:kms:" + region + ":" + account + ":"
	base := map[string][]string{"kms:calleraccount": {account}}
	for k, v := range map[string]string{
		"kms:keyspec": req.KeySpec, "kms:keyusage": req.KeyUsage, "kms:datakeypairspec": req.KeyPairSpec,
		"kms:signingalgorithm": req.SigningAlgorithm, "kms:macalgorithm": req.MacAlgorithm,
	} {
		if v != "" {
			base[k] = []string{v}
		}
	}
	// key resolves a KeyId to the key's ARN, adding kms:RequestAlias for an alias.
	key := func(id string, keys map[string][]string) (string, error) {
		switch {
		case id == "":
			return "", &Reject{400, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"}
		case strings.HasPrefix(id, "alias/") || strings.Contains(id, ":alias/"):
			aliasARN := id
			if !strings.HasPrefix(id, "arn:") {
				aliasARN = prefix + id
			}
			arn, ok := resolve(aliasARN)
			if !ok {
				return "", &Reject{400, "NotFoundException", "Alias " + aliasARN + " is not found."}
			}
			keys["kms:requestalias"] = []string{aliasARN[strings.Index(aliasARN, "alias/"):]}
			return arn, nil
		case strings.HasPrefix(id, "arn:"):
			return id, nil
		}
		return prefix + "key/" + id, nil
	}
	withContext := func(ctx map[string]string, algorithm string) map[string][]string {
		keys := make(map[string][]string, len(base)+len(ctx)+2)
		for k, v := range base {
			keys[k] = v
		}
		if algorithm != "" {
			keys["kms:encryptionalgorithm"] = []string{algorithm}
		}
		if len(ctx) > 0 {
			names := make([]string, 0, len(ctx))
			for k, v := range ctx {
				keys["kms:encryptioncontext:"+strings.ToLower(k)] = []string{v}
				names = append(names, k)
			}
			sort.Strings(names)
			keys["kms:encryptioncontextkeys"] = names
		}
		return keys
	}
	fromCiphertext := func(blob []byte) string {
		if len(blob) < 2 || int(blob[0])+1 > len(blob) {
			return ""
		}
		if id := string(blob[1 : 1+int(blob[0])]); strings.HasPrefix(id, prefix+"key/") {
			return id
		}
		return ""
	}
	switch {
	case kmsKeyOps[op]:
		keys := withContext(req.EncryptionContext, req.EncryptionAlgorithm)
		arn, err := key(req.KeyId, keys)
		if err != nil {
			return op, nil, err
		}
		return op, []Check{{Action: "kms:" + op, Resource: arn, Keys: keys}}, nil
	case op == "Decrypt":
		keys := withContext(req.EncryptionContext, req.EncryptionAlgorithm)
		id := req.KeyId
		if id == "" {
			if id = fromCiphertext(req.CiphertextBlob); id == "" {
				return op, nil, &Reject{400, "InvalidCiphertextException", ""}
			}
		}
		arn, err := key(id, keys)
		if err != nil {
			return op, nil, err
		}
		return op, []Check{{Action: "kms:Decrypt", Resource: arn, Keys: keys}}, nil
	case op == "ReEncrypt":
		fromKeys := withContext(req.SourceEncryptionContext, req.SourceEncryptionAlgorithm)
		src := req.SourceKeyId
		if src == "" {
			if src = fromCiphertext(req.CiphertextBlob); src == "" {
				return op, nil, &Reject{400, "InvalidCiphertextException", ""}
			}
		}
		from, err := key(src, fromKeys)
		if err != nil {
			return op, nil, err
		}
		toKeys := withContext(req.DestinationEncryptionContext, req.DestinationEncryptionAlgorithm)
		to, err := key(req.DestinationKeyId, toKeys)
		if err != nil {
			return op, nil, err
		}
		return op, []Check{{Action: "kms:ReEncryptFrom", Resource: from, Keys: fromKeys}, {Action: "kms:ReEncryptTo", Resource: to, Keys: toKeys}}, nil
	case op == "CreateAlias" || op == "UpdateAlias" || op == "DeleteAlias":
		if !strings.HasPrefix(req.AliasName, "alias/") {
			return op, nil, &Reject{400, "ValidationException", "Alias must start with the prefix \"alias/\"."}
		}
		aliasARN := prefix + req.AliasName
		checks = append(checks, Check{Action: "kms:" + op, Resource: aliasARN, Keys: base})
		if op != "CreateAlias" {
			current, ok := resolve(aliasARN)
			if !ok {
				return op, nil, &Reject{400, "NotFoundException", "Alias " + aliasARN + " is not found."}
			}
			checks = append(checks, Check{Action: "kms:" + op, Resource: current, Keys: base})
		}
		if op != "DeleteAlias" {
			target, err := key(req.TargetKeyId, map[string][]string{})
			if err != nil {
				return op, nil, err
			}
			checks = append(checks, Check{Action: "kms:" + op, Resource: target, Keys: base})
		}
		return op, checks, nil
	case kmsAccountOps[op]:
		return op, []Check{{Action: "kms:" + op, Resource: "*", Keys: base}}, nil
	}
	return op, nil, unknownOperation("KMS", op)
}
