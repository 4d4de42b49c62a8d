// Package export writes a copy of everything the portal holds about a person (promises P15,
// P21): a zip with data.json for machines, one CSV file per kind of item and an index.html
// that explains them for people, streamed from the person's partition in one pass, in memory
// that does not grow with the number of items.
package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// Record is one item of a subject's partition.
type Record struct {
	// Kind is the item's kind, from its sort key (PROFILE, CONSENT, AUDIT, SESSION...).
	Kind string
	// Key is the item's sort key.
	Key string
	// Fields are its attributes but the keys, as plain Go values (string, float64, bool,
	// []string, []byte, []any, map[string]any, nil).
	Fields map[string]any
}

// Source reads a subject's partition.
type Source interface {
	// Records calls fn for every item of the subject's partition, in sort-key order (so the
	// items of a kind come together), holding no more than a page of them at a time. An
	// error from fn stops it and is returned.
	Records(ctx context.Context, id privacy.SubjectID, fn func(Record) error) error
}

// Options are an export's settings.
type Options struct {
	// Locale is the language of index.html: privacy.LocaleEnglish or privacy.LocaleChinese;
	// anything else is English.
	Locale string
	// Now is the time the export says it was made; zero means time.Now().
	Now time.Time
}

// Summary is what an export wrote.
type Summary struct {
	// Items is the number of items exported; Kinds the number of each kind.
	Items int
	Kinds map[string]int
	// Bytes is the size of the zip.
	Bytes int64
}

// Entry names in the zip. Each kind's CSV file is its kind in lower case, "audit.csv".
const (
	DataFile  = "data.json"
	IndexFile = "index.html"
)

// ErrOutOfOrder is returned when a Source hands over a kind's items apart, which a single
// pass could not write as one array per kind.
var ErrOutOfOrder = errors.New("export: the source's items are not in sort-key order")

// Write streams a zip of every item of subject id's partition, read from src, into w.
//
// Memory does not grow with the number of items: data.json is written item by item as the
// source pages through the partition, and since zip entries are written one after another,
// each kind's CSV rows go to a temporary file (in os.TempDir) during that same single pass
// and are copied into the zip after data.json; index.html, which needs the counts, comes
// last. What is held is one item, a buffer per kind, and per kind the names of the fields
// seen (the schema's, not the data's size).
//
// Secrets are not exported: hashes of passwords, codes and tokens, and internal look-up
// keys. Their items are, with their other fields and the names of what was left out; a
// session, whose sort key is its token's hash, is numbered instead.
func Write(ctx context.Context, src Source, id privacy.SubjectID, w io.Writer, opts Options) (Summary, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Locale != privacy.LocaleChinese {
		opts.Locale = privacy.LocaleEnglish
	}
	cw := &countingWriter{w: w}
	x := &exporter{zw: zip.NewWriter(cw), opts: opts, byKind: map[string]*kindOut{}}
	defer x.cleanup()
	sum, err := x.write(ctx, src, id)
	if err != nil {
		return Summary{}, err
	}
	if err := x.zw.Close(); err != nil {
		return Summary{}, fmt.Errorf("export: finish zip: %w", err)
	}
	sum.Bytes = cw.n
	return sum, nil
}

type exporter struct {
	zw   *zip.Writer
	opts Options
	// data is data.json's zip entry while the source is read.
	data io.Writer
	line bytes.Buffer // one item of data.json, reused
	// kinds are in the order they came; cur is the one whose array in data.json is open.
	kinds  []*kindOut
	byKind map[string]*kindOut
	cur    *kindOut
	items  int
}

// kindOut is what the export keeps of one kind while it reads the source.
type kindOut struct {
	kind  string
	desc  *kind // nil for a kind the description table does not know
	file  string
	count int
	// cols are the CSV columns after "key": the exported fields, in the order first seen.
	cols   []string
	colIdx map[string]int
	// withheld are the attributes seen that the export leaves out.
	withheld []string
	// optional are the optional fields named by the keys of OPTIONAL items.
	optional []string
	// rows are the CSV rows so far, spilled to a temporary file; a row has the columns
	// known when it was written, and is padded when it is copied into the zip.
	tmp *os.File
	buf *bufio.Writer
	csv *csv.Writer
	row []string
}

