package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is the state of the PostgreSQL connection pool. The session
// read, most of authbff's traffic, takes its connections from the pool
// directly; everything else goes through database/sql (go_sql_*), so only
// these figures show whether the pool as a whole is too small.
type PoolStats struct {
	Idle, Acquired, Max int32
	// Acquires counts connections taken; WaitedAcquires those that had to
	// wait for one, for AcquireWait in total.
	Acquires, WaitedAcquires int64
	AcquireWait              time.Duration
	// SessionReadStatements counts the statements the session read ran;
	// SessionReadsBatched the reads that shared one with others.
	SessionReadStatements, SessionReadsBatched uint64
}

// PoolStatsFunc reports the pool; false when there is none (SQLite).
type PoolStatsFunc func() (PoolStats, bool)

// WatchPool exports the pool's figures as authbff_db_pool_*.
func (m *Metrics) WatchPool(stats PoolStatsFunc) {
	if _, ok := stats(); ok {
		m.reg.MustRegister(poolCollector{stats: stats})
	}
}

var (
	poolConnsDesc = prometheus.NewDesc("authbff_db_pool_connections",
		"Connections of the PostgreSQL pool by state.", []string{"state"}, nil)
	poolMaxDesc = prometheus.NewDesc("authbff_db_pool_max_connections",
		"The pool's size (connection_limit).", nil, nil)
	poolAcquiresDesc = prometheus.NewDesc("authbff_db_pool_acquires_total",
		"Connections taken from the pool.", nil, nil)
	poolWaitedDesc = prometheus.NewDesc("authbff_db_pool_waited_acquires_total",
		"Connections taken from the pool after waiting for one.", nil, nil)
	poolWaitDesc = prometheus.NewDesc("authbff_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a connection of the pool.", nil, nil)
	readStatementsDesc = prometheus.NewDesc("authbff_session_read_statements_total",
		"Statements the session read ran on PostgreSQL, each for one read or a batch of them.", nil, nil)
	readsBatchedDesc = prometheus.NewDesc("authbff_session_reads_batched_total",
		"Session reads answered by a statement shared with other reads made at the same time.", nil, nil)
)

type poolCollector struct{ stats PoolStatsFunc }

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnsDesc, poolMaxDesc, poolAcquiresDesc, poolWaitedDesc, poolWaitDesc,
		readStatementsDesc, readsBatchedDesc} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s, ok := c.stats()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(s.Acquired), "in_use")
	ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(poolAcquiresDesc, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(poolWaitedDesc, prometheus.CounterValue, float64(s.WaitedAcquires))
	ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, s.AcquireWait.Seconds())
	ch <- prometheus.MustNewConstMetric(readStatementsDesc, prometheus.CounterValue, float64(s.SessionReadStatements))
	ch <- prometheus.MustNewConstMetric(readsBatchedDesc, prometheus.CounterValue, float64(s.SessionReadsBatched))
}
