package mail

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"
)

// Kind names one of the portal's mails.
type Kind string

// The portal's mails. The comment after each says which Data fields it uses; a required field
// left empty makes Render fail rather than send a mail with a hole in it.
const (
	// VerifyEmail asks the owner of an address to confirm it for a registration. Data: Code,
	// Link, Minutes. It carries nothing the registrant typed: the address has not said it
	// wants mail from whoever typed it (a name could be an advertisement).
	VerifyEmail Kind = "verify_email"
	// AlreadyRegistered tells the owner of an account that someone tried to register with its
	// address. Data: Name (the name on the existing account, never what the attempt sent),
	// SignInLink. It says nothing about the attempt beyond that it happened.
	AlreadyRegistered Kind = "already_registered"
	// GuardianConsent asks the guardian of an under-14 registrant to confirm or refuse the
	// account. Data: ChildName, Link, Days. It shows the child's name and nothing else they
	// entered.
	GuardianConsent Kind = "guardian_consent"
	// GuardianDecision tells the guardian what became of the account. Data: ChildName,
	// Confirmed.
	GuardianDecision Kind = "guardian_decision"
	// EmailChangeVerify goes to a new address before it replaces the old one. Data: Name,
	// Code, Minutes.
	EmailChangeVerify Kind = "email_change_verify"
	// EmailChangeNotice tells the old address that a change was asked for, without naming the
	// new address. Data: Name, Contact (where to turn if it was not them; Operator.Contact when
	// empty).
	EmailChangeNotice Kind = "email_change_notice"
	// PasswordReset gives the owner of an account a code and a link to set a new password.
	// Data: Name, Code, Link, Minutes.
	PasswordReset Kind = "password_reset"
	// PasswordChanged tells the owner of an account that its password was changed or reset,
	// and every other session ended. Data: Name, SignInLink (the page to reset it, if it was
	// not them), Contact.
	PasswordChanged Kind = "password_changed"
	// Marketing is the operator's commercial message to a person who granted the "marketing"
	// consent. Data: Name (may be empty), Title (the subject), Paragraphs (plain text),
	// UnsubscribeLink (the page that unsubscribes in one click), PreferencesLink (the consent
	// centre). It also needs Message.Unsubscribe, the one-click URL of its List-Unsubscribe
	// and List-Unsubscribe-Post headers (RFC 8058), which no other kind carries. Its footer
	// says why the reader gets it and shows the unsubscribe link (promise P19).
	Marketing Kind = "marketing"
	// ConsentReceipt confirms a change of consent choices (promise P18). Data: Name, Changes,
	// ReceiptID, At (shown in UTC), Link (the consent centre), Contact (where to turn if it was
	// not them; Operator.Contact when empty), Receipt (the Kantara consent receipt JSON,
	// attached as consent-receipt-<ReceiptID>.json, application/json).
	ConsentReceipt Kind = "consent_receipt"

	// RequestCode asks the address named in a data-subject request to prove it wants the
	// request, with a code. Data: Code, Minutes, RequestType. Like VerifyEmail it carries
	// nothing the requester typed (no name, no details): the address has not proved it wants
	// mail from whoever typed it.
	RequestCode Kind = "request_code"
	// RequestReceipt confirms a proved request (promise P23). Data: Name (may be empty),
	// RequestType, RequestID, Received and Due (shown as dates in UTC), Link (the request's
	// status page), Contact, Repeat (adds that a request repeated beyond what is reasonable may
	// cost a fee or be declined, and that the reader is told before either).
	RequestReceipt Kind = "request_receipt"
	// RequestUpdate tells the requester that their request moved on. Data: Name, RequestType,
	// RequestID, Status, Link (the status page), Outcome (plain text, may be empty), Contact.
	// In progress it also needs Due. Refused it also needs RefusalGround, RefusalReason and
	// ComplaintLink, and says how to complain; completed it offers ComplaintLink when given.
	RequestUpdate Kind = "request_update"
	// ExportReady gives the requester the single-use link to their copy (promise P21). Data:
	// Name, Link (shown in full), Days (how long the link works), RequestsLink (where to ask
	// for a new copy), Contact.
	ExportReady Kind = "export_ready"
	// ExportShareConfirm asks the requester of a copy to confirm sending it to the third
	// party they named. Data: Name, ThirdParty (the address they named), Link (the
	// confirmation link), Contact.
	ExportShareConfirm Kind = "export_share_confirm"
	// ExportThirdParty gives the third party a requester named its own single-use link to the
	// copy. Data: RequesterName (the requester's name; never in the subject), Link, Days,
	// Contact.
	ExportThirdParty Kind = "export_third_party"
	// ErasureDone tells the requester that the erasure they asked for, by a deletion request
	// (promise P17) or an account cancellation (P03, P20), is done. Data: RequestType
	// (deletion or cancellation), RequestID, At (when the erasure finished, shown in UTC), Link
	// (the request's status page, which shows the outcome), Erasure (what was removed, who was
	// told, how long the backups keep it), Contact. It is mailed after everything about the
	// reader was deleted, so it has no Name and says why; it says what was deleted, that a
	// record with no personal data is kept as proof, and names the third parties the reader
	// had a copy sent to, whom the portal did not tell.
	ErasureDone Kind = "erasure_done"
	// OperatorDigest lists, for the operator's privacy contact, the requests whose due dates
	// are near or past. Data: Requests (IDs, types and dates only: no names, no addresses).
	OperatorDigest Kind = "operator_digest"

	// BreachNotice tells a person about a personal information security incident that may
	// affect them (promise P14). It is transactional: it goes whatever the reader's marketing
	// choice, and offers no unsubscribe. Data: Name (may be empty), Breach (its texts already
	// in the reader's language: the caller picks the language), Link (optional: the public
	// notice page on the site). The subject is Breach.Title; the body has a numbered, headed
	// section for each part of the notice: what happened (Incident, with Occurred and
	// Discovered in UTC), which kinds of data and how many people (DataKinds, People), the
	// likely impact (Impact), what was done and will be done (Measures), what the reader can
	// do (SelfHelp), what is offered (Remedies) and whom to ask (Breach.Contact, which takes
	// the place of Data.Contact: Data.Contact is not shown). See checkBreach for what it
	// requires.
	BreachNotice Kind = "breach_notice"
	// PolicyUpdate tells every active account holder that a new version of the privacy
	// policy takes effect on a date (promise P25). It is transactional like BreachNotice.
	// Data: Name, Policy (the version, its summary already in the reader's language, its
	// publication and effective dates, shown as dates in UTC, the link to what changed and
	// the link to the full new version), Link (the consent centre, where the reader withdraws
	// consents one purpose at a time), SignInLink (the account page, where the reader cancels
	// the account), Contact (where to ask or object; Operator.Contact when empty). It says
	// that the current version applies until the effective date and the new one from then on
	// to whoever keeps using the service, and that a reader who does not agree can withdraw
	// their consents or cancel their account first. The subject names the effective date. See
	// checkPolicy for what it requires: above all, Effective at least MinPolicyNotice after
	// Published, so the mail never announces a shorter notice.
	PolicyUpdate Kind = "policy_update"
)

