package export

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// The words of index.html.
var (
	tTitle      = text{"A copy of your data", "您的数据副本"}
	tIntro      = text{"This archive holds everything the portal keeps about you, as it stood on %s (UTC).", "本压缩包包含门户保存的关于您的全部数据，截至 %s（UTC）。"}
	tAccount    = text{"Your account's identifier", "您的账户标识符"}
	tTotal      = text{"%d items in all.", "共 %d 个条目。"}
	tFiles      = text{"Files in this archive", "压缩包中的文件"}
	tDataFile   = text{"Every item, in JSON: for computers, and for taking your data to another service.", "以 JSON 格式列出的全部条目：供计算机读取，也便于将您的数据转移到其他服务。"}
	tIndexFile  = text{"This page, which explains the others.", "本页面，用于说明其他文件。"}
	tCSVFile    = text{"One row per item; opens in a spreadsheet.", "每行一个条目；可用电子表格软件打开。"}
	tWhat       = text{"What it is", "内容"}
	tItems      = text{"Items", "条目数"}
	tFile       = text{"File", "文件"}
	tInFile     = text{"%d items, in %s.", "%d 个条目，见 %s。"}
	tField      = text{"Field", "字段"}
	tMeans      = text{"What it means", "含义"}
	tServes     = text{"Purpose it serves", "所服务的用途"}
	tWithheld   = text{"Kept, but left out of this copy", "已保存但未包含在本副本中"}
	tOptional   = text{"The fields you gave, and the purpose each is kept for", "您提供的字段，以及保存每一项的用途"}
	tPerItem    = text{"The purpose of the field the item's key names (below).", "条目键名所指字段的用途（见下文）。"}
	tPurposes   = text{"Purposes", "用途"}
	tEssential  = text{"essential: the service cannot run without it", "必要：没有它服务无法运行"}
	tConsent    = text{"only with your consent, which you may withdraw", "仅在您同意时，您可以随时撤回"}
	tNotes      = text{"Notes", "说明"}
	tNoteTimes  = text{"Times are in UTC. Dates that data.json gives as seconds since 1970 (expiresAt) are written as dates in the CSV files.", "时间均为 UTC。data.json 中以 1970 年以来秒数表示的日期（expiresAt）在 CSV 文件中写为日期。"}
	tNoteEmpty  = text{"An empty cell in a CSV row is a field the item does not have.", "CSV 行中的空单元格表示该条目没有此字段。"}
	tNoteFormul = text{"A cell that begins with =, +, - or @ starts with an apostrophe, so that a spreadsheet shows it as text instead of running it as a formula; data.json has the exact value.", "以 =、+、- 或 @ 开头的单元格前加了一个撇号，使电子表格将其显示为文本，而不是作为公式执行；data.json 中为原始值。"}
	tNoneHeld   = text{"We hold no items about you.", "我们未保存任何关于您的条目。"}
	tColon      = text{": ", "："}
	tStop       = text{". ", "。"}
)

// writeIndex adds index.html: each kind, what it is and how many items it has, what each of
// its fields means and which purpose of the catalogue it serves, and what was left out. It
// has no script and loads nothing; every value in it is escaped.
func (x *exporter) writeIndex(id privacy.SubjectID) error {
	w, err := x.create(IndexFile)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	x.renderIndex(bw, id)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: write %s: %w", IndexFile, err)
	}
	return nil
}

