package policy_test

import (
	"fmt"
	"time"

	"github.com/privacyportal/portal/internal/policy"
)

func Example() {
	data := []byte(`{"versions":[
	  {"id":"1.0","published":"2026-11-20","effective":"2026-11-27","url":"/policy/1.0/",
	   "sha256":{"en":"07684c0478a0bf7673ba5c40682a183761054d750fa5d4943845084b3d92a17f"}},
	  {"id":"1.1","published":"2027-03-01","effective":"2027-03-08","url":"/policy/1.1/",
	   "sha256":{"en":"0cee7da270f6a9c148d560f1d9716484e1bad935f14e81158efc4ebe96c91fa8"}}]}`)
	c, err := policy.Parse(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)
	current, _ := c.InForce(now)
	fmt.Println("in force:", current.ID, "since", current.Effective)
	for _, v := range c.Pending(now) {
		fmt.Println("pending:", v.ID, "from", v.Effective)
	}
	// Output:
	// in force: 1.0 since 2026-11-27
	// pending: 1.1 from 2027-03-08
}
