// Command go-oracle runs template cases through Go's own text/template and
// records what Go does, so that the Rust engine (crates/gotmpl) can be checked
// against it byte for byte.
//
//	go-oracle corpus FILE.cases...   write FILE.golden.json beside each file
//
// The case-file and golden formats are specified in
// crates/gotmpl/tests/corpus/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"
)

func usage() {
	fmt.Fprintf(os.Stderr, "usage:\n  go-oracle corpus FILE.cases...\n")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "corpus":
		err = runCorpus(os.Args[2:])
	case "bench":
		err = runBench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-oracle: %v\n", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// Case files

type caseDef struct {
	Name     string
	Line     int    // line of the "### case:" header, for diagnostics
	HasData  bool   // a "### data:" line was present
	DataJSON string // raw JSON text of the data line
	Template string
}

const (
	caseHeader     = "### case:"
	dataHeader     = "### data:"
	templateHeader = "### template"
)

// parseCaseFile splits a case file into cases. Lines are separated by "\n"
// only; a "\r" before it belongs to the line (so CRLF templates are possible).
func parseCaseFile(path string, src []byte) ([]caseDef, error) {
	text := string(src)
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("%s: file is not valid UTF-8", path)
	}
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		// The newline that ends the file's last line does not start a new line.
		lines = lines[:len(lines)-1]
	}
	var cases []caseDef
	i := 0
	// Preamble: comments and blank lines only.
	for ; i < len(lines) && !strings.HasPrefix(lines[i], caseHeader); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") || strings.TrimSpace(l) == "" {
			continue
		}
		return nil, fmt.Errorf("%s:%d: text before the first %q header", path, i+1, caseHeader)
	}
	for i < len(lines) {
		c := caseDef{Line: i + 1}
		c.Name = strings.TrimSpace(strings.TrimPrefix(lines[i], caseHeader))
		if c.Name == "" {
			return nil, fmt.Errorf("%s:%d: empty case name", path, i+1)
		}
		i++
		if i < len(lines) && strings.HasPrefix(lines[i], dataHeader) {
			c.HasData = true
			c.DataJSON = strings.TrimSpace(strings.TrimPrefix(lines[i], dataHeader))
			i++
		}
		if i >= len(lines) || lines[i] != templateHeader {
			return nil, fmt.Errorf("%s:%d: case %q: expected %q line", path, i+1, c.Name, templateHeader)
		}
		i++
		start := i
		for i < len(lines) && !strings.HasPrefix(lines[i], caseHeader) {
			i++
		}
		c.Template = strings.Join(lines[start:i], "\n")
		cases = append(cases, c)
	}
	return cases, nil
}

// ---------------------------------------------------------------------------
// JSON data → Go values (README: "JSON maps to Go as")

func decodeData(src string) (interface{}, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing text after JSON value")
	}
	return convertJSON(v)
}

func convertJSON(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			c, err := convertJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case []interface{}:
		for i, e := range x {
			c, err := convertJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return int(n), nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s: %v", s, err)
		}
		return f, nil
	default: // string, bool, nil
		return v, nil
	}
}

// ---------------------------------------------------------------------------
// Running cases

type result struct {
	Name   string `json:"name"`
	Result string `json:"result"` // ok | parse_error | exec_error | go_panic
	Output string `json:"output"`
	Error  string `json:"error"`
}

type golden struct {
	GoVersion string   `json:"go_version"`
	Cases     []result `json:"cases"`
}

// runCase parses and executes one case. A panic that escapes text/template is
// recorded as result "go_panic" instead of killing the whole run.
func runCase(c caseDef, data interface{}) (r result) {
	r.Name = c.Name
	var out bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			r.Result = "go_panic"
			r.Output = out.String()
			r.Error = fmt.Sprintf("panic: %v", p)
		}
	}()
	tmpl, err := template.New("tpl").Funcs(testFuncs()).Parse(c.Template)
	if err != nil {
		r.Result = "parse_error"
		r.Error = err.Error()
		return r
	}
	if err := tmpl.Execute(&out, data); err != nil {
		r.Result = "exec_error"
		r.Output = out.String()
		r.Error = err.Error()
		return r
	}
	r.Result = "ok"
	r.Output = out.String()
	return r
}

func runCorpus(files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("corpus: no case files given")
	}
	seen := map[string]string{}
	failedFiles := 0
	counts := map[string]int{}
	for _, path := range files {
		if !strings.HasSuffix(path, ".cases") {
			return fmt.Errorf("%s: case files must end in .cases", path)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cases, err := parseCaseFile(path, src)
		if err != nil {
			return err
		}
		g := golden{GoVersion: runtime.Version(), Cases: []result{}}
		lossy := false
		for _, c := range cases {
			if prev, dup := seen[c.Name]; dup {
				return fmt.Errorf("%s:%d: case name %q already used at %s", path, c.Line, c.Name, prev)
			}
			seen[c.Name] = fmt.Sprintf("%s:%d", path, c.Line)
			var data interface{}
			if c.HasData {
				// A broken data line is a corpus bug, not a Go behaviour.
				if data, err = decodeData(c.DataJSON); err != nil {
					return fmt.Errorf("%s:%d: case %q: bad data JSON: %v", path, c.Line, c.Name, err)
				}
			}
			r := runCase(c, data)
			if r.Result == "go_panic" {
				fmt.Fprintf(os.Stderr, "%s:%d: case %q: warning: Go panicked: %s\n", path, c.Line, c.Name, r.Error)
			}
			// JSON strings cannot carry arbitrary bytes: encoding/json would
			// silently turn invalid UTF-8 into U+FFFD. Refuse instead; rewrite
			// such a case to show the bytes with printf "%q" or "%x".
			if !utf8.ValidString(r.Output) || !utf8.ValidString(r.Error) {
				fmt.Fprintf(os.Stderr, "%s:%d: case %q: output or error is not valid UTF-8 (%q / %q)\n",
					path, c.Line, c.Name, r.Output, r.Error)
				lossy = true
			}
			counts[r.Result]++
			g.Cases = append(g.Cases, r)
		}
		out := strings.TrimSuffix(path, ".cases") + ".golden.json"
		if lossy {
			fmt.Fprintf(os.Stderr, "%s: NOT writing %s (invalid UTF-8 above)\n", path, out)
			failedFiles++
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(g); err != nil {
			return err
		}
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: %d cases -> %s\n", path, len(cases), out)
	}
	total := 0
	for _, k := range []string{"ok", "parse_error", "exec_error", "go_panic"} {
		total += counts[k]
	}
	fmt.Fprintf(os.Stderr, "total %d cases: ok %d, parse_error %d, exec_error %d, go_panic %d\n",
		total, counts["ok"], counts["parse_error"], counts["exec_error"], counts["go_panic"])
	if failedFiles > 0 {
		return fmt.Errorf("%d file(s) not written", failedFiles)
	}
	return nil
}
