package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/privacyportal/portal/internal/buildinfo"
	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// Config says which portal portalctl works on: a stack, whose outputs name the table, the
// queues, the site bucket and the KMS key (in AWS), and whose parameters name the operator, or
// all those themselves (the local cloud). Only erase needs the erasure queue, only
// reapply-erasures the key (and no queue), and the campaign commands each what they use: a
// portal named without them works for every other command.
type Config struct {
	Stack, Table, MailQueueURL, ErasureQueueURL string
	// KeyID is the portal's KMS key, which encrypts its hash key.
	KeyID string
	// NoticePlanQueueURL is the campaigns' planner queue: only campaign start needs it.
	NoticePlanQueueURL string
	// SiteBucket is the site's bucket: only campaign publish and withdraw need it.
	SiteBucket string
	// OperatorName, OperatorContact and SiteURL are what campaign mail is rendered with, as
	// the functions render it (OPERATOR_NAME, OPERATOR_CONTACT, the portal's address): only
	// campaign preview, and start's confirmation, need them.
	OperatorName, OperatorContact, SiteURL string
	// Region is the stack's region; empty for the AWS configuration's.
	Region string
}

// The environment's configuration; flags of the same names override it.
const (
	envStack     = "PORTAL_STACK"
	envTable     = "PORTAL_TABLE"
	envMailQueue = "PORTAL_MAIL_QUEUE_URL"
	// envErasureQueue names the erasure queue, which only erase needs.
	envErasureQueue = "PORTAL_ERASURE_QUEUE_URL"
	// envKeyID names the portal's KMS key, which only reapply-erasures needs.
	envKeyID = "PORTAL_KEY_ID"
	// envNoticePlanQueue names the campaigns' planner queue, which only campaign start needs.
	envNoticePlanQueue = "PORTAL_NOTICE_PLAN_QUEUE_URL"
	// envSiteBucket names the site's bucket, which only campaign publish and withdraw need.
	envSiteBucket = "PORTAL_SITE_BUCKET"
	// The operator's name and contact and the portal's address, which campaign preview renders
	// mail with.
	envOperatorName    = "PORTAL_OPERATOR_NAME"
	envOperatorContact = "PORTAL_OPERATOR_CONTACT"
	envSiteURL         = "PORTAL_SITE_URL"
)

// deps is what run takes from outside the process's arguments.
type deps struct {
	// Connect builds the Operator for a configuration: main's reads the stack and talks to
	// AWS; tests return one built on a fake store.
	Connect func(ctx context.Context, c Config) (*requests.Operator, error)
	// Restore reaches, for reapply-erasures, the portal's table (its tombstones, its hash key)
	// and a table restored from its backups: main's talks to AWS and KMS; tests return fakes.
	Restore func(ctx context.Context, c Config, restoredTable string) (*restoration, error)
	// Campaigns builds the campaigns' Operator for a configuration: main's talks to AWS (the
	// planner queue and the site bucket only if the configuration names them); tests return
	// one built on fakes.
	Campaigns func(ctx context.Context, c Config) (*notices.Operator, error)
	Getenv    func(string) string
	// Stdin is where --outcome-file - reads the outcome, campaign create --file - the
	// campaign, and campaign start its confirmation.
	Stdin io.Reader
	// Terminal says stderr is a terminal: progress is then rewritten in place.
	Terminal bool
	// OutTerminal says stdout is a terminal: campaign progress --watch then redraws its bar.
	OutTerminal bool
	// Now is the clock campaign create checks a campaign's dates with (nil: time.Now).
	Now func() time.Time
	// Every is how often campaign progress --watch samples (zero: every second).
	Every time.Duration
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the portal refused the step, or could not be reached
	exitUsage  = 2 // the command line (or the configuration) is wrong; nothing was done
)

// maxOutcome bounds an outcome read from a file: it is mailed, and kept in the request.
const maxOutcome = 64 << 10

// usageError is a command line portalctl cannot run.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errHelp asks for the usage, on stdout.
var errHelp = errors.New("help")

// action does a command once its arguments are parsed; id is the request or campaign ID, if it
// takes one.
type action func(ctx context.Context, c *cli, id string) error

// command is one of portalctl's commands.
type command struct {
	// synopsis is how it is called, for usage errors.
	synopsis string
	// withID says it takes an ID: a request's, or a campaign's for the campaign commands.
	withID bool
	// tableOnly says it works on the portal's table alone, without the mail queue.
	tableOnly bool
	// flags declares its flags on fs and returns what it does.
	flags func(fs *flag.FlagSet) action
}

