package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"
)

// summary is the figures printed for a set of samples.
type summary struct {
	count                    int
	rps                      float64
	mean, p50, p90, p99, max time.Duration
	p999                     time.Duration
}

// summarize sorts a copy of the latencies (every request is kept, so the
// percentiles are exact) over a window of length window.
func summarize(samples []sample, window time.Duration) summary {
	s := summary{count: len(samples)}
	if len(samples) == 0 {
		return s
	}
	lats := make([]time.Duration, len(samples))
	var sum time.Duration
	for i, x := range samples {
		lats[i] = x.latency
		sum += x.latency
	}
	slices.Sort(lats)
	s.mean = sum / time.Duration(len(lats))
	s.p50, s.p90, s.p99, s.p999 = percentile(lats, 0.50), percentile(lats, 0.90), percentile(lats, 0.99), percentile(lats, 0.999)
	s.max = lats[len(lats)-1]
	if window > 0 {
		s.rps = float64(len(samples)) / window.Seconds()
	}
	return s
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// window returns the samples due in [from, to).
func window(samples []sample, from, to time.Duration) []sample {
	var out []sample
	for _, s := range samples {
		if s.at >= from && s.at < to {
			out = append(out, s)
		}
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func (s summary) latencyLine() string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)",
		ms(s.p50), ms(s.p90), ms(s.p99), ms(s.p999), ms(s.max), ms(s.mean))
}

// verdict counts the failures: responses other than 200, transport errors,
// and null bodies (a seeded cookie must always resolve to a session).
type verdict struct {
	total, non200, errors, nulls int64
	failRate                     float64
	ok                           bool
}

func judge(r *loadResult, maxFailRate float64) verdict {
	v := verdict{errors: r.errors, nulls: r.nulls}
	for code, n := range r.status {
		v.total += n
		if code != 200 {
			v.non200 += n
		}
	}
	v.total += r.errors
	if v.total > 0 {
		v.failRate = float64(v.non200+v.errors) / float64(v.total)
	}
	v.ok = v.total > 0 && v.failRate <= maxFailRate && v.nulls == 0
	return v
}

// report prints a run's results and a RESULT line for scripts to grep.
func report(out io.Writer, r *loadResult, v verdict) {
	s := summarize(r.samples, r.elapsed)
	fmt.Fprintf(out, "requests     %d answered in %s = %.1f req/s\n", s.count, r.elapsed.Round(time.Millisecond), s.rps)
	if s.count > 0 {
		fmt.Fprintf(out, "latency      %s\n", s.latencyLine())
	}
	codes := make([]int, 0, len(r.status))
	for c := range r.status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	fmt.Fprint(out, "status      ")
	for _, c := range codes {
		fmt.Fprintf(out, " %d: %d", c, r.status[c])
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "errors       %d\n", r.errors)
	for msg, n := range r.errMsgs {
		fmt.Fprintf(out, "  %6d  %s\n", n, msg)
	}
	fmt.Fprintf(out, "null bodies  %d\n", r.nulls)
	fmt.Fprintf(out, "RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d non200=%d errors=%d nulls=%d ok=%t\n",
		s.rps, msf(s.p50), msf(s.p90), msf(s.p99), msf(s.max), v.total, v.non200, v.errors, v.nulls, v.ok)
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