// MinPolicyNotice is the least time between a policy version's publication and its effect
// (promise P25): a PolicyUpdate with less is refused.
const MinPolicyNotice = 7 * 24 * time.Hour

// Locales the portal writes mail in (the values of privacy.LocaleEnglish and
// privacy.LocaleChinese).
const (
	English = "en"
	Chinese = "zh-CN"
)

// Data is what a mail says about the reader's case. Links are absolute http(s) URLs and are
// shown in full.
type Data struct {
	Name, Code, Link, SignInLink, ChildName, Contact string
	Minutes, Days                                    int
	Confirmed                                        bool

	// Title is a marketing mail's subject line.
	Title string
	// Paragraphs are a marketing mail's text: plain text, one paragraph each, escaped in the
	// HTML part (never taken as HTML, so a campaign cannot add images or scripts).
	Paragraphs []string
	// UnsubscribeLink is the page that unsubscribes from marketing mail in one click, shown
	// in a marketing mail's footer; PreferencesLink is the consent centre.
	UnsubscribeLink, PreferencesLink string

	// Changes are the purposes a consent receipt reports, in the order given.
	Changes []Change
	// ReceiptID names the receipt; it is also part of the attachment's file name, so it is
	// letters, digits, '.', '_' and '-' only.
	ReceiptID string
	// At is when the consent changed (ConsentReceipt), or when the erasure finished
	// (ErasureDone).
	At time.Time
	// Receipt is the receipt as Kantara Consent Receipt JSON.
	Receipt []byte

	// RequestType is a data-subject request's type, one of the values of privacy.RequestType
	// (access, correction, deletion, copy, withdrawal, cancellation, explanation, complaint,
	// contact); the mail shows its name in the reader's language.
	RequestType string
	// RequestID is the request's ID, shown for reference.
	RequestID string
	// Received is when the request was received; Due is when it must be answered. Both are
	// shown as dates, in UTC.
	Received, Due time.Time
	// Repeat marks a request of a type the requester asked for again beyond what is free
	// (promise P23).
	Repeat bool
	// Status is where a request stands in an update: in_progress, completed or refused.
	Status string
	// Outcome is the answer to a request, plain text: paragraphs are separated by blank lines,
	// and escaped in the HTML part.
	Outcome string
	// RefusalGround is why a request was refused, one of the values of privacy.RefusalGround;
	// the mail shows the privacy policy's words for it. RefusalReason explains it, plain text
	// like Outcome.
	RefusalGround, RefusalReason string
	// ComplaintLink is the request page, set to file a complaint about the request.
	ComplaintLink string
	// RequestsLink is the request page, where a person asks for a new copy of their data.
	RequestsLink string
	// ThirdParty is the address a requester named to receive a copy of their data.
	ThirdParty string
	// RequesterName is the name of the person whose copy a third party is sent.
	RequesterName string
	// Requests are the requests an operator's digest lists, in the order given.
	Requests []DueRequest
	// Erasure is what an erasure removed and who else was concerned, for ErasureDone.
	Erasure *Erasure
	// Breach is the incident a BreachNotice reports.
	Breach *Breach
	// Policy is the policy version a PolicyUpdate announces.
	Policy *PolicyChange
}

