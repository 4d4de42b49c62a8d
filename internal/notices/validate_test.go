package notices_test

import (
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/notices"
	"github.com/privacyportal/portal/internal/privacy"
)

// TestP14_ValidateBreachNeedsEveryPart: a breach notice without one of its five parts (in
// either language), or without the contact, is refused with an error naming the part.
func TestP14_ValidateBreachNeedsEveryPart(t *testing.T) {
	parts := []struct {
		field string
		text  func(b *notices.Breach) privacy.Text
	}{
		{"breach.incident", func(b *notices.Breach) privacy.Text { return b.Incident }},
		{"breach.impact", func(b *notices.Breach) privacy.Text { return b.Impact }},
		{"breach.measures", func(b *notices.Breach) privacy.Text { return b.Measures }},
		{"breach.selfHelp", func(b *notices.Breach) privacy.Text { return b.SelfHelp }},
		{"breach.remedies", func(b *notices.Breach) privacy.Text { return b.Remedies }},
	}
	for _, part := range parts {
		for _, locale := range []string{privacy.LocaleEnglish, privacy.LocaleChinese} {
			for _, blank := range []string{"", "  \n "} {
				t.Run(part.field+"/"+locale, func(t *testing.T) {
					c := breachCampaign("c1", notices.Audience{All: true})
					part.text(c.Breach)[locale] = blank
					err := c.Validate(t0)
					wantField(t, err, part.field)
					if !strings.Contains(err.Error(), locale) {
						t.Errorf("error %q does not say which language is missing", err)
					}
				})
			}
		}
	}
	t.Run("contact", func(t *testing.T) {
		c := breachCampaign("c1", notices.Audience{All: true})
		c.Breach.Contact = " "
		wantField(t, c.Validate(t0), "breach.contact")
	})
	t.Run("no breach content", func(t *testing.T) {
		c := breachCampaign("c1", notices.Audience{All: true})
		c.Breach = nil
		wantField(t, c.Validate(t0), "breach")
	})
}

func TestValidateBreachFacts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(b *notices.Breach)
		field  string
	}{
		{"no data kinds", func(b *notices.Breach) { b.DataKinds = nil }, "breach.dataKinds"},
		{"an empty data kind", func(b *notices.Breach) { b.DataKinds = []string{"email", " "} }, "breach.dataKinds"},
		{"negative people", func(b *notices.Breach) { b.People = -1 }, "breach.people"},
		{"not discovered", func(b *notices.Breach) { b.Discovered = time.Time{} }, "breach.discovered"},
		{"discovered in the future", func(b *notices.Breach) { b.Discovered = t0.Add(time.Hour) }, "breach.discovered"},
		{"occurred after discovery", func(b *notices.Breach) { b.Occurred = b.Discovered.Add(time.Minute) }, "breach.discovered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := breachCampaign("c1", notices.Audience{All: true})
			tc.change(c.Breach)
			wantField(t, c.Validate(t0), tc.field)
		})
	}
}

// TestP25_ValidatePolicyNoticeAtLeast7Days: a policy update taking effect less than 7 days
// after the version's publication is refused; 7 days or more pass.
func TestP25_ValidatePolicyNoticeAtLeast7Days(t *testing.T) {
	for _, tc := range []struct {
		name      string
		effective time.Time
		ok        bool
	}{
		{"same day", published, false},
		{"6 days", published.AddDate(0, 0, 6), false},
		{"a minute short of 7 days", published.AddDate(0, 0, 7).Add(-time.Minute), false},
		{"before publication", published.AddDate(0, 0, -1), false},
		{"7 days", published.AddDate(0, 0, 7), true},
		{"30 days", published.AddDate(0, 0, 30), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := policyCampaign("p1")
			c.Policy.Effective = tc.effective
			err := c.Validate(t0)
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantField(t, err, "policy.effective")
		})
	}
	for _, tc := range []struct {
		name   string
		change func(p *notices.PolicyUpdate)
		field  string
	}{
		{"no version", func(p *notices.PolicyUpdate) { p.Version = "" }, "policy.version"},
		{"no Chinese summary", func(p *notices.PolicyUpdate) { delete(p.Summary, privacy.LocaleChinese) }, "policy.summary"},
		{"no publication date", func(p *notices.PolicyUpdate) { p.Published = time.Time{} }, "policy.effective"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := policyCampaign("p1")
			tc.change(c.Policy)
			wantField(t, c.Validate(t0), tc.field)
		})
	}
}

