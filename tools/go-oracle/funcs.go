package main

import (
	"errors"
	"strings"
	"text/template"

	"confdrs/gooracle/memkv"
)

// testFuncs is the function map every corpus case is parsed with. It must stay
// in step with the table in crates/gotmpl/tests/corpus/README.md and with the
// Rust side in crates/gotmpl/tests/conformance.rs.
func testFuncs() template.FuncMap {
	return template.FuncMap{
		// fail returns an error whose text is msg.
		"fail": func(msg string) (string, error) {
			return "", errors.New(msg)
		},
		// boom panics with the string "boom".
		"boom": func() string {
			panic("boom")
		},
		// ok returns its argument and a nil error.
		"ok": func(s string) (string, error) {
			return s, nil
		},
		// kv builds one confd-style pair.
		"kv": func(k, v string) memkv.KVPair {
			return memkv.KVPair{Key: k, Value: v}
		},
		// kvs builds pairs from consecutive arguments (k1 v1 k2 v2 ...).
		// An odd trailing key gets an empty value.
		"kvs": func(kv ...string) []memkv.KVPair {
			pairs := []memkv.KVPair{}
			for i := 0; i < len(kv); i += 2 {
				p := memkv.KVPair{Key: kv[i]}
				if i+1 < len(kv) {
					p.Value = kv[i+1]
				}
				pairs = append(pairs, p)
			}
			return pairs
		},
		"strs": func(s ...string) []string {
			if s == nil {
				return []string{}
			}
			return s
		},
		"ints": func(i ...int) []int {
			if i == nil {
				return []int{}
			}
			return i
		},
		"join": func(a []string, sep string) string {
			return strings.Join(a, sep)
		},
		"add": func(a, b int) int {
			return a + b
		},
		// cat joins first and every element of rest with "-":
		// cat "a" "b" "c" == "a-b-c", cat "a" == "a".
		"cat": func(first string, rest ...string) string {
			var b strings.Builder
			b.WriteString(first)
			for _, r := range rest {
				b.WriteString("-")
				b.WriteString(r)
			}
			return b.String()
		},
		// mkmap is confd's "map" function.
		"mkmap": func(kv ...interface{}) (map[string]interface{}, error) {
			if len(kv)%2 == 1 {
				return nil, errors.New("invalid map call")
			}
			m := make(map[string]interface{}, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				k, isString := kv[i].(string)
				if !isString {
					return nil, errors.New("map keys must be strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"nilval": func() interface{} {
			return nil
		},
		"half": func(f float64) float64 {
			return f / 2
		},
		"touint": func(i int) uint {
			return uint(i)
		},
		"upperfn": func() func(string) string {
			return strings.ToUpper
		},
		"errfn": func() func(string) (string, error) {
			return func(arg string) (string, error) {
				return "", errors.New("errfn: " + arg)
			}
		},
	}
}
