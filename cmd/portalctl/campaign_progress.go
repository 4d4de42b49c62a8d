package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/notices"
)

// rateSamples is how many of the last samples the rate is measured over.
const rateSamples = 10

// barWidth is the progress bar's width, in characters: with its numbers, the line fits a
// terminal of 80 columns or a little more.
const barWidth = 20

// sample is one reading of a campaign's progress.
type sample struct {
	at   time.Time
	done int
}

// rater measures how fast a campaign's deliveries end: over the last samples while it is
// watched, and since it started before there are two.
type rater struct {
	samples []sample
}

func (r *rater) add(at time.Time, done int) {
	r.samples = append(r.samples, sample{at, done})
	if len(r.samples) > rateSamples {
		r.samples = r.samples[1:]
	}
}

// rate is deliveries ended per second (0: not known yet).
func (r *rater) rate(p notices.Progress) float64 {
	if n := len(r.samples); n >= 2 {
		first, last := r.samples[0], r.samples[n-1]
		if d := last.at.Sub(first.at).Seconds(); d > 0 {
			return float64(last.done-first.done) / d
		}
	}
	if n := len(r.samples); n > 0 && !p.Campaign.Started.IsZero() {
		if d := r.samples[n-1].at.Sub(p.Campaign.Started).Seconds(); d > 0 {
			return float64(p.Counts.Done()) / d
		}
	}
	return 0
}

