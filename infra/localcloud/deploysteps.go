package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/dynamodb"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/kms"
)

// deploySteps does locally what infra/deploy.sh does after `sam deploy`, with the cloud's
// admin clients (the functions' own policies do not allow these): it writes the portal's
// address into the site (awsenv.SiteURLKey), uploads the site to its bucket, and makes the
// portal's hash key (infra/cmd/portalkey). Each step runs only when the template has the
// resources it needs, so the cloud also runs the test templates of this package.
func (c *Cloud) deploySteps(ctx context.Context) error {
	if bucket, ok := c.Names["SiteBucket"]; ok {
		doc, _ := json.Marshal(map[string]string{"url": c.URL})
		if err := os.WriteFile(filepath.Join(c.SiteDir, awsenv.SiteURLKey), doc, 0o644); err != nil {
			return err
		}
		if err := c.uploadSite(ctx, bucket); err != nil {
			return err
		}
	}
	table, hasTable := c.Names["PortalTable"]
	key, hasKey := c.Names["PortalKey"]
	if hasTable && hasKey && c.KMS != nil {
		store := &dynamodb.Store{Client: c.DynamoDB, Table: table}
		if _, err := keyring.Load(ctx, &kms.DataKeys{Client: c.KMS, KeyID: key}, store, keyring.HashKeyName); err != nil {
			return fmt.Errorf("make the hash key: %w", err)
		}
	}
	return nil
}
