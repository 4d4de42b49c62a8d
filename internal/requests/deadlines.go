package requests

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/privacyportal/portal/internal/jobs"
	"github.com/privacyportal/portal/internal/mail"
	"github.com/privacyportal/portal/internal/privacy"
)

// ReminderDays are the days left at which the operator is reminded of an open request, once
// each (P23).
var ReminderDays = []int{7, 3, 1}

// Deadlines watches the open requests' due dates: the scheduled function runs it. It marks
// each reminder and each overdue request once, hands the mail worker a digest job when one is
// new, and returns the figures for the metrics.
type Deadlines struct {
	*Env
	Store Store
}

// Figures are the open requests by age and the overdue ones: the metrics the dashboard shows
// and the overdue alarm watches.
type Figures struct {
	Open, Overdue int
	// ByAge counts the open requests by days since received: under 7, 7 to 20, 21 and more.
	ByAge [3]int
	// Reminders and NewlyOverdue are what this run marked.
	Reminders, NewlyOverdue int
}

// DaysLeft is how many days are left until due, rounded up (0 or less: due or past).
func DaysLeft(due, now time.Time) int { return int(math.Ceil(due.Sub(now).Hours() / 24)) }

// Check looks at every open request.
func (s *Deadlines) Check(ctx context.Context) (Figures, error) {
	refs, err := s.Store.OpenRequests(ctx)
	if err != nil {
		return Figures{}, err
	}
	var f Figures
	now := s.Now()
	for _, ref := range refs {
		f.Open++
		switch age := now.Sub(ref.Received).Hours() / 24; {
		case age < 7:
			f.ByAge[0]++
		case age < 21:
			f.ByAge[1]++
		default:
			f.ByAge[2]++
		}
		overdue := !now.Before(ref.Due)
		if overdue {
			f.Overdue++
		}
		reminder := ""
		for _, d := range ReminderDays {
			if DaysLeft(ref.Due, now) <= d {
				reminder = strconv.Itoa(d)
			}
		}
		if reminder == "" && !overdue {
			continue
		}
		var newReminder, newOverdue bool
		_, err := update(ctx, s.Store, ref.Subject, ref.Request, func(r *Record) error {
			newReminder, newOverdue = false, false
			if !r.Status.Open() {
				return errUnchanged
			}
			if overdue && !r.Overdue {
				r.Overdue, newOverdue = true, true
			}
			if reminder != "" && !slices.Contains(r.Reminded, reminder) {
				r.Reminded, newReminder = append(r.Reminded, reminder), true
			}
			if !newReminder && !newOverdue {
				return errUnchanged
			}
			return nil
		})
		if privacy.ErrorCode(err) == privacy.NotFound {
			continue // erased meanwhile
		}
		if err != nil {
			return f, err
		}
		if newReminder {
			f.Reminders++
		}
		if newOverdue {
			f.NewlyOverdue++
		}
	}
	if f.Reminders+f.NewlyOverdue > 0 {
		if err := s.enqueue(ctx, jobs.Job{Kind: JobDeadlines}); err != nil {
			return f, err
		}
	}
	return f, nil
}

// digest mails the operator the open requests that are due within the first reminder's days
// or overdue: IDs, types and dates, nothing about the requesters.
func (w *Worker) digest(ctx context.Context) error {
	if w.Config.OperatorEmail == "" {
		return nil
	}
	refs, err := w.Store.OpenRequests(ctx)
	if err != nil {
		return err
	}
	now := w.Now()
	var due []mail.DueRequest
	for _, ref := range refs {
		left := DaysLeft(ref.Due, now)
		if left > ReminderDays[0] {
			continue
		}
		due = append(due, mail.DueRequest{
			ID: ID(ref.Subject, ref.Request), Type: string(ref.Type), Due: ref.Due,
			DaysLeft: max(0, left), Overdue: !now.Before(ref.Due),
		})
	}
	if len(due) == 0 {
		return nil
	}
	return w.send(ctx, mail.Message{To: w.Config.OperatorEmail, Locale: privacy.LocaleEnglish, Kind: mail.OperatorDigest, Data: mail.Data{Requests: due}})
}
