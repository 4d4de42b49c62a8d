package privacy_test

import (
	"errors"
	"fmt"
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
	seen := map[string]bool{}
	required := 0
	for _, p := range privacy.Purposes {
		if seen[p.ID] {
			t.Errorf("purpose %q listed twice", p.ID)
		}
		seen[p.ID] = true
		if p.Required {
			required++
		}
		if got, ok := privacy.LookupPurpose(p.ID); !ok || got != p {
			t.Errorf("LookupPurpose(%q) = %v, %v", p.ID, got, ok)
		}
	}
	if required != 1 {
		t.Errorf("required purposes = %d, want only the service itself", required)
	}
	for _, id := range []string{"profile.mobile", "profile.job", "profile.company", "profile.education", "permission.photos", "transfer.crossborder", "marketing"} {
		if !seen[id] {
			t.Errorf("purpose %q missing", id)
		}
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
