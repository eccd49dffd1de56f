// Command go-oracle renders confd-core's function test cases with Go's own text/template and
// a confd-like function map, and prints the expected results as Rust source for
// crates/confd-core/tests/funcs.rs. Standard library only; run with Go 1.19:
//
//	cd crates/confd-core/tests/go-oracle && GOPROXY=off go run . funcs   # render cases
//	GOPROXY=off go run . time                                           # time.Format table
//	GOPROXY=off go run . json                                           # json/jsonArray table
//	GOPROXY=off go run . casemap                                        # ToUpper/ToLower digest
//
// The function map is written from the behaviour described in confd-behaviour.md §4 (each
// confd helper is a thin wrapper around the Go standard library); the fake store and host
// must match the ones in tests/funcs.rs.
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"confdrs/confdcoreoracle/memkv"
)

var store = memkv.Store{
	"/key":           "foobar",
	"/test/key":      "abc",
	"/test/user":     "mary",
	"/test/pass":     "abc",
	"/nada/url":      "http://example.com",
	"/test/data/1":   `{"Id":"1","IP":"10.0.0.1"}`,
	"/test/data/2":   `{"Id":"2","IP":"10.0.0.2"}`,
	"/test/array/":   `["1","2","3"]`,
	"/ls/abc":        "1",
	"/ls/def/ghi":    "2",
	"/ls/jkl/mno":    "3",
	"/vals/a":        "a-val",
	"/vals/b":        "B-val",
	"/empty":         "",
	"/upstream/app1": "10.0.1.10:8080",
	"/upstream/app2": "10.0.1.11:8080",
	"/len/aaa":       "3",
	"/len/b":         "1",
	"/len/cc":        "2",
	"/len/dd":        "2b",
	"/num":           "42",
}

var env = map[string]string{"HOSTNAME": "localhost", "EMPTY": ""}

var ips = map[string][]string{
	"localhost": {"127.0.0.1", "::1"},
	"multi":     {"192.168.0.1", "fe80::1", "10.0.0.10", "2001:db8::1", "10.0.0.2"},
	"mapped":    {"::ffff:10.1.2.3"},
}

var srvs = map[string][]net.SRV{
	"_http._tcp.example.com": {
		{Target: "web2.example.com.", Port: 80, Priority: 10, Weight: 5},
		{Target: "web1.example.com.", Port: 8080, Priority: 10, Weight: 5},
		{Target: "web1.example.com.", Port: 80, Priority: 20, Weight: 0},
	},
}

var files = map[string]bool{"/etc/passwd": true}

// 2026-11-27 17:35:32.89898681 UTC (a Friday)
var now = time.Unix(1795800932, 898986810).UTC()

func lookupIP(host string) []string {
	list, ok := ips[host]
	if !ok {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = net.ParseIP(s).String()
	}
	sort.Strings(out)
	return out
}

