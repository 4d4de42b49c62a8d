package localcloud

import (
	"strings"
	"testing"

	"github.com/privacyportal/portal/infra/samtemplate"
)

// TestSQSSourceScalingConfig: an SQS event's ScalingConfig sets how many of its batches run at
// once, and a MaximumConcurrency Lambda would refuse (under 2, over 1000, not whole) stops the
// local cloud too, so a template that works here deploys.
func TestSQSSourceScalingConfig(t *testing.T) {
	event := func(props map[string]any) samtemplate.Event {
		return samtemplate.Event{Name: "Batches", Type: "SQS", Properties: props}
	}
	src, err := sqsSourceOf(event(map[string]any{"BatchSize": 5.0, "ScalingConfig": map[string]any{"MaximumConcurrency": 2.0}}))
	if err != nil || src.pollers != 2 || src.batchSize != 5 {
		t.Errorf("MaximumConcurrency 2, BatchSize 5: %+v, %v; want 2 pollers of 5", src, err)
	}
	if src, err := sqsSourceOf(event(map[string]any{})); err != nil || src.pollers != 1 || src.batchSize != 10 {
		t.Errorf("no ScalingConfig: %+v, %v; want 1 poller of 10", src, err)
	}
	for _, bad := range []any{1.0, 0.0, 1001.0, 2.5, "2", nil} {
		_, err := sqsSourceOf(event(map[string]any{"ScalingConfig": map[string]any{"MaximumConcurrency": bad}}))
		if err == nil || !strings.Contains(err.Error(), "from 2 to 1000") {
			t.Errorf("MaximumConcurrency %v: err = %v, want Lambda's range refused", bad, err)
		}
	}
}
