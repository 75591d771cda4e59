package analytics

import "time"

// Discovery is what the exporter knows of the accounts it exports: each
// business whose WABAs it lists, and this replica's shard of them.
type Discovery struct {
	Businesses []Business
	// ShardIndex and ShardCount are this replica's shard: the ShardIndex-th
	// of ShardCount (1 when the fleet is not sharded).
	ShardIndex, ShardCount int
	// Configured and Discovered count the accounts this replica exports:
	// those the file lists, and those the listings found, in its shard.
	Configured, Discovered int
}

// Business is one business's listing.
type Business struct {
	// Label names the business (its ID); Provider is its API.
	Label, Provider string
	// Listed is how many WABAs the last good listing found, Kept how many
	// of those the filters keep (before sharding: the same on every
	// replica).
	Listed, Kept int
	// Success says the last listing succeeded; LastSuccess is when one
	// last did (zero: never). Listings says any was tried yet.
	Success     bool
	LastSuccess time.Time
	Listings    bool
}
