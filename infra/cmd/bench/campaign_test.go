package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAverageRate(t *testing.T) {
	// 10 mails in a part of second 100, 200 a second from 101 to 104, 7 in a part of 105.
	perSec := map[int64]int{100: 10, 101: 200, 102: 190, 103: 210, 104: 200, 105: 7}
	rate, first, last, err := averageRate(perSec)
	if err != nil || rate != 200 || first != 100 || last != 105 {
		t.Errorf("averageRate = %g from %d to %d (%v), want 200 from 100 to 105", rate, first, last, err)
	}
	// A second without mail inside the span counts, as 0.
	perSec = map[int64]int{100: 5, 101: 100, 103: 200, 104: 5}
	if rate, _, _, _ := averageRate(perSec); rate != 100 {
		t.Errorf("averageRate with an empty second = %g, want 100", rate)
	}
	if got := slowestSecond(perSec, 100, 104); got != 0 {
		t.Errorf("slowestSecond = %d, want 0 (second 102 had none)", got)
	}
	for _, few := range []map[int64]int{nil, {100: 5}, {100: 5, 101: 3}} {
		if _, _, _, err := averageRate(few); err == nil {
			t.Errorf("averageRate(%v): no error, want one (no whole second to time)", few)
		}
	}
}

func TestCampaignMailboxTakesEachMailOnce(t *testing.T) {
	mail := func(id string, at int64, to string) storedMail {
		m := storedMail{MessageID: id, Subject: "Notice", At: at}
		m.Destination.To = []string{to}
		return m
	}
	mb := newCampaignMailbox("", map[string]bool{"Notice": true}, 99)
	other := mail("x", 99, "someone@example.com")
	other.Subject = "Your code"
	reads := [][]storedMail{
		{other, mail("a", 100, "1@x"), mail("b", 101, "2@x")},
		// From second 101: b again, then new mail, one of them with a's ID (the emulator's IDs
		// are random) and one a second mail to the same person.
		{mail("b", 101, "2@x"), mail("c", 101, "3@x"), mail("a", 102, "4@x"), mail("d", 102, "2@x")},
		{mail("a", 102, "4@x"), mail("d", 102, "2@x")}, // nothing new
		{mail("a", 102, "4@x"), mail("d", 102, "2@x"), mail("e", 102, "5@x")},
		{}, // a read that failed to find anything would have found the tail: see below
	}
	for i, r := range reads[:4] {
		if err := mb.take(r); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	var got []string
	for _, m := range mb.mails {
		got = append(got, fmt.Sprintf("%s@%d", m.to[0], m.at))
	}
	want := []string{"1@x@100", "2@x@101", "3@x@101", "4@x@102", "2@x@102", "5@x@102"}
	if !slices.Equal(got, want) {
		t.Errorf("mails = %v, want %v", got, want)
	}
	if mb.read != 7 || mb.shared != 1 || mb.since != 102 {
		t.Errorf("read %d, shared %d, since %d; want 7, 1, 102", mb.read, mb.shared, mb.since)
	}
	// A cleared store, or one out of order, is an error rather than a miscount.
	if err := mb.take(reads[4]); err == nil || !strings.Contains(err.Error(), "cleared") {
		t.Errorf("a read without the last one's tail: %v, want an error", err)
	}
	if err := mb.take([]storedMail{mail("q", 102, "9@x"), mail("d", 102, "2@x"), mail("e", 102, "5@x")}); err == nil {
		t.Error("a read whose tail differs: no error")
	}
	mb2 := newCampaignMailbox("", map[string]bool{"Notice": true}, 100)
	if err := mb2.take([]storedMail{mail("a", 101, "1@x"), mail("b", 100, "2@x")}); err == nil || !strings.Contains(err.Error(), "miss") {
		t.Errorf("mail stored out of order of its seconds: %v, want an error", err)
	}
}
