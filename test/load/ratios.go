package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ratiosCmd reads one line per measured server from stdin, as
// session-bench.sh yardsticks collects them ("NAME key=value ..." from the
// RESULT and CPUREQ lines of `run`), and prints them as a table with the
// ratios of authbff to the reference server and to the HTTP ceiling. The
// ratios are the figures to compare between runs: the three servers were
// measured in one sitting, on the same database, tokens and load generator.
func ratiosCmd(_ context.Context, _ []string, out io.Writer) error {
	rows := map[string]map[string]float64{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		kv := map[string]float64{}
		for _, p := range f[1:] {
			k, v, ok := strings.Cut(p, "=")
			if n, err := strconv.ParseFloat(v, 64); ok && err == nil {
				kv[k] = n
			}
		}
		rows[f[0]] = kv
		order = append(order, f[0])
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-18s %10s %8s %8s %8s %14s %16s %6s\n", "server", "req/s", "p50 ms", "p90 ms", "p99 ms",
		"server µs/req", "postgres µs/req", "ok")
	for _, n := range order {
		r := rows[n]
		ok := "yes"
		if r["non200"]+r["errors"]+r["nulls"] > 0 {
			ok = "NO"
		}
		fmt.Fprintf(out, "%-18s %10.0f %8.2f %8.2f %8.2f %14.1f %16.1f %6s\n", n, r["rps"], r["p50_ms"], r["p90_ms"],
			r["p99_ms"], r["server_us"], r["postgres_us"], ok)
	}
	for _, name := range []string{"authbff", "authbff-cached", "authbff-cached-hot"} {
		a := rows[name]
		for _, ref := range []string{"reference", "ceiling"} {
			b := rows[ref]
			if a == nil || b == nil || b["rps"] == 0 {
				continue
			}
			ratio(out, name, ref, a, b)
		}
	}
	return nil
}

// ratio prints one RATIO line: a against yardstick b.
func ratio(out io.Writer, name, ref string, a, b map[string]float64) {
	fmt.Fprintf(out, "RATIO %s/%s req/s %.2f×, p99 %.2f×", name, ref, a["rps"]/b["rps"], a["p99_ms"]/b["p99_ms"])
	if b["server_us"] > 0 {
		fmt.Fprintf(out, ", server CPU/request %.2f×", a["server_us"]/b["server_us"])
	}
	if b["postgres_us"] > 0 {
		fmt.Fprintf(out, ", PostgreSQL CPU/request %.2f×", a["postgres_us"]/b["postgres_us"])
	}
	fmt.Fprintln(out)
}
