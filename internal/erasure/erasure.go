// Package erasure carries out deletion and cancellation requests (promises P03, P17, P20): one
// job per subject erases every item of their partition and every look-up that names them, every
// object about them (export archives, what waits for a recipient), tells each recipient that
// received their data to delete it, searches every place again to verify that nothing is left,
// and leaves a tombstone that identifies no one. The job is resumable: its progress is the
// tombstone, written before anything is deleted, so a retry after a crash at any point
// finishes the work once, with one outcome mail.
package erasure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/consent"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
	"github.com/privacyportal/portal/internal/requests"
)

// JobErased: an erasure is done; the mail worker mails its outcome, from the tombstone
// (Job.Request names it).
const JobErased jobs.Kind = "erased"

// Store is what erasure reads and writes in the table.
type Store interface {
	Tombstone(ctx context.Context, request string) (privacy.Tombstone, error)
	// PutTombstone writes a new tombstone (privacy.ErrStale if there is one);
	// SaveTombstone writes over it.
	PutTombstone(ctx context.Context, t privacy.Tombstone) error
	SaveTombstone(ctx context.Context, t privacy.Tombstone) error

	Request(ctx context.Context, subject privacy.SubjectID, id string) (requests.Record, error)
	Requests(ctx context.Context, subject privacy.SubjectID) ([]requests.Record, error)
	Account(ctx context.Context, id privacy.SubjectID) (privacy.Account, error)
	AuditTrail(ctx context.Context, id privacy.SubjectID) ([]privacy.AuditEntry, error)
	CloseAccount(ctx context.Context, id privacy.SubjectID) error
	// CountItems counts the subject's items by kind.
	CountItems(ctx context.Context, id privacy.SubjectID) (map[string]int, error)
	// EraseSubject deletes the subject's partition and the look-ups that name them.
	EraseSubject(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) (items, lookups int, err error)
	// Remains names the places of the table that still hold something of the subject:
	// "partition", one place per look-up item that names them, and the indexes (isIndex).
	Remains(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) ([]string, error)
}

// Objects is a bucket's objects.
type Objects interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Exists(ctx context.Context, key string) (bool, error)
	Delete(ctx context.Context, key string) error
	Put(ctx context.Context, key string, body []byte) error
}

// Config is erasure's settings.
type Config struct {
	// TombstoneRetention is how long a tombstone is kept: longer than the backups, so that a
	// restore can re-apply it (docs/erasure.md).
	TombstoneRetention time.Duration
	// Settle is how long the verification waits, at most, for DynamoDB's indexes (eventually
	// consistent) to drop an erased subject's entries before it reports them.
	Settle time.Duration
}

// Eraser erases subjects.
type Eraser struct {
	Keys  *privacy.Keyed
	Store Store
	// Exports is the exports bucket (archives under requests.ArchivePrefix); Outbox the
	// sharing outbox, where recipients collect what is disclosed to them.
	Exports, Outbox Objects
	// Mail is the mail worker's queue, for the outcome mail.
	Mail jobs.Queue
	// Requests makes the request's status link.
	Requests *requests.Env
	Now      func() time.Time
	Config   Config
}

// ErrLeft is an erasure whose verification found something of the subject left: the job
// fails, is tried again (which deletes what it can), and the operator is alarmed.
var ErrLeft = errors.New("erasure verification found data left")

// Erase carries out one erasure job, from wherever an earlier attempt left it. It returns
// the tombstone as it stands (zero if the job had nothing to do).
func (e *Eraser) Erase(ctx context.Context, j jobs.Job) (privacy.Tombstone, error) {
	if j.Kind != requests.JobErase || j.Subject == "" || j.Request == "" {
		return privacy.Tombstone{}, fmt.Errorf("erase: not an erasure job (%s)", j.Kind)
	}
	hash := e.Keys.Hash(privacy.DomainTombstone, string(j.Subject))
	t, err := e.Store.Tombstone(ctx, j.Request)
	switch {
	case privacy.ErrorCode(err) == privacy.NotFound:
		t, err = e.begin(ctx, j, hash)
		if errors.Is(err, errNothing) {
			slog.Info("erasure job with nothing to do", "subject", string(j.Subject))
			return privacy.Tombstone{}, nil
		}
		if err != nil {
			return privacy.Tombstone{}, err
		}
	case err != nil:
		return privacy.Tombstone{}, err
	case !privacy.Equal(t.SubjectHash, hash):
		return privacy.Tombstone{}, fmt.Errorf("erase: the request's tombstone is another subject's")
	}
	if t.State != privacy.ErasureDone {
		if t, err = e.run(ctx, j.Subject, t); err != nil {
			return t, err
		}
	}
	if t.Notice != nil {
		// The mail worker mails the outcome once: it drops the notice when the mail is sent.
		if err := e.Mail.Enqueue(ctx, jobs.Job{Kind: JobErased, Request: t.Request, At: e.Now()}); err != nil {
			return t, fmt.Errorf("enqueue outcome mail: %w", err)
		}
	}
	return t, nil
}

