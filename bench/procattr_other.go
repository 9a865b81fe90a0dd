//go:build !linux

package main

import "syscall"

// procAttr has nothing to set off Linux; there cpu_s and peak_rss_mib
// read as errors too, since they come from /proc.
func procAttr() *syscall.SysProcAttr { return nil }