// Breach is a personal information security incident as BreachNotice tells it (promise
// P14). Its texts are plain text already in the reader's language (the caller picks the
// language); Render neither translates nor shortens them.
type Breach struct {
	// Title is the mail's subject, one line (line breaks become spaces). Required.
	Title string
	// Incident says what happened; Impact what it may mean for the reader; Measures what the
	// operator has done and will do; SelfHelp what the reader can do to protect themself;
	// Remedies what the operator offers them. Each is plain text, required: paragraphs are
	// separated by blank lines, a single line break is kept as one, and the HTML part
	// escapes it all (never taken as HTML).
	Incident, Impact, Measures, SelfHelp, Remedies string
	// DataKinds are the names of the kinds of personal information affected, already in the
	// reader's language ("e-mail address", "电子邮件地址"), in the order given, each on one line.
	// When empty, the mail says they are still being established.
	DataKinds []string
	// People is the approximate number of people affected; 0 means not known yet (the mail
	// says so). Not negative.
	People int
	// Occurred is when the incident began, shown in UTC; zero means not known yet (the mail
	// says so). Discovered is when the operator found out, shown in UTC, required; Occurred
	// cannot be after it.
	Occurred, Discovered time.Time
	// Contact is where to ask about the incident: an e-mail address, a web address, or any
	// other one line (a phone number). Required.
	Contact string
}

// PolicyChange is a new version of the privacy policy as PolicyUpdate announces it (promise
// P25).
type PolicyChange struct {
	// Version is the new version's name ("1.2"), one line. Required.
	Version string
	// Summary says what changes, plain text already in the reader's language, in paragraphs
	// like Breach's texts. Required.
	Summary string
	// Published is when the version was published; Effective when it takes effect, at least
	// MinPolicyNotice later. Both are required and shown as dates in UTC.
	Published, Effective time.Time
	// DiffLink is the page that shows what changed since the version before (the site's
	// /policy/<version>/diff/ page); PolicyLink is the full new version. Both are required,
	// absolute http(s) URLs.
	DiffLink, PolicyLink string
}

// Erasure is the outcome of an erasure (promises P17, P20), as ErasureDone reports it.
type Erasure struct {
	// Items counts the records removed from the portal's database; Objects the stored files
	// removed (export archives, data waiting for a recipient).
	Items, Objects int
	// RecipientsTold are the organisations that had received the person's data and were
	// instructed to delete it (P17), by name, already in the mail's language, in the order
	// given.
	RecipientsTold []string
	// Independent are the addresses of the third parties the person themself had a copy of
	// their data sent to. They received it on the person's own instruction and were not told
	// of the erasure: the mail names them, so the person can ask them directly.
	Independent []string
	// BackupDays is within how many days the data leaves the point-in-time backups; at least
	// 1.
	BackupDays int
	// Verified says a search after the erasure found nothing of the person left.
	Verified bool
}

// DueRequest is one request in the operator's digest. It holds no name and no address: the
// digest goes to a mailbox that more people may read than need to.
type DueRequest struct {
	// ID is the request's ID (what portalctl show takes); Type is its type, as
	// Data.RequestType.
	ID, Type string
	// Due is when the request must be answered, shown as a date in UTC.
	Due time.Time
	// DaysLeft is how many whole days are left until Due (0 on the day).
	DaysLeft int
	// Overdue marks a request past its due date; DaysLeft is then not shown.
	Overdue bool
}

// Change is one purpose whose consent changed.
type Change struct {
	// Purpose is the purpose's display name, already in the mail's language.
	Purpose string
	// Granted is true for a grant and false for a withdrawal.
	Granted bool
}

// Attachment is a file attached to a mail. Name is its file name: letters, digits, '.', '_'
// and '-', starting with a letter or digit, at most 128 bytes. ContentType is a MIME type
// other than multipart/* and message/*.
type Attachment struct {
	Name, ContentType string
	Body              []byte
}

// MaxAttachmentBytes caps the total size of a mail's attachments, before encoding.
const MaxAttachmentBytes = 256 << 10

// Operator is who runs the portal. Every mail's footer names it, says how to reach it and
// links to its site.
type Operator struct{ Name, Contact, SiteURL string }

// Message is a mail to send: its kind, the reader's locale and address, and its data.
type Message struct {
	To, Locale string
	Kind       Kind
	Data       Data
	// Unsubscribe is the URL a mail client POSTs "List-Unsubscribe=One-Click" to (RFC 8058);
	// it may differ from Data.UnsubscribeLink, the page a reader opens. Required for
	// Marketing and refused for every other kind. It must be an https URL (http only on
	// 127.0.0.1, ::1 or localhost, for the local cloud), without a fragment, a comma or
	// angle brackets.
	Unsubscribe string
	// Tracked asks the sender for open and click tracking: true only when the reader granted
	// the "email.analytics" consent (promise P08). Render does not look at it: the portal's
	// templates add no pixel and rewrite no link either way; package ses picks the SES
	// configuration set that does, or the one that does not.
	Tracked bool
	// Campaign names the campaign a mail belongs to; package ses tags the message with it, so
	// the tracked configuration set's open and click counts are per campaign. Recipient is the
	// subject it goes to (an ID, nothing personal), tagged too: SES's Send event for the mail
	// then names the campaign's delivery it settles (internal/notices).
	Campaign, Recipient string
	// Attachments are attached as given, after the receipt of a ConsentReceipt mail.
	Attachments []Attachment
}

