// Package metrics writes the portal's own CloudWatch metrics as log lines in the embedded
// metric format: Lambda's log stream turns each line into metrics, with no API call and no
// permission. template.yaml's alarms and dashboard read them under Namespace, with the
// dimension Dimension = the feature's name. (One named dimension rather than none: an empty
// dimension set is the format's corner case, a named one what every reader of it handles.)
package metrics

import (
	"encoding/json"
	"io"
	"time"
)

// Namespace and Dimension are where the portal's metrics are.
const (
	Namespace = "PrivacyPortal"
	Dimension = "Feature"
)

// Metric is one value with its unit ("Count", "Bytes", "Milliseconds").
type Metric struct {
	Name, Unit string
	Value      float64
}

// Count is a metric counted in units.
func Count(name string, v int) Metric { return Metric{Name: name, Unit: "Count", Value: float64(v)} }

// Emit writes one line with the metrics of a feature at now. The values must hold nothing
// personal: they are figures.
func Emit(w io.Writer, now time.Time, feature string, ms ...Metric) error {
	defs := make([]map[string]string, 0, len(ms))
	line := map[string]any{Dimension: feature}
	for _, m := range ms {
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": m.Unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace": Namespace, "Dimensions": [][]string{{Dimension}}, "Metrics": defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
