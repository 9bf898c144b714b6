package application

import (
	"context"
	"sync"
	"time"

	"github.com/authbff/authbff/ports"
)

// Readiness is the result of checking every dependency.
type Readiness struct {
	Ready bool
	// Checks maps each dependency to "ok" or the reason it is not usable.
	Checks map[string]string
}

// CheckReadinessHandler checks the dependencies a replica needs before it
// should receive traffic (the database, the identity provider).
type CheckReadinessHandler struct {
	checks  []ports.HealthCheck
	timeout time.Duration
}

// NewCheckReadinessHandler returns a handler running checks in parallel, each
// bounded by timeout.
func NewCheckReadinessHandler(checks []ports.HealthCheck, timeout time.Duration) *CheckReadinessHandler {
	return &CheckReadinessHandler{checks: checks, timeout: timeout}
}

// Handle runs every check concurrently.
func (h *CheckReadinessHandler) Handle(ctx context.Context) Readiness {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	res := Readiness{Ready: true, Checks: make(map[string]string, len(h.checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Ready = false
				res.Checks[c.Name()] = err.Error()
				return
			}
			res.Checks[c.Name()] = "ok"
		}()
	}
	wg.Wait()
	return res
}
