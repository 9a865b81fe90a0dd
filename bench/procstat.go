package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// procUsage reads a process's CPU time (utime+stime, all threads) from
// /proc/<pid>/stat and its peak RSS (VmHWM) from /proc/<pid>/status. pid
// may be "self".
func procUsage(pid string) (cpu time.Duration, peakRSS uint64, err error) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name in field 2 may hold spaces; fields after it are plain.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	f := strings.Fields(rest) // f[0] is field 3 (state); utime is 14, stime 15
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short /proc/%s/stat", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%s/stat: %w", pid, err)
	}
	cpu = time.Duration(utime+stime) * time.Second / clockTicks
	_, peakRSS, err = procMemory(pid)
	return cpu, peakRSS, err
}

// procMemory reads a process's resident set size now (VmRSS) and at its
// peak so far (VmHWM), in bytes, from /proc/<pid>/status.
func procMemory(pid string) (rss, peakRSS uint64, err error) {
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0, err
	}
	var sawRSS, sawHWM bool
	for _, line := range strings.Split(string(status), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parse %s of %s: %w", name, pid, err)
		}
		if name == "VmRSS" {
			rss, sawRSS = kb<<10, true
		} else {
			peakRSS, sawHWM = kb<<10, true
		}
	}
	if !sawRSS || !sawHWM {
		return rss, peakRSS, fmt.Errorf("no VmRSS or VmHWM in /proc/%s/status", pid)
	}
	return rss, peakRSS, nil
}
