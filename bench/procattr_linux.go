package main

import "syscall"

// procAttr makes the kernel kill a worker child when the bench dies, so
// that an interrupted or crashed run leaves no process behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
