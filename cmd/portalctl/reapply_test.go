package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/erasure"
	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/privacy"
)

// liveTombstones are the portal's tombstones.
type liveTombstones []privacy.Tombstone

func (l liveTombstones) Tombstones(context.Context) ([]privacy.Tombstone, error) {
	return slices.Clone(l), nil
}

// restoredTable is a fake table restored from backup: each subject's items (by count), their
// accounts, the look-ups (key -> subject) and the tombstones.
type restoredTable struct {
	items      map[privacy.SubjectID]int
	accounts   map[privacy.SubjectID]privacy.Account
	lookups    map[string]privacy.SubjectID
	tombstones map[string]privacy.Tombstone
	scans      int
	failErase  error
}

var _ erasure.ReapplyStore = (*restoredTable)(nil)

func (r *restoredTable) Subjects(context.Context) ([]privacy.SubjectID, error) {
	r.scans++
	return slices.Sorted(maps.Keys(r.items)), nil
}

func (r *restoredTable) Account(_ context.Context, id privacy.SubjectID) (privacy.Account, error) {
	a, ok := r.accounts[id]
	if !ok {
		return privacy.Account{}, privacy.Errorf(privacy.NotFound, "no account")
	}
	return a, nil
}

func (r *restoredTable) EraseSubject(_ context.Context, id privacy.SubjectID, emailKey, usernameKey string) (int, int, error) {
	if r.failErase != nil {
		return 0, 0, r.failErase
	}
	lookups := 0
	for _, k := range []string{"email|" + emailKey, "username|" + usernameKey} {
		if r.lookups[k] == id {
			delete(r.lookups, k)
			lookups++
		}
	}
	items := r.items[id]
	delete(r.items, id)
	delete(r.accounts, id)
	return items, lookups, nil
}

func (r *restoredTable) Remains(_ context.Context, id privacy.SubjectID, _, _ string) ([]string, error) {
	if r.items[id] > 0 {
		return []string{"partition"}, nil
	}
	return nil, nil
}

func (r *restoredTable) PutTombstone(_ context.Context, t privacy.Tombstone) error {
	if _, ok := r.tombstones[t.Request]; ok {
		return privacy.ErrStale
	}
	r.tombstones[t.Request] = t
	return nil
}

func (r *restoredTable) SaveTombstone(_ context.Context, t privacy.Tombstone) error {
	r.tombstones[t.Request] = t
	return nil
}

// restore is the fixture's portal after a restore: Ada, erased since, and Bob, in the
// restored table; the portal's table holds Ada's tombstone.
type restore struct {
	keys     *privacy.Keyed
	live     liveTombstones
	table    *restoredTable
	restores []string // the restored tables Restore was asked for
	keyLoads int
	// stackKeyID is the key a stack's outputs name (a stack without PortalKeyId: "").
	stackKeyID string
}

func (f *fixture) restore(tb testing.TB) *restore {
	tb.Helper()
	keys, err := privacy.NewKeyed(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		tb.Fatal(err)
	}
	r := &restore{keys: keys, stackKeyID: "key-from-stack", table: &restoredTable{
		items:      map[privacy.SubjectID]int{"ada": 6, "bob": 4},
		accounts:   map[privacy.SubjectID]privacy.Account{"ada": {SubjectID: "ada", EmailKey: "ea", UsernameKey: "ua"}, "bob": {SubjectID: "bob", EmailKey: "eb", UsernameKey: "ub"}},
		lookups:    map[string]privacy.SubjectID{"email|ea": "ada", "username|ua": "ada", "email|eb": "bob", "username|ub": "bob"},
		tombstones: map[string]privacy.Tombstone{},
	}}
	r.live = liveTombstones{{
		Request: "r7", Type: privacy.RequestCancellation, SubjectHash: keys.Hash(privacy.DomainTombstone, "ada"), State: privacy.ErasureDone,
		Notice: &privacy.ErasureNotice{Email: "ada@example.com", EmailKey: "ea"},
	}}
	f.env = map[string]string{envTable: "portal-table", envKeyID: "key-1"}
	f.deps.Restore = func(_ context.Context, c Config, restored string) (*restoration, error) {
		f.connected = append(f.connected, c)
		r.restores = append(r.restores, restored)
		table, keyID := c.Table, c.KeyID
		if c.Stack != "" {
			table, keyID = "portal-table", r.stackKeyID
		}
		return &restoration{Table: table, KeyID: keyID, Live: r.live, Restored: r.table,
			Keys: func(context.Context) (*privacy.Keyed, error) { r.keyLoads++; return r.keys, nil }}, nil
	}
	return r
}