// Rendered is a mail ready to be built into a MIME message. Headers are added to the message
// verbatim (Render sets Auto-Submitted and Content-Language, and on a marketing mail only
// List-Unsubscribe and List-Unsubscribe-Post). Attachments follow the text and HTML.
type Rendered struct {
	To, Subject, Text, HTML string
	Headers                 map[string]string
	Attachments             []Attachment
}

// needs lists, per kind, the Data fields Render insists on. It is also the list of kinds.
var needs = map[Kind]struct {
	code, link, signIn, child, minutes, days    bool
	title, paragraphs, unsubscribe, preferences bool
	changes, receiptID, at, receipt             bool
	requestType, requestID, received, due       bool
	thirdParty, requesterName, requestsLink     bool
	requests                                    bool
}{
	VerifyEmail:       {code: true, link: true, minutes: true},
	AlreadyRegistered: {signIn: true},
	GuardianConsent:   {child: true, link: true, days: true},
	GuardianDecision:  {child: true},
	EmailChangeVerify: {code: true, minutes: true},
	EmailChangeNotice: {},
	PasswordReset:     {code: true, link: true, minutes: true},
	PasswordChanged:   {signIn: true},
	Marketing:         {title: true, paragraphs: true, unsubscribe: true, preferences: true},
	ConsentReceipt:    {changes: true, receiptID: true, at: true, link: true, receipt: true},
	RequestCode:       {code: true, minutes: true, requestType: true},
	RequestReceipt:    {requestType: true, requestID: true, received: true, due: true, link: true},
	// Also Status, and what Status asks for: see checkUpdate.
	RequestUpdate:      {requestType: true, requestID: true, link: true},
	ExportReady:        {link: true, days: true, requestsLink: true},
	ExportShareConfirm: {thirdParty: true, link: true},
	ExportThirdParty:   {requesterName: true, link: true, days: true},
	// Also a deletion or cancellation, and Erasure: see checkErasure.
	ErasureDone:    {requestType: true, requestID: true, link: true, at: true},
	OperatorDigest: {requests: true},
	// Breach: see checkBreach. Link, the public notice, is optional.
	BreachNotice: {},
	// Link is the consent centre, SignInLink the account page. Policy: see checkPolicy.
	PolicyUpdate: {link: true, signIn: true},
}

// The values Data.RequestType, Data.Status and Data.RefusalGround may take (those of
// privacy.RequestType, privacy.RequestStatus and privacy.RefusalGround, which this package
// does not import). The templates name each in both languages; TestRenderRequestNames checks
// that none is missing.
var (
	requestTypes   = []string{"access", "correction", "deletion", "copy", "withdrawal", "cancellation", "explanation", "complaint", "contact"}
	updateStatuses = []string{"in_progress", "completed", "refused"}
	refusalGrounds = []string{
		"national_security", "public_interest", "criminal_proceedings", "abuse_of_rights", "harms_others",
		"unreasonably_repeated", "technically_impractical", "risks_others_rights",
	}
)

// Kinds returns every kind of mail, for callers (and tests) that go through them all.
func Kinds() []Kind {
	return []Kind{
		VerifyEmail, AlreadyRegistered, GuardianConsent, GuardianDecision, EmailChangeVerify, EmailChangeNotice,
		PasswordReset, PasswordChanged, Marketing, ConsentReceipt,
		RequestCode, RequestReceipt, RequestUpdate, ExportReady, ExportShareConfirm, ExportThirdParty, ErasureDone,
		OperatorDigest, BreachNotice, PolicyUpdate,
	}
}

//go:embed templates/*.tmpl
var templateFS embed.FS

// localeTemplates are a locale's parsed templates. Text and subjects use text/template; the
// HTML uses html/template, which escapes whatever a reader typed (a name) for its context.
type localeTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// locales parses the templates on first use, not at init: ~2.4 ms that functions which never
// send mail (or not in this invoke) should not add to their cold start. A missing template
// still fails at once, on the first mail, and in the tests.
var locales = sync.OnceValue(parseTemplates)

