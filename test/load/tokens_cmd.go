package main

import (
	"bufio"
	"context"
	"flag"
	"io"
)

// tokensCmd prints the cookie values of seeded live sessions 0..n-1, one a
// line, for other load tools (test/load/wrk-session.lua).
func tokensCmd(_ context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	n := fs.Int("n", 100_000, "how many")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for i := range *n {
		_, _ = w.WriteString(liveToken(i) + "\n")
	}
	return w.Flush()
}
