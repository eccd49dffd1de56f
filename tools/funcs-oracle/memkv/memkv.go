// Package memkv is a stand-in for github.com/kelseyhightower/memkv v0.1.1, written from
// the behaviour described in /work/shared/reference/confd-behaviour.md §4.1, so that Go
// prints the same type names (memkv.KVPair, memkv.KVPairs) as confd.
package memkv

import (
	"errors"
	"path"
	"sort"
	"strings"
)

type KVPair struct {
	Key   string
	Value string
}

type KVPairs []KVPair

type Store map[string]string

func (s Store) Get(key string) (KVPair, error) {
	v, ok := s[key]
	if !ok {
		return KVPair{}, errors.New("key does not exist: " + key)
	}
	return KVPair{key, v}, nil
}

func (s Store) GetValue(key string, def ...string) (string, error) {
	v, ok := s[key]
	if !ok {
		if len(def) > 0 {
			return def[0], nil
		}
		return "", errors.New("key does not exist: " + key)
	}
	return v, nil
}

func (s Store) Exists(key string) bool {
	_, ok := s[key]
	return ok
}

func (s Store) GetAll(pattern string) (KVPairs, error) {
	out := KVPairs{}
	for k, v := range s {
		ok, err := path.Match(pattern, k)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, KVPair{k, v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s Store) GetAllValues(pattern string) ([]string, error) {
	kvs, err := s.GetAll(pattern)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, kv := range kvs {
		out = append(out, kv.Value)
	}
	sort.Strings(out)
	return out, nil
}

func terms(p string) []string { return strings.Split(path.Clean(p), "/") }

func startsWith(prefix, t []string) bool {
	if len(t) < len(prefix) {
		return false
	}
	for i := range prefix {
		if prefix[i] != t[i] {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s Store) List(p string) []string {
	seen := map[string]bool{}
	prefix := terms(p)
	for k := range s {
		if k == p {
			seen[path.Base(k)] = true
			continue
		}
		if startsWith(prefix, terms(path.Dir(k))) {
			rest := strings.TrimPrefix(strings.TrimPrefix(k, p), "/")
			seen[strings.Split(rest, "/")[0]] = true
		}
	}
	return sortedKeys(seen)
}

func (s Store) ListDir(p string) []string {
	seen := map[string]bool{}
	prefix := terms(p)
	for k := range s {
		if !strings.HasPrefix(k, p) {
			continue
		}
		t := terms(path.Dir(k))
		if startsWith(prefix, t) && len(t) > len(prefix) {
			seen[t[len(prefix)]] = true
		}
	}
	return sortedKeys(seen)
}
