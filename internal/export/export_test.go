package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/export"
	"github.com/privacyportal/portal/internal/privacy"
)

// source is a partition in memory, handed over in order, a record at a time.
type source []export.Record

func (s source) Records(ctx context.Context, _ privacy.SubjectID, fn func(export.Record) error) error {
	for _, r := range s {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Secrets the partition below holds; none may appear anywhere in its export.
const (
	passwordHash = "$argon2id$v=19$m=32768,t=2,p=1$c2FsdHNhbHQ$SECRETPASSWORDHASH"
	codeHash     = "SECRETCODEHASH0123"
	tokenHash    = "SECRETTOKENHASH4567"
	sessionHash  = "SECRETSESSIONHASH89"
	guardianHash = "SECRETGUARDIANHASH"
	emailKey     = "SECRETEMAILKEY"
)

var secrets = []string{passwordHash, codeHash, tokenHash, sessionHash, guardianHash, emailKey}

// partition is a subject's items as the table's adapter hands them over: sort-key order,
// numbers as float64, string sets as []string.
func partition() source {
	return source{
		{Kind: "AUDIT", Key: "AUDIT#2026-01-01T10:00:00.000000000Z#aaaaaa", Fields: map[string]any{"createdAt": "2026-01-01T10:00:00.000000000Z", "action": "account.registered", "fields": []string{"email", "name"}}},
		{Kind: "AUDIT", Key: "AUDIT#2026-01-02T10:00:00.000000000Z#bbbbbb", Fields: map[string]any{"createdAt": "2026-01-02T10:00:00.000000000Z", "action": "profile.corrected"}},
		{Kind: "CONSENT", Key: "CONSENT#2026-01-01T10:00:00.000000000Z#00#profile.mobile", Fields: map[string]any{"purpose": "profile.mobile", "action": "grant", "granted": true, "consentedAt": "2026-01-01T10:00:00.000000000Z", "policyVersion": "1.0", "policySha256": "abc123", "source": "register"}},
		{Kind: "CONSENT", Key: "CONSENT#2026-01-03T10:00:00.000000000Z#00#analytics", Fields: map[string]any{"purpose": "analytics", "action": "withdraw", "granted": false, "consentedAt": "2026-01-03T10:00:00.000000000Z", "policyVersion": "1.1", "source": "form", "signals": []string{"gpc"}, "receiptId": "r-1"}},
		{Kind: "CREDENTIAL", Key: "CREDENTIAL", Fields: map[string]any{"passwordHash": passwordHash}},
		{Kind: "GUARDIAN", Key: "GUARDIAN", Fields: map[string]any{"guardianEmail": "parent@example.com", "tokenHash": guardianHash, "expiresAt": float64(1767261600)}},
		{Kind: "OPTIONAL", Key: "OPTIONAL#mobile", Fields: map[string]any{"value": "+44 20 7946 0000", "consentedAt": "2026-01-01T10:00:00.000000000Z", "policyVersion": "1.0"}},
		{Kind: "PROFILE", Key: "PROFILE", Fields: map[string]any{
			"subjectId": "subj1", "createdAt": "2026-01-01T10:00:00.000000000Z", "name": "Ada <b>Lovelace</b> & \"co\"", "email": "ada@example.com",
			"username": "ada", "locale": "en", "ageGroup": "14+", "status": "active", "emailVerified": true, "emailKey": emailKey, "usernameKey": "u-key",
		}},
		{Kind: "SESSION", Key: "SESSION#" + sessionHash, Fields: map[string]any{"createdAt": "2026-01-04T10:00:00.000000000Z", "expiresAt": float64(1767600000)}},
		{Kind: "USEDLINK", Key: "USEDLINK#unsubscribe#d1", Fields: map[string]any{"usedAt": "2026-01-05T10:00:00.000000000Z"}},
		{Kind: "VERIFY", Key: "VERIFY#email", Fields: map[string]any{"codeHash": codeHash, "tokenHash": tokenHash, "attempts": float64(1), "expiresAt": float64(1767261600)}},
	}
}

// withheld are the attributes of partition() that are not exported.
var withheld = map[string][]string{
	"CREDENTIAL": {"passwordHash"}, "GUARDIAN": {"tokenHash"}, "PROFILE": {"emailKey", "usernameKey"}, "VERIFY": {"codeHash", "tokenHash"},
}

// archive is an export, unzipped.
type archive struct {
	names []string
	files map[string][]byte
}

func mustWrite(tb testing.TB, src export.Source, locale string) (archive, export.Summary) {
	tb.Helper()
	var buf bytes.Buffer
	sum, err := export.Write(context.Background(), src, "subj1", &buf, export.Options{Locale: locale, Now: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatalf("write: %v", err)
	}
	if sum.Bytes != int64(buf.Len()) {
		tb.Errorf("summary says %d bytes, wrote %d", sum.Bytes, buf.Len())
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		tb.Fatalf("the export is not a zip: %v", err)
	}
	a := archive{files: map[string][]byte{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		a.names = append(a.names, f.Name)
		a.files[f.Name] = b
	}
	return a, sum
}

// data is data.json.
type data struct {
	Subject    string `json:"subject"`
	ExportedAt string `json:"exportedAt"`
	Items      map[string][]struct {
		Key      string         `json:"key"`
		Fields   map[string]any `json:"fields"`
		Withheld []string       `json:"withheld"`
	} `json:"items"`
	Counts map[string]int `json:"counts"`
	Total  int            `json:"total"`
}

func TestWriteArchivesEveryItemOnceWithoutSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, locale string
		// names are what index.html must call each kind.
		names map[string]string
	}{
		{"english", privacy.LocaleEnglish, map[string]string{
			"AUDIT": "Account history", "CONSENT": "Your consent history", "CREDENTIAL": "Your password", "GUARDIAN": "Your guardian&#39;s consent",
			"OPTIONAL": "Optional profile fields", "PROFILE": "Your profile", "SESSION": "Signed-in browsers", "USEDLINK": "Used one-time links", "VERIFY": "Codes waiting to be used",
		}},
		{"chinese", privacy.LocaleChinese, map[string]string{
			"AUDIT": "账户历史", "CONSENT": "您的同意记录", "CREDENTIAL": "您的密码", "GUARDIAN": "监护人同意",
			"OPTIONAL": "可选资料字段", "PROFILE": "您的个人资料", "SESSION": "已登录的浏览器", "USEDLINK": "已使用的一次性链接", "VERIFY": "待使用的验证码",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := partition()
			a, sum := mustWrite(t, src, tc.locale)

			kinds := []string{"AUDIT", "CONSENT", "CREDENTIAL", "GUARDIAN", "OPTIONAL", "PROFILE", "SESSION", "USEDLINK", "VERIFY"}
			want := []string{export.DataFile}
			for _, k := range kinds {
				want = append(want, strings.ToLower(k)+".csv")
			}
			want = append(want, export.IndexFile)
			if !slices.Equal(a.names, want) {
				t.Errorf("entries: got %v, want %v", a.names, want)
			}
			if sum.Items != len(src) || len(sum.Kinds) != len(kinds) || sum.Kinds["AUDIT"] != 2 || sum.Kinds["PROFILE"] != 1 {
				t.Errorf("summary: %+v", sum)
			}

			var d data
			if err := json.Unmarshal(a.files[export.DataFile], &d); err != nil {
				t.Fatalf("data.json does not parse: %v\n%s", err, a.files[export.DataFile])
			}
			if d.Subject != "subj1" || d.ExportedAt != "2026-02-01T12:00:00Z" || d.Total != len(src) {
				t.Errorf("data.json head: subject %q, exportedAt %q, total %d", d.Subject, d.ExportedAt, d.Total)
			}
			// Every record exactly once, with its fields but the withheld ones.
			seen := 0
			for _, r := range src {
				items := d.Items[r.Kind]
				key := r.Key
				if r.Kind == "SESSION" {
					key = "SESSION#1"
				}
				n := 0
				for _, it := range items {
					if it.Key != key {
						continue
					}
					n++
					wantFields := map[string]any{}
					for k, v := range r.Fields {
						if !slices.Contains(withheld[r.Kind], k) {
							wantFields[k] = jsonRoundTrip(t, v)
						}
					}
					if !reflect.DeepEqual(it.Fields, wantFields) {
						t.Errorf("%s fields: got %v, want %v", key, it.Fields, wantFields)
					}
					if got := it.Withheld; !slices.Equal(got, withheld[r.Kind]) {
						t.Errorf("%s withheld: got %v, want %v", key, got, withheld[r.Kind])
					}
				}
				if n != 1 {
					t.Errorf("%s is in data.json %d times", key, n)
				}
				seen += n
				if d.Counts[r.Kind] != len(items) {
					t.Errorf("count of %s: %d, items %d", r.Kind, d.Counts[r.Kind], len(items))
				}
			}
			total := 0
			for _, items := range d.Items {
				total += len(items)
			}
			if total != seen {
				t.Errorf("data.json has %d items, %d of them the source's", total, seen)
			}

			// The CSV files: a row per record, its cells where the header says.
			rows := map[string][]map[string]string{}
			for _, k := range kinds {
				rows[k] = readCSV(t, a.files[strings.ToLower(k)+".csv"])
			}
			audit := rows["AUDIT"]
			if len(audit) != 2 || audit[0]["fields"] != "email; name" || audit[1]["fields"] != "" || audit[1]["action"] != "profile.corrected" {
				t.Errorf("audit.csv: %v", audit)
			}
			if p := rows["PROFILE"]; len(p) != 1 || p[0]["name"] != src[7].Fields["name"] || p[0]["emailVerified"] != "true" || p[0]["key"] != "PROFILE" {
				t.Errorf("profile.csv: %v", p)
			}
			if o := rows["OPTIONAL"]; len(o) != 1 || o[0]["value"] != "'+44 20 7946 0000" {
				t.Errorf("optional.csv (a value that a spreadsheet would run gets an apostrophe): %v", o)
			}
			if s := rows["SESSION"]; len(s) != 1 || s[0]["key"] != "SESSION#1" || s[0]["expiresAt"] != "2026-01-05T08:00:00Z" {
				t.Errorf("session.csv: %v", s)
			}
			if v := rows["VERIFY"]; len(v) != 1 || v[0]["attempts"] != "1" || len(v[0]) != 3 {
				t.Errorf("verify.csv (key, attempts, expiresAt): %v", v)
			}
			if c := rows["CREDENTIAL"]; len(c) != 1 || len(c[0]) != 1 || c[0]["key"] != "CREDENTIAL" {
				t.Errorf("credential.csv (the item, no fields): %v", c)
			}

			// index.html: every kind by name, no script, nothing loaded, values escaped.
			page := string(a.files[export.IndexFile])
			for k, name := range tc.names {
				if !strings.Contains(page, name) || !strings.Contains(page, "<code>"+k+"</code>") {
					t.Errorf("index.html does not name %s (%q)", k, name)
				}
			}
			for _, bad := range []string{"<script", "src=", "http://", "https://", "@import", "url("} {
				if strings.Contains(strings.ToLower(page), bad) {
					t.Errorf("index.html has %q", bad)
				}
			}
			if !strings.Contains(page, `lang="`+tc.locale+`"`) {
				t.Errorf("index.html is not marked %s", tc.locale)
			}
			mobile, _ := privacy.Catalogue().Purpose("profile.mobile")
			service, _ := privacy.Catalogue().Purpose(privacy.PurposeService)
			for _, s := range []string{mobile.Name[tc.locale], service.Name[tc.locale], "passwordHash", "<code>profile.mobile</code>"} {
				if !strings.Contains(page, s) {
					t.Errorf("index.html does not say %q", s)
				}
			}

			for name, b := range a.files {
				for _, s := range secrets {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s holds the secret %q", name, s)
					}
				}
			}
		})
	}
}

func jsonRoundTrip(tb testing.TB, v any) any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// readCSV reads a CSV file as one map per row, of the cells that are not empty.
func readCSV(tb testing.TB, b []byte) []map[string]string {
	tb.Helper()
	b, ok := bytes.CutPrefix(b, []byte("\ufeff"))
	if !ok {
		tb.Error("a CSV file does not start with a byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		tb.Fatalf("CSV: %v", err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			tb.Errorf("a row has %d cells, the header %d", len(rec), len(recs[0]))
		}
		row := map[string]string{}
		for i, v := range rec {
			if v != "" {
				row[recs[0][i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func TestColumnsSeenLaterPadEarlierRows(t *testing.T) {
	src := source{
		{Kind: "AUDIT", Key: "AUDIT#1", Fields: map[string]any{"action": "a"}},
		{Kind: "AUDIT", Key: "AUDIT#2", Fields: map[string]any{"action": "b", "fields": []string{"x"}, "createdAt": "t"}},
		{Kind: "AUDIT", Key: "AUDIT#3", Fields: map[string]any{"createdAt": "u"}},
	}
	a, _ := mustWrite(t, src, "en")
	b, _ := bytes.CutPrefix(a.files["audit.csv"], []byte("\ufeff"))
	got, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"key", "action", "createdAt", "fields"}, {"AUDIT#1", "a", "", ""}, {"AUDIT#2", "b", "t", "x"}, {"AUDIT#3", "", "u", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("audit.csv:\ngot  %q\nwant %q", got, want)
	}
}

func TestUnknownKindsAndFieldsAreExportedButHashesWithheld(t *testing.T) {
	src := source{
		{Kind: "OPTIONAL", Key: "OPTIONAL#<img src=x>", Fields: map[string]any{"value": "<script>alert(1)</script>"}},
		{Kind: "ZNEW", Key: "ZNEW#1", Fields: map[string]any{"note": "hello", "resetHash": "SECRETNEWHASH", "n": 3.5, "m": map[string]any{"a": "b"}}},
	}
	a, _ := mustWrite(t, src, "en")
	page := string(a.files[export.IndexFile])
	if strings.Contains(page, "<img") || strings.Contains(page, "<script") {
		t.Errorf("index.html shows a key unescaped:\n%s", page)
	}
	if !strings.Contains(page, "&lt;img src=x&gt;") {
		t.Errorf("index.html does not list the optional field, escaped")
	}
	for name, b := range a.files {
		if bytes.Contains(b, []byte("SECRETNEWHASH")) {
			t.Errorf("%s holds an undescribed hash", name)
		}
	}
	rows := readCSV(t, a.files["znew.csv"])
	if len(rows) != 1 || rows[0]["note"] != "hello" || rows[0]["n"] != "3.5" || rows[0]["m"] != `{"a":"b"}` {
		t.Errorf("znew.csv: %v", rows)
	}
}

func TestItemsOfAKindApartAreRefused(t *testing.T) {
	src := source{
		{Kind: "AUDIT", Key: "AUDIT#1", Fields: map[string]any{}},
		{Kind: "CONSENT", Key: "CONSENT#1", Fields: map[string]any{}},
		{Kind: "AUDIT", Key: "AUDIT#2", Fields: map[string]any{}},
	}
	_, err := export.Write(context.Background(), src, "s", io.Discard, export.Options{})
	if !errors.Is(err, export.ErrOutOfOrder) {
		t.Errorf("got %v, want ErrOutOfOrder", err)
	}
}

type failing struct {
	source
	after int
}

var errPage = errors.New("page failed")

func (f failing) Records(ctx context.Context, id privacy.SubjectID, fn func(export.Record) error) error {
	for i, r := range f.source {
		if i == f.after {
			return errPage
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func TestSpillFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	for _, tc := range []struct {
		name    string
		src     export.Source
		wantErr error
	}{
		{"done", partition(), nil},
		{"source fails", failing{partition(), 5}, errPage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := export.Write(context.Background(), tc.src, "s", io.Discard, export.Options{})
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// generated is a large partition made up on the fly, as a table would page through it: the
// test holds no more than one record of it.
type generated struct {
	audits, consents int
	// sample is called every few records, to sample the heap while the source is read.
	sample func()
}

var actions = []string{"account.registered", "profile.corrected", "password.changed", "session.started", "consent.changed"}
var purposes = []string{"analytics", "marketing", "profile.mobile", "email.analytics", "ads", "share.support"}

func (g generated) Records(ctx context.Context, _ privacy.SubjectID, fn func(export.Record) error) error {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	emit := func(i int, r export.Record) error {
		if i%1000 == 0 && g.sample != nil {
			g.sample()
		}
		return fn(r)
	}
	for i := range g.audits {
		at := t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000000000Z")
		if err := emit(i, export.Record{Kind: "AUDIT", Key: fmt.Sprintf("AUDIT#%s#%06d", at, i), Fields: map[string]any{
			"createdAt": at, "action": actions[i%len(actions)], "fields": []string{"email", "name", "username"}[:1+i%3],
		}}); err != nil {
			return err
		}
	}
	for i := range g.consents {
		at := t0.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000000000Z")
		p := purposes[i%len(purposes)]
		if err := emit(i, export.Record{Kind: "CONSENT", Key: fmt.Sprintf("CONSENT#%s#00#%s", at, p), Fields: map[string]any{
			"purpose": p, "action": "grant", "granted": i%2 == 0, "consentedAt": at, "policyVersion": "1.1",
			"policySha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "source": "form", "receiptId": fmt.Sprintf("r-%08d", i),
		}}); err != nil {
			return err
		}
	}
	return emit(0, export.Record{Kind: "PROFILE", Key: "PROFILE", Fields: map[string]any{"name": "Ada", "email": "ada@example.com"}})
}

// heapBound is the most heap an export may use, whatever its size. The export holds one
// record, the zip's deflate compressor (about 1 MiB), a bufio and a CSV writer per kind, and
// per kind the names of the fields seen; the rest is garbage awaiting collection, which the
// GC lets grow to about the live heap again (GOGC=100). That measured 4-5 MiB at peak; 32 MiB
// leaves room for the GC's pacing on a busy machine. Holding the items could not pass: the
// 200,000 records below take 106 MiB as maps, and data.json alone is 42 MiB.
const heapBound = 32 << 20

func TestMemoryDoesNotGrowWithTheItems(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 items")
	}
	t.Setenv("TMPDIR", t.TempDir())
	for _, locale := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
		t.Run(locale, func(t *testing.T) {
			out, err := os.Create(filepath.Join(t.TempDir(), "export.zip"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			runtime.GC()
			var peak atomic.Uint64
			sample := func() {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				for {
					p := peak.Load()
					if ms.HeapAlloc <= p || peak.CompareAndSwap(p, ms.HeapAlloc) {
						return
					}
				}
			}
			// Sampled in the source (while it is read) and on a ticker (also while the
			// spilled rows are copied and index.html is written).
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						sample()
					}
				}
			})
			const n = 200_000
			sum, err := export.Write(context.Background(), generated{audits: n * 3 / 4, consents: n/4 - 1, sample: sample}, "big", out, export.Options{Locale: locale})
			close(stop)
			wg.Wait()
			sample()
			if err != nil {
				t.Fatal(err)
			}
			if sum.Items != n || sum.Kinds["AUDIT"] != n*3/4 || sum.Kinds["CONSENT"] != n/4-1 {
				t.Errorf("summary: %+v", sum)
			}
			t.Logf("%d items, %.1f MiB zip, peak heap %.1f MiB", sum.Items, float64(sum.Bytes)/(1<<20), float64(peak.Load())/(1<<20))
			if peak.Load() > heapBound {
				t.Errorf("peak heap %.1f MiB, over %d MiB", float64(peak.Load())/(1<<20), heapBound>>20)
			}
			checkLarge(t, out.Name(), n)
		})
	}
}

// checkLarge reads the large export back, streaming: data.json holds n items, and the CSV
// files a row each.
func checkLarge(t *testing.T, path string, n int) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	items, rows := 0, 0
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Name == export.DataFile:
			dec := json.NewDecoder(rc)
			depth := 0
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("data.json: %v", err)
				}
				switch tok {
				case json.Delim('{'), json.Delim('['):
					depth++
					if depth == 4 && tok == json.Delim('{') { // {"items": {"AUDIT": [{...
						items++
					}
				case json.Delim('}'), json.Delim(']'):
					depth--
				}
			}
		case strings.HasSuffix(f.Name, ".csv"):
			r := csv.NewReader(rc)
			r.ReuseRecord = true
			for {
				if _, err := r.Read(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				rows++
			}
			rows-- // the header
		}
		rc.Close()
	}
	if items != n || rows != n {
		t.Errorf("data.json has %d items and the CSV files %d rows; want %d", items, rows, n)
	}
}

func Example() {
	src := source{
		{Kind: "CREDENTIAL", Key: "CREDENTIAL", Fields: map[string]any{"passwordHash": "$argon2id$..."}},
		{Kind: "PROFILE", Key: "PROFILE", Fields: map[string]any{"name": "Ada", "email": "ada@example.com"}},
	}
	var zipped bytes.Buffer
	sum, err := export.Write(context.Background(), src, "subj1", &zipped, export.Options{Locale: privacy.LocaleEnglish})
	if err != nil {
		fmt.Println(err)
		return
	}
	zr, _ := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	for _, f := range zr.File {
		fmt.Println(f.Name)
	}
	fmt.Println(sum.Items, sum.Kinds)
	// Output:
	// data.json
	// credential.csv
	// profile.csv
	// index.html
	// 2 map[CREDENTIAL:1 PROFILE:1]
}