func filterIPs(host, sep string) []string {
	var out []string
	for _, ip := range lookupIP(host) {
		if strings.Contains(ip, sep) {
			out = append(out, ip)
		}
	}
	return out
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"get":    store.Get,
		"gets":   store.GetAll,
		"getv":   store.GetValue,
		"getvs":  store.GetAllValues,
		"exists": store.Exists,
		"ls":     store.List,
		"lsdir":  store.ListDir,

		"base":       path.Base,
		"dir":        path.Dir,
		"split":      strings.Split,
		"join":       strings.Join,
		"toUpper":    strings.ToUpper,
		"toLower":    strings.ToLower,
		"contains":   strings.Contains,
		"replace":    strings.Replace,
		"trimSuffix": strings.TrimSuffix,
		"json": func(s string) (map[string]interface{}, error) {
			var m map[string]interface{}
			err := json.Unmarshal([]byte(s), &m)
			return m, err
		},
		"jsonArray": func(s string) ([]interface{}, error) {
			var a []interface{}
			err := json.Unmarshal([]byte(s), &a)
			return a, err
		},
		"map": func(kv ...interface{}) (map[string]interface{}, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("invalid map call")
			}
			m := make(map[string]interface{}, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, errors.New("map keys must be strings")
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"getenv": func(name string, def ...string) string {
			v := env[name]
			if v == "" && len(def) > 0 {
				return def[0]
			}
			return v
		},
		"datetime":   func() time.Time { return now },
		"lookupIP":   lookupIP,
		"lookupIPV4": func(h string) []string { return filterIPs(h, ".") },
		"lookupIPV6": func(h string) []string { return filterIPs(h, ":") },
		"lookupSRV": func(service, proto, name string) []*net.SRV {
			recs, ok := srvs["_"+service+"._"+proto+"."+name]
			if !ok {
				return []*net.SRV{}
			}
			out := []*net.SRV{}
			for i := range recs {
				r := recs[i]
				out = append(out, &r)
			}
			key := func(r *net.SRV) string { return fmt.Sprintf("%s%d%d%d", r.Target, r.Port, r.Priority, r.Weight) }
			sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
			return out
		},
		"fileExists":   func(p string) bool { return files[p] },
		"base64Encode": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"base64Decode": func(s string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(s)
			return string(b), err
		},
		"parseBool": strconv.ParseBool,
		"reverse": func(v interface{}) interface{} {
			switch s := v.(type) {
			case []string:
				for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
					s[i], s[j] = s[j], s[i]
				}
			case []memkv.KVPair:
				for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
					s[i], s[j] = s[j], s[i]
				}
			}
			return v
		},
		"sortByLength": func(s []string) []string {
			sort.Sort(byLen(s))
			return s
		},
		"sortKVByLength": func(s []memkv.KVPair) []memkv.KVPair {
			sort.Sort(kvByLen(s))
			return s
		},
		"add": func(a, b int) int { return a + b },
		"sub": func(a, b int) int { return a - b },
		"mul": func(a, b int) int { return a * b },
		"div": func(a, b int) int { return a / b },
		"mod": func(a, b int) int { return a % b },
		"seq": func(first, last int) []int {
			var out []int
			for i := first; i <= last; i++ {
				out = append(out, i)
			}
			return out
		},
		"atoi": strconv.Atoi,
	}
}

type byLen []string

func (s byLen) Len() int           { return len(s) }
func (s byLen) Less(i, j int) bool { return len(s[i]) < len(s[j]) }
func (s byLen) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

type kvByLen []memkv.KVPair

func (s kvByLen) Len() int           { return len(s) }
func (s kvByLen) Less(i, j int) bool { return len(s[i].Key) < len(s[j].Key) }
func (s kvByLen) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

// rust quotes s as a Rust string literal.
func rust(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case !unicode.IsPrint(r) || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func render(text string) string {
	t, err := template.New("t").Funcs(funcs()).Parse(text)
	if err != nil {
		return "ERR " + err.Error()
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "ERR " + err.Error()
	}
	return b.String()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-oracle funcs|time|json|casemap")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "funcs":
		for _, c := range cases {
			fmt.Printf("    (%s, %s),\n", rust(c), rust(render(c)))
		}
	case "json":
		for _, in := range jsonInputs {
			var m map[string]interface{}
			r1 := fmt.Sprint(m)
			if err := json.Unmarshal([]byte(in), &m); err != nil {
				r1 = "ERR " + err.Error()
			} else {
				r1 = fmt.Sprint(m)
			}
			var a []interface{}
			r2 := ""
			if err := json.Unmarshal([]byte(in), &a); err != nil {
				r2 = "ERR " + err.Error()
			} else {
				r2 = fmt.Sprint(a)
			}
			fmt.Printf("    (%s, %s, %s),\n", rust(in), rust(r1), rust(r2))
		}
	case "casemap":
		// FNV-1a (64 bits) over "cp upper lower\n" (hex) for every rune that either changes.
		h := fnv.New64a()
		n := 0
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if r >= 0xD800 && r < 0xE000 {
				continue
			}
			u, l := unicode.ToUpper(r), unicode.ToLower(r)
			if strings.ToUpper(string(r)) != string(u) || strings.ToLower(string(r)) != string(l) {
				panic("strings and unicode disagree")
			}
			if u != r || l != r {
				fmt.Fprintf(h, "%x %x %x\n", r, u, l)
				n++
			}
		}
		fmt.Printf("%d runes, digest %#x\n", n, h.Sum64())
	case "time":
		for _, t := range times {
			name, off := t.Zone()
			for _, l := range layouts {
				fmt.Printf("    (%d, %d, %d, %s, %s, %s),\n", t.Unix(), t.Nanosecond(), off, rust(name), rust(l), rust(t.Format(l)))
			}
			fmt.Printf("    (%d, %d, %d, %s, %s, %s),\n", t.Unix(), t.Nanosecond(), off, rust(name), rust("String"), rust(t.String()))
		}
	}
}
