package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scrape returns what /metrics serves, as Prometheus would read it.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

type activeCount struct {
	n     int64
	err   error
	calls int
}

func (a *activeCount) ActiveSessions(context.Context) (int64, error) {
	a.calls++
	return a.n, a.err
}

func TestObserverCountersAreServed(t *testing.T) {
	m := New(nil, &activeCount{n: 7})
	m.SignIn("success")
	m.SignIn("success")
	m.SignIn("idp_error")
	m.Refresh("failed")
	m.SessionsRevoked("backchannel", 3)
	m.SessionsRevoked("backchannel", 0)
	m.SessionsExpired(5)
	m.SessionsExpired(0)

	out := scrape(t, m)
	for _, line := range []string{
		`authbff_sign_ins_total{result="success"} 2`,
		`authbff_sign_ins_total{result="idp_error"} 1`,
		`authbff_token_refreshes_total{result="failed"} 1`,
		`authbff_sessions_revoked_total{reason="backchannel"} 3`,
		`authbff_sessions_expired_total 5`,
		`authbff_active_sessions 7`,
	} {
		require.Contains(t, out, line+"\n")
	}
	require.Contains(t, out, "go_goroutines ")
	require.NotContains(t, out, "go_sql_", "no pool metrics without a database")
}

func TestInstrumentProxyCountsByCodeAndTimesToHeaders(t *testing.T) {
	m := New(nil, nil)
	h := m.InstrumentProxy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(http.StatusBadGateway)
		case "/stream":
			_, _ = io.WriteString(w, "chunk")
			require.NoError(t, http.NewResponseController(w).Flush(), "streaming responses keep streaming")
		default:
			_, _ = io.WriteString(w, "ok") // an implicit 200
		}
	}))
	for _, path := range []string{"/a", "/b", "/down", "/stream"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if path == "/stream" {
			require.True(t, rec.Flushed)
		}
	}
	out := scrape(t, m)
	require.Contains(t, out, `authbff_proxy_requests_total{code="200"} 3`+"\n")
	require.Contains(t, out, `authbff_proxy_requests_total{code="502"} 1`+"\n")
	require.Contains(t, out, "authbff_proxy_request_duration_seconds_count 4\n")
	require.NotContains(t, out, `authbff_active_sessions`, "no gauge without a counter")
}

func TestActiveSessionsAreCachedForTheTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := &activeCount{n: 4}
	gauge := cached(a.ActiveSessions, 15*time.Second, clock)

	require.Equal(t, 4.0, gauge())
	a.n = 9
	now = now.Add(14 * time.Second)
	require.Equal(t, 4.0, gauge(), "within the TTL the database is not asked again")
	require.Equal(t, 1, a.calls)

	now = now.Add(time.Second)
	require.Equal(t, 9.0, gauge())
	require.Equal(t, 2, a.calls)

	// A failed count keeps the last value and asks again on the next scrape.
	a.err, a.n = errors.New("database down"), 100
	now = now.Add(time.Minute)
	require.Equal(t, 9.0, gauge())
	require.Equal(t, 9.0, gauge())
	require.Equal(t, 4, a.calls)
}

func TestPoolFiguresAreServed(t *testing.T) {
	m := New(nil, nil)
	m.WatchPool(func() (PoolStats, bool) {
		return PoolStats{Idle: 3, Acquired: 4, Max: 20, Acquires: 1000, WaitedAcquires: 12,
			AcquireWait: 1500 * time.Millisecond, SessionReadStatements: 400, SessionReadsBatched: 700}, true
	})
	body := scrape(t, m)
	for _, line := range []string{
		`authbff_db_pool_connections{state="idle"} 3`,
		`authbff_db_pool_connections{state="in_use"} 4`,
		`authbff_db_pool_max_connections 20`,
		`authbff_db_pool_acquires_total 1000`,
		`authbff_db_pool_waited_acquires_total 12`,
		`authbff_db_pool_acquire_wait_seconds_total 1.5`,
		`authbff_session_read_statements_total 400`,
		`authbff_session_reads_batched_total 700`,
	} {
		require.Contains(t, body, line)
	}

	none := New(nil, nil)
	none.WatchPool(func() (PoolStats, bool) { return PoolStats{}, false })
	body = scrape(t, none)
	require.NotContains(t, body, "authbff_db_pool_", "no pool (SQLite): no pool metrics")
	require.NotContains(t, body, "authbff_session_read", "no batching on SQLite")
}
