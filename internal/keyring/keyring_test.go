package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/privacyportal/portal/internal/keyring"
	"github.com/privacyportal/portal/internal/privacy"
)

// fakeKMS "encrypts" by reversing and tagging: enough to tell plain from cipher.
type fakeKMS struct {
	mu        sync.Mutex
	generated int
	fail      error
}

func (k *fakeKMS) Generate(_ context.Context, name string) ([]byte, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return nil, nil, k.fail
	}
	k.generated++
	plain := bytes.Repeat([]byte{byte(k.generated)}, 32)
	return plain, append([]byte("enc:"+name+":"), plain...), nil
}

func (k *fakeKMS) Decrypt(_ context.Context, name string, ct []byte) ([]byte, error) {
	if k.fail != nil {
		return nil, k.fail
	}
	p, ok := bytes.CutPrefix(ct, []byte("enc:"+name+":"))
	if !ok {
		return nil, errors.New("wrong encryption context")
	}
	return p, nil
}

type table struct {
	mu   sync.Mutex
	cts  map[string][]byte
	race func() // runs once, just before the first PutDataKey, as a concurrent cold start
}

func (t *table) DataKey(_ context.Context, name string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ct, ok := t.cts[name]; ok {
		return ct, nil
	}
	return nil, privacy.Errorf(privacy.NotFound, "no key")
}

func (t *table) PutDataKey(_ context.Context, name string, ct []byte) error {
	if t.race != nil {
		r := t.race
		t.race = nil
		r()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.cts[name]; ok {
		return privacy.ErrStale
	}
	t.cts[name] = ct
	return nil
}

func TestLoadMakesTheKeyOnceAndEveryoneUsesIt(t *testing.T) {
	ctx := context.Background()
	kms, tbl := &fakeKMS{}, &table{cts: map[string][]byte{}}
	first, err := keyring.Load(ctx, kms, tbl, keyring.HashKeyName)
	if err != nil || len(first) != 32 {
		t.Fatalf("first load: %x, %v", first, err)
	}
	if bytes.Contains(tbl.cts[keyring.HashKeyName], []byte("enc:hash:")) == false {
		t.Errorf("the table holds %q, want only the ciphertext", tbl.cts[keyring.HashKeyName])
	}
	again, err := keyring.Load(ctx, kms, tbl, keyring.HashKeyName)
	if err != nil || !bytes.Equal(again, first) || kms.generated != 1 {
		t.Errorf("second load: %x (%v), %d keys generated; want the first key", again, err, kms.generated)
	}
}

func TestLoadUsesTheKeyAConcurrentColdStartStoredFirst(t *testing.T) {
	ctx := context.Background()
	kms, tbl := &fakeKMS{}, &table{cts: map[string][]byte{}}
	var theirs []byte
	tbl.race = func() {
		var err error
		if theirs, err = keyring.Load(ctx, kms, tbl, keyring.HashKeyName); err != nil {
			t.Error(err)
		}
	}
	ours, err := keyring.Load(ctx, kms, tbl, keyring.HashKeyName)
	if err != nil || !bytes.Equal(ours, theirs) {
		t.Errorf("ours %x (%v), theirs %x: want one key", ours, err, theirs)
	}
}

func TestLoadPassesOnFailures(t *testing.T) {
	boom := errors.New("kms unavailable")
	kms := &fakeKMS{fail: boom}
	if _, err := keyring.Load(context.Background(), kms, &table{cts: map[string][]byte{}}, "hash"); !errors.Is(err, boom) {
		t.Errorf("generate failure: %v", err)
	}
	if _, err := keyring.Load(context.Background(), kms, &table{cts: map[string][]byte{"hash": []byte("x")}}, "hash"); !errors.Is(err, boom) {
		t.Errorf("decrypt failure: %v", err)
	}
}
