package main

import (
	"context"
	"time"
)

// deleteMonitor samples pg_stat_activity every 50 ms while the cleanup runs:
// the age of the oldest running DELETE on sessions (each batch is its own
// transaction, so this bounds how long its row locks are held), how many
// other statements were seen waiting on a lock, and the CPU time of the
// backend running the DELETEs (read from /proc while it lives).
type deleteMonitor struct {
	cancel  context.CancelFunc
	done    chan struct{}
	longest time.Duration
	waits   int
	backend map[int]uint64 // pid -> last CPU ticks seen
}

func startDeleteMonitor(ctx context.Context, databaseURL string) *deleteMonitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &deleteMonitor{cancel: cancel, done: make(chan struct{}), backend: map[int]uint64{}}
	go func() {
		defer close(m.done)
		conn, err := connect(ctx, databaseURL)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var oldest float64
			var waiting, pid int
			err := conn.QueryRow(ctx, `SELECT
				coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) FILTER
					(WHERE state = 'active' AND query ILIKE 'DELETE FROM sessions%'), 0),
				count(*) FILTER (WHERE wait_event_type = 'Lock'),
				coalesce(max(pid) FILTER (WHERE query ILIKE 'DELETE FROM sessions%'), 0)
				FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&oldest, &waiting, &pid)
			if err == nil {
				m.longest = max(m.longest, time.Duration(oldest*float64(time.Second)))
				m.waits += waiting
				if pid != 0 {
					m.backend[pid] = max(m.backend[pid], procTicks(pid))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// stop ends the sampling and returns what it saw.
func (m *deleteMonitor) stop() (longest time.Duration, waits int, backendCPU time.Duration) {
	m.cancel()
	<-m.done
	var ticks uint64
	for _, t := range m.backend {
		ticks += t
	}
	return m.longest, m.waits, time.Duration(ticks) * time.Second / clockTicks
}