func (x *exporter) renderIndex(w io.Writer, id privacy.SubjectID) {
	loc := x.opts.Locale
	t := func(s text) string { return html.EscapeString(s.in(loc)) }
	e := html.EscapeString
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	cat := privacy.Catalogue()
	var purposes []string // the purposes named on the page, in order

	purposeCell := func(id string) string {
		pu, ok := cat.Purpose(id)
		if !ok {
			return t(undescribed)
		}
		if !slices.Contains(purposes, id) {
			purposes = append(purposes, id)
		}
		return fmt.Sprintf(`<a href="#purpose-%s">%s</a>`, e(id), e(pu.Name[loc]))
	}

	p("<!doctype html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", e(loc))
	p("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n", t(tTitle))
	p("<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}" +
		"table{border-collapse:collapse;width:100%%;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}" +
		"th{background:#f3f3f3}code{font-size:.9em}section{margin-top:2rem}</style>\n</head>\n<body>\n<main>\n")
	p("<h1>%s</h1>\n", t(tTitle))
	p("<p>%s</p>\n", e(fmt.Sprintf(tIntro.in(loc), x.opts.Now.UTC().Format(time.DateTime))))
	p("<p>%s%s<code>%s</code></p>\n", t(tAccount), t(tColon), e(string(id)))
	if x.items == 0 {
		p("<p>%s</p>\n", t(tNoneHeld))
	} else {
		p("<p>%s</p>\n", e(fmt.Sprintf(tTotal.in(loc), x.items)))
	}

	p("<h2>%s</h2>\n<table>\n<thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead>\n<tbody>\n", t(tFiles), t(tFile), t(tWhat), t(tItems))
	p("<tr><td><code>%s</code></td><td>%s</td><td>%d</td></tr>\n", DataFile, t(tDataFile), x.items)
	for _, k := range x.kinds {
		p("<tr><td><code>%s</code></td><td><a href=\"#%s\">%s</a>%s%s</td><td>%d</td></tr>\n",
			e(k.file), e(anchor(k)), e(kindName(k, loc)), t(tStop), t(tCSVFile), k.count)
	}
	p("<tr><td><code>%s</code></td><td>%s</td><td></td></tr>\n</tbody>\n</table>\n", IndexFile, t(tIndexFile))

	for _, k := range x.kinds {
		p("<section id=\"%s\">\n<h2>%s <code>%s</code></h2>\n", e(anchor(k)), e(kindName(k, loc)), e(k.kind))
		about := undescribed
		if k.desc != nil {
			about = k.desc.about
		}
		p("<p>%s</p>\n<p>%s</p>\n", t(about), e(fmt.Sprintf(tInFile.in(loc), k.count, k.file)))
		if len(k.cols) > 0 {
			p("<table>\n<thead><tr><th>%s</th><th>%s</th><th>%s</th></tr></thead>\n<tbody>\n", t(tField), t(tMeans), t(tServes))
			for _, name := range k.cols {
				var serves string
				switch {
				case k.desc == nil:
					serves = t(undescribed)
				case k.desc.purpose == "":
					serves = t(tPerItem)
				default:
					serves = purposeCell(k.desc.purpose)
				}
				p("<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>\n", e(name), t(describe(k.kind, name).text), serves)
			}
			p("</tbody>\n</table>\n")
		}
		if len(k.optional) > 0 {
			p("<h3>%s</h3>\n<ul>\n", t(tOptional))
			for _, name := range k.optional {
				label, serves := name, t(undescribed)
				if f, ok := cat.OptionalField(name); ok {
					label = f.Label[loc]
					serves = purposeCell(f.Purpose)
				}
				p("<li>%s (<code>%s</code>)%s%s</li>\n", e(label), e(name), t(tColon), serves)
			}
			p("</ul>\n")
		}
		if len(k.withheld) > 0 {
			p("<h3>%s</h3>\n<ul>\n", t(tWithheld))
			for _, name := range slices.Sorted(slices.Values(k.withheld)) {
				p("<li><code>%s</code>%s%s</li>\n", e(name), t(tColon), t(describe(k.kind, name).text))
			}
			p("</ul>\n")
		}
		p("</section>\n")
	}

	if len(purposes) > 0 {
		p("<section>\n<h2>%s</h2>\n<dl>\n", t(tPurposes))
		for _, id := range purposes {
			pu, _ := cat.Purpose(id)
			basis := tConsent
			if pu.Essential {
				basis = tEssential
			}
			p("<dt id=\"purpose-%s\">%s (<code>%s</code>)%s%s</dt>\n<dd>%s</dd>\n",
				e(id), e(pu.Name[loc]), e(id), t(tColon), t(basis), e(pu.Description[loc]))
		}
		p("</dl>\n</section>\n")
	}
	p("<section>\n<h2>%s</h2>\n<ul>\n<li>%s</li>\n<li>%s</li>\n<li>%s</li>\n</ul>\n</section>\n", t(tNotes), t(tNoteTimes), t(tNoteEmpty), t(tNoteFormul))
	p("</main>\n</body>\n</html>\n")
}

// anchor is the id of a kind's section on the page.
func anchor(k *kindOut) string { return "kind-" + strings.TrimSuffix(k.file, ".csv") }

// kindName is how the page names a kind: its description's name, or its code.
func kindName(k *kindOut, loc string) string {
	if k.desc != nil {
		return k.desc.name.in(loc)
	}
	return strings.ToLower(k.kind)
}
