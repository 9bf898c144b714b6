package main

import (
	"context"
	"time"
)

// deleteMonitor samples pg_stat_activity every 50 ms while the cleanup runs:
// the age of the oldest running DELETE on sessions (each batch is its own
// transaction, so this bounds how long its row locks are held) and how many
// other statements were seen waiting on a lock.
type deleteMonitor struct {
	cancel  context.CancelFunc
	done    chan struct{}
	longest time.Duration
	waits   int
}

func startDeleteMonitor(ctx context.Context, databaseURL string) *deleteMonitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &deleteMonitor{cancel: cancel, done: make(chan struct{})}
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
			var waiting int
			err := conn.QueryRow(ctx, `SELECT
				coalesce(max(extract(epoch FROM clock_timestamp() - query_start)) FILTER
					(WHERE state = 'active' AND query ILIKE 'DELETE FROM sessions%'), 0),
				count(*) FILTER (WHERE wait_event_type = 'Lock')
				FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&oldest, &waiting)
			if err == nil {
				m.longest = max(m.longest, time.Duration(oldest*float64(time.Second)))
				m.waits += waiting
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
func (m *deleteMonitor) stop() (longest time.Duration, waits int) {
	m.cancel()
	<-m.done
	return m.longest, m.waits
}