func TestP17_ReapplyErasuresErasesThePeopleErasedSinceFromTheRestoredTable(t *testing.T) {
	f := newFixture(t)
	r := f.restore(t)
	out := f.mustRun(t, "reapply-erasures", "--restored-table", "portal-table-restored")
	for _, want := range []string{
		"Checked 2 subjects in portal-table-restored against 1 tombstone of portal-table.",
		"Erased 1 subject again (6 items, 2 look-ups), of the request r7.",
		"Wrote 1 tombstone into portal-table-restored, without the outcome mail's address.",
		"The buckets are not restored",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	if _, ok := r.table.items["ada"]; ok || r.table.lookups["email|ea"] != "" || r.table.lookups["username|ua"] != "" {
		t.Errorf("Ada is back: items %v, look-ups %v", r.table.items, r.table.lookups)
	}
	if r.table.items["bob"] != 4 || r.table.lookups["email|eb"] != "bob" || r.table.lookups["username|ub"] != "bob" {
		t.Errorf("Bob was touched: items %v, look-ups %v", r.table.items, r.table.lookups)
	}
	if tb, ok := r.table.tombstones["r7"]; !ok || tb.Notice != nil {
		t.Errorf("the restored table's tombstone: %+v (present %v); want it, without its notice", tb, ok)
	}
	want := Config{Table: "portal-table", KeyID: "key-1"}
	if len(f.connected) != 1 || f.connected[0] != want || !slices.Equal(r.restores, []string{"portal-table-restored"}) {
		t.Errorf("connected with %+v to %v, want %+v to the restored table", f.connected, r.restores, want)
	}
	if strings.Contains(out, "ada") {
		t.Errorf("the output names the subject:\n%s", out)
	}
	f.unchanged(t)

	// Again: nothing more to erase.
	out = f.mustRun(t, "reapply-erasures", "--restored-table", "portal-table-restored")
	if !strings.Contains(out, "nothing to erase") || r.table.items["bob"] != 4 {
		t.Errorf("second run:\n%s", out)
	}
}

func TestP17_ReapplyErasuresJSON(t *testing.T) {
	f := newFixture(t)
	f.restore(t)
	out := f.mustRun(t, "reapply-erasures", "--json", "--restored-table", "restored")
	var got struct {
		Table, RestoredTable                                      string
		Tombstones, SubjectsChecked, SubjectsErased, ItemsRemoved int
		LookupsRemoved, TombstonesWritten                         int
		Requests                                                  []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, out)
	}
	if got.Table != "portal-table" || got.RestoredTable != "restored" || got.Tombstones != 1 || got.SubjectsChecked != 2 || got.SubjectsErased != 1 ||
		got.ItemsRemoved != 6 || got.LookupsRemoved != 2 || got.TombstonesWritten != 1 || !slices.Equal(got.Requests, []string{"r7"}) {
		t.Errorf("--json = %+v\n%s", got, out)
	}
}

func TestP17_ReapplyErasuresWithoutTombstonesNeedsNoKey(t *testing.T) {
	f := newFixture(t)
	r := f.restore(t)
	r.live = nil
	out := f.mustRun(t, "reapply-erasures", "--restored-table", "restored")
	if !strings.Contains(out, "has no tombstones: there is no erasure to re-apply to restored") {
		t.Errorf("output:\n%s", out)
	}
	if r.keyLoads != 0 || r.table.scans != 0 || r.table.items["ada"] != 6 {
		t.Errorf("%d key loads, %d scans, items %v; want nothing read or erased", r.keyLoads, r.table.scans, r.table.items)
	}
}

func TestP17_ReapplyErasuresOnAStack(t *testing.T) {
	f := newFixture(t)
	r := f.restore(t)
	f.env = map[string]string{envStack: "portal"}
	f.mustRun(t, "reapply-erasures", "--restored-table", "restored")
	if len(f.connected) != 1 || f.connected[0] != (Config{Stack: "portal"}) || r.table.items["ada"] != 0 {
		t.Errorf("connected with %+v; items %v", f.connected, r.table.items)
	}

	t.Run("without the PortalKeyId output", func(t *testing.T) {
		f := newFixture(t)
		r := f.restore(t)
		r.stackKeyID = ""
		f.env = map[string]string{envStack: "portal-old"}
		code, stdout, stderr := f.run(t, "reapply-erasures", "--restored-table", "restored")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "stack portal-old has no output PortalKeyId") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if r.table.scans != 0 || r.keyLoads != 0 {
			t.Errorf("read the tables: %d scans, %d key loads", r.table.scans, r.keyLoads)
		}
	})
	t.Run("whose table is the restored one", func(t *testing.T) {
		f := newFixture(t)
		r := f.restore(t)
		f.env = map[string]string{envStack: "portal"}
		code, _, stderr := f.run(t, "reapply-erasures", "--restored-table", "portal-table")
		if code != 2 || !strings.Contains(stderr, "is the portal's own table") || r.table.scans != 0 {
			t.Errorf("exit %d, stderr %q, %d scans", code, stderr, r.table.scans)
		}
	})
}

