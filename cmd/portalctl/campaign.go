package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// The campaign commands: the operator's mail to many people at once (P14, P25, P19), through
// notices.Operator. Each works on the portal's table, and each asks only for what it uses: start
// the planner queue, publish and withdraw the site bucket, preview the operator's name and
// contact and the site's address.
var campaignCommands = map[string]command{
	"create": {synopsis: createSynopsis, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		file := fs.String("file", "", "")
		return func(ctx context.Context, c *cli, _ string) error { return c.campaignCreate(ctx, *file) }
	}},
	"preview": {synopsis: "campaign preview <id> [--html | --out DIR | --json]", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		html := fs.Bool("html", false, "")
		out := fs.String("out", "", "")
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, id string) error {
			return c.campaignPreview(ctx, id, *html, *out, *asJSON)
		}
	}},
	"start": {synopsis: "campaign start <id> [--yes]", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		yes := fs.Bool("yes", false, "")
		return func(ctx context.Context, c *cli, id string) error { return c.campaignStart(ctx, id, *yes) }
	}},
	"progress": {synopsis: "campaign progress <id> [--watch] [--json]", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		watch := fs.Bool("watch", false, "")
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, id string) error {
			return c.campaignProgress(ctx, id, *watch, *asJSON)
		}
	}},
	"publish": {synopsis: "campaign publish <id>", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		return func(ctx context.Context, c *cli, id string) error { return c.campaignPublish(ctx, id, false) }
	}},
	"withdraw": {synopsis: "campaign withdraw <id>", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		return func(ctx context.Context, c *cli, id string) error { return c.campaignPublish(ctx, id, true) }
	}},
	"index-accounts": {synopsis: "campaign index-accounts", tableOnly: true, flags: func(fs *flag.FlagSet) action {
		return func(ctx context.Context, c *cli, _ string) error { return c.campaignIndexAccounts(ctx) }
	}},
	"report": {synopsis: "campaign report <id> [--format md|json] [--out FILE]", withID: true, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		format := fs.String("format", "md", "")
		out := fs.String("out", "", "")
		return func(ctx context.Context, c *cli, id string) error { return c.campaignReport(ctx, id, *format, *out) }
	}},
}

const createSynopsis = "campaign create --file FILE"

// maxCampaignFile bounds a campaign file: its texts are at most a few thousand characters each.
const maxCampaignFile = 1 << 20

func (c *cli) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// campaignFile is a campaign as the operator writes it (docs/portalctl.md): the content of
// its kind, in both languages, and its audience. Times are RFC 3339, or a date (midnight UTC).
type campaignFile struct {
	Kind       notices.Kind        `json:"kind"`
	Title      privacy.Text        `json:"title"`
	Breach     *breachFile         `json:"breach"`
	Policy     *policyFile         `json:"policy"`
	Paragraphs map[string][]string `json:"paragraphs"`
	Audience   notices.Audience    `json:"audience"`
}

type breachFile struct {
	Incident  privacy.Text `json:"incident"`
	Impact    privacy.Text `json:"impact"`
	Measures  privacy.Text `json:"measures"`
	SelfHelp  privacy.Text `json:"selfHelp"`
	Remedies  privacy.Text `json:"remedies"`
	DataKinds []string     `json:"dataKinds"`
	People    int          `json:"people"`
	Records   int          `json:"records"`
	Contact   string       `json:"contact"`
	Occurred  string       `json:"occurred"`
	// Discovered is required (Validate says so when it is missing).
	Discovered string `json:"discovered"`
}

type policyFile struct {
	Version   string       `json:"version"`
	Summary   privacy.Text `json:"summary"`
	Published string       `json:"published"`
	Effective string       `json:"effective"`
}

// parseTime reads a campaign file's time: RFC 3339, or a date (midnight UTC). Empty is zero.
func parseTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, privacy.FieldError(field, "%q is not a time: write it as 2026-03-02T09:30:00Z (RFC 3339) or 2026-03-02", v)
}

