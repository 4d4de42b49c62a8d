// Package ses sends the portal's mail through Amazon SES (API v1, SendRawEmail): the mail is
// rendered and built by package mail, so it can carry headers such as List-Unsubscribe and
// attachments such as a consent receipt. A mail goes through the SES configuration set with
// open and click tracking only when its reader asked for it (promise P08).
package ses

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsses "github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/privacyportal/portal/internal/mail"
)

// SendRawEmailAPI is the part of the SES client Sender uses. It is the only SES call the
// portal makes: the local SES emulator answers SendEmail and SendRawEmail and leaves every
// other v1 call (GetSendQuota, VerifyEmailIdentity, ...) hanging without a response.
type SendRawEmailAPI interface {
	SendRawEmail(ctx context.Context, in *awsses.SendRawEmailInput, optFns ...func(*awsses.Options)) (*awsses.SendRawEmailOutput, error)
}

// Sender renders, builds and sends mail.
type Sender struct {
	Client SendRawEmailAPI
	// From is the sender, e.g. "Privacy Portal <no-reply@mail.example.com>": an address (or
	// domain) verified in SES. Message-IDs are made at its domain.
	From string
	// ConfigurationSet, when set, names the SES configuration set of untracked mail (event
	// publishing for bounces and complaints): every mail whose Message.Tracked is false. It
	// must have no open or click tracking: no event destination for Open or Click events,
	// which is what makes SES add its pixel and rewrite links.
	ConfigurationSet string
	// TrackedConfigurationSet names the configuration set with open and click tracking, for
	// the mail whose Message.Tracked is true (the reader granted the "email.analytics"
	// consent). Empty: a tracked mail is not sent at all rather than sent untracked or
	// through the wrong set.
	TrackedConfigurationSet string
	// Operator is named in every mail's footer.
	Operator mail.Operator
	// Now dates the messages; nil means time.Now.
	Now func() time.Time
}

// Send renders m, builds the raw message and sends it to m.To alone, through
// TrackedConfigurationSet when m.Tracked and through ConfigurationSet otherwise. It refuses a
// tracked mail without a TrackedConfigurationSet, and any mail while both sets are the same
// (untracked mail would be tracked). Its errors never contain
// the recipient's address, even where SES's own message names it (a sandboxed account's
// "Email address is not verified ... : <address>"); the SDK error stays reachable with
// errors.As for retry decisions, so log the error Send returns, not its cause's text.
func (s *Sender) Send(ctx context.Context, m mail.Message) error {
	configSet := s.ConfigurationSet
	switch {
	case s.TrackedConfigurationSet != "" && s.TrackedConfigurationSet == s.ConfigurationSet:
		return fmt.Errorf("send %s mail: ConfigurationSet and TrackedConfigurationSet are the same set", m.Kind)
	case m.Tracked && s.TrackedConfigurationSet == "":
		return fmt.Errorf("send %s mail: it is tracked and no TrackedConfigurationSet is set", m.Kind)
	case m.Tracked:
		configSet = s.TrackedConfigurationSet
	}
	r, err := mail.Render(s.Operator, m)
	if err != nil {
		return fmt.Errorf("render %s mail: %w", m.Kind, err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	raw, err := mail.BuildRaw(s.From, r, now())
	if err != nil {
		return fmt.Errorf("build %s mail: %w", m.Kind, err)
	}
	// BuildRaw has parsed both addresses already, so these cannot fail. The envelope gets
	// the bare recipient address (SES sends to Destinations, whatever the To header says),
	// and a Source whose display name is RFC 2047 encoded if it needs to be, as SES asks.
	// The local emulator ignores both and reads the message's own From and To headers, so
	// its mailbox cannot show a wrong envelope.
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("build %s mail: the recipient is not an e-mail address", m.Kind)
	}
	from, err := netmail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("build %s mail: From is not an e-mail address", m.Kind)
	}
	in := &awsses.SendRawEmailInput{
		RawMessage:   &types.RawMessage{Data: raw},
		Destinations: []string{to.Address},
		Source:       aws.String(from.String()),
	}
	if configSet != "" {
		in.ConfigurationSetName = aws.String(configSet)
	}
	if validTag(m.Campaign) {
		in.Tags = []types.MessageTag{{Name: aws.String("campaign"), Value: aws.String(m.Campaign)}}
		if validTag(m.Recipient) {
			in.Tags = append(in.Tags, types.MessageTag{Name: aws.String("subject"), Value: aws.String(m.Recipient)})
		}
	}
	if _, err := s.Client.SendRawEmail(ctx, in); err != nil {
		return &sendError{
			msg: fmt.Sprintf("send %s mail: %s", m.Kind, redact(err.Error(), m.To, to.Address)),
			err: err,
		}
	}
	return nil
}

// sendError is a failed SendRawEmail call, its text scrubbed of the recipient's address.
type sendError struct {
	msg string
	err error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// redact replaces every occurrence of each secret in s, in any letter case.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		lower, ls := strings.ToLower(s), strings.ToLower(secret)
		// Lower-casing keeps byte offsets for the ASCII that addresses are made of; if it
		// did not (non-ASCII that changes length), fall back to an exact replace.
		if len(lower) != len(s) || len(ls) != len(secret) {
			s = strings.ReplaceAll(s, secret, "<recipient>")
			continue
		}
		var b strings.Builder
		for {
			i := strings.Index(lower, ls)
			if i < 0 {
				break
			}
			b.WriteString(s[:i])
			b.WriteString("<recipient>")
			s, lower = s[i+len(secret):], lower[i+len(secret):]
		}
		b.WriteString(s)
		s = b.String()
	}
	return s
}

// validTag reports whether s is what SES accepts as a message tag's value: 1 to 256 ASCII
// letters, digits, '_', '.' and '-'. (A loop, not a regexp: a package-level regexp is compiled
// in every cold start of the function that links the package.)
func validTag(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		if !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
