// Command seedrender renders a confd template the way confd renders it, for the reload
// benchmark's baseline: the seed image's own haproxy.tmpl, given the same services as ours.
//
// Usage: go run bench/seedrender/main.go TEMPLATE < KEYS
//
// KEYS holds one key a line, "key<TAB>value", relative to confd's prefix ("/services/web/port").
// Only the template functions that template uses are provided, with confd's meanings: ls (the
// sorted names directly below a directory), exists, getv, getenv, split and lookupIP.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"text/template"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seedrender TEMPLATE < KEYS")
		os.Exit(2)
	}
	keys := map[string]string{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		key, value, ok := strings.Cut(in.Text(), "\t")
		if !ok {
			fmt.Fprintf(os.Stderr, "not key<TAB>value: %q\n", in.Text())
			os.Exit(2)
		}
		keys[key] = value
	}
	funcs := template.FuncMap{
		"ls": func(dir string) []string {
			seen := map[string]bool{}
			prefix := strings.TrimSuffix(dir, "/") + "/"
			for key := range keys {
				if strings.HasPrefix(key, prefix) {
					seen[strings.SplitN(key[len(prefix):], "/", 2)[0]] = true
				}
			}
			names := make([]string, 0, len(seen))
			for name := range seen {
				names = append(names, name)
			}
			sort.Strings(names)
			return names
		},
		"exists": func(key string) bool { _, ok := keys[key]; return ok },
		"getv": func(key string) (string, error) {
			if value, ok := keys[key]; ok {
				return value, nil
			}
			return "", fmt.Errorf("key does not exist: %s", key)
		},
		"getenv": os.Getenv,
		"split":  strings.Split,
		"lookupIP": func(name string) []string {
			ips, _ := net.LookupIP(name)
			out := make([]string, 0, len(ips))
			for _, ip := range ips {
				out = append(out, ip.String())
			}
			sort.Strings(out)
			return out
		},
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t, err := template.New("haproxy.tmpl").Funcs(funcs).Parse(string(text))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := t.Execute(os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