// campaign turns the file into a campaign, or names the field that is wrong.
func (f campaignFile) campaign() (notices.Campaign, error) {
	c := notices.Campaign{Kind: f.Kind, Title: f.Title, Paragraphs: f.Paragraphs, Audience: f.Audience}
	var err error
	if b := f.Breach; b != nil {
		nb := &notices.Breach{
			Incident: b.Incident, Impact: b.Impact, Measures: b.Measures, SelfHelp: b.SelfHelp, Remedies: b.Remedies,
			DataKinds: b.DataKinds, People: b.People, Records: b.Records, Contact: strings.TrimSpace(b.Contact),
		}
		if nb.Occurred, err = parseTime("breach.occurred", b.Occurred); err != nil {
			return notices.Campaign{}, err
		}
		if nb.Discovered, err = parseTime("breach.discovered", b.Discovered); err != nil {
			return notices.Campaign{}, err
		}
		c.Breach = nb
	}
	if p := f.Policy; p != nil {
		np := &notices.PolicyUpdate{Version: strings.TrimSpace(p.Version), Summary: p.Summary}
		if np.Published, err = parseTime("policy.published", p.Published); err != nil {
			return notices.Campaign{}, err
		}
		if np.Effective, err = parseTime("policy.effective", p.Effective); err != nil {
			return notices.Campaign{}, err
		}
		c.Policy = np
	}
	return c, nil
}

// readCampaign reads and checks a campaign file ("-": standard input). A file that cannot be
// read is an error; one that says something wrong is a usage error, naming the field.
func (c *cli) readCampaign(path string) (notices.Campaign, error) {
	r, name := c.Stdin, "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return notices.Campaign{}, fmt.Errorf("read the campaign: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCampaignFile+1))
	switch {
	case err != nil:
		return notices.Campaign{}, fmt.Errorf("read the campaign from %s: %w", name, err)
	case len(b) > maxCampaignFile:
		return notices.Campaign{}, usagef("the campaign in %s is over %d KiB", name, maxCampaignFile>>10)
	case !utf8.Valid(b):
		return notices.Campaign{}, usagef("the campaign in %s is not UTF-8 text", name)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f campaignFile
	if err := dec.Decode(&f); err != nil {
		return notices.Campaign{}, usagef("the campaign in %s is not a campaign: %s", name, jsonProblem(err))
	}
	if dec.More() {
		return notices.Campaign{}, usagef("the campaign in %s holds more than one JSON object", name)
	}
	camp, err := f.campaign()
	if err == nil {
		err = camp.Validate(c.now())
	}
	if err != nil {
		return notices.Campaign{}, c.inputError(name, err)
	}
	return camp, nil
}

// jsonProblem says what is wrong with a campaign file's JSON, naming the field.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("%s must be a JSON %s, not %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("%v (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "float64":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	}
	return kind
}

// inputError is a campaign that is not valid, as a usage error naming the field.
func (c *cli) inputError(name string, err error) error {
	var pe *privacy.Error
	if errors.As(err, &pe) && pe.Code == privacy.Invalid {
		if pe.Field != "" {
			return usagef("the campaign in %s: %s %s", name, pe.Field, pe.Message)
		}
		return usagef("the campaign in %s: %s", name, pe.Message)
	}
	return err
}

func (c *cli) campaigns(ctx context.Context) (*notices.Operator, error) {
	return c.Campaigns(ctx, c.conf)
}

// campaignCreate writes a campaign from a file, as a draft, and prints its ID.
func (c *cli) campaignCreate(ctx context.Context, file string) error {
	if file == "" {
		return usagef("campaign create needs the campaign: portalctl %s (docs/portalctl.md shows one of each kind)", createSynopsis)
	}
	camp, err := c.readCampaign(file)
	if err != nil {
		return err
	}
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	created, err := op.Create(ctx, camp)
	if err != nil {
		return c.inputError(file, err)
	}
	fmt.Fprintln(c.stdout, created.ID)
	return nil
}

// needOperator says, before anything is read, that a preview has nothing to render mail with:
// a portal named by its table must name the operator and the site's address too.
func (c *cli) needOperator(what string) error {
	if c.conf.Stack != "" {
		return nil
	}
	var missing []string
	for _, s := range []struct{ v, flag, env string }{
		{c.conf.OperatorName, "--operator-name", envOperatorName},
		{c.conf.OperatorContact, "--operator-contact", envOperatorContact},
		{c.conf.SiteURL, "--site-url", envSiteURL},
	} {
		if strings.TrimSpace(s.v) == "" {
			missing = append(missing, s.flag+" or "+s.env)
		}
	}
	if len(missing) > 0 {
		return usagef("%s renders the mail as the functions do, with the operator's name and contact and the site's address: name %s (make dev prints them), or name the stack (--stack, %s)", what, strings.Join(missing, ", "), envStack)
	}
	return nil
}

