package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/privacy"
)

const reapplySynopsis = "reapply-erasures --restored-table NAME [--json]"

// restoration is what reapply-erasures works on: the portal's table, its hash key, and a table
// restored from its backups.
type restoration struct {
	// Table is the portal's table, KeyID its KMS key (as the configuration or the stack's
	// outputs name them).
	Table, KeyID string
	// Live reads the portal's tombstones.
	Live interface {
		Tombstones(ctx context.Context) ([]privacy.Tombstone, error)
	}
	// Keys decrypts the portal's hash key.
	Keys     func(ctx context.Context) (*privacy.Keyed, error)
	Restored erasure.ReapplyStore
}

// reapplied is reapply-erasures's result, for --json.
type reapplied struct {
	Table         string `json:"table"`
	RestoredTable string `json:"restoredTable"`
	erasure.Reapplied
}

// reapplyErasures erases again, from a table restored from backup, everyone the portal erased
// since the moment it was restored to (P17, docs/erasure.md).
func (c *cli) reapplyErasures(ctx context.Context, restoredTable string, asJSON bool) error {
	if restoredTable == "" {
		return usagef("reapply-erasures needs the table the restore made: portalctl %s", reapplySynopsis)
	}
	if c.conf.Stack == "" && c.conf.KeyID == "" {
		return usagef("reapply-erasures needs the portal's KMS key, which encrypts its hash key: name it (--key-id KEY, or %s; make dev prints it), or name the stack (--stack, %s)", envKeyID, envStack)
	}
	r, err := c.Restore(ctx, c.conf, restoredTable)
	if err != nil {
		return err
	}
	switch {
	case r.KeyID == "":
		return usagef("stack %s has no output %s: deploy the current template, or name the table and the key (--table and --key-id)", c.conf.Stack, outputKeyID)
	case r.Table == restoredTable:
		return usagef("--restored-table %s is the portal's own table: name the new table the restore made", restoredTable)
	}
	tombstones, err := r.Live.Tombstones(ctx)
	if err != nil {
		return err
	}
	var keys *privacy.Keyed
	if len(tombstones) > 0 {
		if keys, err = r.Keys(ctx); err != nil {
			return err
		}
	}
	done, err := erasure.Reapply(ctx, r.Restored, tombstones, keys)
	if err != nil {
		return fmt.Errorf("%w\nThe restored table %s is not ready for service. Run reapply-erasures again: it carries on where it stopped", err, restoredTable)
	}
	if asJSON {
		return writeJSON(c.stdout, reapplied{Table: r.Table, RestoredTable: restoredTable, Reapplied: done})
	}
	c.printReapplied(r.Table, restoredTable, done)
	return nil
}

func (c *cli) printReapplied(table, restoredTable string, d erasure.Reapplied) {
	w := c.stdout
	if d.Tombstones == 0 {
		fmt.Fprintf(w, "The portal's table %s has no tombstones: there is no erasure to re-apply to %s.\n", clean(table), clean(restoredTable))
		return
	}
	fmt.Fprintf(w, "Checked %s in %s against %s of %s.\n", count(d.Subjects, "subject"), clean(restoredTable), count(d.Tombstones, "tombstone"), clean(table))
	if d.Erased == 0 {
		fmt.Fprintln(w, "No one erased since was in it: nothing to erase.")
	} else {
		of := "the request"
		if len(d.Requests) > 1 {
			of = "the requests"
		}
		fmt.Fprintf(w, "Erased %s again (%s, %s), of %s %s.\n", count(d.Erased, "subject"), count(d.Items, "item"), count(d.Lookups, "look-up"), of, clean(strings.Join(d.Requests, ", ")))
	}
	fmt.Fprintf(w, "Wrote %s into %s, without the outcome mail's address.\n", count(d.TombstonesWritten, "tombstone"), clean(restoredTable))
	fmt.Fprintf(w, "%s holds no one the portal erased. (The buckets are not restored with the table: nothing to do there.)\n", clean(restoredTable))
}

// count says n things, in the singular or the plural.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// dataKeyReader reads a table's encrypted data keys.
type dataKeyReader interface {
	DataKey(ctx context.Context, name string) ([]byte, error)
}

// hashKey reads the portal's hash key: its ciphertext from the portal's table, decrypted by
// KMS. Unlike keyring.Load it never makes one: a new key would match no tombstone. A restored
// table that holds a hash key must hold the portal's (a restore copies it): otherwise it is a
// restore of another portal's table, whose subjects no tombstone here could name, and nothing
// would be erased from it.
func hashKey(ctx context.Context, dataKeys keyring.DataKeys, live, restored dataKeyReader) (*privacy.Keyed, error) {
	ct, err := live.DataKey(ctx, keyring.HashKeyName)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return nil, fmt.Errorf("the portal's table has no hash key, yet has tombstones: is it the portal's table?")
	}
	if err != nil {
		return nil, fmt.Errorf("read the hash key: %w", err)
	}
	switch theirs, err := restored.DataKey(ctx, keyring.HashKeyName); {
	case privacy.ErrorCode(err) == privacy.NotFound:
	case err != nil:
		return nil, fmt.Errorf("read the restored table's hash key: %w", err)
	case !bytes.Equal(theirs, ct):
		return nil, fmt.Errorf("the restored table's hash key is not the portal's: it is not a restore of the portal's table")
	}
	plain, err := dataKeys.Decrypt(ctx, keyring.HashKeyName, ct)
	if err != nil {
		return nil, fmt.Errorf("decrypt the hash key (kms:Decrypt on the portal's key): %w", err)
	}
	return privacy.NewKeyed(plain)
}
