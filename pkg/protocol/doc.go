// Package protocol holds the wire types that Endure's processes exchange
// through NATS JetStream: history events, history records, orchestration
// work items, activity tasks and instance state, all encoded as msgpack and
// each carrying a format version.
//
// The package owns the encoding and the rules for names that end up in NATS
// subjects and KV keys. It never performs I/O and never panics on bad input:
// decoding garbage returns an error.
package protocol
