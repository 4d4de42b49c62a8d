package notices

import (
	"fmt"
	"strings"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

// RegulatorReport is the notification of a breach to the supervisory authority (P14), with
// what GDPR Article 33(3) and PIPL Article 57 ask for, from the campaign's own data: nothing in
// it is typed twice.
type RegulatorReport struct {
	Campaign string `json:"campaign"`
	Title    string `json:"title"`
	// Nature is the nature of the breach (GDPR 33(3)(a); PIPL 57(1): the information
	// involved, the cause and the possible harm).
	Nature string `json:"nature"`
	// DataKinds and the approximate numbers of people and records concerned (GDPR 33(3)(a)).
	DataKinds []string `json:"dataKinds"`
	People    int      `json:"approximatePeople"`
	Records   int      `json:"approximateRecords"`
	// Contact is the protection officer's, or another contact point (GDPR 33(3)(b); PIPL
	// 57(4)).
	Contact string `json:"contact"`
	// Consequences are the likely consequences (GDPR 33(3)(c); PIPL 57(1)).
	Consequences string `json:"likelyConsequences"`
	// Measures are those taken or proposed, including to mitigate the effects (GDPR
	// 33(3)(d); PIPL 57(2)); SelfHelp what people can do themselves (PIPL 57(3)); Remedies
	// what is offered them.
	Measures string `json:"measures"`
	SelfHelp string `json:"whatPeopleCanDo"`
	Remedies string `json:"remedies"`
	// Occurred, Discovered and Notified are the times of the breach, its discovery and the
	// people's notification (when the campaign was started; zero if not yet); Sent counts the
	// notices sent so far, of Planned.
	Occurred   time.Time `json:"occurred,omitzero"`
	Discovered time.Time `json:"discovered"`
	Notified   time.Time `json:"peopleNotified,omitzero"`
	Sent       int       `json:"noticesSent"`
	Planned    int       `json:"noticesPlanned"`
	// PublicNotice is when the notice was published on the site (zero if it was not).
	PublicNotice time.Time `json:"publicNotice,omitzero"`
	Written      time.Time `json:"written"`
}

// Report writes the regulator's report of a breach campaign, in English (the language of the
// operator's filing; the campaign holds both).
func Report(p Progress, now time.Time) (RegulatorReport, error) {
	c := p.Campaign
	if c.Kind != KindBreach || c.Breach == nil {
		return RegulatorReport{}, privacy.Errorf(privacy.Conflict, "Campaign %s is a %s campaign: only a breach has a regulator's report.", c.ID, c.Kind)
	}
	b, en := c.Breach, privacy.LocaleEnglish
	return RegulatorReport{
		Campaign: c.ID, Title: In(c.Title, en), Nature: In(b.Incident, en), DataKinds: DataKindNames(b.DataKinds, en),
		People: b.People, Records: b.Records, Contact: b.Contact, Consequences: In(b.Impact, en), Measures: In(b.Measures, en),
		SelfHelp: In(b.SelfHelp, en), Remedies: In(b.Remedies, en), Occurred: b.Occurred, Discovered: b.Discovered,
		Notified: c.Started, Sent: p.Counts.Sent, Planned: c.Planned, PublicNotice: c.Published, Written: now,
	}, nil
}

// Markdown is the report as a document to file.
func (r RegulatorReport) Markdown() string {
	var b strings.Builder
	day := func(t time.Time) string {
		if t.IsZero() {
			return "not yet"
		}
		return t.UTC().Format("2 January 2006, 15:04 UTC")
	}
	count := func(n int) string {
		if n <= 0 {
			return "not known yet"
		}
		return fmt.Sprintf("about %d", n)
	}
	fmt.Fprintf(&b, "# Personal data breach notification: %s\n\n", r.Title)
	fmt.Fprintf(&b, "Reference: %s. Written %s.\n\n", r.Campaign, day(r.Written))
	section := func(title, ref, body string) {
		fmt.Fprintf(&b, "## %s\n\n*%s*\n\n%s\n\n", title, ref, strings.TrimSpace(body))
	}
	section("Nature of the breach", "GDPR Art. 33(3)(a); PIPL Art. 57(1)", r.Nature)
	section("Categories and approximate numbers", "GDPR Art. 33(3)(a)", fmt.Sprintf(
		"Kinds of personal data concerned: %s.\n\nPeople concerned: %s. Records concerned: %s.",
		strings.Join(r.DataKinds, "; "), count(r.People), count(r.Records)))
	section("Contact point", "GDPR Art. 33(3)(b); PIPL Art. 57(4)", r.Contact)
	section("Likely consequences", "GDPR Art. 33(3)(c); PIPL Art. 57(1)", r.Consequences)
	section("Measures taken or proposed", "GDPR Art. 33(3)(d); PIPL Art. 57(2)", r.Measures)
	section("What the people concerned can do", "PIPL Art. 57(3)", r.SelfHelp)
	section("Remedies offered", "PIPL Art. 57(2)", r.Remedies)
	public := "No public notice was published."
	if !r.PublicNotice.IsZero() {
		public = "A public notice was published on the portal on " + day(r.PublicNotice) + "."
	}
	section("Times", "GDPR Art. 33(1), 33(4); PIPL Art. 57", fmt.Sprintf(
		"Breach occurred: %s.\n\nBreach discovered: %s.\n\nPeople notified from: %s (%d of %d notices sent when this report was written).\n\n%s",
		day(r.Occurred), day(r.Discovered), day(r.Notified), r.Sent, r.Planned, public))
	return b.String()
}
