// Benchmarks of Go's own text/template, to compare crates/gotmpl against on
// the same machine (see BENCH.md, which must stay in step with this comment).
//
//	go-oracle bench [-iters N] [-workload NAME] [-out FILE] [-print]
//
// Workloads (data is built in-process and deterministically; i is 0-based):
//
// range40k
//
//	data: map[string]interface{}{"pairs": pairs}, pairs []memkv.KVPair of
//	40,000 entries, i = 0..39999:
//	  Key   = fmt.Sprintf("/app/service%05d/key", i)
//	  Value = fmt.Sprintf("10.%d.%d.%d:8080", i/65536, (i/256)%256, i%256)
//	template (no functions beyond the builtins; a "\n" ends the range body):
//	  {{range $i, $kv := .pairs}}{{printf "%05d %-28s" $i $kv.Key}} = {{$kv.Value}}{{if eq (len $kv.Value) 13}} short{{end}}\n{{end}}
//
// seed10k
//
//	template: testdata/seed-nginx.conf.tmpl (the seed's nginx template), data
//	nil (the template only calls functions). 40,000 keys, for i = 0..9999 with
//	s = fmt.Sprintf("svc%05d", i):
//	  /subdomain/<s>          = fmt.Sprintf("www.%s.example.com  api.%s.example.com", s, s)
//	  /upstream/<s>/server<j> = fmt.Sprintf("10.%d.%d.%d:8080", j, i/256, i%256), j = 1..3
//	functions (confd semantics, over a sorted key slice + key→value map):
//	  gets PATTERN  []memkv.KVPair of keys k with path.Match(PATTERN, k), by key
//	  getvs PATTERN the values of those pairs, sorted with sort.Strings
//	  ls DIR        sorted unique first path segments of the keys below DIR/
//	  base P        path.Base(P)
//	gets/getvs only scan the keys that start with the pattern's literal prefix
//	(the text before the first of `*?[\`), found by binary search, so a call
//	costs O(log n + keys under the prefix), not confd's O(n).
//
// Each workload is parsed once and executed into a preallocated bytes.Buffer
// (Reset before each run): 3 warm-up runs, then N timed runs (default: enough
// for about 2 s, at least 5). Only execution is timed; building the data and
// the store is not. Output, one line per workload:
//
//	workload=NAME go=VERSION iters=N median_ms=X min_ms=X output_bytes=N output_sha256=HEX
//
// preceded by a parse line, parse being timed over benchParseIters parses:
//
//	workload=NAME-parse go=VERSION iters=N median_us=X min_us=X
//
// -print writes the output of one execution of the one -workload to stdout
// instead. -out FILE also writes the result lines to FILE.
package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"text/template"
	"time"

	"confdrs/gooracle/memkv"
)

//go:embed testdata/seed-nginx.conf.tmpl
var benchSeedTemplate string

const benchRangeTemplate = `{{range $i, $kv := .pairs}}{{printf "%05d %-28s" $i $kv.Key}} = {{$kv.Value}}{{if eq (len $kv.Value) 13}} short{{end}}` + "\n" + `{{end}}`

const (
	benchWarmups    = 3
	benchMinIters   = 5
	benchTarget     = 2 * time.Second
	benchParseIters = 200
)

// benchWorkload is one template plus the functions and data it runs with.
type benchWorkload struct {
	text  string
	funcs template.FuncMap
	data  interface{}
}

var benchNames = []string{"range40k", "seed10k"}

func benchBuild(name string) (benchWorkload, bool) {
	switch name {
	case "range40k":
		pairs := make([]memkv.KVPair, 40000)
		for i := range pairs {
			pairs[i] = memkv.KVPair{
				Key:   fmt.Sprintf("/app/service%05d/key", i),
				Value: fmt.Sprintf("10.%d.%d.%d:8080", i/65536, (i/256)%256, i%256),
			}
		}
		data := map[string]interface{}{"pairs": pairs}
		return benchWorkload{text: benchRangeTemplate, data: data}, true
	case "seed10k":
		kv := make(map[string]string, 40000)
		for i := 0; i < 10000; i++ {
			s := fmt.Sprintf("svc%05d", i)
			kv["/subdomain/"+s] = fmt.Sprintf("www.%s.example.com  api.%s.example.com", s, s)
			for j := 1; j <= 3; j++ {
				kv[fmt.Sprintf("/upstream/%s/server%d", s, j)] = fmt.Sprintf("10.%d.%d.%d:8080", j, i/256, i%256)
			}
		}
		st := newBenchStore(kv)
		funcs := template.FuncMap{
			"ls":    st.ls,
			"gets":  st.gets,
			"getvs": st.getvs,
			"base":  path.Base,
		}
		return benchWorkload{text: benchSeedTemplate, funcs: funcs}, true
	}
	return benchWorkload{}, false
}

// ---------------------------------------------------------------------------
// Key store with confd's lookup semantics and prefix-bounded scans.

type benchStore struct {
	keys []string // sorted
	vals map[string]string
}

func newBenchStore(kv map[string]string) *benchStore {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return &benchStore{keys: keys, vals: kv}
}

