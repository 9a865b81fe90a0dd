package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// result is one workload's row.
type result struct {
	Workload string
	OK       bool
	Err      string
	N        int // instances, round trips, ...: what the workload ran

	Rate float64 // the workload's headline rate, in Unit
	Unit string
	// TaskRate is the activity (or event, timer, start) rate, in TaskUnit,
	// that baseline_ratio compares with the baseline's round trips/s.
	TaskRate float64
	TaskUnit string

	Lat           latencies // what Latency names
	Latency       string    // what p50/p99/max measure
	BaselineRatio float64

	WorkerCPU time.Duration // worker child processes, summed
	PeakRSS   uint64        // worker child processes' VmHWM, summed
	BenchCPU  time.Duration // the bench process: clients, watcher and the embedded server
	Wall      time.Duration

	extra []field
}

type field struct {
	name  string
	value any
}

// set adds a workload-specific field to the row.
func (r *result) set(name string, value any) {
	for i := range r.extra {
		if r.extra[i].name == name {
			r.extra[i].value = value
			return
		}
	}
	r.extra = append(r.extra, field{name, value})
}

// setLatencies adds a latency summary as name_p50_ms, name_p99_ms, ...
func (r *result) setLatencies(name string, l latencies) {
	r.set(name+"_p50_ms", round3(ms(l.p50)))
	r.set(name+"_p99_ms", round3(ms(l.p99)))
	r.set(name+"_max_ms", round3(ms(l.max)))
	r.set(name+"_mean_ms", round3(ms(l.mean)))
}

// fields returns the row's fields in output order.
func (r *result) fields() []field {
	out := []field{
		{"kind", "result"},
		{"workload", r.Workload},
		{"ok", r.OK},
		{"error", r.Err},
		{"n", r.N},
		{"rate", round3(r.Rate)},
		{"unit", r.Unit},
		{"task_rate", round3(r.TaskRate)},
		{"task_unit", r.TaskUnit},
		{"latency", r.Latency},
		{"p50_ms", round3(ms(r.Lat.p50))},
		{"p99_ms", round3(ms(r.Lat.p99))},
		{"max_ms", round3(ms(r.Lat.max))},
		{"baseline_ratio", round3(r.BaselineRatio)},
		{"cpu_s", round3(r.WorkerCPU.Seconds())},
		{"peak_rss_mib", round3(float64(r.PeakRSS) / (1 << 20))},
		{"bench_cpu_s", round3(r.BenchCPU.Seconds())},
		{"wall_s", round3(r.Wall.Seconds())},
	}
	return append(out, r.extra...)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// jsonLine encodes fields as one JSON object, keeping their order.
func jsonLine(fields []field) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		v, err := json.Marshal(f.value)
		if err != nil {
			v, _ = json.Marshal(fmt.Sprint(f.value))
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// reporter prints the header, a table row per workload as it finishes and,
// at the end, a JSON line per workload. With jsonOnly it prints JSON lines
// only, each as soon as it is known.
type reporter struct {
	w        io.Writer
	jsonOnly bool
	lines    []string
}

const tableFormat = "%-16s %-4s %9s %-14s %8s %8s %8s %6s %6s %7s %9s %7s  %s\n"

// header prints the environment and what the columns mean.
func (p *reporter) header(env []field) {
	line := jsonLine(append([]field{{"kind", "env"}}, env...))
	if p.jsonOnly {
		fmt.Fprintln(p.w, line)
		return
	}
	p.lines = append(p.lines, line)
	var parts []string
	for _, f := range env {
		parts = append(parts, fmt.Sprintf("%s=%v", f.name, f.value))
	}
	fmt.Fprintln(p.w, "# Endure benchmark")
	fmt.Fprintln(p.w, "# "+strings.Join(parts, " "))
	fmt.Fprintln(p.w, "# rate: the workload's headline rate; ratio (baseline_ratio) = task_rate / rate of row \"baseline\"")
	fmt.Fprintln(p.w, "#   (bare JetStream task round trip, 128 in flight, measured in this run)")
	fmt.Fprintln(p.w, "# p50/p99/max: see each row's latency field; cpu_s, rss_MiB: the worker child processes, summed")
	fmt.Fprintln(p.w, "# bench_cpu: CPU seconds of the bench process (clients, watcher and, unless --nats, the nats-server)")
	fmt.Fprintf(p.w, tableFormat, "workload", "ok", "rate", "unit", "p50_ms", "p99_ms", "max_ms", "ratio", "cpu_s", "rss_MiB", "bench_cpu", "wall_s", "notes")
}

// row reports one workload.
func (p *reporter) row(r *result) {
	line := jsonLine(r.fields())
	if p.jsonOnly {
		fmt.Fprintln(p.w, line)
		return
	}
	p.lines = append(p.lines, line)
	ok := "ok"
	if !r.OK {
		ok = "FAIL"
	}
	var notes []string
	if r.Latency != "" {
		notes = append(notes, "latency="+r.Latency)
	}
	if r.TaskUnit != "" && r.TaskUnit != r.Unit {
		notes = append(notes, fmt.Sprintf("task_rate=%.1f %s", r.TaskRate, r.TaskUnit))
	}
	for _, f := range r.extra {
		notes = append(notes, fmt.Sprintf("%s=%v", f.name, f.value))
	}
	fmt.Fprintf(p.w, tableFormat, r.Workload, ok, fmt.Sprintf("%.1f", r.Rate), r.Unit,
		fmt.Sprintf("%.2f", ms(r.Lat.p50)), fmt.Sprintf("%.2f", ms(r.Lat.p99)), fmt.Sprintf("%.2f", ms(r.Lat.max)),
		fmt.Sprintf("%.3f", r.BaselineRatio), fmt.Sprintf("%.2f", r.WorkerCPU.Seconds()),
		fmt.Sprintf("%.1f", float64(r.PeakRSS)/(1<<20)), fmt.Sprintf("%.2f", r.BenchCPU.Seconds()),
		fmt.Sprintf("%.2f", r.Wall.Seconds()), strings.Join(notes, " "))
	if !r.OK {
		fmt.Fprintf(p.w, "!!! %s FAILED: %s\n", r.Workload, r.Err)
	}
}

// close prints the JSON lines held back for the table.
func (p *reporter) close() {
	if p.jsonOnly {
		return
	}
	fmt.Fprintln(p.w)
	fmt.Fprintln(p.w, "# JSON, one line per workload")
	for _, l := range p.lines {
		fmt.Fprintln(p.w, l)
	}
}