var commands = map[string]command{
	"queue": {synopsis: "queue [--json]", flags: func(fs *flag.FlagSet) action {
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, _ string) error { return c.queue(ctx, *asJSON) }
	}},
	"show": {synopsis: "show <id> [--json]", withID: true, flags: func(fs *flag.FlagSet) action {
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, id string) error { return c.show(ctx, id, *asJSON) }
	}},
	"start": {synopsis: "start <id>", withID: true, flags: func(fs *flag.FlagSet) action {
		return func(ctx context.Context, c *cli, id string) error { return c.start(ctx, id) }
	}},
	"complete": {synopsis: `complete <id> --outcome "text" | --outcome-file PATH`, withID: true, flags: func(fs *flag.FlagSet) action {
		outcome := fs.String("outcome", "", "")
		file := fs.String("outcome-file", "", "")
		return func(ctx context.Context, c *cli, id string) error { return c.complete(ctx, id, *outcome, *file) }
	}},
	"explain": {synopsis: `explain <id> [--remedy "text"]`, withID: true, flags: func(fs *flag.FlagSet) action {
		remedy := fs.String("remedy", "", "")
		return func(ctx context.Context, c *cli, id string) error { return c.explain(ctx, id, *remedy) }
	}},
	"refuse": {synopsis: `refuse <id> --ground CODE --reason "text"`, withID: true, flags: func(fs *flag.FlagSet) action {
		ground := fs.String("ground", "", "")
		reason := fs.String("reason", "", "")
		return func(ctx context.Context, c *cli, id string) error { return c.refuse(ctx, id, *ground, *reason) }
	}},
	"erase": {synopsis: "erase <id> [--json]", withID: true, flags: func(fs *flag.FlagSet) action {
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, id string) error { return c.erase(ctx, id, *asJSON) }
	}},
	"reapply-erasures": {synopsis: reapplySynopsis, tableOnly: true, flags: func(fs *flag.FlagSet) action {
		restored := fs.String("restored-table", "", "")
		asJSON := fs.Bool("json", false, "")
		return func(ctx context.Context, c *cli, _ string) error { return c.reapplyErasures(ctx, *restored, *asJSON) }
	}},
}

// cli is one run of portalctl.
type cli struct {
	deps
	stdout, stderr io.Writer
	conf           Config
}

// run runs portalctl with args (without the program's name) and returns its exit code.
// Results go to stdout; errors and progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, d deps) int {
	c := &cli{deps: d, stdout: stdout, stderr: stderr}
	var ue *usageError
	switch err := c.run(ctx, args); {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		usage(stdout)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "portalctl: %s\nRun 'portalctl help' for the commands and the configuration.\n", ue.msg)
		return exitUsage
	default:
		c.report(err)
		return exitFailed
	}
}

func (c *cli) run(ctx context.Context, args []string) error {
	var flags Config
	top := newFlagSet("portalctl", &flags)
	if err := top.Parse(args); err != nil {
		return flagError(err)
	}
	args = top.Args()
	if len(args) == 0 {
		return usagef("no command (one of %s)", commandNames())
	}
	name, args := args[0], args[1:]
	if name == "help" {
		return errHelp
	}
	cmd, ok := commands[name]
	idName := "a request ID"
	if name == "campaign" {
		// The campaign commands are a family: "campaign <command>".
		if len(args) == 0 {
			return usagef("campaign needs a command (one of %s)", names(campaignCommands))
		}
		switch sub := args[0]; sub {
		case "help", "-h", "-help", "--help":
			return errHelp
		default:
			name, args, idName = "campaign "+sub, args[1:], "a campaign ID"
			if cmd, ok = campaignCommands[sub]; !ok {
				return usagef("unknown command %q (campaign takes one of %s)", name, names(campaignCommands))
			}
		}
	}
	if !ok {
		return usagef("unknown command %q (one of %s)", name, commandNames())
	}
	fs := newFlagSet(name, &flags)
	act := cmd.flags(fs)
	rest, err := parseAnywhere(fs, args)
	if err != nil {
		return flagError(err)
	}
	id := ""
	if cmd.withID {
		if len(rest) == 0 {
			return usagef("%s needs %s: portalctl %s", name, idName, cmd.synopsis)
		}
		id, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return usagef("%s: unexpected argument %q (portalctl %s; quote text with spaces)", name, rest[0], cmd.synopsis)
	}
	set := map[string]bool{}
	mark := func(f *flag.Flag) { set[f.Name] = true }
	top.Visit(mark)
	fs.Visit(mark)
	if c.conf, err = c.config(flags, set, cmd.tableOnly); err != nil {
		return err
	}
	return act(ctx, c, id)
}

