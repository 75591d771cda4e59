package fleet

import (
	"fmt"
	"testing"
)

// Every WABA falls to exactly one replica, the replicas get about as many
// each, and going from N replicas to N+1 moves about 1/(N+1) of the WABAs,
// all to the new replica.
func TestShard(t *testing.T) {
	const wabas = 10000
	ids := make([]string, wabas)
	for i := range ids {
		ids[i] = fmt.Sprint(100000000000000 + 7919*i)
	}
	owner := func(id string, count int) int {
		n := -1
		for i := range count {
			if (Shard{Index: i, Count: count}).Owns(id) {
				if n >= 0 {
					t.Fatalf("WABA %s falls to replicas %d and %d of %d", id, n, i, count)
				}
				n = i
			}
		}
		if n < 0 {
			t.Fatalf("WABA %s falls to no replica of %d", id, count)
		}
		return n
	}
	for _, count := range []int{2, 3, 5, 10} {
		per := make([]int, count)
		moved, toNew := 0, 0
		for _, id := range ids {
			before, after := owner(id, count-1), owner(id, count)
			per[after]++
			if before != after {
				moved++
				if after == count-1 {
					toNew++
				}
			}
		}
		want := wabas / count
		for i, n := range per {
			if n < want*9/10 || n > want*11/10 {
				t.Errorf("%d replicas: replica %d has %d WABAs, want about %d", count, i, n, want)
			}
		}
		if moved < want*9/10 || moved > want*11/10 || toNew != moved {
			t.Errorf("from %d to %d replicas: %d WABAs moved (%d to the new one), want about %d, all to the new one", count-1, count, moved, toNew, want)
		}
		t.Logf("%d replicas: %v WABAs each; going from %d moved %d (%.1f%%)", count, per, count-1, moved, 100*float64(moved)/wabas)
	}
	if !(Shard{}).Owns("1") || !(Shard{Count: 1}).Owns("1") {
		t.Error("an unsharded replica does not own every WABA")
	}
}
