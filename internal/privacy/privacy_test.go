package privacy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

func TestP23_DueDateIsThirtyDaysAfterReceipt(t *testing.T) {
	tests := []struct {
		name     string
		received time.Time
		want     time.Time
	}{
		{"mid month", time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC), time.Date(2026, 4, 9, 9, 30, 0, 0, time.UTC)},
		{"across year end", time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 14, 0, 0, 0, 0, time.UTC)},
		{"leap February", time.Date(2028, 2, 1, 12, 0, 0, 0, time.UTC), time.Date(2028, 3, 2, 12, 0, 0, 0, time.UTC)},
		{"non-UTC input", time.Date(2026, 1, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := privacy.DueDate(tc.received); !got.Equal(tc.want) {
				t.Errorf("DueDate(%v) = %v, want %v", tc.received, got, tc.want)
			}
		})
	}
}

func TestP17_FiveDeletionGrounds(t *testing.T) {
	if got := len(privacy.DeletionGrounds); got != 5 {
		t.Fatalf("deletion grounds = %d, want the policy's 5", got)
	}
}

func TestP23_RefusalGroundsCoverThePolicy(t *testing.T) {
	seen := map[privacy.RefusalGround]bool{}
	for _, g := range privacy.RefusalGrounds {
		if seen[g] {
			t.Errorf("duplicate refusal ground %q", g)
		}
		seen[g] = true
	}
	for _, want := range []privacy.RefusalGround{
		privacy.RefuseNationalSecurity, privacy.RefusePublicInterest, privacy.RefuseCriminal,
		privacy.RefuseAbuse, privacy.RefuseHarmsOthers, privacy.RefuseRepeated,
	} {
		if !seen[want] {
			t.Errorf("refusal ground %q missing", want)
		}
	}
}

