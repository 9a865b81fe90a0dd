package main

import (
	"slices"
	"time"
)

// latencies summarises a set of durations.
type latencies struct {
	n             int
	p50, p99, max time.Duration
	mean          time.Duration
}

// summarize returns the nearest-rank p50 and p99, the max and the mean.
func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return latencies{
		n:    len(s),
		p50:  percentile(s, 50),
		p99:  percentile(s, 99),
		max:  s[len(s)-1],
		mean: sum / time.Duration(len(s)),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// perSecond returns n per second over d, or 0 for an empty span.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// span returns the time from the earliest to the latest of ts, ignoring
// zero times.
func span(ts ...[]time.Time) (first, last time.Time) {
	for _, list := range ts {
		for _, t := range list {
			if t.IsZero() {
				continue
			}
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
	}
	return first, last
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// mib converts bytes to MiB, rounded to three decimals.
func mib(b uint64) float64 { return round3(float64(b) / (1 << 20)) }
