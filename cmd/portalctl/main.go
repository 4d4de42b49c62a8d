// Command portalctl is the operator's tool for data-subject requests: the open requests by due
// date, one request with what answering it needs, and the steps that answer it (start,
// complete, explain, refuse, erase), each kept in the request with its time and mailed to the
// requester; after a restore of the table from backup, reapply-erasures, which erases again
// from the restored table the people erased since (docs/erasure.md); and the campaign
// commands, the operator's mail to many people at once (breach notices, policy updates,
// marketing: create, preview, start, progress, publish, withdraw, report). `portalctl help`
// lists the commands and the configuration; docs/portalctl.md says more.
//
// It drives requests.Operator, erasure.Reapply and notices.Operator, the domain code the
// functions share, through the table, queue, bucket and KMS adapters: nothing of the table's
// schema is written here.
//
// It adds one module, github.com/aws/aws-sdk-go-v2/service/cloudformation, for one call:
// DescribeStacks, to read the stack's outputs (TableName, MailQueueURL, ErasureQueueURL,
// NoticePlanQueueURL, SiteBucketName, PortalURL, PortalKeyId) and parameters (OperatorName,
// OperatorContact), so that in AWS an operator names the stack and nothing else. It is the
// SDK's own client, at the SDK core versions the module already requires; only this command
// links it, no function does.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// The domain logs each step (a subject ID, at Info) for the functions' logs; here the
	// operator reads the result on stdout, so only warnings and worse reach stderr.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, deps{
		Connect:     connect,
		Restore:     connectRestore,
		Campaigns:   connectCampaigns,
		Getenv:      os.Getenv,
		Stdin:       os.Stdin,
		Terminal:    isTerminal(os.Stderr),
		OutTerminal: isTerminal(os.Stdout),
		Now:         time.Now,
	})
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a terminal (a character device), where progress can be
// rewritten in place.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