func TestRequestTypeValid(t *testing.T) {
	tests := []struct {
		in   privacy.RequestType
		want bool
	}{
		{privacy.RequestAccess, true},
		{privacy.RequestComplaint, true},
		{privacy.RequestContact, true},
		{"ACCESS", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(string(tc.in), func(t *testing.T) {
			if got := tc.in.Valid(); got != tc.want {
				t.Errorf("Valid() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestP05_EveryOptionalUseIsItsOwnPurpose(t *testing.T) {
	cat := privacy.Catalogue()
	essential := 0
	for _, p := range cat.Purposes {
		if p.Essential {
			essential++
		}
		if got, ok := cat.Purpose(p.ID); !ok || got.ID != p.ID {
			t.Errorf("Purpose(%q) = %v, %v", p.ID, got, ok)
		}
	}
	if essential != 1 {
		t.Errorf("essential purposes = %d, want only the service itself", essential)
	}
	for _, id := range []string{"profile.mobile", "profile.job", "profile.company", "profile.education", "permission.photos", "transfer.crossborder", "marketing", "analytics", "email.analytics"} {
		if p, ok := cat.Purpose(id); !ok || p.Essential || p.LegalBasis != privacy.BasisConsent {
			t.Errorf("purpose %q: %+v, %v; want it, on consent", id, p, ok)
		}
	}
	for id, want := range map[string]privacy.Category{"marketing": privacy.CategoryMarketing, "ads": privacy.CategoryMarketing, "analytics": privacy.CategoryAnalytics, "email.analytics": privacy.CategoryTracking} {
		if p, _ := cat.Purpose(id); p.Category != want || !p.SignalOptOut() {
			t.Errorf("purpose %q: category %q, opted out by DNT/GPC %v; want %q, true", id, p.Category, p.SignalOptOut(), want)
		}
	}
	if p, _ := cat.Purpose("transfer.crossborder"); p.Recipient == nil || p.Recipient.Country == privacy.HomeCountry || p.SignalOptOut() {
		t.Errorf("transfer.crossborder: %+v; want a recipient abroad", p.Recipient)
	}
}

func TestParseCatalogRefusesAnIncompleteCatalogue(t *testing.T) {
	purposeIn := func(id, category, basis string, essential bool, extra string) string {
		return fmt.Sprintf(`{"id":%q,"category":%q,"essential":%v,"legalBasis":%q,"since":"1.0","name":{"en":"n","zh-CN":"名"},"description":{"en":"d","zh-CN":"述"}%s}`, id, category, essential, basis, extra)
	}
	purpose := func(id, basis string, essential bool) string {
		category := "profile"
		if essential {
			category = "service"
		}
		return purposeIn(id, category, basis, essential, "")
	}
	recipient := func(country, fields string) string {
		return fmt.Sprintf(`,"recipient":{"id":"r","name":{"en":"n","zh-CN":"名"},"country":%q,"countryName":{"en":"c","zh-CN":"国"},"purpose":{"en":"p","zh-CN":"用"},"fields":%s}`, country, fields)
	}
	service := purpose("service", "contract", true)
	field := func(key, purpose, extra string) string {
		return fmt.Sprintf(`{"key":%q,"purpose":%q,"maxLength":10,"label":{"en":"l","zh-CN":"标"},"consent":{"en":"c","zh-CN":"同"}%s}`, key, purpose, extra)
	}
	cat := func(purposes, fields string) string {
		return `{"purposes":[` + purposes + `],"optionalFields":[` + fields + `]}`
	}
	tests := []struct {
		name, json, want string // want: "" for valid, else a part of the error
	}{
		{"minimal", cat(service, ""), ""},
		{"a field under its purpose", cat(service+","+purpose("profile.x", "consent", false), field("x", "profile.x", "")), ""},
		{"not JSON", `{`, "catalogue"},
		{"no service purpose", cat(purpose("marketing", "consent", false), ""), "service"},
		{"a purpose twice", cat(service+","+service, ""), "twice"},
		{"a Chinese name missing", cat(strings.Replace(service, `"zh-CN":"名"`, `"zh-CN":""`, 1), ""), "zh-CN"},
		{"an unknown legal basis", cat(service+","+purpose("p", "interest", false), ""), "legal basis"},
		{"essential on consent", cat(service+","+purpose("p", "consent", true), ""), "essential"},
		{"a field under an unknown purpose", cat(service, field("x", "nope", "")), "unknown purpose"},
		{"a field under the essential purpose", cat(service, field("x", "service", "")), "not essential"},
		{"two fields under one purpose", cat(service+","+purpose("p", "consent", false), field("x", "p", "")+","+field("y", "p", "")), "of its own"},
		{"a field key twice", cat(service+","+purpose("p", "consent", false)+","+purpose("q", "consent", false), field("x", "p", "")+","+field("x", "q", "")), "twice"},
		{"a bad pattern", cat(service+","+purpose("p", "consent", false), field("x", "p", `,"pattern":"(","invalid":{"en":"i","zh-CN":"无"}`)), "pattern"},
		{"a pattern without its message", cat(service+","+purpose("p", "consent", false), field("x", "p", `,"pattern":"^a$"`)), "invalid"},
		{"an unknown category", cat(service+","+purposeIn("p", "fun", "consent", false, ""), ""), "category"},
		{"an essential purpose that is not the service", cat(service+","+purposeIn("p", "analytics", "contract", true, ""), ""), "service category"},
		{"a since that is not a version", cat(service+","+strings.Replace(purpose("p", "consent", false), `"since":"1.0"`, `"since":"soon"`, 1), ""), "since"},
		{"sharing without a recipient", cat(service+","+purposeIn("p", "sharing", "consent", false, ""), ""), "recipient"},
		{"a recipient on an analytics purpose", cat(service+","+purposeIn("p", "analytics", "consent", false, recipient("home", `["locale"]`)), ""), "recipient"},
		{"sharing abroad", cat(service+","+purposeIn("p", "sharing", "consent", false, recipient("SG", `["locale"]`)), ""), "transfer"},
		{"a transfer with the e-mail address", cat(service+","+purposeIn("p", "transfer", "consent", false, recipient("SG", `["email"]`)), ""), "de-identified"},
		{"a transfer to the home region", cat(service+","+purposeIn("p", "transfer", "consent", false, recipient("home", `["locale"]`)), ""), "ISO 3166"},
		{"a recipient of an unknown field", cat(service+","+purposeIn("p", "sharing", "consent", false, recipient("home", `["password"]`)), ""), "cannot be disclosed"},
		{"a recipient of nothing", cat(service+","+purposeIn("p", "sharing", "consent", false, recipient("home", `[]`)), ""), "no fields"},
		{"a valid sharing and transfer", cat(service+","+purposeIn("p", "sharing", "consent", false, recipient("home", `["name","email"]`))+","+purposeIn("q", "transfer", "consent", false, recipient("SG", `["locale"]`)), ""), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := privacy.ParseCatalog([]byte(tc.json))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("register: %w", privacy.FieldError("email", "is not an e-mail address"))
	tests := []struct {
		name string
		err  error
		want privacy.Code
	}{
		{"field error", privacy.FieldError("name", "is required"), privacy.Invalid},
		{"wrapped", wrapped, privacy.Invalid},
		{"plain error", errors.New("boom"), privacy.Internal},
		{"nil", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := privacy.ErrorCode(tc.err); got != tc.want {
				t.Errorf("ErrorCode = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewIDIsUniqueAndOpaque(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := privacy.NewID()
		if len(id) != 26 {
			t.Fatalf("len(%q) = %d, want 26", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}