var errNothing = errors.New("nothing to erase")

// begin reads what the erasure must know before anything is deleted, and writes the tombstone
// that holds it: the outcome mail's address, the look-up keys, the recipients to tell, and how
// many items, look-ups and objects there are. They are counted here, before anything goes, so
// that an attempt cut short between a delete and the tombstone's next write loses no count: a
// retry finds less to delete than the first attempt did.
func (e *Eraser) begin(ctx context.Context, j jobs.Job, hash string) (privacy.Tombstone, error) {
	r, err := e.Store.Request(ctx, j.Subject, j.Request)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return privacy.Tombstone{}, errNothing
	}
	if err != nil {
		return privacy.Tombstone{}, err
	}
	if !requests.Erased(r.Type) || r.Status != privacy.RequestInProgress {
		return privacy.Tombstone{}, errNothing
	}
	n := &privacy.ErasureNotice{
		Email: r.Email, Locale: r.Locale, EmailKey: e.Keys.EmailKey(r.Email),
		StatusPath: e.Requests.StatusPath(r.Request), RequestID: r.PublicID(),
	}
	switch a, err := e.Store.Account(ctx, j.Subject); {
	case err == nil:
		n.EmailKey, n.UsernameKey = a.EmailKey, a.UsernameKey
	case privacy.ErrorCode(err) != privacy.NotFound:
		return privacy.Tombstone{}, err
	}
	all, err := e.Store.Requests(ctx, j.Subject)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	for _, q := range all {
		if q.ThirdParty != "" && q.Export.Shared && !slices.Contains(n.Independent, q.ThirdParty) {
			n.Independent = append(n.Independent, q.ThirdParty)
		}
	}
	told, err := e.disclosedTo(ctx, j.Subject)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	items, err := e.Store.CountItems(ctx, j.Subject)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	places, err := e.Store.Remains(ctx, j.Subject, n.EmailKey, n.UsernameKey)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	lookups := 0
	for _, p := range places {
		if p != "partition" && !isIndex(p) {
			lookups++
		}
	}
	archives, waiting, err := e.heldObjects(ctx, j.Subject)
	if err != nil {
		return privacy.Tombstone{}, err
	}
	now := e.Now()
	t := privacy.Tombstone{
		Request: r.ID, Type: r.Type, Ground: r.Ground, SubjectHash: hash, Received: r.Received, Due: r.Due,
		Started: now, State: privacy.ErasureRunning, Items: items, Lookups: lookups, Objects: archives + len(waiting),
		RecipientsTold: told, Notice: n, ExpiresAt: now.Add(e.Config.TombstoneRetention),
	}
	switch err := e.Store.PutTombstone(ctx, t); {
	case errors.Is(err, privacy.ErrStale):
		return e.Store.Tombstone(ctx, j.Request) // another attempt began it meanwhile
	case err != nil:
		return privacy.Tombstone{}, err
	}
	slog.Info("erasure begun", "subject", string(j.Subject), "request", r.ID)
	return t, nil
}