func parseTemplates() map[string]localeTemplates {
	locales := map[string]localeTemplates{}
	for _, loc := range []string{English, Chinese} {
		// The names file (request types, statuses, refusal grounds) is plain text that both
		// parts share; html/template escapes data, never a template's own text.
		names := "templates/" + loc + ".names.tmpl"
		date := func(t time.Time) string { return t.UTC().Format(dateLayouts[loc]) }
		t := texttemplate.Must(texttemplate.New("").Funcs(texttemplate.FuncMap{"utc": utc, "date": date, "number": number}).ParseFS(templateFS, "templates/"+loc+".txt.tmpl", names))
		funcs := htmltemplate.FuncMap{"contactHref": contactHref, "utc": utc, "date": date, "lines": lines, "number": number}
		h := htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html.tmpl", "templates/"+loc+".html.tmpl", names))
		for _, k := range Kinds() {
			for _, name := range []string{string(k) + ".subject", string(k) + ".text"} {
				if t.Lookup(name) == nil {
					panic("mail: " + loc + " has no template " + name)
				}
			}
			if h.Lookup(string(k)) == nil {
				panic("mail: " + loc + " has no HTML template " + string(k))
			}
		}
		locales[loc] = localeTemplates{t, h}
	}
	return locales
}

// view is what the templates see.
type view struct {
	Lang    string
	Subject string
	Op      Operator
	Data    Data
	// Contact is where the reader turns if something is wrong: Data.Contact, else the
	// operator's.
	Contact string
	// Marketing adds the footer that says why the reader gets the mail and how to stop it.
	Marketing bool
	// Content is the body of the HTML layout, already escaped by html/template.
	Content htmltemplate.HTML
	// Outcome and Reason are Data.Outcome and Data.RefusalReason cut into paragraphs, each
	// with "\n" between its lines.
	Outcome, Reason []string
	// Overdue counts the digest's overdue requests.
	Overdue int
	// Incident, Impact, Measures, SelfHelp and Remedies are a BreachNotice's texts cut into
	// paragraphs, like Outcome.
	Incident, Impact, Measures, SelfHelp, Remedies []string
	// Summary is a PolicyUpdate's summary cut into paragraphs, like Outcome.
	Summary []string
}

