package requests

import (
	"context"
	"errors"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/privacy"
)

// Presigner makes a short-lived URL to download an archive.
type Presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Exports answers the links of export mail: the requester's (and a third party's) single-use
// download link, and the requester's confirmation that the third party gets the copy.
type Exports struct {
	*Env
	Store     Store
	Presigner Presigner
}

// ExpiredExportPage is where a used, expired or unknown download link leads: a page that says
// so and offers to ask for a new copy.
const ExpiredExportPage = "/requests/expired/"

var errLinkDead = errors.New("link used, expired or unknown")

// Download checks an export link's single-use token (the requester's, or the third party's)
// and returns the presigned URL to redirect to; a used, expired or unknown link returns
// ok=false, and the caller redirects to ExpiredExportPage instead. The token is checked before
// anything is read.
func (s *Exports) Download(ctx context.Context, id, token string) (url string, ok bool, err error) {
	subject, rid, valid := SplitID(id)
	if !valid {
		return "", false, nil
	}
	requester := s.validToken(subject, rid, linkExport, token)
	if !requester && !s.validToken(subject, rid, linkThirdParty, token) {
		return "", false, nil
	}
	use := func(r *Record) error {
		e := &r.Export
		switch {
		case e.Key == "" || !s.Now().Before(e.ExpiresAt):
			return errLinkDead
		case requester && (!e.Mailed || e.Used), !requester && (!e.ThirdPartyMailed || e.ThirdPartyUsed):
			return errLinkDead
		case requester:
			e.Used = true
		default:
			e.ThirdPartyUsed = true
		}
		return nil
	}
	// The link is checked, then the URL made (signed here: nothing is sent), then the link
	// marked used, checked again: a link is never used up without a URL to show for it.
	r, err := s.Store.Request(ctx, subject, rid)
	if err == nil {
		err = use(&r)
	}
	if errors.Is(err, errLinkDead) || privacy.ErrorCode(err) == privacy.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	u, err := s.Presigner.PresignGet(ctx, r.Export.Key, s.Config.PresignTTL)
	if err != nil {
		return "", false, err
	}
	_, err = update(ctx, s.Store, subject, rid, use)
	if errors.Is(err, errLinkDead) || privacy.ErrorCode(err) == privacy.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	logged("export downloaded", subject)
	return u, true, nil
}

// ShareInput is POST /api/exports/{id}/share.
type ShareInput struct {
	Token string `json:"token"`
}

var errShareLink = privacy.FieldError("token", "This confirmation link is not valid, has expired, or was used already.")

// Share is the requester's confirmation that the third party they named gets the copy: the
// third party is mailed its own single-use link, once. The token is checked before anything
// is read.
func (s *Exports) Share(ctx context.Context, id string, in ShareInput) error {
	subject, rid, ok := SplitID(id)
	if !ok || !s.validToken(subject, rid, linkShare, in.Token) {
		return errShareLink
	}
	_, err := update(ctx, s.Store, subject, rid, func(r *Record) error {
		e := &r.Export
		if e.Key == "" || e.Shared || r.ThirdParty == "" || !s.Now().Before(e.ExpiresAt) {
			return errShareLink
		}
		e.Shared = true
		return nil
	})
	if privacy.ErrorCode(err) == privacy.NotFound {
		return errShareLink
	}
	if err != nil {
		return err
	}
	logged("copy to the third party confirmed", subject)
	return s.enqueue(ctx, jobs.Job{Kind: JobShare, Subject: subject, Request: rid})
}
