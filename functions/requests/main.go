// Command requests is the Lambda behind the data-subject request routes: the intake for
// visitors and signed-in people, its proof by code, the status link, the signed-in list, and
// the export mail's links (the single-use download and the third party's confirmation). Mail
// goes to the mail worker, exports to the export worker, through their queues.
package main

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privacyportal/portal/internal/account"
	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/awsenv"
	"github.com/privacyportal/portal/internal/requests"
	"github.com/privacyportal/portal/internal/s3"
	"github.com/privacyportal/portal/internal/wiring"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	var env awsenv.Env
	bucket := env.String("EXPORTS_BUCKET")
	if err := env.Err(); err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	w, err := wiring.NewAccounts(context.Background())
	if err != nil {
		slog.Error("start", "err", err)
		os.Exit(1)
	}
	renv, err := wiring.Requests(w)
	if err != nil {
		slog.Error("configuration", "err", err)
		os.Exit(1)
	}
	presign := awss3.NewPresignClient(awss3.NewFromConfig(w.AWS, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = awsenv.Endpoint("S3"), awsenv.S3PathStyle()
	}))
	h := &requests.Handler{
		Intake:  &requests.Intake{Env: renv, Store: w.Store},
		Tracker: &requests.Tracker{Env: renv, Store: w.Store},
		Exports: &requests.Exports{Env: renv, Store: w.Store, Presigner: &s3.Presigner{Client: presign, Bucket: bucket}},
		Guard:   w.Handler.Guard,
	}
	h.Sessions = &account.SessionManager{Env: w.Env, Store: w.Store}
	var once sync.Once
	lambda.Start(apigw.Handle(func(ctx context.Context, req *apigw.Request) (apigw.Response, error) {
		if err := w.Ready(ctx); err != nil {
			return apigw.Response{}, err
		}
		once.Do(func() { renv.Config.SiteURL, h.SiteURL = w.Env.Config.SiteURL, w.Env.Config.SiteURL })
		return h.Handle(ctx, req)
	}))
}
