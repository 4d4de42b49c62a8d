package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	sumA = "07684c0478a0bf7673ba5c40682a183761054d750fa5d4943845084b3d92a17f"
	sumB = "0cee7da270f6a9c148d560f1d9716484e1bad935f14e81158efc4ebe96c91fa8"
)

func mustDate(tb testing.TB, s string) Date {
	tb.Helper()
	d, err := ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestDateJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Date
		wantErr bool
	}{
		{name: "date", in: `"2026-11-20"`, want: Date{2026, time.November, 20}},
		{name: "leap day", in: `"2028-02-29"`, want: Date{2028, time.February, 29}},
		{name: "empty is zero", in: `""`, want: Date{}},
		{name: "null is zero", in: `null`, want: Date{}},
		{name: "not a leap year", in: `"2027-02-29"`, wantErr: true},
		{name: "time of day", in: `"2026-11-20T10:00:00Z"`, wantErr: true},
		{name: "number", in: `20261120`, wantErr: true},
		{name: "short", in: `"2026-1-2"`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Date
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v, want error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Unmarshal(%s) = %v, want %v", tc.in, got, tc.want)
			}
			out, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if tc.in != "null" && string(out) != tc.in {
				t.Errorf("Marshal round trip = %s, want %s", out, tc.in)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		from string
		days int
		want string
	}{
		{name: "within month", from: "2026-11-20", days: 7, want: "2026-11-27"},
		{name: "across month", from: "2026-11-28", days: 7, want: "2026-12-05"},
		{name: "across year", from: "2026-12-30", days: 7, want: "2027-01-06"},
		{name: "leap year", from: "2028-02-25", days: 7, want: "2028-03-03"},
		{name: "backwards", from: "2026-03-01", days: -1, want: "2026-02-28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustDate(t, tc.from).AddDays(tc.days).String(); got != tc.want {
				t.Errorf("%s + %d days = %s, want %s", tc.from, tc.days, got, tc.want)
			}
		})
	}
	if got := DateOf(time.Date(2026, 11, 27, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))); got.String() != "2026-11-28" {
		t.Errorf("DateOf takes the UTC date: got %s, want 2026-11-28", got)
	}
}

// TestP25_ParseEnforcesSevenDayNotice checks the catalogue rules, the 7-day notice among them.
func TestP25_ParseEnforcesSevenDayNotice(t *testing.T) {
	version := func(id, published, effective string) string {
		return `{"id":"` + id + `","published":"` + published + `","effective":"` + effective +
			`","url":"/policy/` + id + `/","sha256":{"en":"` + sumA + `","zh-cn":"` + sumB + `"}}`
	}
	catalog := func(vs ...string) string { return `{"versions":[` + strings.Join(vs, ",") + `]}` }

	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means valid
		wantN   int
	}{
		{name: "one version", in: catalog(version("1.0", "2026-11-20", "2026-11-27")), wantN: 1},
		{name: "two versions", in: catalog(version("1.0", "2026-11-20", "2026-11-27"), version("1.1", "2027-01-01", "2027-02-01")), wantN: 2},
		{name: "no versions", in: `{"versions":[]}`, wantN: 0},
		{name: "with summary", in: catalog(strings.TrimSuffix(version("1.0", "2026-11-20", "2026-11-27"), "}") + `,"summary":{"en":"First version.","zh-cn":"第一个版本。"}}`), wantN: 1},
		{name: "effective exactly 7 days later", in: catalog(version("1.0", "2026-12-28", "2027-01-04")), wantN: 1},
		{name: "effective 6 days later", in: catalog(version("1.0", "2026-11-20", "2026-11-26")), wantErr: "effective date 2026-11-26 is less than 7 days after published date 2026-11-20"},
		{name: "effective 3 days later", in: catalog(version("1.0", "2026-11-20", "2026-11-23")), wantErr: "less than 7 days"},
		{name: "effective before published", in: catalog(version("1.0", "2026-11-20", "2026-11-01")), wantErr: "less than 7 days"},
		{name: "published missing", in: catalog(version("1.0", "", "2026-11-27")), wantErr: "published date is missing"},
		{name: "effective missing", in: `{"versions":[{"id":"1.0","published":"2026-11-20","url":"/policy/1.0/","sha256":{"en":"` + sumA + `"}}]}`, wantErr: "effective date is missing"},
		{name: "bad date", in: catalog(version("1.0", "20 Nov 2026", "2026-11-27")), wantErr: "YYYY-MM-DD"},
		{name: "duplicate id", in: catalog(version("1.0", "2026-11-20", "2026-11-27"), version("1.0", "2027-01-01", "2027-02-01")), wantErr: `duplicate id "1.0"`},
		{name: "empty id", in: catalog(version("", "2026-11-20", "2026-11-27")), wantErr: "id is missing"},
		{name: "url missing", in: `{"versions":[{"id":"1.0","published":"2026-11-20","effective":"2026-11-27","sha256":{"en":"` + sumA + `"}}]}`, wantErr: "url is missing"},
		{name: "sha256 missing", in: `{"versions":[{"id":"1.0","published":"2026-11-20","effective":"2026-11-27","url":"/policy/1.0/"}]}`, wantErr: "sha256 is missing"},
		{name: "sha256 not hex", in: `{"versions":[{"id":"1.0","published":"2026-11-20","effective":"2026-11-27","url":"/policy/1.0/","sha256":{"en":"` + strings.Repeat("z", 64) + `"}}]}`, wantErr: `sha256["en"]`},
		{name: "sha256 upper case", in: `{"versions":[{"id":"1.0","published":"2026-11-20","effective":"2026-11-27","url":"/policy/1.0/","sha256":{"en":"` + strings.ToUpper(sumA) + `"}}]}`, wantErr: "lower-case hex"},
		{name: "sha256 short", in: `{"versions":[{"id":"1.0","published":"2026-11-20","effective":"2026-11-27","url":"/policy/1.0/","sha256":{"en":"abc"}}]}`, wantErr: "64 lower-case hex"},
		{name: "unknown field", in: `{"versions":[],"extra":1}`, wantErr: "unknown field"},
		{name: "trailing data", in: `{"versions":[]} {}`, wantErr: "trailing data"},
		{name: "not json", in: `<html>`, wantErr: "decode catalogue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse = %+v, want error containing %q", got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error = %q, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(got.Versions) != tc.wantN {
				t.Fatalf("Parse gave %d versions, want %d", len(got.Versions), tc.wantN)
			}
		})
	}
}

