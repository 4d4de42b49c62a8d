package password_test

import (
	"strings"
	"testing"

	"github.com/privacyportal/portal/internal/password"
)

func TestP13_PasswordHashIsSaltedArgon2id(t *testing.T) {
	p := password.Argon2Params{Memory: 1024, Time: 1, Threads: 1} // cheap for the test
	a := password.Hash("correct horse battery staple", p)
	b := password.Hash("correct horse battery staple", p)
	if !strings.HasPrefix(a, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q is not PHC argon2id", a)
	}
	if a == b {
		t.Error("two hashes of one password are equal: no salt")
	}
	if strings.Contains(a, "horse") {
		t.Error("the hash contains the password")
	}
	if !password.Check("correct horse battery staple", a) {
		t.Error("the right password does not match")
	}
	for _, wrong := range []string{"correct horse battery stapl", "", "Correct horse battery staple"} {
		if password.Check(wrong, a) {
			t.Errorf("wrong password %q matches", wrong)
		}
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$AA$AA", a[:len(a)-5] + "!!!!!"} {
		if password.Check("x", bad) {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
}
