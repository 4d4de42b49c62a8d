package privacy

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// SubjectID identifies a data subject: a person the portal holds data about. It is random and
// carries no personal data, so it may appear in logs, queue messages and operator indexes.
type SubjectID string

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a random 128-bit identifier, lower-case base32 (26 characters).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// NewSubjectID returns a fresh random SubjectID.
func NewSubjectID() SubjectID { return SubjectID(NewID()) }

// ChildAge is the age under which a person is a child: their account needs a guardian's
// consent before it is used (policy section 6).
const ChildAge = 14