func testCatalog(tb testing.TB) Catalog {
	tb.Helper()
	v := func(id, published, effective string) Version {
		return Version{ID: id, Published: mustDate(tb, published), Effective: mustDate(tb, effective),
			URL: "/policy/" + id + "/", SHA256: map[string]string{"en": sumA}}
	}
	return Catalog{Versions: []Version{
		v("1.0", "2026-11-20", "2026-11-27"),
		v("1.1", "2027-03-01", "2027-03-15"),
		v("2.0", "2027-03-05", "2027-03-12"), // published later, takes effect sooner
		v("2.1", "2027-06-01", "2027-06-08"),
	}}
}

func TestP25_InForceIsNewestEffectiveVersion(t *testing.T) {
	c := testCatalog(t)
	at := func(s string) time.Time { return mustDate(t, s).Time().Add(12 * time.Hour) }
	tests := []struct {
		name    string
		now     time.Time
		want    string
		wantErr error
	}{
		{name: "before the first takes effect", now: at("2026-11-26"), wantErr: ErrNoneInForce},
		{name: "published but in notice period", now: at("2026-11-21"), wantErr: ErrNoneInForce},
		{name: "first effective day", now: at("2026-11-27"), want: "1.0"},
		{name: "first instant of the effective day", now: mustDate(t, "2026-11-27").Time(), want: "1.0"},
		{name: "last instant before the effective day", now: mustDate(t, "2026-11-27").Time().Add(-time.Nanosecond), wantErr: ErrNoneInForce},
		{name: "later version published, not yet effective", now: at("2027-03-06"), want: "1.0"},
		{name: "sooner-effective later version", now: at("2027-03-12"), want: "2.0"},
		{name: "earlier-published version takes effect after it", now: at("2027-03-15"), want: "1.1"},
		{name: "newest", now: at("2030-01-01"), want: "2.1"},
		{name: "non-UTC clock uses UTC date", now: time.Date(2026, 11, 26, 22, 0, 0, 0, time.FixedZone("UTC-3", -3*3600)), want: "1.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.InForce(tc.now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("InForce = %q, %v; want error %v", got.ID, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("InForce: %v", err)
			}
			if got.ID != tc.want {
				t.Errorf("InForce = %q, want %q", got.ID, tc.want)
			}
		})
	}

	t.Run("same effective date: later published wins", func(t *testing.T) {
		c := Catalog{Versions: []Version{
			{ID: "b", Published: mustDate(t, "2027-01-02"), Effective: mustDate(t, "2027-01-10")},
			{ID: "a", Published: mustDate(t, "2027-01-01"), Effective: mustDate(t, "2027-01-10")},
		}}
		got, err := c.InForce(at("2027-01-10"))
		if err != nil || got.ID != "b" {
			t.Errorf("InForce = %q, %v; want b", got.ID, err)
		}
	})
	t.Run("empty catalogue", func(t *testing.T) {
		if _, err := (Catalog{}).InForce(time.Now()); !errors.Is(err, ErrNoneInForce) {
			t.Errorf("InForce on empty catalogue: %v, want ErrNoneInForce", err)
		}
	})
}

func TestP25_PendingVersionsAreInNoticePeriod(t *testing.T) {
	c := testCatalog(t)
	at := func(s string) time.Time { return mustDate(t, s).Time().Add(12 * time.Hour) }
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{name: "before anything is published", now: at("2026-11-19"), want: nil},
		{name: "publication day", now: at("2026-11-20"), want: []string{"1.0"}},
		{name: "last notice day", now: at("2026-11-26"), want: []string{"1.0"}},
		{name: "effective day", now: at("2026-11-27"), want: nil},
		{name: "one published", now: at("2027-03-02"), want: []string{"1.1"}},
		{name: "two, soonest effective first", now: at("2027-03-05"), want: []string{"2.0", "1.1"}},
		{name: "one took effect", now: at("2027-03-12"), want: []string{"1.1"}},
		{name: "all in force", now: at("2030-01-01"), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range c.Pending(tc.now) {
				got = append(got, v.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("Pending = %v, want %v", got, tc.want)
			}
		})
	}
}
