package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/privacyportal/portal/infra/localcloud"
)

// TestPauseEmulator stops the SES emulator for two seconds: a call made during the pause gets
// no answer (its context ends first), one made with time to wait is answered once the
// emulator continues, and its mail is in the store.
func TestPauseEmulator(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte("Parameters:\n  HomeRegion: {Type: String, Default: eu-west-1}\nResources: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := localcloud.StartServices(ctx, localcloud.Config{Root: root, Template: path, Prefix: "lcpause"}, "ses")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	send := func(ctx context.Context, subject string) error {
		_, err := c.SES.SendEmail(ctx, &ses.SendEmailInput{
			Source:      aws.String("privacy@example.com"),
			Destination: &sestypes.Destination{ToAddresses: []string{"pause@example.com"}},
			Message: &sestypes.Message{
				Subject: &sestypes.Content{Data: aws.String(subject)},
				Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Hello.")}},
			},
		})
		return err
	}
	stored := func(subject string) bool {
		resp, err := http.Get(c.MailboxURL + "/store")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		type mail struct {
			Subject string `json:"subject"`
		}
		var store struct {
			Emails []mail `json:"emails"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(store.Emails, func(m mail) bool { return m.Subject == subject })
	}
	if err := send(ctx, "before"); err != nil {
		t.Fatalf("before the pause: %v", err)
	}

	t.Run("a call during a pause waits for the resume", func(t *testing.T) {
		const pause = 2 * time.Second
		paused := time.Now()
		if err := c.PauseEmulator("ses", pause); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(paused); took > 500*time.Millisecond {
			t.Errorf("PauseEmulator took %v: it should return at once", took)
		}
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := send(short, "during")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a call during the pause = %v, want no answer before its deadline", err)
		}
		if err := send(ctx, "after"); err != nil {
			t.Fatalf("a call that waits for the resume: %v", err)
		}
		if took := time.Since(paused); took < pause-200*time.Millisecond || took > pause+5*time.Second {
			t.Errorf("the waiting call was answered %v after the pause began, want about %v", took, pause)
		}
		if !stored("after") {
			t.Error("the mail sent during the pause is not in the store")
		}
		// The call that gave up had reached the emulator's socket, and the emulator answers it
		// once it continues: the mail is sent although its caller saw a timeout. In AWS too, a
		// call that timed out may have happened (README, "Things the emulators taught us").
		waitFor(t, 2*time.Second, "the mail whose call timed out, sent after the resume", func() bool { return stored("during") })
	})

	t.Run("stop and resume", func(t *testing.T) {
		if err := c.StopEmulator("ses"); err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := send(short, "stopped")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a call to a stopped emulator = %v, want no answer", err)
		}
		if err := c.ResumeEmulator("ses"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := send(ctx, "resumed"); err != nil || time.Since(start) > 2*time.Second {
			t.Fatalf("a call after the resume: %v after %v", err, time.Since(start))
		}
		if err := c.StopEmulator("nothing"); err == nil {
			t.Error("stopping an emulator that does not run did not fail")
		}
	})

	t.Run("close stops a stopped emulator at once", func(t *testing.T) {
		if err := c.PauseEmulator("ses", time.Hour); err != nil {
			t.Fatal(err)
		}
		pids := c.PIDs()
		start := time.Now()
		c.Close()
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Close took %v with the emulator stopped", took)
		}
		for _, pid := range pids {
			if running(pid) {
				t.Errorf("process %d still running after Close", pid)
			}
		}
		if err := c.ResumeEmulator("ses"); err == nil {
			t.Error("resuming after Close did not fail")
		}
	})
}