// TestValidateAudience: exactly one of all, subjects, holding; holding a kind of data the
// catalogue knows; a policy update and marketing go to everyone.
func TestValidateAudience(t *testing.T) {
	for _, tc := range []struct {
		name     string
		campaign notices.Campaign
		field    string // "" for valid
	}{
		{"breach to all", breachCampaign("c", notices.Audience{All: true}), ""},
		{"breach to subjects", breachCampaign("c", notices.Audience{Subjects: []privacy.SubjectID{"a", "b"}}), ""},
		{"breach to holders of mobile", breachCampaign("c", notices.Audience{Holding: "mobile"}), ""},
		{"policy update to all", policyCampaign("p"), ""},
		{"marketing to all", marketingCampaign("m"), ""},

		{"breach to no one", breachCampaign("c", notices.Audience{}), "audience"},
		{"all and subjects", breachCampaign("c", notices.Audience{All: true, Subjects: []privacy.SubjectID{"a"}}), "audience"},
		{"all and holding", breachCampaign("c", notices.Audience{All: true, Holding: "mobile"}), "audience"},
		{"subjects and holding", breachCampaign("c", notices.Audience{Subjects: []privacy.SubjectID{"a"}, Holding: "mobile"}), "audience"},
		{"holding an unknown kind", breachCampaign("c", notices.Audience{Holding: "shoeSize"}), "audience.holding"},
		{"an empty subject ID", breachCampaign("c", notices.Audience{Subjects: []privacy.SubjectID{"a", " "}}), "audience.subjects"},
		{"a too long subject ID", breachCampaign("c", notices.Audience{Subjects: []privacy.SubjectID{privacy.SubjectID(strings.Repeat("x", 65))}}), "audience.subjects"},
		{"a subject twice", breachCampaign("c", notices.Audience{Subjects: []privacy.SubjectID{"a", "b", "a"}}), "audience.subjects"},
		{"policy update to subjects", withAudience(policyCampaign("p"), notices.Audience{Subjects: []privacy.SubjectID{"a"}}), "audience"},
		{"policy update to holders", withAudience(policyCampaign("p"), notices.Audience{Holding: "mobile"}), "audience"},
		{"policy update to no one", withAudience(policyCampaign("p"), notices.Audience{}), "audience"},
		{"marketing to subjects", withAudience(marketingCampaign("m"), notices.Audience{Subjects: []privacy.SubjectID{"a"}}), "audience"},
		{"marketing to holders", withAudience(marketingCampaign("m"), notices.Audience{Holding: "company"}), "audience"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.campaign.Validate(t0)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantField(t, err, tc.field)
		})
	}
}

func withAudience(c notices.Campaign, a notices.Audience) notices.Campaign {
	c.Audience = a
	return c
}

func TestValidateKindAndContent(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *notices.Campaign)
		field  string
	}{
		{"unknown kind", func(c *notices.Campaign) { c.Kind = "newsletter" }, "kind"},
		{"no English title", func(c *notices.Campaign) { c.Title = both("", "标题") }, "title"},
		{"no Chinese title", func(c *notices.Campaign) { c.Title = privacy.Text{privacy.LocaleEnglish: "Title"} }, "title"},
		{"marketing without Chinese paragraphs", func(c *notices.Campaign) {
			*c = marketingCampaign("m")
			delete(c.Paragraphs, privacy.LocaleChinese)
		}, "paragraphs"},
		{"marketing with an empty paragraph", func(c *notices.Campaign) {
			*c = marketingCampaign("m")
			c.Paragraphs[privacy.LocaleEnglish] = []string{"Hello.", " "}
		}, "paragraphs"},
		{"marketing with breach content", func(c *notices.Campaign) {
			b := c.Breach
			*c = marketingCampaign("m")
			c.Breach = b
		}, "paragraphs"},
		{"breach with paragraphs", func(c *notices.Campaign) { c.Paragraphs = marketingCampaign("m").Paragraphs }, "breach"},
		{"policy update without its content", func(c *notices.Campaign) { *c = policyCampaign("p"); c.Policy = nil }, "policy"},
		{"policy update with breach content", func(c *notices.Campaign) {
			b := c.Breach
			*c = policyCampaign("p")
			c.Breach = b
		}, "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := breachCampaign("c", notices.Audience{All: true})
			tc.change(&c)
			wantField(t, c.Validate(t0), tc.field)
		})
	}
}
