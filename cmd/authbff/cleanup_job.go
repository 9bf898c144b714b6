package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/authbff/authbff/application"
)

// cleanupJob runs CleanupSessions on an interval in the server process, so
// no cron is needed. Every replica may run it: each batch locks only the rows
// it deletes (FOR UPDATE SKIP LOCKED). The first run waits a random part of
// the interval so replicas started together spread out.
type cleanupJob struct {
	h        *application.CleanupSessionsHandler
	interval time.Duration
	batch    int
	log      *slog.Logger
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func registerCleanupJob(lc fx.Lifecycle, cfg Config, h *application.CleanupSessionsHandler, log *slog.Logger) {
	if cfg.CleanupInterval <= 0 {
		return
	}
	j := &cleanupJob{h: h, interval: cfg.CleanupInterval, batch: cfg.CleanupBatchSize, log: log}
	lc.Append(fx.Hook{OnStart: j.start, OnStop: j.stop})
}

func (j *cleanupJob) start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		wait := time.Duration(rand.Int64N(int64(j.interval)))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if _, err := j.h.Handle(ctx, application.CleanupSessions{Caller: application.OperatorCaller(), BatchSize: j.batch}); err != nil && ctx.Err() == nil {
				j.log.Warn("scheduled cleanup failed; will retry", "error", err.Error())
			}
			wait = j.interval
		}
	}()
	return nil
}

func (j *cleanupJob) stop(context.Context) error {
	j.cancel()
	j.wg.Wait()
	return nil
}