// Render renders m in its locale. Locales "zh", "zh-CN" (in any case, with "-" or "_") and
// "zh-Hans" get Simplified Chinese; any other well-formed language tag gets English. An
// unknown kind, a malformed locale tag, a missing required field, a link that is not an
// absolute http(s) URL, a marketing mail without a valid Message.Unsubscribe (or another
// kind with one) and an attachment BuildRaw would refuse are errors. Errors never contain
// the message's data.
func Render(op Operator, m Message) (Rendered, error) {
	need, ok := needs[m.Kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: unknown kind %q", m.Kind)
	}
	loc, err := matchLocale(m.Locale)
	if err != nil {
		return Rendered{}, err
	}
	if err := checkOperator(op); err != nil {
		return Rendered{}, err
	}
	d := m.Data
	for _, f := range []struct {
		name  string
		need  bool
		empty bool
	}{
		{"Code", need.code, d.Code == ""},
		{"Link", need.link, d.Link == ""},
		{"SignInLink", need.signIn, d.SignInLink == ""},
		{"ChildName", need.child, d.ChildName == ""},
		{"Minutes", need.minutes, d.Minutes <= 0},
		{"Days", need.days, d.Days <= 0},
		{"Title", need.title, strings.TrimSpace(d.Title) == ""},
		{"Paragraphs", need.paragraphs, len(d.Paragraphs) == 0},
		{"UnsubscribeLink", need.unsubscribe, d.UnsubscribeLink == ""},
		{"PreferencesLink", need.preferences, d.PreferencesLink == ""},
		{"Changes", need.changes, len(d.Changes) == 0},
		{"ReceiptID", need.receiptID, d.ReceiptID == ""},
		{"At", need.at, d.At.IsZero()},
		{"Receipt", need.receipt, len(d.Receipt) == 0},
		{"RequestType", need.requestType, d.RequestType == ""},
		{"RequestID", need.requestID, strings.TrimSpace(d.RequestID) == ""},
		{"Received", need.received, d.Received.IsZero()},
		{"Due", need.due, d.Due.IsZero()},
		{"ThirdParty", need.thirdParty, strings.TrimSpace(d.ThirdParty) == ""},
		{"RequesterName", need.requesterName, strings.TrimSpace(d.RequesterName) == ""},
		{"RequestsLink", need.requestsLink, d.RequestsLink == ""},
		{"Requests", need.requests, len(d.Requests) == 0},
	} {
		if f.need && f.empty {
			return Rendered{}, fmt.Errorf("mail: %s mail needs Data.%s", m.Kind, f.name)
		}
	}
	if m.Kind == RequestUpdate {
		if err := checkUpdate(d); err != nil {
			return Rendered{}, err
		}
	}
	if m.Kind == ErasureDone {
		e, err := checkErasure(d)
		if err != nil {
			return Rendered{}, err
		}
		d.Erasure = e
	}
	if m.Kind == BreachNotice {
		b, err := checkBreach(d)
		if err != nil {
			return Rendered{}, err
		}
		d.Breach = b
	}
	if m.Kind == PolicyUpdate {
		p, err := checkPolicy(d)
		if err != nil {
			return Rendered{}, err
		}
		d.Policy = p
	}
	if err := checkRequestCodes(d); err != nil {
		return Rendered{}, err
	}
	for name, link := range map[string]string{
		"Link": d.Link, "SignInLink": d.SignInLink, "UnsubscribeLink": d.UnsubscribeLink, "PreferencesLink": d.PreferencesLink,
		"ComplaintLink": d.ComplaintLink, "RequestsLink": d.RequestsLink,
	} {
		if link != "" && !isWebURL(link) {
			return Rendered{}, fmt.Errorf("mail: Data.%s is not an absolute http(s) URL", name)
		}
	}
	if need.paragraphs {
		// Copied: the caller's slice is not ours to change.
		ps := make([]string, len(d.Paragraphs))
		for i, p := range d.Paragraphs {
			if strings.TrimSpace(p) == "" {
				return Rendered{}, fmt.Errorf("mail: Data.Paragraphs[%d] is empty", i)
			}
			// One kind of line break, so the text part's CRLFs come out right.
			ps[i] = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(p), "\r\n", "\n"), "\r", "\n")
		}
		d.Paragraphs = ps
	}
	if need.changes {
		for i, c := range d.Changes {
			if strings.TrimSpace(c.Purpose) == "" {
				return Rendered{}, fmt.Errorf("mail: Data.Changes[%d].Purpose is empty", i)
			}
		}
	}

	headers := map[string]string{
		// RFC 3834: tells vacation responders and the like not to answer.
		"Auto-Submitted":   "auto-generated",
		"Content-Language": loc,
	}
	switch {
	case m.Kind == Marketing && m.Unsubscribe == "":
		return Rendered{}, errors.New("mail: marketing mail needs Message.Unsubscribe (RFC 8058)")
	case m.Kind == Marketing && !isOneClickURL(m.Unsubscribe):
		return Rendered{}, errors.New("mail: Message.Unsubscribe is not an https URL fit for List-Unsubscribe")
	case m.Kind == Marketing:
		// RFC 8058: the URL a mail client POSTs "List-Unsubscribe=One-Click" to, with no
		// page, sign-in or confirmation in between.
		headers["List-Unsubscribe"] = "<" + m.Unsubscribe + ">"
		headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	case m.Unsubscribe != "":
		return Rendered{}, fmt.Errorf("mail: %s mail is not marketing and cannot carry List-Unsubscribe", m.Kind)
	}

	var attachments []Attachment
	if need.receipt {
		if !json.Valid(d.Receipt) {
			return Rendered{}, errors.New("mail: Data.Receipt is not valid JSON")
		}
		name := "consent-receipt-" + d.ReceiptID + ".json"
		if !validFileName(name) {
			return Rendered{}, errors.New("mail: Data.ReceiptID may hold only letters, digits, '.', '_' and '-'")
		}
		attachments = append(attachments, Attachment{Name: name, ContentType: "application/json", Body: d.Receipt})
	}
	attachments = append(attachments, m.Attachments...)
	if err := checkAttachments(attachments); err != nil {
		return Rendered{}, err
	}

	v := view{Lang: loc, Op: op, Data: d, Contact: d.Contact, Marketing: m.Kind == Marketing}
	if v.Contact == "" {
		v.Contact = op.Contact
	}
	v.Outcome, v.Reason = paragraphs(d.Outcome), paragraphs(d.RefusalReason)
	if m.Kind == BreachNotice {
		b := d.Breach
		v.Incident, v.Impact, v.Measures = paragraphs(b.Incident), paragraphs(b.Impact), paragraphs(b.Measures)
		v.SelfHelp, v.Remedies = paragraphs(b.SelfHelp), paragraphs(b.Remedies)
	}
	if m.Kind == PolicyUpdate {
		v.Summary = paragraphs(d.Policy.Summary)
	}
	for _, r := range d.Requests {
		if r.Overdue {
			v.Overdue++
		}
	}
	t := locales()[loc]
	var b bytes.Buffer
	if err := t.text.ExecuteTemplate(&b, string(m.Kind)+".subject", v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s subject: %w", m.Kind, err)
	}
	v.Subject = strings.Join(strings.Fields(b.String()), " ")

	b.Reset()
	if err := t.text.ExecuteTemplate(&b, string(m.Kind)+".text", v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s text: %w", m.Kind, err)
	}
	body := strings.TrimSpace(b.String())
	b.Reset()
	if err := t.text.ExecuteTemplate(&b, "footer", v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s text footer: %w", m.Kind, err)
	}
	text := body + "\n\n" + strings.TrimSpace(b.String()) + "\n"

	b.Reset()
	if err := t.html.ExecuteTemplate(&b, string(m.Kind), v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s HTML: %w", m.Kind, err)
	}
	// Safe: b holds html/template's own, escaped output.
	v.Content = htmltemplate.HTML(strings.TrimSpace(b.String()))
	b.Reset()
	if err := t.html.ExecuteTemplate(&b, "layout", v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s HTML layout: %w", m.Kind, err)
	}

	return Rendered{
		To:          m.To,
		Subject:     v.Subject,
		Text:        text,
		HTML:        strings.TrimSpace(b.String()) + "\n",
		Headers:     headers,
		Attachments: attachments,
	}, nil
}

