// Package memkv mirrors the name and shape of confd's key/value pair types
// (github.com/kelseyhightower/memkv) so that Go's reflection-based error
// messages and %T/%#v output name them as "memkv.KVPair", exactly as they
// appear in the original confd.
package memkv

// KVPair is a single key/value pair, as produced by confd's getv/gets family.
type KVPair struct {
	Key   string
	Value string
}

// KVPairs is a list of pairs.
type KVPairs []KVPair
