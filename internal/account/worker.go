package account

import (
	"context"
	"fmt"

	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// MailWorker does the work requests hand over as Jobs: it finds out whose an address is,
// makes codes and links, and sends the mail. It runs off the requests' path (an SQS-triggered
// function), so a request does the same work whoever the address belongs to, and only here
// are codes made, so they never travel through the queue.
type MailWorker struct {
	*Env
	Store  MailStore
	Sender Sender
}

// Do carries out one job. A job about a subject that is gone, or whose state no longer calls
// for it, does nothing: a retried or late job never mails twice what no longer applies.
func (w *MailWorker) Do(ctx context.Context, j Job) error {
	if err := checkJob(j); err != nil {
		return err
	}
	switch j.Kind {
	case JobRegistered:
		return w.registered(ctx, j)
	case JobResend:
		return w.resend(ctx, j)
	case JobGuardianRequest:
		return w.guardianRequest(ctx, j)
	case JobGuardianDecided:
		return w.guardianDecided(ctx, j)
	case JobEmailChange:
		return w.emailChange(ctx, j)
	case JobPasswordReset:
		return w.passwordReset(ctx, j)
	case JobPasswordChanged:
		return w.passwordChanged(ctx, j)
	}
	return fmt.Errorf("job: unknown kind %q", j.Kind)
}

// account reads a subject's account; ok is false (and err nil) when it is gone.
func (w *MailWorker) account(ctx context.Context, id privacy.SubjectID) (a privacy.Account, ok bool, err error) {
	a, err = w.Store.Account(ctx, id)
	if isNotFound(err) {
		return a, false, nil
	}
	return a, err == nil, err
}

func (w *MailWorker) send(ctx context.Context, m mail.Message) error {
	if err := w.Sender.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail: %w", m.Kind, err)
	}
	return nil
}

func (w *MailWorker) registered(ctx context.Context, j Job) error {
	if j.Superseded != "" {
		// The registration this one replaced is claimed for erasure already; remove it now
		// rather than at its deadline.
		if _, err := w.Store.DeleteSubject(ctx, j.Superseded); err != nil {
			return err
		}
	}
	a, ok, err := w.account(ctx, j.Subject)
	if !ok || a.Status == privacy.StatusErasing || a.EmailVerified {
		return err
	}
	owners, err := w.Store.AddressOwners(ctx, a.EmailKey)
	if err != nil {
		return err
	}
	if owners.Pending != j.Subject {
		return nil // replaced by a newer registration meanwhile, which mails its own code
	}
	if owners.Owner == "" {
		return w.sendCode(ctx, a)
	}
	// The address is an account's already. Its owner is told; the attempt keeps only its
	// username, held as this registration would have held it, so a later attempt with that
	// username answers alike whether or not the address had an account.
	if err := w.Store.Retire(ctx, j.Subject, a.CreatedAt.Add(w.Config.PendingFor)); err != nil {
		return err
	}
	owner, ok, err := w.account(ctx, owners.Owner)
	if !ok {
		return err
	}
	logged("registration attempt for an address an account has", owner.SubjectID)
	p := owner.Profile
	return w.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.AlreadyRegistered, Data: mail.Data{
		Name: p.Name, SignInLink: w.Config.SiteURL + privacy.LocalePath(p.Locale, "/signin/"),
	}})
}

func (w *MailWorker) resend(ctx context.Context, j Job) error {
	owners, err := w.Store.AddressOwners(ctx, j.EmailKey)
	if err != nil || owners.Pending == "" || owners.Owner != "" {
		return err
	}
	a, ok, err := w.account(ctx, owners.Pending)
	if !ok || a.Status == privacy.StatusErasing || a.EmailVerified {
		return err
	}
	return w.sendCode(ctx, a)
}

// sendCode replaces a registration's verification with a new code and link, and mails them
// to the address being proved. The mail holds nothing the registrant typed (not their name):
// the address has not proved it wants mail from whoever typed it.
func (w *MailWorker) sendCode(ctx context.Context, a privacy.Account) error {
	v, code, token := w.newVerification(a.SubjectID, privacy.VerifyEmail)
	if err := w.Store.PutVerification(ctx, a.SubjectID, v); err != nil {
		return err
	}
	return w.send(ctx, mail.Message{To: a.Profile.Email, Locale: a.Profile.Locale, Kind: mail.VerifyEmail, Data: mail.Data{
		Code: code, Link: w.link(a.Profile.Locale, "/verify/", token), Minutes: w.codeMinutes(),
	}})
}

