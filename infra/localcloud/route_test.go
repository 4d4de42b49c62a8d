package localcloud

import (
	"maps"
	"testing"
	"time"
)

func TestFindRoutePrefersTheMostSpecificResource(t *testing.T) {
	rs := []route{
		{method: "GET", resource: "/api/exports/{id}", function: "Param"},
		{method: "GET", resource: "/api/exports/latest", function: "Literal"},
		{method: "ANY", resource: "/api/{proxy+}", function: "Greedy"},
		{method: "POST", resource: "/api/register", function: "Register"},
	}
	for i := range rs {
		rs[i].segments = splitPath(rs[i].resource)
	}
	tests := []struct {
		name, method, path string
		want               string
		params             map[string]string
		ok                 bool
	}{
		{"literal beats param", "GET", "/api/exports/latest", "Literal", map[string]string{}, true},
		{"param", "GET", "/api/exports/abc", "Param", map[string]string{"id": "abc"}, true},
		{"greedy catches the rest", "GET", "/api/a/b/c", "Greedy", map[string]string{"proxy": "a/b/c"}, true},
		{"method must match", "POST", "/api/exports/abc", "Greedy", map[string]string{"proxy": "exports/abc"}, true},
		{"HEAD is served by GET", "HEAD", "/api/exports/abc", "Param", map[string]string{"id": "abc"}, true},
		{"exact method", "POST", "/api/register", "Register", map[string]string{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, params, ok := findRoute(rs, tc.method, tc.path)
			if ok != tc.ok || got.function != tc.want || !maps.Equal(params, tc.params) {
				t.Errorf("findRoute(%s %s) = %s %v %v, want %s %v %v", tc.method, tc.path, got.function, params, ok, tc.want, tc.params, tc.ok)
			}
		})
	}
	if _, _, ok := findRoute(rs[:2], "GET", "/api/exports"); ok {
		t.Error("a shorter path matched a longer resource")
	}
	if _, _, ok := findRoute(rs[:2], "GET", "/api/exports/a/b"); ok {
		t.Error("a longer path matched a shorter resource")
	}
}

func TestRateInterval(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
		ok   bool
	}{
		{"rate(5 minutes)", 5 * time.Minute, true},
		{"rate(1 hour)", time.Hour, true},
		{"rate(2 days)", 48 * time.Hour, true},
		{"rate(0 minutes)", 0, false},
		{"cron(0 3 * * ? *)", 0, false},
		{"rate(5 fortnights)", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, ok := rateInterval(tc.expr)
			if got != tc.want || ok != tc.ok {
				t.Errorf("rateInterval(%q) = %v %v, want %v %v", tc.expr, got, ok, tc.want, tc.ok)
			}
		})
	}
}
