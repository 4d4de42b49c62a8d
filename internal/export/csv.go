package export

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// csvValue is how a CSV cell shows a value: text as it is, numbers in full, lists joined
// with "; ", anything else as JSON; seconds since 1970 as a date when unixTime.
func csvValue(v any, unixTime bool) string {
	if unixTime {
		if sec, ok := number(v); ok && sec == math.Trunc(sec) && math.Abs(sec) < 1<<53 {
			return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
		}
	}
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return cell(v)
	case bool:
		return strconv.FormatBool(v)
	case []byte:
		return base64.StdEncoding.EncodeToString(v)
	case []string:
		return cell(strings.Join(v, "; "))
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = csvValue(e, false)
		}
		return cell(strings.Join(parts, "; "))
	}
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return cell(string(j))
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// cell keeps a spreadsheet from running a text cell as a formula (CSV injection): a cell
// that begins with =, +, -, @, a tab or a carriage return gets a leading apostrophe, which
// spreadsheets show as text. A person's own "+44 20 7946 0000" is thus not a formula;
// data.json keeps the exact value.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
