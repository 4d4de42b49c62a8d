package status_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/privacyportal/portal/internal/apigw"
	"github.com/privacyportal/portal/internal/policy"
	"github.com/privacyportal/portal/internal/status"
)

// source is a fake of our own Source interface, counting reads.
type source struct {
	data  string
	err   error
	reads int
}

func (s *source) Get(_ context.Context, key string) ([]byte, error) {
	s.reads++
	if key != policy.VersionsKey {
		return nil, errors.New("unexpected key " + key)
	}
	return []byte(s.data), s.err
}

const catalog = `{"versions":[
 {"id":"1.0","published":"2026-01-01","effective":"2026-01-08","url":"/policy/1.0/","sha256":{"en":"` + hex64 + `"}},
 {"id":"1.1","published":"2026-03-01","effective":"2026-03-10","url":"/policy/1.1/","sha256":{"en":"` + hex64 + `"}}]}`

const hex64 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestStatusReportsThePolicyInForce(t *testing.T) {
	tests := []struct {
		name        string
		now         time.Time
		wantPolicy  string
		wantPending []string
	}{
		{"before the update takes effect", time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC), "1.0", []string{"1.1"}},
		{"on the effective date", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), "1.1", nil},
		{"long after", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "1.1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := &status.Service{Policies: &policy.Loader{Source: &source{data: catalog}, Now: func() time.Time { return tc.now }}, Version: "v1.2.3"}
			resp, err := apigw.Handle(svc.Handle)(context.Background(), apigw.Request{HTTPMethod: "GET"})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("resp %d %s, err %v", resp.StatusCode, resp.Body, err)
			}
			var got status.Status
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Version != "v1.2.3" || got.Policy.ID != tc.wantPolicy {
				t.Errorf("got %+v, want version v1.2.3 policy %s", got, tc.wantPolicy)
			}
			var pending []string
			for _, p := range got.Pending {
				pending = append(pending, p.ID)
			}
			if len(pending) != len(tc.wantPending) || (len(pending) > 0 && pending[0] != tc.wantPending[0]) {
				t.Errorf("pending = %v, want %v", pending, tc.wantPending)
			}
		})
	}
}

func TestStatusCachesMetadata(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	src := &source{data: catalog}
	svc := &status.Service{Policies: &policy.Loader{Source: src, Now: func() time.Time { return now }, TTL: time.Minute}}
	h := apigw.Handle(svc.Handle)
	for range 3 {
		if resp, _ := h(context.Background(), apigw.Request{HTTPMethod: "GET"}); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	now = now.Add(2 * time.Minute)
	_, _ = h(context.Background(), apigw.Request{HTTPMethod: "GET"})
	if src.reads != 2 {
		t.Errorf("metadata read %d times, want 2 (once, then again after the TTL)", src.reads)
	}
}

func TestStatusFailsClosedOnBadMetadata(t *testing.T) {
	for name, src := range map[string]*source{
		"unreadable":    {err: errors.New("s3 down")},
		"not json":      {data: "<html>"},
		"none in force": {data: `{"versions":[{"id":"9.0","published":"2030-01-01","effective":"2030-01-08","url":"/policy/9.0/","sha256":{"en":"` + hex64 + `"}}]}`},
	} {
		t.Run(name, func(t *testing.T) {
			svc := &status.Service{Policies: &policy.Loader{Source: src, Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }}}
			resp, _ := apigw.Handle(svc.Handle)(context.Background(), apigw.Request{HTTPMethod: "GET"})
			if resp.StatusCode != 500 || resp.Headers["Content-Type"] != apigw.ProblemContentType {
				t.Errorf("resp = %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