// newFlagSet makes a command's flag set, with the configuration's flags. Every command takes
// them, before or after its name. It prints nothing: run reports the errors.
func newFlagSet(name string, conf *Config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&conf.Stack, "stack", conf.Stack, "")
	fs.StringVar(&conf.Table, "table", conf.Table, "")
	fs.StringVar(&conf.MailQueueURL, "mail-queue-url", conf.MailQueueURL, "")
	fs.StringVar(&conf.ErasureQueueURL, "erasure-queue-url", conf.ErasureQueueURL, "")
	fs.StringVar(&conf.KeyID, "key-id", conf.KeyID, "")
	fs.StringVar(&conf.NoticePlanQueueURL, "notice-plan-queue-url", conf.NoticePlanQueueURL, "")
	fs.StringVar(&conf.SiteBucket, "site-bucket", conf.SiteBucket, "")
	fs.StringVar(&conf.OperatorName, "operator-name", conf.OperatorName, "")
	fs.StringVar(&conf.OperatorContact, "operator-contact", conf.OperatorContact, "")
	fs.StringVar(&conf.SiteURL, "site-url", conf.SiteURL, "")
	fs.StringVar(&conf.Region, "region", conf.Region, "")
	return fs
}

// portalFlags are the flags that name the portal, or a part of it: any of them on the command
// line replaces the environment's configuration as a whole. (--region does not name a portal.)
var portalFlags = []string{
	"stack", "table", "mail-queue-url", "erasure-queue-url", "key-id",
	"notice-plan-queue-url", "site-bucket", "operator-name", "operator-contact", "site-url",
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	return usagef("%v", err)
}

// parseAnywhere parses fs's flags wherever they stand among args (the flag package stops at
// the first argument that is not a flag, and `show ID --json` is as natural as
// `show --json ID`) and returns the other arguments. After "--" nothing is a flag.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if used := args[:len(args)-len(left)]; len(used) > 0 && used[len(used)-1] == "--" {
			return append(rest, left...), nil
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// config says which portal to work on. The command line, if it names a stack, a table, a
// queue, a bucket, a key or the operator, replaces the environment's configuration as a whole,
// so a variable left over from another session never mixes with what the operator typed. The
// erasure queue, the key, the planner queue, the site bucket and the operator are optional
// here: the commands that use one ask for it (needErasureQueue, needPlanQueue...); the others
// work without them. A tableOnly command needs no mail queue.
func (c *cli) config(flags Config, set map[string]bool, tableOnly bool) (Config, error) {
	conf, from := flags, "the command line"
	if !slices.ContainsFunc(portalFlags, func(f string) bool { return set[f] }) {
		conf = Config{
			Stack: c.Getenv(envStack), Table: c.Getenv(envTable), MailQueueURL: c.Getenv(envMailQueue),
			ErasureQueueURL: c.Getenv(envErasureQueue), KeyID: c.Getenv(envKeyID),
			NoticePlanQueueURL: c.Getenv(envNoticePlanQueue), SiteBucket: c.Getenv(envSiteBucket),
			OperatorName: c.Getenv(envOperatorName), OperatorContact: c.Getenv(envOperatorContact), SiteURL: c.Getenv(envSiteURL),
			Region: flags.Region,
		}
		from = "the environment"
	}
	switch {
	case conf.Stack != "" && (conf.Table != "" || conf.MailQueueURL != "" || conf.ErasureQueueURL != "" || conf.NoticePlanQueueURL != ""):
		return Config{}, usagef("%s names both a stack and a table or queue: name the stack (--stack, %s), or the table and the mail queue (--table and --mail-queue-url, %s and %s)", from, envStack, envTable, envMailQueue)
	case conf.Stack != "" && conf.KeyID != "":
		return Config{}, usagef("%s names both a stack and a KMS key: the stack's output PortalKeyId names its key (--key-id and %s are for a portal named by its table)", from, envKeyID)
	case conf.Stack != "" && conf.SiteBucket != "":
		return Config{}, usagef("%s names both a stack and a site bucket: the stack's output SiteBucketName names its bucket (--site-bucket and %s are for a portal named by its table)", from, envSiteBucket)
	case conf.Stack != "" && (conf.OperatorName != "" || conf.OperatorContact != "" || conf.SiteURL != ""):
		return Config{}, usagef("%s names both a stack and the operator or the site's address: the stack's parameters OperatorName and OperatorContact and its output PortalURL name them (--operator-name, --operator-contact and --site-url, %s, %s and %s, are for a portal named by its table)", from, envOperatorName, envOperatorContact, envSiteURL)
	case conf.Stack != "":
	case tableOnly && conf.Table != "":
	case tableOnly && conf.MailQueueURL == "" && conf.ErasureQueueURL == "":
		return Config{}, usagef("which portal? Name its stack (--stack NAME, or %s), or its table (--table NAME, or %s)", envStack, envTable)
	case conf.Table == "" && conf.MailQueueURL == "" && conf.ErasureQueueURL == "":
		return Config{}, usagef("which portal? Name its stack (--stack NAME, or %s), or its table and mail queue (--table and --mail-queue-url, or %s and %s)", envStack, envTable, envMailQueue)
	case conf.Table == "" && conf.MailQueueURL == "":
		return Config{}, usagef("%s names the erasure queue but no table and no mail queue (--table and --mail-queue-url, %s and %s)", from, envTable, envMailQueue)
	case conf.Table == "":
		return Config{}, usagef("%s names the mail queue but no table (--table, %s)", from, envTable)
	case conf.MailQueueURL == "":
		return Config{}, usagef("%s names the table but no mail queue (--mail-queue-url, %s): each step is mailed to the requester", from, envMailQueue)
	}
	return conf, nil
}

