package notices_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// TestP14_RegulatorReport: the regulator's report holds what GDPR Art. 33(3) and PIPL
// Art. 57 ask for, all from the campaign, as JSON and as Markdown.
func TestP14_RegulatorReport(t *testing.T) {
	c := breachCampaign("c1", notices.Audience{All: true})
	c.State, c.Started, c.Planned, c.Published = notices.StateSending, t0.Add(time.Hour), 1180, t0.Add(2*time.Hour)
	written := t0.Add(3 * time.Hour)
	r, err := notices.Report(notices.Progress{Campaign: c, Counts: notices.Counts{Sent: 1100, Failed: 3}}, written)
	if err != nil {
		t.Fatal(err)
	}
	b, en := c.Breach, privacy.LocaleEnglish
	want := notices.RegulatorReport{
		Campaign: "c1", Title: c.Title[en], Nature: b.Incident[en], DataKinds: notices.DataKindNames(b.DataKinds, en),
		People: 1200, Records: 1500, Contact: b.Contact, Consequences: b.Impact[en], Measures: b.Measures[en],
		SelfHelp: b.SelfHelp[en], Remedies: b.Remedies[en], Occurred: b.Occurred, Discovered: b.Discovered,
		Notified: c.Started, Sent: 1100, Planned: 1180, PublicNotice: c.Published, Written: written,
	}
	gotJSON, _ := json.Marshal(r)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("report\n got %s\nwant %s", gotJSON, wantJSON)
	}
	var fields map[string]any
	if err := json.Unmarshal(gotJSON, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nature", "dataKinds", "approximatePeople", "approximateRecords", "contact", "likelyConsequences",
		"measures", "whatPeopleCanDo", "remedies", "occurred", "discovered", "peopleNotified", "publicNotice"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("the JSON has no %q", k)
		}
	}

	md := r.Markdown()
	for _, s := range []string{
		"# Personal data breach notification: Security incident",
		"## Nature of the breach", "GDPR Art. 33(3)(a)", "PIPL Art. 57(1)", b.Incident[en],
		"## Categories and approximate numbers", "your e-mail address", "about 1200", "about 1500",
		"## Contact point", "GDPR Art. 33(3)(b)", "PIPL Art. 57(4)", b.Contact,
		"## Likely consequences", "GDPR Art. 33(3)(c)", b.Impact[en],
		"## Measures taken or proposed", "GDPR Art. 33(3)(d)", "PIPL Art. 57(2)", b.Measures[en],
		"## What the people concerned can do", "PIPL Art. 57(3)", b.SelfHelp[en],
		"## Remedies offered", b.Remedies[en],
		"## Times", "Breach occurred: 27 February 2026, 09:00 UTC", "Breach discovered: 1 March 2026, 09:00 UTC",
		"People notified from: 2 March 2026, 10:00 UTC (1100 of 1180 notices sent",
		"A public notice was published on the portal on 2 March 2026, 11:00 UTC",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("the Markdown lacks %q", s)
		}
	}
	if strings.Contains(md, b.Incident[privacy.LocaleChinese]) {
		t.Error("the report mixes in the Chinese text")
	}

	// Not yet started, nothing published, numbers not known.
	c = breachCampaign("c2", notices.Audience{All: true})
	c.Breach.People, c.Breach.Records = 0, 0
	r, err = notices.Report(notices.Progress{Campaign: c}, written)
	if err != nil {
		t.Fatal(err)
	}
	md = r.Markdown()
	for _, s := range []string{"People concerned: not known yet", "People notified from: not yet", "No public notice was published."} {
		if !strings.Contains(md, s) {
			t.Errorf("the Markdown lacks %q", s)
		}
	}
}

func TestReportOnlyForABreach(t *testing.T) {
	for _, c := range []notices.Campaign{policyCampaign("p1"), marketingCampaign("m1"), {ID: "x", Kind: notices.KindBreach}} {
		_, err := notices.Report(notices.Progress{Campaign: c}, t0)
		wantCode(t, err, privacy.Conflict)
	}
}
