package store

import (
	"context"
	"sync"
	"sync/atomic"
)

// readBatcher coalesces concurrent session reads into shared statements.
//
// A read of one session row costs PostgreSQL far more in per-statement work
// (protocol, planning the generic plan, executor start-up, waking the
// backend) than in the index lookup itself, and authbff a write and a read
// on the socket. Under load, when many page loads read their sessions at
// once, the reads that arrive while the batcher's statements are in flight
// wait for the next one and go together, as `token_hash = ANY($1)`: one
// statement, one round trip, for all of them.
//
// Nothing waits for a batch to fill: with fewer than lanes statements in
// flight a read runs at once, alone, on the caller's goroutine, so an idle
// server answers as it did without batching. Only when all lanes are busy
// does a read queue, and the lane that frees up next takes the whole queue
// (up to maxBatch) as its next statement. A read never waits behind more
// than the statement in flight and its own.
//
// Each statement uses one pooled connection for its own duration only; a
// queued read holds no connection while it waits.
type readBatcher[K comparable, V any] struct {
	lanes, maxBatch int
	// one reads a single key; many reads several and returns what it found
	// (a key without a row is absent from the map).
	one  func(ctx context.Context, key K) (V, bool, error)
	many func(ctx context.Context, keys []K) (map[K]V, error)
	// bound gives a queued batch its own time limit: it runs for every
	// reader in it, not for the one whose lane carries it.
	bound func() (context.Context, context.CancelFunc)

	// statements counts the statements run, batched the reads answered by
	// a statement shared with others.
	statements, batched atomic.Uint64

	mu       sync.Mutex
	inFlight int
	queue    []*pendingRead[K, V]
}

type pendingRead[K comparable, V any] struct {
	key  K
	done chan readResult[V]
}

type readResult[V any] struct {
	v   V
	ok  bool
	err error
}

// stat returns the statements run and the reads that shared one.
func (b *readBatcher[K, V]) stat() (statements, batched uint64) {
	if b == nil {
		return 0, 0
	}
	return b.statements.Load(), b.batched.Load()
}

// read returns the row for key (ok false: none), reading it at once when a
// lane is free and in the next batch otherwise.
func (b *readBatcher[K, V]) read(ctx context.Context, key K) (V, bool, error) {
	b.mu.Lock()
	if b.inFlight < b.lanes {
		b.inFlight++
		b.mu.Unlock()
		defer b.next() // even if one panics: a lane must never be lost
		b.statements.Add(1)
		return b.one(ctx, key)
	}
	p := &pendingRead[K, V]{key: key, done: make(chan readResult[V], 1)}
	b.queue = append(b.queue, p)
	b.mu.Unlock()
	select {
	case r := <-p.done:
		return r.v, r.ok, r.err
	case <-ctx.Done():
		// The batch still reads the key; its answer goes to the buffered
		// channel and is dropped with it.
		var zero V
		return zero, false, ctx.Err()
	}
}

// next is called by a lane whose statement finished: it takes the queued
// reads, if any, as a batch on another goroutine (the caller has its own
// answer to deliver), or frees the lane.
func (b *readBatcher[K, V]) next() {
	if batch := b.take(); batch != nil {
		go b.run(batch)
	}
}

// take removes up to maxBatch queued reads, keeping the lane busy, or frees
// the lane when nothing is queued.
func (b *readBatcher[K, V]) take() []*pendingRead[K, V] {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.inFlight--
		return nil
	}
	n := min(len(b.queue), b.maxBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	if len(b.queue) == 0 {
		b.queue = nil // let the backing array go with the batch
	}
	return batch
}

// run reads one batch and every batch queued behind it, until the queue is
// empty and the lane is free again.
func (b *readBatcher[K, V]) run(batch []*pendingRead[K, V]) {
	for ; batch != nil; batch = b.take() {
		b.statements.Add(1)
		ctx, cancel := b.bound()
		if len(batch) == 1 {
			v, ok, err := b.one(ctx, batch[0].key)
			batch[0].done <- readResult[V]{v: v, ok: ok, err: err}
			cancel()
			continue
		}
		b.batched.Add(uint64(len(batch)))
		keys := make([]K, len(batch))
		for i, p := range batch {
			keys[i] = p.key
		}
		found, err := b.many(ctx, keys)
		cancel()
		for _, p := range batch {
			v, ok := found[p.key]
			p.done <- readResult[V]{v: v, ok: ok, err: err}
		}
	}
}
