package examples

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine they started is still
// running at the end: the demo exporter they start is waited for.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
