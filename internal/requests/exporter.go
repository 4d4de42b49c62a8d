package requests

import (
	"context"
	"fmt"
	"io"

	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// ArchiveWriter writes one archive: Close completes it, Abort discards what was written.
type ArchiveWriter interface {
	io.Writer
	Close() error
	Abort() error
}

// Archives is where archives are written (the exports bucket).
type Archives interface {
	Create(ctx context.Context, key string) ArchiveWriter
	// Delete deletes an archive (one that is not there is no error).
	Delete(ctx context.Context, key string) error
}

// ArchiveKey is where a request's archive is written. It is the same on every try, so a job
// tried again after a crash writes the one archive again rather than a second one.
func ArchiveKey(subject privacy.SubjectID, request string) string {
	return ArchivePrefix(subject) + request + ".zip"
}

// ArchivePrefix is where every archive of a subject is: what erasure deletes.
func ArchivePrefix(subject privacy.SubjectID) string { return "exports/" + string(subject) + "/" }

// Exporter is the export worker (P15, P21): it writes every item of a requester's partition
// into an archive, records it in the request, which it completes, and hands the mail worker
// the job that mails the link.
type Exporter struct {
	*Env
	Store    Store
	Source   export.Source
	Archives Archives
}

// Export does one export job and returns what it wrote (nothing for a job with nothing to
// do: a request gone, refused, or whose archive exists, for which it only makes sure the
// link is mailed).
func (s *Exporter) Export(ctx context.Context, j jobs.Job) (export.Summary, error) {
	if j.Kind != JobExport || j.Subject == "" || j.Request == "" {
		return export.Summary{}, fmt.Errorf("export: not an export job (%s)", j.Kind)
	}
	r, err := s.Store.Request(ctx, j.Subject, j.Request)
	if privacy.ErrorCode(err) == privacy.NotFound {
		return export.Summary{}, nil
	}
	if err != nil {
		return export.Summary{}, err
	}
	if !Exported(r.Type) {
		return export.Summary{}, nil
	}
	if r.Export.Key != "" {
		// Written and recorded on an earlier try that stopped before its mail job: hand it
		// over again (the mail worker mails once).
		if r.Export.Mailed {
			return export.Summary{}, nil
		}
		return export.Summary{}, s.enqueue(ctx, jobs.Job{Kind: JobExportReady, Subject: r.Subject, Request: r.ID})
	}
	if !r.Status.Open() {
		return export.Summary{}, nil
	}
	if r.Status == privacy.RequestVerified {
		if r, _, err = s.moveTo(ctx, r, privacy.RequestInProgress, nil); err != nil {
			return export.Summary{}, err
		}
	}
	key := ArchiveKey(r.Subject, r.ID)
	w := s.Archives.Create(ctx, key)
	sum, err := export.Write(ctx, s.Source, r.Subject, w, export.Options{Locale: r.Locale, Now: s.Now()})
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		if aerr := w.Abort(); aerr != nil {
			err = fmt.Errorf("%w (and its abort: %v)", err, aerr)
		}
		return export.Summary{}, fmt.Errorf("export: %w", err)
	}
	_, recorded, err := s.moveTo(ctx, r, privacy.RequestCompleted, func(r *Record) {
		r.Export = ExportState{Key: key, Bytes: sum.Bytes, Items: sum.Items, ExpiresAt: s.Now().Add(s.Config.ExportLinkTTL)}
	})
	if privacy.ErrorCode(err) == privacy.NotFound {
		// The subject was erased while the archive was written (their erasure deleted the
		// request): the archive goes too, whichever of the two finished last.
		logged("export outlived its subject's erasure: archive deleted", r.Subject)
		return export.Summary{}, s.Archives.Delete(ctx, key)
	}
	if err != nil {
		return export.Summary{}, err
	}
	if !recorded {
		// Another try of the same job completed it meanwhile (the queue delivers at least
		// once): that try hands over the mail, and this one wrote the same archive again.
		return export.Summary{}, nil
	}
	logged("export written", r.Subject)
	return sum, s.enqueue(ctx, jobs.Job{Kind: JobExportReady, Subject: r.Subject, Request: r.ID})
}

// moveTo moves an open request to status, with change, unless another try did it first;
// moved says whether this call did.
func (s *Exporter) moveTo(ctx context.Context, r Record, status privacy.RequestStatus, change func(*Record)) (_ Record, moved bool, _ error) {
	r, err := update(ctx, s.Store, r.Subject, r.ID, func(r *Record) error {
		moved = false
		if r.Status == status || !r.Status.Open() || r.Export.Key != "" {
			return errUnchanged
		}
		if change != nil {
			change(r)
		}
		r.Status = status
		r.Steps = append(r.Steps, privacy.RequestStep{Status: status, At: s.Now()})
		moved = true
		return nil
	})
	return r, moved, err
}