// checkUpdate checks what a RequestUpdate needs beyond the fields every one does: a status,
// a due date while the request is in progress, and a refusal's ground, reason and complaint
// link.
func checkUpdate(d Data) error {
	if d.Status == "" {
		return errors.New("mail: request_update mail needs Data.Status")
	}
	for _, f := range []struct {
		name  string
		need  bool
		empty bool
	}{
		{"Due", d.Status == "in_progress", d.Due.IsZero()},
		{"RefusalGround", d.Status == "refused", d.RefusalGround == ""},
		{"RefusalReason", d.Status == "refused", strings.TrimSpace(d.RefusalReason) == ""},
		{"ComplaintLink", d.Status == "refused", d.ComplaintLink == ""},
	} {
		if f.need && f.empty {
			return fmt.Errorf("mail: request_update mail with this status needs Data.%s", f.name)
		}
	}
	return nil
}

// checkErasure checks what an ErasureDone needs beyond the fields every one does: a deletion
// or a cancellation, and an Erasure with its backup period, counts that are not negative and
// no blank name or address. It returns a copy of the Erasure with each name and address on
// one line (a line break must not make up a line of the text part), the caller's left as
// it is.
func checkErasure(d Data) (*Erasure, error) {
	if d.RequestType != "deletion" && d.RequestType != "cancellation" {
		return nil, errors.New("mail: erasure_done mail needs Data.RequestType deletion or cancellation")
	}
	if d.Erasure == nil {
		return nil, errors.New("mail: erasure_done mail needs Data.Erasure")
	}
	e := *d.Erasure
	if e.BackupDays <= 0 {
		return nil, errors.New("mail: erasure_done mail needs Data.Erasure.BackupDays")
	}
	if e.Items < 0 || e.Objects < 0 {
		return nil, errors.New("mail: Data.Erasure.Items and Data.Erasure.Objects cannot be negative")
	}
	oneLine := func(field string, in []string) ([]string, error) {
		if in == nil {
			return nil, nil
		}
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = strings.Join(strings.Fields(s), " ")
			if out[i] == "" {
				return nil, fmt.Errorf("mail: Data.Erasure.%s[%d] is empty", field, i)
			}
		}
		return out, nil
	}
	var err error
	if e.RecipientsTold, err = oneLine("RecipientsTold", e.RecipientsTold); err != nil {
		return nil, err
	}
	if e.Independent, err = oneLine("Independent", e.Independent); err != nil {
		return nil, err
	}
	return &e, nil
}

// checkBreach checks what a BreachNotice needs: a Breach with its title, its five texts,
// the time it was discovered (and, if known, when it began, not later) and a contact, no
// negative count of people and no blank kind of data. It returns a copy with the title, the
// contact and each kind of data on one line (a line break must not make up a line of the
// text part, or a header), the caller's left as it is.
func checkBreach(d Data) (*Breach, error) {
	if d.Breach == nil {
		return nil, errors.New("mail: breach_notice mail needs Data.Breach")
	}
	b := *d.Breach
	b.Title, b.Contact = singleLine(b.Title), singleLine(b.Contact)
	for _, f := range []struct{ name, value string }{
		{"Title", b.Title},
		{"Incident", b.Incident}, {"Impact", b.Impact}, {"Measures", b.Measures},
		{"SelfHelp", b.SelfHelp}, {"Remedies", b.Remedies},
		{"Contact", b.Contact},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, fmt.Errorf("mail: breach_notice mail needs Data.Breach.%s", f.name)
		}
	}
	switch {
	case b.Discovered.IsZero():
		return nil, errors.New("mail: breach_notice mail needs Data.Breach.Discovered")
	case b.Occurred.After(b.Discovered):
		return nil, errors.New("mail: Data.Breach.Occurred is after Data.Breach.Discovered")
	case b.People < 0:
		return nil, errors.New("mail: Data.Breach.People cannot be negative")
	}
	if b.DataKinds != nil {
		kinds := make([]string, len(b.DataKinds))
		for i, k := range b.DataKinds {
			if kinds[i] = singleLine(k); kinds[i] == "" {
				return nil, fmt.Errorf("mail: Data.Breach.DataKinds[%d] is empty", i)
			}
		}
		b.DataKinds = kinds
	}
	return &b, nil
}