// maxOptional bounds the optional fields index.html lists: the catalogue's are a handful.
const maxOptional = 100

func (x *exporter) write(ctx context.Context, src Source, id privacy.SubjectID) (Summary, error) {
	data, err := x.create(DataFile)
	if err != nil {
		return Summary{}, err
	}
	x.data = data
	head, _ := json.Marshal(map[string]string{"subject": string(id), "exportedAt": x.opts.Now.UTC().Format(time.RFC3339)})
	// {"exportedAt":...,"subject":...,"items":{
	if _, err := fmt.Fprintf(data, "%s,\n\"items\": {", head[:len(head)-1]); err != nil {
		return Summary{}, fmt.Errorf("export: write %s: %w", DataFile, err)
	}
	err = src.Records(ctx, id, func(r Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return x.add(r)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("export: read the partition: %w", err)
	}
	if err := x.finishData(); err != nil {
		return Summary{}, err
	}
	sum := Summary{Items: x.items, Kinds: map[string]int{}}
	for _, k := range x.kinds {
		sum.Kinds[k.kind] = k.count
		if err := ctx.Err(); err != nil {
			return Summary{}, err
		}
		if err := x.copyCSV(k); err != nil {
			return Summary{}, err
		}
	}
	if err := x.writeIndex(id); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

func (x *exporter) create(name string) (io.Writer, error) {
	w, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.opts.Now})
	if err != nil {
		return nil, fmt.Errorf("export: add %s: %w", name, err)
	}
	return w, nil
}

// add writes one item to data.json and its kind's CSV rows.
func (x *exporter) add(r Record) error {
	if r.Kind == "" {
		return fmt.Errorf("export: item %q has no kind", r.Key)
	}
	k, err := x.open(r.Kind)
	if err != nil {
		return err
	}
	k.count++
	x.items++
	key := r.Key
	if k.desc != nil && k.desc.secretKey {
		key = fmt.Sprintf("%s#%d", r.Kind, k.count)
	}
	if r.Kind == kindOptional && len(k.optional) < maxOptional {
		if _, name, ok := strings.Cut(r.Key, "#"); ok && !slices.Contains(k.optional, name) {
			k.optional = append(k.optional, name)
		}
	}

	names := make([]string, 0, len(r.Fields))
	var withheld []string
	for name := range r.Fields {
		if describe(r.Kind, name).withheld {
			withheld = append(withheld, name)
			if !slices.Contains(k.withheld, name) {
				k.withheld = append(k.withheld, name)
			}
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	slices.Sort(withheld)

	// data.json: {"key": ..., "fields": {...}, "withheld": [...]}, one item a line.
	b := &x.line
	b.Reset()
	if k.count > 1 {
		b.WriteByte(',')
	}
	b.WriteString("\n  {\"key\": ")
	writeJSON(b, key)
	b.WriteString(", \"fields\": {")
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJSON(b, name)
		b.WriteString(": ")
		if err := writeJSON(b, r.Fields[name]); err != nil {
			return fmt.Errorf("export: %s field %s: %w", r.Kind, name, err)
		}
	}
	b.WriteByte('}')
	if len(withheld) > 0 {
		b.WriteString(", \"withheld\": ")
		writeJSON(b, withheld)
	}
	b.WriteByte('}')
	if _, err := x.data.Write(b.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", DataFile, err)
	}

	// The CSV row: new fields become new columns, in name order.
	for _, name := range names {
		if _, ok := k.colIdx[name]; !ok {
			k.colIdx[name] = len(k.cols)
			k.cols = append(k.cols, name)
		}
	}
	row := k.row[:0]
	row = append(row, cell(key))
	for range k.cols {
		row = append(row, "")
	}
	for _, name := range names {
		row[1+k.colIdx[name]] = csvValue(r.Fields[name], describe(r.Kind, name).unixTime)
	}
	k.row = row
	if err := k.csv.Write(row); err != nil {
		return fmt.Errorf("export: spill %s rows: %w", r.Kind, err)
	}
	return nil
}

// open returns the kind of the next item, opening its array in data.json and its spill file
// when it is new.
func (x *exporter) open(name string) (*kindOut, error) {
	if x.cur != nil && x.cur.kind == name {
		return x.cur, nil
	}
	if _, seen := x.byKind[name]; seen {
		return nil, fmt.Errorf("%w: %s items came apart", ErrOutOfOrder, name)
	}
	tmp, err := os.CreateTemp("", "export-*.csv")
	if err != nil {
		return nil, fmt.Errorf("export: spill file: %w", err)
	}
	buf := bufio.NewWriterSize(tmp, 32<<10)
	k := &kindOut{kind: name, desc: kinds()[name], file: fileName(name), colIdx: map[string]int{}, tmp: tmp, buf: buf, csv: csv.NewWriter(buf)}
	x.kinds = append(x.kinds, k)
	x.byKind[name] = k
	sep := ","
	if x.cur == nil {
		sep = ""
	} else if _, err := io.WriteString(x.data, "\n ]"); err != nil {
		return nil, fmt.Errorf("export: write %s: %w", DataFile, err)
	}
	x.cur = k
	var b bytes.Buffer
	b.WriteString(sep + "\n ")
	b.WriteString(jsonString(name))
	b.WriteString(": [")
	if _, err := x.data.Write(b.Bytes()); err != nil {
		return nil, fmt.Errorf("export: write %s: %w", DataFile, err)
	}
	return k, nil
}

// finishData closes the arrays of data.json and adds the counts.
func (x *exporter) finishData() error {
	var b bytes.Buffer
	if x.cur != nil {
		b.WriteString("\n ]")
	}
	b.WriteString("\n},\n\"counts\": {")
	for i, k := range x.kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", jsonString(k.kind), k.count)
	}
	fmt.Fprintf(&b, "},\n\"total\": %d\n}\n", x.items)
	if _, err := x.data.Write(b.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", DataFile, err)
	}
	return nil
}

