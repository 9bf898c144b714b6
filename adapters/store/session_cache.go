package store

import (
	"container/list"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbff/authbff/domain"
	"github.com/authbff/authbff/ports"
)

// CacheConfig bounds the in-process cache of session reads without tokens
// (what GET /session renders). A zero TTL turns it off.
type CacheConfig struct {
	// TTL is the longest an entry is served without re-reading the row: the
	// bound on staleness if an announcement of a change were ever lost.
	TTL time.Duration
	// MaxEntries and MaxBytes bound the cache; the least recently used
	// entries go first.
	MaxEntries int
	MaxBytes   int64
}

// Enabled reports whether the cache is on.
func (c CacheConfig) Enabled() bool { return c.TTL > 0 && c.MaxEntries > 0 && c.MaxBytes > 0 }

// cacheShards spreads the lock: every session read takes one shard's.
const cacheShards = 16

// sessionCache is an LRU of session views keyed by token hash, sharded,
// bounded in entries and (estimated) bytes. Every committed change that
// alters what a read returns drops the entries it touches, by session id or
// by user id: this process's own writes at once, other replicas' through
// PostgreSQL notifications (see changeListener). A read that raced with a
// change cannot put back what it read before it: put is refused when any
// change happened since the read began (generation).
type sessionCache struct {
	cfg    CacheConfig
	gen    atomic.Uint64
	live   atomic.Bool // false while changes might be missed (listener down)
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu        sync.Mutex
	lru       *list.List // of *cacheEntry, most recent first
	byHash    map[domain.TokenHash]*list.Element
	bySession map[string]map[*list.Element]struct{}
	byUser    map[string]map[*list.Element]struct{}
	bytes     int64
}

type cacheEntry struct {
	hash    domain.TokenHash
	view    ports.SessionView
	fetched time.Time
	size    int64
}

func newSessionCache(cfg CacheConfig, live bool) *sessionCache {
	c := &sessionCache{cfg: cfg}
	c.live.Store(live)
	for i := range c.shards {
		c.shards[i] = cacheShard{lru: list.New(), byHash: map[domain.TokenHash]*list.Element{},
			bySession: map[string]map[*list.Element]struct{}{}, byUser: map[string]map[*list.Element]struct{}{}}
	}
	return c
}

func (c *sessionCache) shard(hash domain.TokenHash) *cacheShard {
	var b [8]byte
	if n, err := hex.Decode(b[:], []byte(hash)[:min(16, len(hash))]); err == nil && n == 8 {
		return &c.shards[binary.LittleEndian.Uint64(b[:])%cacheShards]
	}
	return &c.shards[0]
}

// generation is read before a database read whose result may be put.
func (c *sessionCache) generation() uint64 { return c.gen.Load() }

// get returns a view read less than TTL ago. The session inside is shared:
// callers must not change it (GetSession only reads it).
func (c *sessionCache) get(hash domain.TokenHash, now time.Time) (ports.SessionView, bool) {
	if !c.live.Load() {
		return ports.SessionView{}, false
	}
	sh := c.shard(hash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	el, ok := sh.byHash[hash]
	if !ok {
		return ports.SessionView{}, false
	}
	e := el.Value.(*cacheEntry)
	if now.Sub(e.fetched) >= c.cfg.TTL {
		sh.remove(el)
		return ports.SessionView{}, false
	}
	sh.lru.MoveToFront(el)
	return e.view, true
}

// put stores a view read when the generation was gen, unless anything
// changed since.
func (c *sessionCache) put(hash domain.TokenHash, v ports.SessionView, gen uint64, now time.Time) {
	if !c.live.Load() || v.Session == nil {
		return
	}
	e := &cacheEntry{hash: hash, view: v, fetched: now, size: viewSize(hash, v)}
	sh := c.shard(hash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.gen.Load() != gen { // checked under the lock invalidations take
		return
	}
	if old, ok := sh.byHash[hash]; ok {
		sh.remove(old)
	}
	el := sh.lru.PushFront(e)
	sh.byHash[hash] = el
	index(sh.bySession, v.Session.ID(), el) // a rotated token's old entry may still be here
	index(sh.byUser, v.User.ID, el)
	sh.bytes += e.size
	maxEntries, maxBytes := c.cfg.MaxEntries/cacheShards+1, c.cfg.MaxBytes/cacheShards+1
	for sh.lru.Len() > maxEntries || sh.bytes > maxBytes {
		sh.remove(sh.lru.Back())
	}
}

// forgetSession drops the entry of one session.
func (c *sessionCache) forgetSession(id string) {
	c.each(func(sh *cacheShard) {
		for el := range sh.bySession[id] {
			sh.remove(el)
		}
	})
}

// forgetUser drops every entry of one user's sessions.
func (c *sessionCache) forgetUser(id string) {
	c.each(func(sh *cacheShard) {
		for el := range sh.byUser[id] {
			sh.remove(el)
		}
	})
}

// clear drops everything.
func (c *sessionCache) clear() {
	c.each(func(sh *cacheShard) {
		for sh.lru.Len() > 0 {
			sh.remove(sh.lru.Back())
		}
	})
}

// setLive turns serving on or off; either way the cache starts empty, since
// changes may have gone unannounced while it was off.
func (c *sessionCache) setLive(live bool) {
	c.live.Store(false)
	c.clear()
	c.live.Store(live)
}

// each bumps the generation and runs fn on every shard under its lock.
func (c *sessionCache) each(fn func(*cacheShard)) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		c.gen.Add(1)
		fn(sh)
		sh.mu.Unlock()
	}
}

// len and size report the cache's content (tests and metrics).
func (c *sessionCache) len() (n int, bytes int64) {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n, bytes = n+sh.lru.Len(), bytes+sh.bytes
		sh.mu.Unlock()
	}
	return n, bytes
}

func (sh *cacheShard) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	sh.lru.Remove(el)
	delete(sh.byHash, e.hash)
	unindex(sh.bySession, e.view.Session.ID(), el)
	unindex(sh.byUser, e.view.User.ID, el)
	sh.bytes -= e.size
}

func index(m map[string]map[*list.Element]struct{}, key string, el *list.Element) {
	set := m[key]
	if set == nil {
		set = map[*list.Element]struct{}{}
		m[key] = set
	}
	set[el] = struct{}{}
}

func unindex(m map[string]map[*list.Element]struct{}, key string, el *list.Element) {
	if set := m[key]; set != nil {
		delete(set, el)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// entryOverhead estimates the fixed cost of one entry: the session, user and
// list structures and the index map slots.
const entryOverhead = 1024

// viewSize estimates an entry's memory: the fixed overhead plus its strings.
func viewSize(hash domain.TokenHash, v ports.SessionView) int64 {
	n := entryOverhead + 2*len(hash)
	r := v.Session.Record()
	n += len(r.ID) + len(r.UserID) + len(r.ActiveOrganizationID) + len(r.Provider) + len(r.ProviderSessionID) +
		len(r.IPAddress) + len(r.UserAgent) + len(r.Tokens.Scope)
	n += len(v.User.ID) + len(v.User.Name) + len(v.User.Email) + len(v.User.Image)
	for _, x := range v.Roles {
		n += 32 + len(x.Name) + len(x.Source)
	}
	for _, o := range v.Organizations {
		n += 64 + len(o.ID) + len(o.Alias) + len(o.Name) + len(o.TenantID)
	}
	if v.Rendered != nil {
		// What GET /session renders from it, kept beside it: the same
		// strings once more (JSON-quoted) and the keys around them.
		n += 256 + n - entryOverhead - 2*len(hash)
	}
	return int64(n)
}
