package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authbff/authbff/ports"
)

// Metrics holds authbff's collectors in their own registry.
type Metrics struct {
	reg           *prometheus.Registry
	signIns       *prometheus.CounterVec
	refreshes     *prometheus.CounterVec
	revoked       *prometheus.CounterVec
	expired       prometheus.Counter
	proxyRequests *prometheus.CounterVec
	proxyLatency  *prometheus.HistogramVec
}

var _ ports.Observer = (*Metrics)(nil)

// ActiveSessionCounter counts active sessions; the gauge asks at most every
// 15 seconds, so scrapes do not load the database.
type ActiveSessionCounter interface {
	ActiveSessions(ctx context.Context) (int64, error)
}

// New registers every collector. db and active may be nil (no pool metrics,
// no active-session gauge).
func New(db *sql.DB, active ActiveSessionCounter) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbff_sign_ins_total", Help: "Completed sign-in attempts by result.",
		}, []string{"result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbff_token_refreshes_total", Help: "Token refreshes at the IdP by result.",
		}, []string{"result"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbff_sessions_revoked_total", Help: "Sessions ended before expiry, by reason.",
		}, []string{"reason"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authbff_sessions_expired_total", Help: "Expired sessions removed by cleanup.",
		}),
		proxyRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authbff_proxy_requests_total", Help: "Proxied backend API requests by status code.",
		}, []string{"code"}),
		proxyLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "authbff_proxy_request_duration_seconds", Help: "Latency of proxied requests (to response headers).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, nil),
	}
	m.reg.MustRegister(m.signIns, m.refreshes, m.revoked, m.expired, m.proxyRequests, m.proxyLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if db != nil {
		m.reg.MustRegister(collectors.NewDBStatsCollector(db, "authbff"))
	}
	if active != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "authbff_active_sessions", Help: "Sessions whose idle and absolute expiry are in the future.",
		}, cached(active.ActiveSessions, 15*time.Second, time.Now)))
	}
	return m
}

// cached calls f at most once per ttl as now tells time; a failed call keeps
// the last value.
func cached(f func(context.Context) (int64, error), ttl time.Duration, now func() time.Time) func() float64 {
	var mu sync.Mutex
	var last float64
	var at time.Time
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && now().Sub(at) < ttl {
			return last
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if n, err := f(ctx); err == nil {
			last, at = float64(n), now()
		}
		return last
	}
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// SignIn implements ports.Observer.
func (m *Metrics) SignIn(result string) { m.signIns.WithLabelValues(result).Inc() }

// Refresh implements ports.Observer.
func (m *Metrics) Refresh(result string) { m.refreshes.WithLabelValues(result).Inc() }

// SessionsRevoked implements ports.Observer.
func (m *Metrics) SessionsRevoked(reason string, n int64) {
	if n > 0 {
		m.revoked.WithLabelValues(reason).Add(float64(n))
	}
}

// SessionsExpired implements ports.Observer.
func (m *Metrics) SessionsExpired(n int64) {
	if n > 0 {
		m.expired.Add(float64(n))
	}
}

// InstrumentProxy counts the requests next serves by status code and times
// them to their response headers, with promhttp's instrumenters.
func (m *Metrics) InstrumentProxy(next http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.proxyRequests,
		promhttp.InstrumentHandlerTimeToWriteHeader(m.proxyLatency, next))
}