// disclosedTo lists the catalogue's recipients that the subject's audit trail says received
// their data (P10): each is told to delete it.
func (e *Eraser) disclosedTo(ctx context.Context, id privacy.SubjectID) ([]string, error) {
	trail, err := e.Store.AuditTrail(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range trail {
		if a.Action != consent.ActionDisclosed {
			continue
		}
		for _, f := range a.Fields {
			if r, ok := strings.CutPrefix(f, "recipient:"); ok && r != "" && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// run does the erasure's steps in order, each of which can be done again: the account stops,
// the objects go, the recipients are told, the items go, then the search for what is left.
func (e *Eraser) run(ctx context.Context, id privacy.SubjectID, t privacy.Tombstone) (privacy.Tombstone, error) {
	if err := e.Store.CloseAccount(ctx, id); err != nil && privacy.ErrorCode(err) != privacy.NotFound {
		return t, err
	}
	// Objects first: their keys come from the subject's ID, which the table no longer holds
	// once the partition is gone.
	objects, err := e.deleteObjects(ctx, id)
	if err != nil {
		return t, err
	}
	if err := e.tellRecipients(ctx, id, t); err != nil {
		return t, err
	}
	// The counts are begin's; an attempt finds more only if something was written since.
	if objects > t.Objects {
		t.Objects = objects
		if err := e.Store.SaveTombstone(ctx, t); err != nil {
			return t, err
		}
	}
	emailKey, usernameKey := "", ""
	if t.Notice != nil {
		emailKey, usernameKey = t.Notice.EmailKey, t.Notice.UsernameKey
	}
	_, lookups, err := e.Store.EraseSubject(ctx, id, emailKey, usernameKey)
	if err != nil {
		return t, err
	}
	t.Lookups = max(t.Lookups, lookups)
	found, err := e.verify(ctx, id, emailKey, usernameKey)
	if err != nil {
		return t, err
	}
	t.Found, t.Verified, t.Erased = found, len(found) == 0, e.Now()
	t.State = privacy.ErasureDone
	if !t.Verified {
		t.State = privacy.ErasureFailed
	}
	if err := e.Store.SaveTombstone(ctx, t); err != nil {
		return t, err
	}
	if !t.Verified {
		slog.Error("erasure verification found data left", "request", t.Request, "found", found)
		return t, ErrLeft
	}
	slog.Info("erasure done", "request", t.Request, "items", t.ItemsRemoved(), "objects", t.Objects, "lookups", t.Lookups)
	return t, nil
}

// disclosureKey is where a recipient collects what is disclosed to it about a person
// (consent.Discloser writes it); instructionKey where it finds the instruction to delete it.
func (e *Eraser) disclosureKey(r *privacy.Recipient, id privacy.SubjectID) (key, pseudonym string) {
	return consent.DisclosureKey(e.Keys, r, id)
}

func instructionKey(r *privacy.Recipient, pseudonym string) string {
	return r.ID + "/erasures/" + pseudonym + ".json"
}

// recipients are the catalogue's recipients.
func recipients() []*privacy.Recipient {
	var out []*privacy.Recipient
	for _, p := range privacy.Catalogue().Purposes {
		if p.Recipient != nil && !slices.ContainsFunc(out, func(r *privacy.Recipient) bool { return r.ID == p.Recipient.ID }) {
			out = append(out, p.Recipient)
		}
	}
	return out
}

// deleteObjects deletes the subject's export archives and what waits, uncollected, for a
// recipient, and returns how many objects it deleted.
func (e *Eraser) deleteObjects(ctx context.Context, id privacy.SubjectID) (int, error) {
	keys, err := e.Exports.List(ctx, requests.ArchivePrefix(id))
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := e.Exports.Delete(ctx, k); err != nil {
			return 0, err
		}
	}
	n := len(keys)
	for _, r := range recipients() {
		key, _ := e.disclosureKey(r, id)
		switch ok, err := e.Outbox.Exists(ctx, key); {
		case err != nil:
			return 0, err
		case ok:
			if err := e.Outbox.Delete(ctx, key); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

// Instruction is what a recipient finds in the outbox when a person it received data about is
// erased: delete what was collected from Object. It names the person only as the object the
// recipient collected (a pseudonym of its own), never by ID, address or name.
type Instruction struct {
	Instruction string `json:"instruction"`
	Recipient   string `json:"recipient"`
	Object      string `json:"object"`
	// Requested is the day, no finer (as disclosures are dated).
	Requested string `json:"requested"`
}

// tellRecipients writes each recipient that received the subject's data its instruction to
// delete it (P17). Writing one again writes the same object.
func (e *Eraser) tellRecipients(ctx context.Context, id privacy.SubjectID, t privacy.Tombstone) error {
	for _, r := range recipients() {
		if !slices.Contains(t.RecipientsTold, r.ID) {
			continue
		}
		key, pseudonym := e.disclosureKey(r, id)
		body, err := json.Marshal(Instruction{
			Instruction: "erase", Recipient: r.ID, Object: key, Requested: t.Started.UTC().Format("2006-01-02"),
		})
		if err != nil {
			return err
		}
		if err := e.Outbox.Put(ctx, instructionKey(r, pseudonym), body); err != nil {
			return err
		}
	}
	return nil
}

// verify searches every place the portal keeps data for the subject's ID and keyed address
// hash (the partition, the look-ups, the indexes, the exports bucket, the outbox) and names
// those that still hold something. Queued jobs name subjects too; they are not read (a read
// would hide a message from its worker and count towards its dead-letter limit): every
// worker's first step reads the partition, finds nothing and does nothing.
func (e *Eraser) verify(ctx context.Context, id privacy.SubjectID, emailKey, usernameKey string) ([]string, error) {
	deadline := e.Now().Add(e.Config.Settle)
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		found, err := e.Store.Remains(ctx, id, emailKey, usernameKey)
		if err != nil {
			return nil, err
		}
		archives, waiting, err := e.heldObjects(ctx, id)
		if err != nil {
			return nil, err
		}
		if archives > 0 {
			found = append(found, "exports bucket")
		}
		for _, r := range waiting {
			found = append(found, "outbox of "+r)
		}
		onlyIndexes := len(found) > 0 && !slices.ContainsFunc(found, func(f string) bool { return !isIndex(f) })
		if !onlyIndexes || e.Now().Add(wait).After(deadline) {
			return found, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// heldObjects finds the subject's objects: how many export archives there are, and the
// recipients whose outbox holds a disclosure about them not yet collected.
func (e *Eraser) heldObjects(ctx context.Context, id privacy.SubjectID) (archives int, waiting []string, err error) {
	keys, err := e.Exports.List(ctx, requests.ArchivePrefix(id))
	if err != nil {
		return 0, nil, err
	}
	for _, r := range recipients() {
		key, _ := e.disclosureKey(r, id)
		ok, err := e.Outbox.Exists(ctx, key)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			waiting = append(waiting, r.ID)
		}
	}
	return len(keys), waiting, nil
}

func isIndex(place string) bool {
	return place == "open-requests index" || place == "sweep index" || place == "accounts index"
}
