package fleet

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
)

// Shard is this replica's share of the fleet: of Count replicas, the one
// numbered Index (from 0). Every replica lists every business and keeps the
// WABAs that hash to it, as kube-state-metrics' replicas keep the objects
// that hash to them; a Count of 0 or 1 keeps every WABA.
type Shard struct{ Index, Count int }

// Owns reports whether the WABA falls to this replica. The hash is the
// WABA ID's FNV-1a, spread over the replicas by jump consistent hashing, so
// that a WABA stays with its replica whatever the others do, and going from
// N replicas to N+1 moves about 1/(N+1) of the WABAs, all to the new one
// (modulo hashing would move most of them).
func (s Shard) Owns(wabaID string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(wabaID))
	return jump(h.Sum64(), s.Count) == s.Index
}

// Sharded says whether the replica keeps only a share of the fleet.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Validate checks the shard's flags.
func (s Shard) Validate() error {
	switch {
	case s.Count < 0:
		return fmt.Errorf("--total-shards must not be negative")
	case s.Count <= 1 && s.Index != 0:
		return fmt.Errorf("--shard=%d needs --total-shards", s.Index)
	case s.Count > 1 && (s.Index < 0 || s.Index >= s.Count):
		return fmt.Errorf("--shard=%d is not one of 0..%d (--total-shards=%d)", s.Index, s.Count-1, s.Count)
	}
	return nil
}

// jump is Lamping and Veach's jump consistent hash ("A Fast, Minimal
// Memory, Consistent Hash Algorithm", https://arxiv.org/abs/1406.2294): it
// maps key to one of buckets buckets, evenly, such that adding a bucket
// moves only the keys that go to the new one.
func jump(key uint64, buckets int) int {
	b, j := int64(-1), int64(0)
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// ordinal reads a StatefulSet pod's ordinal from its name
// (whatsapp-exporter-2 is 2): a StatefulSet names its pods
// <statefulset>-<ordinal>
// (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#pod-identity).
var ordinal = regexp.MustCompile(`-([0-9]+)$`)

// OrdinalOf returns the ordinal at the end of a StatefulSet pod's name.
func OrdinalOf(podName string) (int, error) {
	m := ordinal.FindStringSubmatch(podName)
	if m == nil {
		return 0, fmt.Errorf("%q does not end in a StatefulSet ordinal (name-N)", podName)
	}
	return strconv.Atoi(m[1])
}