// operatorFromStack says a stack gave no operator to render mail with.
func (c *cli) operatorFromStack(op *notices.Operator, what string) error {
	if op.Operator.Name == "" || op.Operator.Contact == "" || op.SiteURL == "" {
		return usagef("%s renders the mail with the stack's parameters OperatorName and OperatorContact and its output PortalURL: stack %s does not name them all", what, c.conf.Stack)
	}
	return nil
}

// previewJSON is a preview for --json.
type previewJSON struct {
	Campaign   string `json:"campaign"`
	Kind       string `json:"kind"`
	State      string `json:"state"`
	Recipients int    `json:"recipients"`
	// AtMost says Recipients is an upper bound: marketing goes only to those whose ledger
	// grants it when it is sent.
	AtMost bool                   `json:"atMost"`
	Mails  map[string]renderedOut `json:"mails"`
}

type renderedOut struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// locales are the languages a campaign is previewed in, in order.
var locales = []string{privacy.LocaleEnglish, privacy.LocaleChinese}

// recipients says how many people a campaign goes to.
func recipients(p notices.Preview) string {
	n := count(p.Recipients, "person")
	if p.Recipients != 1 {
		n = fmt.Sprintf("%d people", p.Recipients)
	}
	if p.ConsentDecides {
		return "at most " + n
	}
	return n
}

// kindName is a campaign kind in words.
var kindName = map[notices.Kind]string{
	notices.KindBreach:       "breach notice",
	notices.KindPolicyUpdate: "policy update",
	notices.KindMarketing:    "marketing",
}

