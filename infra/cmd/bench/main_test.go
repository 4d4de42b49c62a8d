package main

import (
	"slices"
	"strings"
	"testing"
)

func TestSelected(t *testing.T) {
	all, err := selected("")
	if err != nil || len(all) != len(measurements) {
		t.Fatalf("selected(\"\") = %d measurements (%v), want all %d", len(all), err, len(measurements))
	}
	ms, err := selected("campaign, export,campaign")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.key)
	}
	if !slices.Equal(keys, []string{"export", "campaign"}) {
		t.Errorf("selected = %v, want [export campaign]: once each, in the usual order", keys)
	}
	if _, err := selected("campaigns"); err == nil || !strings.Contains(err.Error(), "campaign") {
		t.Errorf("an unknown measurement: %v, want an error listing the known ones", err)
	}
}
