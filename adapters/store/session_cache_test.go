package store

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testView(i int, user string) (domain.TokenHash, ports.SessionView) {
	token := domain.SessionToken(fmt.Sprintf("token-%040d", i))
	s := domain.RehydrateSession(domain.SessionRecord{ID: "s-" + strconv.Itoa(i), UserID: user,
		TokenHash: token.Hash(), Expires: t0.Add(8 * time.Hour), AbsoluteExpires: t0.Add(24 * time.Hour)})
	return token.Hash(), ports.SessionView{Session: s, User: domain.User{ID: user, Name: "User " + user},
		Roles: []domain.Role{{Name: "user", Source: "realm"}}, Organizations: []domain.Organization{{ID: "o", Alias: "acme"}}}
}

func TestSessionCacheServesWithinTTLOnly(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: 5 * time.Second, MaxEntries: 100, MaxBytes: 1 << 20}, true)
	h, v := testView(1, "u1")
	c.put(h, v, c.generation(), t0)
	got, ok := c.get(h, t0.Add(4999*time.Millisecond))
	require.True(t, ok)
	require.Equal(t, "s-1", got.Session.ID())
	_, ok = c.get(h, t0.Add(5*time.Second))
	require.False(t, ok, "an entry as old as the TTL is re-read")
	n, _ := c.len()
	require.Zero(t, n, "and dropped")
}

func TestSessionCacheForgetsBySessionAndByUser(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 100, MaxBytes: 1 << 20}, true)
	hashes := map[int]domain.TokenHash{}
	for i, u := range []string{"u1", "u1", "u1", "u2"} {
		h, v := testView(i, u)
		hashes[i] = h
		c.put(h, v, c.generation(), t0)
	}
	c.forgetSession("s-0")
	_, ok := c.get(hashes[0], t0)
	require.False(t, ok)
	c.forgetUser("u1")
	for i := 1; i <= 2; i++ {
		_, ok := c.get(hashes[i], t0)
		require.False(t, ok, "u1's session %d", i)
	}
	_, ok = c.get(hashes[3], t0)
	require.True(t, ok, "another user's session stays")
	c.clear()
	n, b := c.len()
	require.Zero(t, n)
	require.Zero(t, b)
}

func TestSessionCacheRefusesAReadOlderThanAChange(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 100, MaxBytes: 1 << 20}, true)
	h, v := testView(1, "u1")
	gen := c.generation()  // a read begins ...
	c.forgetSession("s-1") // ... a change commits meanwhile ...
	c.put(h, v, gen, t0)   // ... and the read, now stale, finishes
	_, ok := c.get(h, t0)
	require.False(t, ok)
}

func TestSessionCacheOffWhileNotLive(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 100, MaxBytes: 1 << 20}, true)
	h, v := testView(1, "u1")
	c.put(h, v, c.generation(), t0)
	c.setLive(false)
	_, ok := c.get(h, t0)
	require.False(t, ok)
	c.put(h, v, c.generation(), t0)
	c.setLive(true)
	_, ok = c.get(h, t0)
	require.False(t, ok, "turning live again starts empty")
}

func TestSessionCacheBounds(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 160, MaxBytes: 1 << 30}, true)
	for i := range 1000 {
		h, v := testView(i, "u"+strconv.Itoa(i))
		c.put(h, v, c.generation(), t0)
	}
	n, _ := c.len()
	require.LessOrEqual(t, n, 160+cacheShards, "entries bound (per shard, rounded up)")
	h, v := testView(0, "u0")
	size := viewSize(h, v)
	c = newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 1 << 20, MaxBytes: 100 * size}, true)
	for i := range 1000 {
		h, v := testView(i, "u"+strconv.Itoa(i))
		c.put(h, v, c.generation(), t0)
	}
	_, b := c.len()
	require.LessOrEqual(t, b, 100*size+cacheShards*size, "bytes bound (per shard, rounded up)")
	// The most recently used entries survive.
	h, _ = testView(999, "u999")
	_, ok := c.get(h, t0)
	require.True(t, ok)
}

// TestSessionCacheMemoryBound reads 1M distinct sessions into a cache bounded
// at 64 MiB and prints the heap it holds: the estimate per entry must keep
// the real heap near the bound.
func TestSessionCacheMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("1M entries")
	}
	const bound = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 10_000_000, MaxBytes: bound}, true)
	for i := range 1_000_000 {
		h, v := testView(i, "user-"+strconv.Itoa(i))
		v.Rendered = &ports.RenderMemo{} // as LookupView caches it
		c.put(h, v, c.generation(), t0)
		// What GET /session then keeps beside it: the view as JSON.
		body, err := json.Marshal([]any{v.User, v.Roles, v.Organizations, v.Session.Expires()})
		require.NoError(t, err)
		v.Rendered.Store(body)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n, b := c.len()
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1M distinct sessions read: %d cached, estimated %.1f MiB, heap held %.1f MiB (bound %d MiB)",
		n, float64(b)/(1<<20), float64(heap)/(1<<20), bound>>20)
	require.LessOrEqual(t, b, int64(bound)+cacheShards*2048)
	require.LessOrEqual(t, heap, int64(bound)*3/2, "the real heap stays within 1.5× the configured bound")
	runtime.KeepAlive(c)
}

// TestSessionCacheForgetsEveryTokenOfASession: after a token rotation on
// another replica, this one may hold the old and the new hash of one
// session at once; the announcement of the session drops both.
func TestSessionCacheForgetsEveryTokenOfASession(t *testing.T) {
	c := newSessionCache(CacheConfig{TTL: time.Minute, MaxEntries: 100, MaxBytes: 1 << 20}, true)
	var hashes []domain.TokenHash
	for i := range 40 { // enough tokens that some share a shard
		h, v := testView(i, "u1")
		r := v.Session.Record()
		r.ID = "s-rotated"
		v.Session = domain.RehydrateSession(r)
		c.put(h, v, c.generation(), t0)
		hashes = append(hashes, h)
	}
	c.forgetSession("s-rotated")
	for _, h := range hashes {
		_, ok := c.get(h, t0)
		require.False(t, ok)
	}
	n, _ := c.len()
	require.Zero(t, n)
}