// under returns the keys that start with prefix, in order.
func (s *benchStore) under(prefix string) []string {
	lo := sort.SearchStrings(s.keys, prefix)
	hi := lo
	for hi < len(s.keys) && strings.HasPrefix(s.keys[hi], prefix) {
		hi++
	}
	return s.keys[lo:hi]
}

func (s *benchStore) gets(pattern string) ([]memkv.KVPair, error) {
	// path.Match checks the whole pattern, so this reports a bad pattern
	// whether or not any key is under the prefix.
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	prefix := pattern
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		prefix = pattern[:i]
	}
	pairs := []memkv.KVPair{}
	for _, k := range s.under(prefix) {
		if ok, _ := path.Match(pattern, k); ok {
			pairs = append(pairs, memkv.KVPair{Key: k, Value: s.vals[k]})
		}
	}
	return pairs, nil
}

func (s *benchStore) getvs(pattern string) ([]string, error) {
	pairs, err := s.gets(pattern)
	if err != nil {
		return nil, err
	}
	vals := make([]string, len(pairs))
	for i, p := range pairs {
		vals[i] = p.Value
	}
	sort.Strings(vals)
	return vals, nil
}

func (s *benchStore) ls(dir string) []string {
	prefix := path.Clean(dir)
	if prefix != "/" {
		prefix += "/"
	}
	names := []string{}
	for _, k := range s.under(prefix) {
		name := k[len(prefix):]
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[:i]
		}
		names = append(names, name)
	}
	// Key order is not quite name order ("a-b" < "a/x"), so sort, then dedup.
	sort.Strings(names)
	out := names[:0]
	for _, n := range names {
		if len(out) == 0 || out[len(out)-1] != n {
			out = append(out, n)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Timing

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	iters := fs.Int("iters", 0, "timed iterations per workload (0: about 2 s worth, at least 5)")
	only := fs.String("workload", "", "run only this workload ("+strings.Join(benchNames, ", ")+")")
	outFile := fs.String("out", "", "also write the result lines to this file")
	doPrint := fs.Bool("print", false, "write one execution's output of -workload to stdout and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	names := benchNames
	if *only != "" {
		names = []string{*only}
	} else if *doPrint {
		return errors.New("bench: -print needs -workload")
	}

	var out io.Writer = os.Stdout
	if *outFile != "" && !*doPrint {
		f, err := os.Create(*outFile)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}

	for _, name := range names {
		w, ok := benchBuild(name)
		if !ok {
			return fmt.Errorf("bench: unknown workload %q (have %s)", name, strings.Join(benchNames, ", "))
		}
		if *doPrint {
			tmpl, err := template.New(name).Funcs(w.funcs).Parse(w.text)
			if err != nil {
				return err
			}
			return tmpl.Execute(os.Stdout, w.data)
		}
		if err := benchOne(out, name, w, *iters); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}

func benchOne(out io.Writer, name string, w benchWorkload, iters int) error {
	goVersion := runtime.Version()

	// Parse: the first parse is the one executed; more parses give the timing.
	var tmpl *template.Template
	parses := make([]time.Duration, benchParseIters)
	for i := range parses {
		start := time.Now()
		t, err := template.New(name).Funcs(w.funcs).Parse(w.text)
		parses[i] = time.Since(start)
		if err != nil {
			return err
		}
		if tmpl == nil {
			tmpl = t
		}
	}
	med, min := benchStats(parses)
	fmt.Fprintf(out, "workload=%s-parse go=%s iters=%d median_us=%.1f min_us=%.1f\n",
		name, goVersion, len(parses), float64(med)/1e3, float64(min)/1e3)

	// Execute: size the buffer from one run, then warm up.
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, w.data); err != nil {
		return err
	}
	want := append([]byte(nil), buf.Bytes()...)
	buf.Grow(2 * len(want))
	runtime.GC()
	warm := time.Duration(1<<63 - 1)
	for i := 0; i < benchWarmups; i++ {
		buf.Reset()
		start := time.Now()
		if err := tmpl.Execute(&buf, w.data); err != nil {
			return err
		}
		if d := time.Since(start); d < warm {
			warm = d
		}
	}
	if iters <= 0 {
		iters = int(benchTarget / warm)
	}
	if iters < benchMinIters {
		iters = benchMinIters
	}

	times := make([]time.Duration, iters)
	for i := range times {
		buf.Reset()
		start := time.Now()
		if err := tmpl.Execute(&buf, w.data); err != nil {
			return err
		}
		times[i] = time.Since(start)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		return errors.New("output changed between executions")
	}

	sum := sha256.Sum256(want)
	med, min = benchStats(times)
	fmt.Fprintf(out, "workload=%s go=%s iters=%d median_ms=%.3f min_ms=%.3f output_bytes=%d output_sha256=%s\n",
		name, goVersion, iters, float64(med)/1e6, float64(min)/1e6, len(want), hex.EncodeToString(sum[:]))
	return nil
}

// benchStats returns the median (mean of the middle two for an even count)
// and the minimum of ds, sorting ds.
func benchStats(ds []time.Duration) (median, min time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	n := len(ds)
	median = ds[n/2]
	if n%2 == 0 {
		median = (ds[n/2-1] + ds[n/2]) / 2
	}
	return median, ds[0]
}