// campaignPreview renders a campaign in both languages and counts its recipients; it sends
// nothing.
func (c *cli) campaignPreview(ctx context.Context, id string, html bool, dir string, asJSON bool) error {
	if n := btoi(html) + btoi(dir != "") + btoi(asJSON); n > 1 {
		return usagef("campaign preview takes one of --html, --out and --json")
	}
	if err := c.needOperator("campaign preview"); err != nil {
		return err
	}
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	if err := c.operatorFromStack(op, "campaign preview"); err != nil {
		return err
	}
	p, err := op.Preview(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		out := previewJSON{
			Campaign: p.Campaign.ID, Kind: string(p.Campaign.Kind), State: string(p.Campaign.State),
			Recipients: p.Recipients, AtMost: p.ConsentDecides, Mails: map[string]renderedOut{},
		}
		for l, m := range p.Mails {
			out.Mails[l] = renderedOut{Subject: m.Subject, Text: m.Text, HTML: m.HTML}
		}
		return writeJSON(c.stdout, out)
	}
	w := c.stdout
	c.printSummary(w, p)
	if p.ConsentDecides {
		fmt.Fprintln(w, "             (marketing goes only to those whose ledger grants it when it is sent)")
	}
	fmt.Fprintln(w, "Nothing was sent: this is a preview, for a sample reader.")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write the preview: %w", err)
		}
		fmt.Fprintln(w)
		for _, l := range locales {
			m := p.Mails[l]
			for _, f := range []struct{ ext, body string }{{"txt", m.Text}, {"html", m.HTML}} {
				path := filepath.Join(dir, fmt.Sprintf("%s.%s.%s", p.Campaign.ID, l, f.ext))
				if err := os.WriteFile(path, []byte(f.body), 0o644); err != nil {
					return fmt.Errorf("write the preview: %w", err)
				}
				fmt.Fprintf(w, "Wrote %s\n", clean(path))
			}
			fmt.Fprintf(w, "Subject (%s): %s\n", l, clean(m.Subject))
		}
		return nil
	}
	for _, l := range locales {
		m := p.Mails[l]
		body := m.Text
		if html {
			body = m.HTML
		}
		fmt.Fprintf(w, "\n==== %s ====\nSubject: %s\n\n%s\n", l, clean(m.Subject), strings.TrimRight(clean(body), "\n"))
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// printSummary says what a campaign is and whom it goes to.
func (c *cli) printSummary(w io.Writer, p notices.Preview) {
	camp := p.Campaign
	fmt.Fprintf(w, "Campaign     %s\n", clean(camp.ID))
	fmt.Fprintf(w, "Kind         %s (%s)\n", kindName[camp.Kind], camp.State)
	for _, l := range locales {
		fmt.Fprintf(w, "Title        %s: %s\n", l, clean(notices.In(camp.Title, l)))
	}
	fmt.Fprintf(w, "Recipients   %s today\n", recipients(p))
}

// errNotConfirmed is a start the operator did not confirm.
var errNotConfirmed = errors.New("not started: the answer was not the campaign's ID (nothing was sent)")

// campaignStart starts a draft, after the operator saw what it sends and to how many people,
// and typed its ID (or said --yes).
func (c *cli) campaignStart(ctx context.Context, id string, yes bool) error {
	if c.conf.Stack == "" && c.conf.NoticePlanQueueURL == "" {
		return usagef("campaign start needs the planner's queue: name it (--notice-plan-queue-url URL, or %s; make dev prints it), or name the stack (--stack, %s)", envNoticePlanQueue, envStack)
	}
	if !yes {
		if err := c.needOperator("campaign start (without --yes, after a preview)"); err != nil {
			return err
		}
	}
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	if op.Plans == nil {
		return usagef("stack %s has no output NoticePlanQueueURL: deploy the current template", c.conf.Stack)
	}
	if !yes {
		if err := c.operatorFromStack(op, "campaign start (without --yes, after a preview)"); err != nil {
			return err
		}
		p, err := op.Preview(ctx, id)
		if err != nil {
			return err
		}
		// A campaign started already is refused by Start, asking nothing.
		if p.Campaign.State == notices.StateDraft {
			c.printSummary(c.stderr, p)
			fmt.Fprintf(c.stderr, "\nSend to %s? Type the campaign id to confirm: ", recipients(p))
			answer, err := bufio.NewReader(c.Stdin).ReadString('\n')
			if err != nil && (err != io.EOF || answer == "") {
				fmt.Fprintln(c.stderr)
				return fmt.Errorf("not started: no answer on standard input (nothing was sent); --yes starts it without asking")
			}
			if strings.TrimSpace(answer) != p.Campaign.ID {
				return errNotConfirmed
			}
		}
	}
	started, err := op.Start(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Campaign %s started: the planner writes a delivery for each recipient, and the sender sends them at the SES rate.\nFollow it with: portalctl campaign progress %s --watch\n", clean(started.ID), clean(started.ID))
	return nil
}

// campaignPublish puts a breach notice on the site (P14), or stops the home page linking it.
func (c *cli) campaignPublish(ctx context.Context, id string, withdraw bool) error {
	name := "campaign publish"
	if withdraw {
		name = "campaign withdraw"
	}
	if c.conf.Stack == "" && c.conf.SiteBucket == "" {
		return usagef("%s needs the site's bucket: name it (--site-bucket NAME, or %s; make dev prints it), or name the stack (--stack, %s)", name, envSiteBucket, envStack)
	}
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	if op.Site == nil {
		return usagef("stack %s has no output SiteBucketName: deploy the current template", c.conf.Stack)
	}
	if withdraw {
		camp, err := op.Withdraw(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Campaign %s: the home page no longer links its public notice; the notice stays readable at:\n", clean(camp.ID))
	} else {
		camp, err := op.Publish(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Campaign %s: its public notice is on the site since %s, linked from the home page, at:\n", clean(camp.ID), at(camp.Published, fullTime))
	}
	for _, l := range locales {
		fmt.Fprintf(c.stdout, "  %s%s\n", clean(op.SiteURL), clean(notices.NoticePath(l, id)))
	}
	return nil
}

// campaignIndexAccounts puts the accounts activated before campaigns existed into the active
// accounts' index, whom a notice to everyone goes to (docs/notices.md).
func (c *cli) campaignIndexAccounts(ctx context.Context) error {
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	indexed, left, err := op.IndexAccounts(ctx)
	if err != nil {
		return fmt.Errorf("%w\nNothing is lost: run campaign index-accounts again, it carries on", err)
	}
	fmt.Fprintf(c.stdout, "%d active accounts added to the index of active accounts; every active account is in it now.\n", indexed)
	if left > 0 {
		fmt.Fprintf(c.stdout, "%d changed while it ran (closed, or indexed by the portal) and were left as they are.\n", left)
	}
	return nil
}

// campaignReport writes the regulator's report of a breach (P14), from the campaign's data.
func (c *cli) campaignReport(ctx context.Context, id, format, out string) error {
	if format != "md" && format != "json" {
		return usagef("campaign report --format is md or json, not %q", format)
	}
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	p, err := op.Progress(ctx, id)
	if err != nil {
		return err
	}
	r, err := notices.Report(p, op.Now())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if format == "json" {
		if err := writeJSON(&b, r); err != nil {
			return err
		}
	} else {
		b.WriteString(r.Markdown())
	}
	if out == "" {
		_, err := io.WriteString(c.stdout, clean(b.String()))
		return err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	fmt.Fprintf(c.stdout, "Wrote the regulator's report of campaign %s to %s.\n", clean(id), clean(out))
	return nil
}
