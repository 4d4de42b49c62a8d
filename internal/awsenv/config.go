package awsenv

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Env reads the function's configuration from its environment (set by template.yaml), keeping
// the first error so main can report every problem at once.
type Env struct{ errs []error }

// String returns a required variable.
func (e *Env) String(name string) string {
	v := os.Getenv(name)
	if v == "" {
		e.errs = append(e.errs, fmt.Errorf("%s is not set", name))
	}
	return v
}

// Optional returns a variable that may be empty.
func (e *Env) Optional(name string) string { return os.Getenv(name) }

// Duration returns a required positive whole number of units.
func (e *Env) Duration(name string, unit time.Duration) time.Duration {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n <= 0 {
		e.errs = append(e.errs, fmt.Errorf("%s must be a positive whole number, got %q", name, os.Getenv(name)))
		return 0
	}
	return time.Duration(n) * unit
}

// Err reports the problems found, if any.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %v", e.errs)
}

// Int returns a required whole number, zero or more.
func (e *Env) Int(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 {
		e.errs = append(e.errs, fmt.Errorf("%s must be a whole number, got %q", name, os.Getenv(name)))
		return 0
	}
	return n
}
