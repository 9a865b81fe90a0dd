package httpapi

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// params parses query parameters, keeping the first error so that a
// handler checks once.
type params struct {
	q   url.Values
	err error
}

func (p *params) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// bool parses true or false (any case); def when absent.
func (p *params) bool(name string, def bool) bool {
	switch v := p.q.Get(name); strings.ToLower(v) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	default:
		p.fail("query parameter %s must be true or false, got %q", name, v)
		return def
	}
}

// seconds parses a non-negative number of seconds, at most maxStartWait;
// zero when absent.
func (p *params) seconds(name string) time.Duration {
	v := p.q.Get(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail("query parameter %s must be a non-negative number of seconds, got %q", name, v)
		return 0
	}
	return time.Duration(min(f, maxStartWait.Seconds()) * float64(time.Second))
}

// int parses a positive integer; def when absent.
func (p *params) int(name string, def int) int {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail("query parameter %s must be a positive integer, got %q", name, v)
		return def
	}
	return n
}

// timeLayouts are the ISO 8601 forms accepted for times; those without a
// zone are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

// time parses an ISO 8601 time; the zero time when absent.
func (p *params) time(name string) time.Time {
	// An unescaped '+' of a zone offset arrives as a space.
	v := strings.ReplaceAll(p.q.Get(name), " ", "+")
	if v == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	p.fail("query parameter %s must be an ISO 8601 time such as 2026-01-02T15:04:05Z, got %q", name, v)
	return time.Time{}
}