func (w *MailWorker) guardianRequest(ctx context.Context, j Job) error {
	a, ok, err := w.account(ctx, j.Subject)
	if !ok || a.Status != privacy.StatusPending {
		return err
	}
	g, err := w.Store.Guardian(ctx, j.Subject)
	if isNotFound(err) || (err == nil && g.Decision != "") {
		return nil
	}
	if err != nil {
		return err
	}
	secret := privacy.NewToken()
	deadline := a.CreatedAt.Add(w.Config.PendingFor)
	if err := w.Store.SetGuardianToken(ctx, j.Subject, w.Keys.SecretHash(privacy.DomainToken, j.Subject, "guardian", secret), deadline); err != nil {
		return err
	}
	days := max(1, int(deadline.Sub(w.Now()).Hours()/24))
	return w.send(ctx, mail.Message{To: g.Email, Locale: a.Profile.Locale, Kind: mail.GuardianConsent, Data: mail.Data{
		ChildName: a.Profile.Name, Link: w.link(a.Profile.Locale, "/guardian/", string(j.Subject)+"."+secret), Days: days,
	}})
}

func (w *MailWorker) guardianDecided(ctx context.Context, j Job) error {
	a, ok, err := w.account(ctx, j.Subject)
	if !ok {
		return err
	}
	g, err := w.Store.Guardian(ctx, j.Subject)
	if isNotFound(err) || (err == nil && g.Decision == "") {
		return nil
	}
	if err != nil {
		return err
	}
	confirmed := g.Decision == privacy.GuardianConfirmed
	if err := w.send(ctx, mail.Message{To: g.Email, Locale: a.Profile.Locale, Kind: mail.GuardianDecision, Data: mail.Data{
		ChildName: a.Profile.Name, Confirmed: confirmed,
	}}); err != nil {
		return err
	}
	if confirmed {
		// The guardian's address was kept only for their decision and its mail.
		return w.Store.DeleteGuardian(ctx, j.Subject)
	}
	if _, err := w.Store.DeleteSubject(ctx, j.Subject); err != nil {
		return err
	}
	logged("guardian refused: account deleted", j.Subject)
	return nil
}

func (w *MailWorker) emailChange(ctx context.Context, j Job) error {
	a, ok, err := w.account(ctx, j.Subject)
	if !ok || a.PendingEmail == "" {
		return err
	}
	v, code, _ := w.newVerification(j.Subject, privacy.VerifyNewEmail)
	v.NewEmail, v.NewEmailKey = a.PendingEmail, w.Keys.EmailKey(a.PendingEmail)
	if err := w.Store.PutVerification(ctx, j.Subject, v); err != nil {
		return err
	}
	p := a.Profile
	// The new address gets the code and nothing the account holder typed; the old one a
	// notice that does not name the new address, pointing at the operator's contact, the right
	// place for someone whose account may have been taken over.
	if err := w.send(ctx, mail.Message{To: a.PendingEmail, Locale: p.Locale, Kind: mail.EmailChangeVerify, Data: mail.Data{
		Code: code, Minutes: w.codeMinutes(),
	}}); err != nil {
		return err
	}
	return w.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.EmailChangeNotice, Data: mail.Data{Name: p.Name}})
}

func (w *MailWorker) passwordReset(ctx context.Context, j Job) error {
	owners, err := w.Store.AddressOwners(ctx, j.EmailKey)
	if err != nil || owners.Owner == "" {
		return err
	}
	a, ok, err := w.account(ctx, owners.Owner)
	if !ok || a.Status == privacy.StatusErasing {
		return err
	}
	v, code, token := w.newVerification(a.SubjectID, privacy.VerifyReset)
	if err := w.Store.PutVerification(ctx, a.SubjectID, v); err != nil {
		return err
	}
	p := a.Profile
	return w.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.PasswordReset, Data: mail.Data{
		Name: p.Name, Code: code, Link: w.link(p.Locale, "/reset/", token), Minutes: w.codeMinutes(),
	}})
}

func (w *MailWorker) passwordChanged(ctx context.Context, j Job) error {
	a, ok, err := w.account(ctx, j.Subject)
	if !ok {
		return err
	}
	p := a.Profile
	return w.send(ctx, mail.Message{To: p.Email, Locale: p.Locale, Kind: mail.PasswordChanged, Data: mail.Data{
		Name: p.Name, SignInLink: w.Config.SiteURL + privacy.LocalePath(p.Locale, "/reset/"),
	}})
}
