package fleet

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine they started (a
// server, a client's connection, a refresh loop) is still running at the end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
