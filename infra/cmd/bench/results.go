package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"
)

// Result is one figure beside its floor, as written to the results file.
type Result struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"` // "ms" or "bytes"
	Floor float64 `json:"floor"`
	// Ratio is Value/Floor, or 0 when there is no floor to divide by.
	Ratio float64 `json:"ratio"`

	// floorName says what the floor is, for the table.
	floorName string
	// target is what the figure is held to, as bound says: by default the highest acceptable
	// ratio, where 0 means the figure has no target.
	target float64
	bound  bound
}

// bound is how a result is held to its target.
type bound int

const (
	// ratioAtMost: the ratio may be at most the target (a time or a size beside its floor);
	// a target of 0 is no target.
	ratioAtMost bound = iota
	// ratioAtLeast: the ratio must be at least the target (a rate beside the one configured).
	ratioAtLeast
	// valueAtMost: the value itself may be at most the target, which may be 0 (a count of
	// what must not happen, such as duplicate mails).
	valueAtMost
)

// Host describes the machine the figures were measured on.
type Host struct {
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	CPUs   int    `json:"cpus"`
}

// Report is the results file.
type Report struct {
	Generated string   `json:"generated"`
	Host      Host     `json:"host"`
	Results   []Result `json:"results"`
}

func newReport(now time.Time, results []Result) Report {
	if results == nil {
		results = []Result{} // [] rather than null for readers of the file
	}
	return Report{
		Generated: now.UTC().Format(time.RFC3339),
		Host:      Host{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()},
		Results:   results,
	}
}

// compare builds a result from a figure and its floor.
func compare(name, unit string, value float64, floorName string, floor float64) Result {
	r := Result{Name: name, Value: value, Unit: unit, Floor: floor, floorName: floorName}
	if floor > 0 && !math.IsInf(floor, 0) && !math.IsNaN(value) {
		r.Ratio = value / floor
	}
	if unit == "ms" {
		r.Value, r.Floor = round(r.Value, 3), round(r.Floor, 3)
	}
	r.Ratio = round(r.Ratio, 3)
	return r
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// percentile returns the p-th percentile (0 < p <= 100) of xs by the nearest-rank method:
// always one of the measured values, never an interpolation between two. For 15 samples
// p50 is the 8th smallest; for 200, p99 is the 198th. It is NaN when xs is empty, and xs is
// left as it was.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// verdict is PASS, OVER or UNDER for a result with a target, judged on the ratio as the table
// shows it (two decimals), so a row never reads "1.50x OVER" against a 1.5x target.
func verdict(r Result) string {
	switch r.bound {
	case ratioAtLeast:
		if round(r.Ratio, 2) >= r.target {
			return "PASS"
		}
		return "UNDER"
	case valueAtMost:
		if r.Value <= r.target {
			return "PASS"
		}
		return "OVER"
	}
	if r.target == 0 {
		return ""
	}
	if round(r.Ratio, 2) <= r.target {
		return "PASS"
	}
	return "OVER"
}

// targetText is the table's TARGET column: the bound and the verdict, or "" without a target.
func targetText(r Result) string {
	switch r.bound {
	case ratioAtLeast:
		return fmt.Sprintf(">=%gx %s", r.target, verdict(r))
	case valueAtMost:
		if r.target == 0 {
			return "0 " + verdict(r)
		}
		return fmt.Sprintf("<=%g %s", r.target, verdict(r))
	}
	if r.target == 0 {
		return ""
	}
	return fmt.Sprintf("<=%gx %s", r.target, verdict(r))
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "bytes":
		if v < 1<<20 {
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

// writeTable prints the results as an aligned table.
func writeTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVALUE\tFLOOR\tRATIO\tTARGET\t")
	for _, r := range results {
		floor, ratio := "-", "-"
		if r.floorName != "" || r.Floor != 0 {
			floor = formatValue(r.Floor, r.Unit)
			if r.floorName != "" {
				floor += " (" + r.floorName + ")"
			}
		}
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Name, formatValue(r.Value, r.Unit), floor, ratio, targetText(r))
	}
	return tw.Flush()
}

// writeJSON writes the report to path, creating its directory. A figure that is not a finite
// number (a measurement without samples) is an error rather than a silently wrong file.
func writeJSON(path string, rep Report) error {
	for _, r := range rep.Results {
		for _, v := range []float64{r.Value, r.Floor, r.Ratio} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("result %s: %v is not a number JSON can hold", r.Name, v)
			}
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