// progressJSON is a campaign's progress for --json: its counts, what is left, and how fast it
// goes (nothing of its content).
type progressJSON struct {
	Campaign string `json:"campaign"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
	// Planning says the planner is still writing deliveries: Planned and Left grow.
	Planning   bool      `json:"planning"`
	Planned    int       `json:"planned"`
	Sent       int       `json:"sent"`
	Failed     int       `json:"failed"`
	Suppressed int       `json:"suppressed"`
	Skipped    int       `json:"skipped"`
	Left       int       `json:"left"`
	Finished   bool      `json:"finished"`
	Started    time.Time `json:"started,omitzero"`
	At         time.Time `json:"at"`
	// RatePerSecond is how many deliveries ended per second, over the last samples (since it
	// started, for a single reading); SecondsLeft, at that rate, how long what is planned
	// takes. Both are absent when not known.
	RatePerSecond *float64 `json:"ratePerSecond,omitempty"`
	SecondsLeft   *float64 `json:"secondsLeft,omitempty"`
}

func progressOut(p notices.Progress, at time.Time, rate float64) progressJSON {
	c, n := p.Campaign, p.Counts
	out := progressJSON{
		Campaign: c.ID, Kind: string(c.Kind), State: string(c.State), Planning: c.State == notices.StatePlanning,
		Planned: c.Planned, Sent: n.Sent, Failed: n.Failed, Suppressed: n.Suppressed, Skipped: n.Skipped, Left: p.Left(),
		Finished: p.Finished(), Started: c.Started, At: at,
	}
	if rate > 0 {
		r := round(rate)
		out.RatePerSecond = &r
		left := 0.0
		if !p.Finished() {
			left = round(float64(p.Left()) / rate)
		}
		out.SecondsLeft = &left
	}
	return out
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// timeLeft says how long what is left takes at the rate.
func timeLeft(p notices.Progress, rate float64) string {
	switch {
	case p.Finished():
		return "0s"
	case rate <= 0:
		return "unknown"
	}
	d := (time.Duration(float64(p.Left())/rate) * time.Second).Round(time.Second)
	if p.Campaign.State == notices.StatePlanning {
		return "at least " + d.String()
	}
	return d.String()
}

func rateText(rate float64) string {
	if rate <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f/s", rate)
}

// leftText is what is left; while the planner writes deliveries, more are to come.
func leftText(p notices.Progress) string {
	if p.Campaign.State == notices.StatePlanning {
		return fmt.Sprintf("%d+", p.Left())
	}
	return fmt.Sprint(p.Left())
}

// progressLine is one sample on a line, for a log.
func progressLine(p notices.Progress, at time.Time, rate float64) string {
	n := p.Counts
	return fmt.Sprintf("%s  %-8s  sent %d  failed %d  suppressed %d  skipped %d  left %s  rate %s  time left %s",
		at.UTC().Format(fullTime), p.Campaign.State, n.Sent, n.Failed, n.Suppressed, n.Skipped, leftText(p), rateText(rate), timeLeft(p, rate))
}

// progressBar is one sample as a bar, redrawn in place on a terminal (the rest of the line
// cleared). To keep it short, it shows suppressed and skipped deliveries once there are some.
func progressBar(p notices.Progress, rate float64) string {
	planned, done := p.Campaign.Planned, p.Counts.Done()
	frac := 0.0
	if planned > 0 {
		frac = min(1, float64(done)/float64(planned))
	}
	filled := int(frac * barWidth)
	n := p.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "\r[%s%s] %3d%%  sent %d  failed %d", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), int(frac*100), n.Sent, n.Failed)
	if n.Suppressed > 0 {
		fmt.Fprintf(&b, "  suppressed %d", n.Suppressed)
	}
	if n.Skipped > 0 {
		fmt.Fprintf(&b, "  skipped %d", n.Skipped)
	}
	fmt.Fprintf(&b, "  left %s  %s  %s left\x1b[K", leftText(p), rateText(rate), timeLeft(p, rate))
	return b.String()
}

// campaignProgress prints where a campaign's sending stands; with --watch, again every
// second until it has finished or the operator stops watching (Ctrl-C), then a final report.
func (c *cli) campaignProgress(ctx context.Context, id string, watch, asJSON bool) error {
	op, err := c.campaigns(ctx)
	if err != nil {
		return err
	}
	var r rater
	p, err := op.Progress(ctx, id)
	if err != nil {
		return err
	}
	at := op.Now()
	r.add(at, p.Counts.Done())
	if !watch {
		if asJSON {
			return writeJSON(c.stdout, progressOut(p, at, r.rate(p)))
		}
		c.printProgress(p, r.rate(p))
		return nil
	}
	if p.Campaign.State == notices.StateDraft {
		return fmt.Errorf("campaign %s is a draft: nothing is sent until it is started (portalctl campaign start %s)", clean(id), clean(id))
	}
	every := c.Every
	if every <= 0 {
		every = time.Second
	}
	bar := c.OutTerminal && !asJSON
	first, firstFinished := at, p.Finished()
	var finishedAt time.Time
	for {
		rate := r.rate(p)
		switch {
		case asJSON:
			b, err := json.Marshal(progressOut(p, at, rate))
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s\n", b)
		case bar:
			io.WriteString(c.stdout, progressBar(p, rate))
		default:
			fmt.Fprintln(c.stdout, progressLine(p, at, rate))
		}
		if p.Finished() {
			finishedAt = at
			break
		}
		interrupted := false
		select {
		case <-ctx.Done():
			interrupted = true
		case <-time.After(every):
		}
		if !interrupted {
			next, err := op.Progress(ctx, id)
			switch {
			case err != nil && ctx.Err() != nil:
				interrupted = true
			case err != nil:
				if bar {
					fmt.Fprintln(c.stdout)
				}
				return err
			default:
				p, at = next, op.Now()
				r.add(at, p.Counts.Done())
			}
		}
		if interrupted {
			break
		}
	}
	if bar {
		fmt.Fprintln(c.stdout)
	}
	if asJSON {
		return nil
	}
	c.printFinal(p, first, at, finishedAt, firstFinished)
	return nil
}

// printProgress prints one reading.
func (c *cli) printProgress(p notices.Progress, rate float64) {
	w, camp, n := c.stdout, p.Campaign, p.Counts
	fmt.Fprintf(w, "Campaign     %s\n", clean(camp.ID))
	fmt.Fprintf(w, "Kind         %s\n", kindName[camp.Kind])
	state := string(camp.State)
	switch {
	case camp.State == notices.StateDraft:
		state += ": nothing is sent until it is started (portalctl campaign start " + clean(camp.ID) + ")"
	case camp.State == notices.StatePlanning:
		state += ": the planner is still writing deliveries, so more are to come"
	case p.Finished():
		state += ": finished, every delivery has ended"
	}
	fmt.Fprintf(w, "State        %s\n", state)
	fmt.Fprintf(w, "Started      %s\n", at(camp.Started, fullTime))
	fmt.Fprintf(w, "Planned      %d\n", camp.Planned)
	fmt.Fprintf(w, "Sent         %d\n", n.Sent)
	fmt.Fprintf(w, "Failed       %d\n", n.Failed)
	fmt.Fprintf(w, "Suppressed   %d\n", n.Suppressed)
	fmt.Fprintf(w, "Skipped      %d\n", n.Skipped)
	fmt.Fprintf(w, "Left         %s\n", leftText(p))
	if camp.State != notices.StateDraft {
		fmt.Fprintf(w, "Rate         %s (since it started)\n", rateText(rate))
		fmt.Fprintf(w, "Time left    %s\n", timeLeft(p, rate))
	}
}

// printFinal is the report at the end of a watch: the totals, and how long it took (or was
// watched).
func (c *cli) printFinal(p notices.Progress, first, last, finishedAt time.Time, finishedBefore bool) {
	w, camp, n := c.stdout, p.Campaign, p.Counts
	fmt.Fprintln(w)
	switch {
	case finishedBefore:
		fmt.Fprintf(w, "Campaign %s had finished before this watch began (started %s).\n", clean(camp.ID), at(camp.Started, fullTime))
	case !finishedAt.IsZero():
		took := finishedAt.Sub(camp.Started).Round(time.Second)
		avg := "-"
		if s := finishedAt.Sub(camp.Started).Seconds(); s > 0 {
			avg = rateText(float64(n.Done()) / s)
		}
		fmt.Fprintf(w, "Campaign %s finished: %s from its start to the sample that saw it done (average %s).\n", clean(camp.ID), took, avg)
	default:
		fmt.Fprintf(w, "Stopped watching campaign %s after %s; it goes on without you (portalctl campaign progress %s --watch).\n",
			clean(camp.ID), last.Sub(first).Round(time.Second), clean(camp.ID))
	}
	fmt.Fprintf(w, "Sent %d, failed %d, suppressed %d, skipped %d, left %s, of %d planned.\n",
		n.Sent, n.Failed, n.Suppressed, n.Skipped, leftText(p), camp.Planned)
}