// checkPolicy checks what a PolicyUpdate needs beyond the fields every one does: a Policy
// with its version, its summary, both dates, an effective date at least MinPolicyNotice after
// the publication (the mail must never announce a shorter notice), and both links. It returns
// a copy with the version on one line, the caller's left as it is.
func checkPolicy(d Data) (*PolicyChange, error) {
	if d.Policy == nil {
		return nil, errors.New("mail: policy_update mail needs Data.Policy")
	}
	p := *d.Policy
	p.Version = singleLine(p.Version)
	for _, f := range []struct {
		name  string
		empty bool
	}{
		{"Version", p.Version == ""},
		{"Summary", strings.TrimSpace(p.Summary) == ""},
		{"Published", p.Published.IsZero()},
		{"Effective", p.Effective.IsZero()},
		{"DiffLink", p.DiffLink == ""},
		{"PolicyLink", p.PolicyLink == ""},
	} {
		if f.empty {
			return nil, fmt.Errorf("mail: policy_update mail needs Data.Policy.%s", f.name)
		}
	}
	if p.Effective.Sub(p.Published) < MinPolicyNotice {
		return nil, errors.New("mail: Data.Policy.Effective must be at least 7 days after Data.Policy.Published")
	}
	for name, link := range map[string]string{"DiffLink": p.DiffLink, "PolicyLink": p.PolicyLink} {
		if !isWebURL(link) {
			return nil, fmt.Errorf("mail: Data.Policy.%s is not an absolute http(s) URL", name)
		}
	}
	return &p, nil
}

// singleLine folds every run of white space in s, line breaks included, into one space, and
// trims it.
func singleLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// checkRequestCodes refuses a request type, status or refusal ground the templates cannot
// name (they would leave a hole), and a digest entry without an ID, a known type or a due
// date. Its errors do not repeat the values.
func checkRequestCodes(d Data) error {
	if d.RequestType != "" && !slices.Contains(requestTypes, d.RequestType) {
		return errors.New("mail: Data.RequestType is not a known request type")
	}
	if d.Status != "" && !slices.Contains(updateStatuses, d.Status) {
		return errors.New("mail: Data.Status is not in_progress, completed or refused")
	}
	if d.RefusalGround != "" && !slices.Contains(refusalGrounds, d.RefusalGround) {
		return errors.New("mail: Data.RefusalGround is not a known refusal ground")
	}
	for i, r := range d.Requests {
		switch {
		case strings.TrimSpace(r.ID) == "":
			return fmt.Errorf("mail: Data.Requests[%d].ID is empty", i)
		case !slices.Contains(requestTypes, r.Type):
			return fmt.Errorf("mail: Data.Requests[%d].Type is not a known request type", i)
		case r.Due.IsZero():
			return fmt.Errorf("mail: Data.Requests[%d].Due is empty", i)
		}
	}
	return nil
}

// paragraphs cuts plain text into paragraphs at blank lines, with one kind of line break
// ("\n", so the text part's CRLFs come out right) and no trailing spaces.
func paragraphs(s string) []string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var out, cur []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	return out
}

// lines cuts a paragraph into its lines, for the HTML part's <br>.
func lines(p string) []string { return strings.Split(p, "\n") }

// dateLayouts show a date as each locale writes it.
var dateLayouts = map[string]string{English: "2 January 2006", Chinese: "2006年1月2日"}

// languageTag is the shape of a BCP 47 tag, loosely (underscores are forgiven).
// It is compiled at first use, not in every cold start of the functions that send mail.
var languageTag = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$`)
})

// matchLocale picks the mail locale for a language tag: Simplified Chinese for the tags that
// mean it, English for every other well-formed tag, including the empty one.
func matchLocale(tag string) (string, error) {
	if tag == "" {
		return English, nil
	}
	if !languageTag().MatchString(tag) {
		return "", errors.New("mail: malformed locale tag")
	}
	switch strings.ToLower(strings.ReplaceAll(tag, "_", "-")) {
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn":
		return Chinese, nil
	}
	return English, nil
}

func checkOperator(op Operator) error {
	switch {
	case strings.TrimSpace(op.Name) == "":
		return errors.New("mail: Operator.Name is empty")
	case strings.ContainsAny(op.Name, "\r\n"):
		// The name goes into subjects, which are headers.
		return errors.New("mail: Operator.Name contains a line break")
	case strings.TrimSpace(op.Contact) == "":
		return errors.New("mail: Operator.Contact is empty")
	case !isWebURL(op.SiteURL):
		return errors.New("mail: Operator.SiteURL is not an absolute http(s) URL")
	}
	return nil
}

// isWebURL reports whether s is an absolute http or https URL with a host. http is allowed for
// the local cloud, whose gateway has no TLS.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\r\n")
}

// isOneClickURL reports whether s can be a List-Unsubscribe URL: https (http only on the
// loopback host, for the local cloud), with a host, no user information and no fragment
// (a POST never sends one, so a token there would be lost), and only the printable ASCII a
// header allows, less the characters that end or separate List-Unsubscribe's <URL> entries.
func isOneClickURL(s string) bool {
	if len(s) > 900 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"' {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(s, "#") {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := strings.ToLower(u.Hostname())
		return h == "127.0.0.1" || h == "::1" || h == "localhost"
	}
	return false
}

// number shows a count with its thousands grouped by commas: "12,400".
func number(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// utc shows a time as the mails do, in UTC to the minute.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// contactHref turns a contact into a link target: a web address as it is, an e-mail address
// as a mailto: URL, anything else (a postal address, a phone number) into "" (shown as text).
func contactHref(s string) string {
	if isWebURL(s) {
		return s
	}
	if a, err := mail.ParseAddress(s); err == nil && a.Name == "" && a.Address == s {
		return "mailto:" + s
	}
	return ""
}
