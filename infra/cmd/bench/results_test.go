package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(n - i) // descending, so a missing sort shows
	}
	return xs
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one sample", []float64{7}, 50, 7},
		{"median of odd count is the middle", []float64{9, 1, 5, 3, 7}, 50, 5},
		{"median of 15 is the 8th smallest", seq(15), 50, 8},
		{"median of even count is the lower middle", []float64{4, 1, 3, 2}, 50, 2},
		{"p99 of 200 is the 198th", seq(200), 99, 198},
		{"p99 of 10 is the largest", seq(10), 99, 10},
		{"p100 is the largest", []float64{3, 11, 2}, 100, 11},
		{"tiny p is the smallest", []float64{3, 11, 2}, 0.1, 2},
		{"repeated values", []float64{1, 1, 1, 9}, 50, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			if got := percentile(tc.xs, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %g) = %g, want %g", in, tc.p, got, tc.want)
			}
			if !slices.Equal(tc.xs, in) {
				t.Errorf("percentile reordered its input: %v, was %v", tc.xs, in)
			}
		})
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile(nil) = %g, want NaN", got)
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name         string
		unit         string
		value, floor float64
		want         Result
	}{
		{"ratio", "ms", 30, 20, Result{Value: 30, Floor: 20, Ratio: 1.5}},
		{"ms rounded to microseconds", "ms", 10.12345, 3.33333, Result{Value: 10.123, Floor: 3.333, Ratio: 3.037}},
		{"bytes kept whole", "bytes", 12345678, 6000000, Result{Value: 12345678, Floor: 6000000, Ratio: 2.058}},
		{"no floor, no ratio", "ms", 5, 0, Result{Value: 5}},
		{"no samples, no ratio", "ms", math.NaN(), 5, Result{Value: math.NaN(), Floor: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compare("x", tc.unit, tc.value, "floor", tc.floor)
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if !same(got.Value, tc.want.Value) || got.Floor != tc.want.Floor || got.Ratio != tc.want.Ratio {
				t.Errorf("compare(%g, %g) = value %g floor %g ratio %g, want %g %g %g",
					tc.value, tc.floor, got.Value, got.Floor, got.Ratio, tc.want.Value, tc.want.Floor, tc.want.Ratio)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	withTarget := func(r Result) Result { r.target = 1.5; return r }
	atLeast := func(r Result) Result { r.target, r.bound = 0.95, ratioAtLeast; return r }
	atMost := func(r Result, n float64) Result { r.target, r.bound = n, valueAtMost; return r }
	tests := []struct {
		name   string
		result Result
		want   []string // fields of the result's row, in order
	}{
		{"under target", withTarget(compare("coldstart.A.p50", "ms", 12, "Hello", 10)),
			[]string{"coldstart.A.p50", "12.00", "ms", "10.00", "ms", "(Hello)", "1.20x", "<=1.5x", "PASS"}},
		{"at target as shown", withTarget(compare("coldstart.A.p50", "ms", 15.04, "Hello", 10)),
			[]string{"coldstart.A.p50", "15.04", "ms", "10.00", "ms", "(Hello)", "1.50x", "<=1.5x", "PASS"}},
		{"over target", withTarget(compare("coldstart.A.p50", "ms", 15.06, "Hello", 10)),
			[]string{"coldstart.A.p50", "15.06", "ms", "10.00", "ms", "(Hello)", "1.51x", "<=1.5x", "OVER"}},
		{"no target", compare("binary.A.arm64", "bytes", 3<<20, "Hello", 2<<20),
			[]string{"binary.A.arm64", "3.00", "MiB", "2.00", "MiB", "(Hello)", "1.50x"}},
		{"no floor", compare("other", "ms", 1.5, "", 0),
			[]string{"other", "1.50", "ms", "-", "-"}},
		{"rate at least its target", atLeast(compare("campaign.100k.rate", "mails/s", 190.5, "SesSendRate", 200)),
			[]string{"campaign.100k.rate", "190.5", "mails/s", "200", "mails/s", "(SesSendRate)", "0.95x", ">=0.95x", "PASS"}},
		{"rate under its target", atLeast(compare("campaign.100k.rate", "mails/s", 120, "SesSendRate", 200)),
			[]string{"campaign.100k.rate", "120", "mails/s", "200", "mails/s", "(SesSendRate)", "0.60x", ">=0.95x", "UNDER"}},
		{"count at its target of 0", atMost(compare("campaign.100k.duplicates", "mails", 0, "", 0), 0),
			[]string{"campaign.100k.duplicates", "0", "mails", "-", "-", "0", "PASS"}},
		{"count over its target of 0", atMost(compare("campaign.100k.missing", "people", 3, "", 0), 0),
			[]string{"campaign.100k.missing", "3", "people", "-", "-", "0", "OVER"}},
		{"count under a target", atMost(compare("x", "mails", 3, "", 0), 5),
			[]string{"x", "3", "mails", "-", "-", "<=5", "PASS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeTable(&buf, []Result{tc.result}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("want a header and one row, got:\n%s", buf.String())
			}
			if got := strings.Fields(lines[1]); !slices.Equal(got, tc.want) {
				t.Errorf("row = %q, want %q", got, tc.want)
			}
			// Columns line up: the row's ratio starts where the header's RATIO does.
			if tc.result.Ratio != 0 {
				if h, r := strings.Index(lines[0], "RATIO"), strings.Index(lines[1], tc.want[6]); h != r {
					t.Errorf("ratio at column %d, header at %d:\n%s", r, h, buf.String())
				}
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name    string
		results []Result
		wantErr string
	}{
		{"figures", []Result{compare("coldstart.A.p50", "ms", 12, "Hello", 10), compare("binary.A.host", "bytes", 200, "Hello", 100)}, ""},
		{"no results", nil, ""},
		{"not a number", []Result{compare("coldstart.B.p50", "ms", math.NaN(), "Hello", 10)}, "coldstart.B.p50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "new", "dir", "results.json")
			err := writeJSON(path, newReport(now, tc.results))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				if _, serr := os.Stat(path); serr == nil {
					t.Error("a results file was written despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if got["generated"] != "2026-03-01T11:30:00Z" {
				t.Errorf("generated = %v, want 2026-03-01T11:30:00Z (RFC 3339, UTC)", got["generated"])
			}
			host, _ := got["host"].(map[string]any)
			for _, k := range []string{"goos", "goarch", "cpus"} {
				if _, ok := host[k]; !ok {
					t.Errorf("host has no %q: %v", k, host)
				}
			}
			results, ok := got["results"].([]any)
			if !ok {
				t.Fatalf("results = %v, want a list", got["results"])
			}
			if len(results) != len(tc.results) {
				t.Fatalf("%d results, want %d", len(results), len(tc.results))
			}
			for i, r := range results {
				m := r.(map[string]any)
				want := tc.results[i]
				if len(m) != 5 || m["name"] != want.Name || m["unit"] != want.Unit ||
					m["value"] != want.Value || m["floor"] != want.Floor || m["ratio"] != want.Ratio {
					t.Errorf("result %d = %v, want exactly name, value, unit, floor, ratio of %+v", i, m, want)
				}
			}
		})
	}
}