// copyCSV adds a kind's CSV file to the zip: the header of every column seen, then the
// spilled rows, each padded to the header's width.
func (x *exporter) copyCSV(k *kindOut) error {
	if err := k.csv.Error(); err != nil {
		return fmt.Errorf("export: spill %s rows: %w", k.kind, err)
	}
	k.csv.Flush()
	if err := k.buf.Flush(); err != nil {
		return fmt.Errorf("export: spill %s rows: %w", k.kind, err)
	}
	if _, err := k.tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export: read %s rows: %w", k.kind, err)
	}
	w, err := x.create(k.file)
	if err != nil {
		return err
	}
	// A byte-order mark, so that spreadsheets read the file as UTF-8 (names in Chinese).
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("export: write %s: %w", k.file, err)
	}
	out := csv.NewWriter(w)
	header := append([]string{"key"}, k.cols...)
	if err := out.Write(header); err != nil {
		return fmt.Errorf("export: write %s: %w", k.file, err)
	}
	in := csv.NewReader(bufio.NewReaderSize(k.tmp, 32<<10))
	in.FieldsPerRecord = -1
	in.ReuseRecord = true
	for {
		row, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("export: read %s rows: %w", k.kind, err)
		}
		for len(row) < len(header) {
			row = append(row, "")
		}
		if err := out.Write(row); err != nil {
			return fmt.Errorf("export: write %s: %w", k.file, err)
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return fmt.Errorf("export: write %s: %w", k.file, err)
	}
	return nil
}

// cleanup closes and removes the spill files.
func (x *exporter) cleanup() {
	for _, k := range x.kinds {
		k.tmp.Close()
		os.Remove(k.tmp.Name())
	}
}

// fileName is the CSV file of a kind: its name in lower case, with anything but letters,
// digits, '-' and '_' replaced, so that no kind can name a path.
func fileName(kind string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, kind) + ".csv"
}

func writeJSON(b *bytes.Buffer, v any) error {
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(j)
	return nil
}

func jsonString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
