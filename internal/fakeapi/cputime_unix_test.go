//go:build unix

package fakeapi_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used: on a shared machine a
// benchmark's wall time counts the other processes' turns too.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
