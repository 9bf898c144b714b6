package main

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadOptions describe one load run.
type loadOptions struct {
	target      string // absolute URL
	cookieName  string
	conns       int
	duration    time.Duration
	timeout     time.Duration // per request
	sessions    int
	maxRequests int64
	rate        float64 // requests per second; 0 is a closed loop
	jar         bool
	seed        uint64
}

// sample is one answered request: when it was due, relative to the start of
// the run, and how long it took from then (so a fixed-rate run that falls
// behind counts the wait: no coordinated omission).
type sample struct {
	at, latency time.Duration
}

// loadResult is everything one run observed.
type loadResult struct {
	elapsed time.Duration
	samples []sample
	status  map[int]int64
	errors  int64
	errMsgs map[string]int64
	nulls   int64
}

// maxErrorKinds bounds the distinct error messages kept per run.
const maxErrorKinds = 8

// generate runs the load until the duration or the request count is used up
// (or ctx ends). Requests in flight at the deadline finish within the
// per-request timeout; nothing outlives the call.
func generate(ctx context.Context, o loadOptions) *loadResult {
	tr := &http.Transport{
		MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns,
		IdleConnTimeout: 30 * time.Second, DisableCompression: true, ForceAttemptHTTP2: false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: o.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	start := time.Now()
	deadline := start.Add(o.duration)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(o.timeout))
	defer cancel()
	var issued, ticket atomic.Int64
	results := make([]*loadResult, o.conns)
	var wg sync.WaitGroup
	for w := range o.conns {
		wg.Go(func() {
			wk := worker{o: o, client: client, start: start, deadline: deadline, issued: &issued, ticket: &ticket,
				rng: rand.New(rand.NewPCG(o.seed, uint64(w))), res: newResult()}
			wk.loop(ctx)
			results[w] = wk.res
		})
	}
	wg.Wait()
	out := newResult()
	out.elapsed = time.Since(start)
	for _, r := range results {
		out.merge(r)
	}
	return out
}

func newResult() *loadResult {
	return &loadResult{status: map[int]int64{}, errMsgs: map[string]int64{}, samples: make([]sample, 0, 4096)}
}

func (r *loadResult) merge(o *loadResult) {
	r.samples = append(r.samples, o.samples...)
	for k, v := range o.status {
		r.status[k] += v
	}
	r.errors += o.errors
	r.nulls += o.nulls
	for k, v := range o.errMsgs {
		if _, ok := r.errMsgs[k]; ok || len(r.errMsgs) < maxErrorKinds {
			r.errMsgs[k] += v
		}
	}
}

// worker is one connection's closed loop.
type worker struct {
	o               loadOptions
	client          *http.Client
	start, deadline time.Time
	issued, ticket  *atomic.Int64
	rng             *rand.Rand
	res             *loadResult
	jar             map[string]string
	jarHeader       string
}

func (w *worker) loop(ctx context.Context) {
	var timer *time.Timer
	for ctx.Err() == nil && w.issued.Add(1) <= w.o.maxRequests {
		due := time.Now()
		if w.o.rate > 0 {
			k := w.ticket.Add(1) - 1
			due = w.start.Add(time.Duration(float64(k) * float64(time.Second) / w.o.rate))
			if d := time.Until(due); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		}
		if due.After(w.deadline) {
			return
		}
		w.do(ctx, due)
	}
}

var nullBody = []byte("null")

func (w *worker) do(ctx context.Context, due time.Time) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.o.target, nil)
	if err != nil {
		w.fail(err)
		return
	}
	req.Header.Set("Cookie", w.o.cookieName+"="+liveToken(w.rng.IntN(w.o.sessions))+w.jarHeader)
	req.Header.Set("User-Agent", "authbff-load/1")
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() == nil { // errors after the hard cap are the cap, not the server
			w.fail(err)
		}
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	lat := time.Since(due)
	if err != nil {
		w.fail(err)
		return
	}
	w.res.samples = append(w.res.samples, sample{at: due.Sub(w.start), latency: lat})
	w.res.status[resp.StatusCode]++
	if bytes.Equal(bytes.TrimSpace(body), nullBody) {
		w.res.nulls++
	}
	if w.o.jar {
		w.keepCookies(resp)
	}
}

func (w *worker) fail(err error) {
	w.res.errors++
	msg := err.Error()
	if _, ok := w.res.errMsgs[msg]; ok || len(w.res.errMsgs) < maxErrorKinds {
		w.res.errMsgs[msg]++
	}
}

// keepCookies plays the browser: the CSRF and callback-URL cookies authbff
// sets on the first response are sent back on the next requests, so the
// server verifies them instead of minting new ones every time. The session
// cookie itself is chosen per request.
func (w *worker) keepCookies(resp *http.Response) {
	changed := false
	for _, c := range resp.Cookies() {
		if c.Name == w.o.cookieName {
			continue
		}
		if w.jar == nil {
			w.jar = map[string]string{}
		}
		if c.MaxAge < 0 || c.Value == "" {
			if _, ok := w.jar[c.Name]; ok {
				delete(w.jar, c.Name)
				changed = true
			}
			continue
		}
		if w.jar[c.Name] != c.Value {
			w.jar[c.Name] = c.Value
			changed = true
		}
	}
	if !changed {
		return
	}
	names := make([]string, 0, len(w.jar))
	for n := range w.jar {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("; " + n + "=" + w.jar[n])
	}
	w.jarHeader = b.String()
}
