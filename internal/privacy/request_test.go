package privacy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/privacy"
)

func TestP23_DueDateInCountsTheConfiguredDays(t *testing.T) {
	received := time.Date(2026, 1, 31, 23, 30, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		days int
		want time.Time
	}{
		{30, time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)},
		{privacy.ResponseDays, time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)},
		{14, time.Date(2026, 2, 14, 15, 30, 0, 0, time.UTC)},
		{0, time.Date(2026, 1, 31, 15, 30, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got := privacy.DueDateIn(received, tc.days)
		if !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("DueDateIn(%v, %d) = %v, want %v in UTC", received, tc.days, got, tc.want)
		}
	}
	if !privacy.DueDate(received).Equal(privacy.DueDateIn(received, privacy.ResponseDays)) {
		t.Error("DueDate is not DueDateIn with the policy's days")
	}
}

func TestP23_OnlyProvedUnansweredRequestsAreOpen(t *testing.T) {
	for s, want := range map[privacy.RequestStatus]bool{
		privacy.RequestReceived: false, privacy.RequestVerified: true, privacy.RequestInProgress: true,
		privacy.RequestCompleted: false, privacy.RequestRefused: false, privacy.RequestExpired: false, "": false,
	} {
		if got := s.Open(); got != want {
			t.Errorf("%q.Open() = %v, want %v", s, got, want)
		}
	}
}

func TestP23_WhatEachRequestTypeAsksFor(t *testing.T) {
	tests := []struct {
		t                 privacy.RequestType
		details, password bool
	}{
		{privacy.RequestAccess, false, false},
		{privacy.RequestCorrection, true, false},
		{privacy.RequestDeletion, false, true},
		{privacy.RequestCancellation, false, true},
		{privacy.RequestCopy, false, true},
		{privacy.RequestWithdrawal, true, false},
		{privacy.RequestExplanation, true, false},
		{privacy.RequestComplaint, true, false},
		{privacy.RequestContact, true, false},
	}
	if len(tests) != len(privacy.RequestTypes) {
		t.Fatalf("%d types here, %d in RequestTypes: add the new one", len(tests), len(privacy.RequestTypes))
	}
	for _, tc := range tests {
		t.Run(string(tc.t), func(t *testing.T) {
			if !tc.t.Valid() || !slices.Contains(privacy.RequestTypes, tc.t) {
				t.Errorf("%s is not a listed type", tc.t)
			}
			if got := tc.t.NeedsDetails(); got != tc.details {
				t.Errorf("NeedsDetails() = %v, want %v", got, tc.details)
			}
			if got := tc.t.NeedsPassword(); got != tc.password {
				t.Errorf("NeedsPassword() = %v, want %v", got, tc.password)
			}
		})
	}
}

// P22, P23 and P26 each need a type of their own: an explanation, a complaint, a contact.
func TestP26_ComplaintsAndContactAreRequestTypes(t *testing.T) {
	for _, want := range []privacy.RequestType{privacy.RequestExplanation, privacy.RequestComplaint, privacy.RequestContact} {
		if !want.Valid() {
			t.Errorf("%s is not a request type", want)
		}
	}
}

func TestP23_GroundsAreValidOnlyFromTheirLists(t *testing.T) {
	for _, g := range privacy.RefusalGrounds {
		if !g.Valid() {
			t.Errorf("refusal ground %s not valid", g)
		}
	}
	for _, g := range privacy.DeletionGrounds {
		if !g.Valid() {
			t.Errorf("deletion ground %s not valid", g)
		}
		if privacy.RefusalGround(g).Valid() {
			t.Errorf("deletion ground %s passes as a refusal ground", g)
		}
	}
	for _, bad := range []string{"", "NATIONAL_SECURITY", "other", "no_consent "} {
		if privacy.RefusalGround(bad).Valid() || privacy.DeletionGround(bad).Valid() {
			t.Errorf("%q passes as a ground", bad)
		}
	}
}

func TestP23_RepeatsCountProvedRequestsOfTheTypeInTheWindow(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rule := privacy.Repeats{Window: 365 * 24 * time.Hour, Free: 2}
	req := func(t privacy.RequestType, s privacy.RequestStatus, ago time.Duration) privacy.Request {
		return privacy.Request{Type: t, Status: s, Received: now.Add(-ago)}
	}
	const day = 24 * time.Hour
	access, cpy := privacy.RequestAccess, privacy.RequestCopy
	tests := []struct {
		name    string
		earlier []privacy.Request
		want    bool
	}{
		{"first", nil, false},
		{"second", []privacy.Request{req(access, privacy.RequestCompleted, 10*day)}, false},
		{"third", []privacy.Request{req(access, privacy.RequestCompleted, 10*day), req(access, privacy.RequestInProgress, day)}, true},
		{"third, one refused", []privacy.Request{req(access, privacy.RequestRefused, 10*day), req(access, privacy.RequestVerified, day)}, true},
		{"others of another type", []privacy.Request{req(cpy, privacy.RequestCompleted, day), req(cpy, privacy.RequestCompleted, 2*day), req(access, privacy.RequestCompleted, 3*day)}, false},
		{"unproved and expired do not count", []privacy.Request{
			req(access, privacy.RequestReceived, day), req(access, privacy.RequestExpired, 2*day), req(access, privacy.RequestCompleted, 3*day),
		}, false},
		{"one just out of the window", []privacy.Request{req(access, privacy.RequestCompleted, 365*day), req(access, privacy.RequestCompleted, day)}, false},
		{"one just inside the window", []privacy.Request{req(access, privacy.RequestCompleted, 365*day-time.Second), req(access, privacy.RequestCompleted, day)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rule.IsRepeat(tc.earlier, access, now); got != tc.want {
				t.Errorf("IsRepeat = %v, want %v", got, tc.want)
			}
		})
	}
}
