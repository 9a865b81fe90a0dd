package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the bench's worker children: the
// bench re-executes its own binary with -worker, which under go test is
// this one.
func TestMain(m *testing.M) {
	if isWorkerInvocation(os.Args[1:]) {
		os.Exit(workerMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestQuickRunPassesEveryWorkload runs the whole benchmark at its quick
// sizes, end to end with real worker processes, so that the program cannot
// rot. It checks the report, never the speed.
func TestQuickRunPassesEveryWorkload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard, not a speed limit
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"--quick"}, &out)
	t.Logf("bench output:\n%s", out.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	rows := map[string]map[string]any{}
	sawEnv := false
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("JSON line does not parse: %v\n%s", err, line)
		}
		switch row["kind"] {
		case "env":
			sawEnv = true
			if row["cores"] == nil || row["go"] == nil {
				t.Errorf("env line without cores or go version: %s", line)
			}
		case "result":
			rows[row["workload"].(string)] = row
		default:
			t.Errorf("JSON line of unknown kind: %s", line)
		}
	}
	if !sawEnv {
		t.Error("no env line")
	}
	required := []string{"workload", "ok", "rate", "unit", "p50_ms", "p99_ms", "max_ms", "baseline_ratio", "cpu_s", "peak_rss_mib", "n", "wall_s"}
	for _, name := range workloadNames {
		row, ok := rows[name]
		if !ok {
			t.Errorf("no row for workload %s", name)
			continue
		}
		if row["ok"] != true {
			t.Errorf("%s failed its checks: %v", name, row["error"])
		}
		for _, f := range required {
			if _, ok := row[f]; !ok {
				t.Errorf("%s: no field %s", name, f)
			}
		}
	}
	for _, name := range []string{"W4", "W4burst"} {
		if row := rows[name]; row != nil && (row["early"] != 0.0 || row["lost"] != 0.0) {
			t.Errorf("%s: %v early and %v lost timers, want 0 and 0", name, row["early"], row["lost"])
		}
	}
	// The figures the memory and scaleout rows exist for are measured (not
	// how good they are), and nothing was lost.
	measured := map[string][]string{
		"memory":   {"orch_rss_mib", "orch_hwm_mib", "p50_ms", "p99_ms", "max_ms", "resumes"},
		"scaleout": {"rate_1p", "rate_4p", "scale_ratio"},
	}
	for name, fields := range measured {
		row := rows[name]
		if row == nil {
			continue // reported above
		}
		for _, f := range fields {
			if v, ok := row[f].(float64); !ok || v <= 0 {
				t.Errorf("%s: %s is %v, want a positive number", name, f, row[f])
			}
		}
		if row["lost"] != 0.0 {
			t.Errorf("%s: %v instances lost, want 0", name, row["lost"])
		}
	}
	for name, targets := range map[string][]string{"memory": {"target_rss_mib", "target_resume_ms"}, "scaleout": {"target_ratio"}} {
		for _, f := range targets {
			if row := rows[name]; row != nil && row[f] == nil {
				t.Errorf("%s: no %s in the notes", name, f)
			}
		}
	}
}

// TestOnlyRunsTheBaselinesAndTheChosenWorkloads checks --only and --json.
func TestOnlyRunsTheBaselinesAndTheChosenWorkloads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, []string{"--quick", "--json", "--only", "W2"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var row struct {
			Kind, Workload string
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("--json printed a line that is not JSON: %q", line)
		}
		if row.Kind == "result" {
			got = append(got, row.Workload)
		}
	}
	if want := "baseline,baseline_serial,W2"; strings.Join(got, ",") != want {
		t.Errorf("workloads run: %v, want %s", got, want)
	}
}

func TestOnlyAcceptsEveryWorkload(t *testing.T) {
	o, err := parseOptions([]string{"--only", "memory,scaleout"}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("--only memory,scaleout: %v", err)
	}
	for _, name := range workloadNames {
		want := strings.HasPrefix(name, "baseline") || name == "memory" || name == "scaleout"
		if got := o.selected(name); got != want {
			t.Errorf("--only memory,scaleout: %s selected %v, want %v", name, got, want)
		}
	}
}

func TestUnknownWorkloadIsRefused(t *testing.T) {
	if err := run(context.Background(), []string{"--only", "W9"}, &bytes.Buffer{}); err == nil {
		t.Fatal("--only W9 was accepted")
	}
}
