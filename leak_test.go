package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine they started is still
// running at the end: the end-to-end test's processes are waited for, and
// its connections to them closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
