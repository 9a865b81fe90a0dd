package integration_test

import "syscall"

// procAttr makes the kernel kill a process under test when the test
// process dies (a timeout, a crash), so none is left behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