// needErasureQueue says, before anything is read or written, that erase has no erasure queue
// to put its job on: a portal named by its table and mail queue must name it too. (A stack
// names it by its output; connect finds whether it has one.)
func (c *cli) needErasureQueue() error {
	if c.conf.Stack == "" && c.conf.ErasureQueueURL == "" {
		return usagef("erase needs the erasure queue: name it (--erasure-queue-url URL, or %s; make dev prints it), or name the stack (--stack, %s)", envErasureQueue, envStack)
	}
	return nil
}

func (c *cli) operator(ctx context.Context) (*requests.Operator, error) {
	return c.Connect(ctx, c.conf)
}

func (c *cli) queue(ctx context.Context, asJSON bool) error {
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	// The Operator reads every open request, one by one: count the reads to show progress.
	p := &progress{Store: op.Store, w: c.stderr, terminal: c.Terminal}
	counted := *op
	counted.Store = p
	vs, err := counted.Queue(ctx)
	p.end()
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, queueJSON(vs, op.Now()))
	}
	printQueue(c.stdout, vs, op.Now())
	return nil
}

func (c *cli) show(ctx context.Context, id string, asJSON bool) error {
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	k, err := op.Show(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, caseJSON(k, op.Now()))
	}
	printCase(c.stdout, k, op.Now())
	return nil
}

func (c *cli) start(ctx context.Context, id string) error {
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	v, err := op.Start(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Request %s: %s.\n", clean(v.ID), clean(v.Status))
	return nil
}

func (c *cli) complete(ctx context.Context, id, outcome, file string) error {
	if file != "" {
		if outcome != "" {
			return usagef("complete takes --outcome or --outcome-file, not both")
		}
		var err error
		if outcome, err = c.readOutcome(file); err != nil {
			return err
		}
	}
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	v, err := op.Complete(ctx, id, outcome)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Request %s: %s. The requester is mailed the outcome.\n", clean(v.ID), clean(v.Status))
	return nil
}

// readOutcome reads an outcome from a file, or from stdin for "-".
func (c *cli) readOutcome(path string) (string, error) {
	r, name := c.Stdin, "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read the outcome: %w", err)
		}
		defer f.Close()
		r, name = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, maxOutcome+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read the outcome from %s: %w", name, err)
	case len(b) > maxOutcome:
		return "", fmt.Errorf("the outcome in %s is longer than %d KiB: it is mailed, say it shorter", name, maxOutcome>>10)
	case !utf8.Valid(b):
		return "", fmt.Errorf("the outcome in %s is not UTF-8 text", name)
	}
	return string(b), nil
}

func (c *cli) explain(ctx context.Context, id, remedy string) error {
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	v, err := op.Explain(ctx, id, remedy)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Request %s: %s. The requester is mailed this explanation:\n\n%s\n", clean(v.ID), clean(v.Status), indent(clean(v.Outcome), "  "))
	return nil
}

