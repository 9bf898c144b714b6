package application

import "sync"

// flightGroup runs one function per key at a time; callers that arrive
// while it runs wait and share its result. It is the few lines of
// golang.org/x/sync/singleflight the refresh needs, written here because the
// application layer imports only the standard library (docs/architecture.md).
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	wg  sync.WaitGroup
	val AccessToken
	err error
}

// do runs fn once for key among concurrent callers.
func (g *flightGroup) do(key string, fn func() (AccessToken, error)) (AccessToken, error) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]*flight{}
	}
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		c.wg.Wait()
		return c.val, c.err
	}
	c := &flight{}
	c.wg.Add(1)
	g.calls[key] = c
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		c.wg.Done()
	}()
	c.val, c.err = fn()
	return c.val, c.err
}