func TestP17_ReapplyErasuresUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		stderr string
	}{
		{"no restored table", []string{"reapply-erasures"}, nil, "reapply-erasures needs the table the restore made: portalctl " + reapplySynopsis},
		{"a request ID", []string{"reapply-erasures", "--restored-table", "r", overdueID}, nil, `unexpected argument "zed.r1"`},
		{"no key", []string{"reapply-erasures", "--restored-table", "r"}, map[string]string{envTable: "t"}, "needs the portal's KMS key, which encrypts its hash key: name it (--key-id KEY, or " + envKeyID},
		{"the key typed, the table in the environment", []string{"reapply-erasures", "--restored-table", "r", "--key-id", "k"}, map[string]string{envTable: "t"}, "which portal? Name its stack (--stack NAME, or " + envStack + "), or its table (--table NAME"},
		{"the portal's own table", []string{"reapply-erasures", "--restored-table", "t"}, map[string]string{envTable: "t", envKeyID: "k"}, "--restored-table t is the portal's own table"},
		{"a stack and a key", []string{"reapply-erasures", "--restored-table", "r"}, map[string]string{envStack: "portal", envKeyID: "k"}, "names both a stack and a KMS key"},
		{"the mail queue is still needed by the others", []string{"queue"}, map[string]string{envTable: "t", envKeyID: "k"}, "names the table but no mail queue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.restore(t)
			if tc.env != nil {
				f.env = tc.env
			}
			code, stdout, stderr := f.run(t, tc.args...)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if !strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "portalctl help") {
				t.Errorf("stderr %q does not say %q and where help is", stderr, tc.stderr)
			}
			if r.table.scans != 0 || r.keyLoads != 0 || r.table.items["ada"] != 6 {
				t.Errorf("read or erased: %d scans, %d key loads, items %v", r.table.scans, r.keyLoads, r.table.items)
			}
		})
	}
}

func TestP17_ReapplyErasuresThatFailsSaysToRunItAgain(t *testing.T) {
	f := newFixture(t)
	r := f.restore(t)
	r.table.failErase = errors.New("batch delete: throttled")
	code, stdout, stderr := f.run(t, "reapply-erasures", "--restored-table", "restored")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "reapply the erasure of request r7: batch delete: throttled") ||
		!strings.Contains(stderr, "not ready for service. Run reapply-erasures again") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// keyKMS is a fake KMS: a ciphertext is "enc:" + the key.
type keyKMS struct{ fail error }

func (k keyKMS) Generate(context.Context, string) ([]byte, []byte, error) {
	return nil, nil, errors.New("reapply-erasures must never make a hash key")
}

func (k keyKMS) Decrypt(_ context.Context, name string, ct []byte) ([]byte, error) {
	if k.fail != nil {
		return nil, k.fail
	}
	plain, ok := bytes.CutPrefix(ct, []byte("enc:"))
	if !ok || name != keyring.HashKeyName {
		return nil, errors.New("not a hash key")
	}
	return plain, nil
}

// keyTable holds one data key ciphertext, or none.
type keyTable struct{ ct []byte }

func (t keyTable) DataKey(_ context.Context, name string) ([]byte, error) {
	if t.ct == nil || name != keyring.HashKeyName {
		return nil, privacy.Errorf(privacy.NotFound, "no data key")
	}
	return t.ct, nil
}

func TestP17_ReapplyErasuresHashesWithThePortalsKey(t *testing.T) {
	ctx := context.Background()
	plain := bytes.Repeat([]byte("p"), 32)
	ct := append([]byte("enc:"), plain...)
	want, _ := privacy.NewKeyed(plain)
	for _, tc := range []struct {
		name           string
		kms            keyKMS
		live, restored keyTable
		err            string
	}{
		{"the restored table holds the same key", keyKMS{}, keyTable{ct}, keyTable{ct}, ""},
		{"the restored table holds none", keyKMS{}, keyTable{ct}, keyTable{}, ""},
		{"the restored table holds another portal's", keyKMS{}, keyTable{ct}, keyTable{[]byte("enc:other")}, "not a restore of the portal's table"},
		{"the portal's table holds none", keyKMS{}, keyTable{}, keyTable{ct}, "the portal's table has no hash key"},
		{"KMS refuses", keyKMS{fail: errors.New("AccessDeniedException")}, keyTable{ct}, keyTable{ct}, "kms:Decrypt on the portal's key): AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := hashKey(ctx, tc.kms, tc.live, tc.restored)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || keys.Hash(privacy.DomainTombstone, "ada") != want.Hash(privacy.DomainTombstone, "ada") {
				t.Errorf("keys %v, %v; want the portal's", keys, err)
			}
		})
	}
}