func (c *cli) refuse(ctx context.Context, id, ground, reason string) error {
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	v, err := op.Refuse(ctx, id, privacy.RefusalGround(ground), reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Request %s: %s (%s). The requester is mailed the reason.\n", clean(v.ID), clean(v.Status), clean(v.Refusal.Ground))
	return nil
}

// erase carries out a deletion or cancellation request the operator decided to honour: the
// account closes at once, the request is in progress, and the erasure worker gets its job and
// mails the outcome once everything is erased.
func (c *cli) erase(ctx context.Context, id string, asJSON bool) error {
	if err := c.needErasureQueue(); err != nil {
		return err
	}
	op, err := c.operator(ctx)
	if err != nil {
		return err
	}
	if op.Env.Erase == nil {
		// connect found no ErasureQueueURL output: a stack deployed before the erasure worker.
		return usagef("stack %s has no output ErasureQueueURL: deploy the current template, or name the erasure queue with the table and the mail queue (--table, --mail-queue-url and --erasure-queue-url)", c.conf.Stack)
	}
	v, err := op.Erase(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "Request %s: %s. The account is closed; the erasure worker erases everything about the person, and they are mailed the outcome.\n", clean(v.ID), clean(v.Status))
	return nil
}

// flagOf names a domain error's field as the operator typed it.
var flagOf = map[string]string{
	"id":      "<id>",
	"outcome": "--outcome (or --outcome-file)",
	"ground":  "--ground",
	"reason":  "--reason",
}

// report prints an error the portal answered, plainly: the domain's message is safe to show
// and names no one.
func (c *cli) report(err error) {
	var pe *privacy.Error
	if !errors.As(err, &pe) || pe.Code == privacy.Internal {
		fmt.Fprintf(c.stderr, "portalctl: %v\n", err)
		return
	}
	msg := pe.Message
	if pe.Field != "" {
		name, ok := flagOf[pe.Field]
		if !ok {
			name = pe.Field
		}
		msg = name + " " + msg
	}
	fmt.Fprintf(c.stderr, "portalctl: %s\n", msg)
	if pe.Field == "ground" {
		fmt.Fprintln(c.stderr, "\nRefusal grounds:")
		grounds(c.stderr)
	}
}

// groundHelp says what each refusal ground covers, in the policy's words (section 5).
var groundHelp = map[privacy.RefusalGround]string{
	privacy.RefuseNationalSecurity: "national security and national defence",
	privacy.RefusePublicInterest:   "public safety, public health or a major public interest",
	privacy.RefuseCriminal:         "criminal investigation, prosecution or trial",
	privacy.RefuseAbuse:            "ample evidence of malice or abuse of rights",
	privacy.RefuseHarmsOthers:      "answering would seriously harm the rights and interests of the requester or others",
	privacy.RefuseRepeated:         "repeated without justification, beyond a reasonable limit",
	privacy.RefuseImpractical:      "needs too many technical means, or is very impractical (e.g. backups on tape)",
	privacy.RefuseRisksOthers:      "puts the rights and interests of others at risk",
}

func grounds(w io.Writer) {
	for _, g := range privacy.RefusalGrounds {
		fmt.Fprintf(w, "  %-25s %s\n", g, groundHelp[g])
	}
}

func commandNames() string {
	all := slices.Collect(maps.Keys(commands))
	all = append(all, "campaign")
	slices.Sort(all)
	return strings.Join(append(all, "help"), ", ")
}

// names lists a family's commands.
func names(cmds map[string]command) string {
	return strings.Join(slices.Sorted(maps.Keys(cmds)), ", ")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `portalctl %s: the operator's tool for data-subject requests and campaigns

Usage: portalctl [configuration] <command> [arguments]

Commands:
  queue [--json]           the open requests by due date, soonest first: ID, type,
                           status, received, due, days left (OVERDUE past the due date),
                           repeat
  show <id> [--json]       one request: its fields and steps, the account it concerns
                           (name, e-mail, username, status) and the automated decisions
                           recorded about the subject
  start <id>               mark a request in progress
  complete <id> --outcome "text"
  complete <id> --outcome-file PATH
                           answer a request (a correction, a withdrawal, a complaint, a
                           question...) in plain words: what was done. PATH - reads
                           standard input. Access and copy are answered by the export
                           worker, deletion and cancellation by erase: not here.
  explain <id> [--remedy "text"]
                           answer an explanation request from the automated decisions
                           on record, then the remedy offered, if any
  refuse <id> --ground CODE --reason "text"
                           refuse a request on one of the grounds below, explained in
                           plain words
  erase <id> [--json]      honour a deletion or cancellation request (only those): the
                           account is closed at once, and the erasure worker erases
                           everything about the person, for good (it cannot be undone);
                           they are mailed the outcome. Where the law requires keeping
                           the data, refuse the request with a ground instead.
  reapply-erasures --restored-table NAME [--json]
                           after a restore from backup (point-in-time recovery makes a
                           new table as of a past moment): erase again from the restored
                           table everyone erased since, as the portal's tombstones say,
                           and copy the tombstones into it. Run it before the restored
                           table is put into service or anything is copied from it;
                           running it again is safe. It needs the portal's KMS key.
  help                     this text

Campaigns (mail to many people at once: breach notices, policy updates, marketing):
  campaign create --file FILE
                           write a campaign from a JSON file (- reads standard input;
                           docs/portalctl.md shows one of each kind), as a draft that
                           sends nothing, and print its ID
  campaign preview <id> [--html | --out DIR | --json]
                           how many people it goes to today (at most, for marketing:
                           consent decides when it is sent), and its mail in en and
                           zh-CN, as a sample reader gets it (text; --html the HTML;
                           --out DIR writes both into files); nothing is sent
  campaign start <id> [--yes]
                           send it: shows the preview's summary and asks you to type
                           the campaign's ID (--yes does not ask). A campaign starts
                           once; starting it again is refused
  campaign progress <id> [--watch] [--json]
                           sent, failed, suppressed, skipped, left, rate and time left;
                           --watch reads it every second until it has finished (a bar
                           on a terminal, a line per reading otherwise; Ctrl-C stops
                           watching, not sending), then the totals and duration
  campaign publish <id>    put a breach notice on the site, in both languages, linked
                           from the home page (for people mail cannot reach)
  campaign withdraw <id>   stop the home page linking it; its page stays readable
  campaign report <id> [--format md|json] [--out FILE]
                           the regulator's report of a breach (GDPR Art. 33(3), PIPL
                           Art. 57), from the campaign's data
  campaign index-accounts  once, on a table older than campaigns: put the accounts
                           activated before into the index a notice to everyone
                           reads (again, it does nothing)

Every step (start, complete, explain, refuse, erase) is kept in the request with its time,
and the requester is mailed about it (about an erasure, once it is done). Times are UTC.

Refusal grounds:
`, buildinfo.Version)
	grounds(w)
	fmt.Fprintf(w, `
Configuration (flags before or after the command; flags replace the environment):
  --stack NAME           or %[1]s: the portal's CloudFormation stack; its outputs
                         TableName, MailQueueURL, ErasureQueueURL and PortalKeyId name
                         the table, the queues and the KMS key
  --table NAME           or %[2]s
  --mail-queue-url URL   or %[3]s: the table and the mail queue themselves,
                         instead of a stack (the local cloud: make dev prints them)
  --erasure-queue-url URL
                         or %[4]s: the erasure queue, beside the
                         table and the mail queue; only erase needs it
  --key-id KEY           or %[5]s: the portal's KMS key, beside the table; only
                         reapply-erasures needs it (and no queue)
  --notice-plan-queue-url URL
                         or %[6]s: the campaigns' planner queue,
                         beside the table; only campaign start needs it
  --site-bucket NAME     or %[7]s: the site's bucket; only campaign publish
                         and withdraw need it
  --operator-name NAME, --operator-contact CONTACT, --site-url URL
                         or %[8]s, %[9]s, %[10]s:
                         what campaign mail is rendered with; only campaign preview
                         and start (without --yes) need them. A stack names them by its
                         parameters OperatorName and OperatorContact and output
                         PortalURL; its outputs NoticePlanQueueURL and SiteBucketName
                         name the queue and the bucket. The campaign commands need
                         no mail queue.
  --region REGION        the stack's region (default: the AWS configuration's)
  Credentials are the AWS SDK's default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY, SSO... Endpoints: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS,
  AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_S3 (and AWS_ENDPOINT_URL_CLOUDFORMATION), as in the
  local cloud.

Exit status: 0 done; 1 the portal refused the step or could not be reached (the message
says why); 2 a wrong command line or configuration (nothing was done).
`, envStack, envTable, envMailQueue, envErasureQueue, envKeyID, envNoticePlanQueue, envSiteBucket, envOperatorName, envOperatorContact, envSiteURL)
}
