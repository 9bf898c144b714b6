package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeReads stands in for the database behind a readBatcher: keys ending in
// "?" have no row, the key "block" holds its lane until release is closed,
// and every call is recorded.
type fakeReads struct {
	release chan struct{}
	fail    error

	mu      sync.Mutex
	singles []string
	batches [][]string
}

func (f *fakeReads) one(ctx context.Context, key string) (string, bool, error) {
	f.mu.Lock()
	f.singles = append(f.singles, key)
	f.mu.Unlock()
	if key == "panic" {
		panic("driver bug")
	}
	if key == "block" {
		select {
		case <-f.release:
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
	return f.answer(key)
}

func (f *fakeReads) many(_ context.Context, keys []string) (map[string]string, error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(keys))
	f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok, _ := f.answer(k); ok {
			out[k] = v
		}
	}
	return out, nil
}

func (f *fakeReads) answer(key string) (string, bool, error) {
	if f.fail != nil {
		return "", false, f.fail
	}
	if key[len(key)-1] == '?' {
		return "", false, nil
	}
	return "row of " + key, true, nil
}

func newFakeBatcher(lanes, maxBatch int) (*readBatcher[string, string], *fakeReads) {
	f := &fakeReads{release: make(chan struct{})}
	return &readBatcher[string, string]{lanes: lanes, maxBatch: maxBatch, one: f.one, many: f.many,
		bound: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		}}, f
}

// waitFor polls the batcher's state until cond holds (the goroutines under
// test have reached their place); it fails the test after 10 s.
func waitFor(t *testing.T, b *readBatcher[string, string], cond func(inFlight, queued int) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		b.mu.Lock()
		ok := cond(b.inFlight, len(b.queue))
		b.mu.Unlock()
		if ok {
			return
		}
	}
	t.Fatal("the batcher never reached the expected state")
}

type readAnswer struct {
	key string
	v   string
	ok  bool
	err error
}

// readAll starts a read of each key and returns the channel of answers.
func readAll(ctx context.Context, b *readBatcher[string, string], keys ...string) chan readAnswer {
	out := make(chan readAnswer, len(keys))
	for _, k := range keys {
		go func() {
			v, ok, err := b.read(ctx, k)
			out <- readAnswer{k, v, ok, err}
		}()
	}
	return out
}

func TestReadBatcherReadsAloneWhileALaneIsFree(t *testing.T) {
	b, f := newFakeBatcher(2, 8)
	v, ok, err := b.read(t.Context(), "a")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "row of a", v)
	_, ok, err = b.read(t.Context(), "gone?")
	require.NoError(t, err)
	require.False(t, ok, "a key without a row is not found")
	require.Equal(t, []string{"a", "gone?"}, f.singles, "each read ran alone")
	require.Empty(t, f.batches)
	require.Zero(t, b.inFlight, "the lane is free again")
	require.EqualValues(t, 2, b.statements.Load())
	require.Zero(t, b.batched.Load())
}

func TestReadBatcherCoalescesTheReadsThatArriveWhileEveryLaneIsBusy(t *testing.T) {
	b, f := newFakeBatcher(1, 8)
	first := readAll(t.Context(), b, "block")
	waitFor(t, b, func(inFlight, _ int) bool { return inFlight == 1 })
	keys := []string{"k1", "k2", "gone?", "k2", "k3"} // a duplicate: two page loads of one session
	queued := readAll(t.Context(), b, keys...)
	waitFor(t, b, func(_, queued int) bool { return queued == len(keys) })
	close(f.release)

	require.Equal(t, readAnswer{"block", "row of block", true, nil}, <-first)
	for range keys {
		a := <-queued
		if a.key == "gone?" {
			require.Equal(t, readAnswer{key: "gone?"}, a)
			continue
		}
		require.Equal(t, readAnswer{a.key, "row of " + a.key, true, nil}, a)
	}
	require.Len(t, f.batches, 1, "the queued reads went in one statement")
	require.ElementsMatch(t, keys, f.batches[0])
	require.Equal(t, []string{"block"}, f.singles)
	waitFor(t, b, func(inFlight, queued int) bool { return inFlight == 0 && queued == 0 })
	require.EqualValues(t, 2, b.statements.Load())
	require.EqualValues(t, len(keys), b.batched.Load())
}

func TestReadBatcherSplitsTheQueueAtItsBatchSize(t *testing.T) {
	b, f := newFakeBatcher(1, 2)
	first := readAll(t.Context(), b, "block")
	waitFor(t, b, func(inFlight, _ int) bool { return inFlight == 1 })
	keys := []string{"k1", "k2", "k3", "k4", "k5"}
	queued := readAll(t.Context(), b, keys...)
	waitFor(t, b, func(_, queued int) bool { return queued == len(keys) })
	close(f.release)
	<-first
	for range keys {
		a := <-queued
		require.True(t, a.ok, a.key)
	}
	var sizes []int
	for _, batch := range f.batches {
		sizes = append(sizes, len(batch))
	}
	require.Equal(t, []int{2, 2}, sizes)
	require.Len(t, f.singles, 2, "the blocking read, then the last queued one alone")
	waitFor(t, b, func(inFlight, queued int) bool { return inFlight == 0 && queued == 0 })
}

func TestReadBatcherGivesAFailedStatementsErrorToEveryReaderInIt(t *testing.T) {
	b, f := newFakeBatcher(1, 8)
	first := readAll(t.Context(), b, "block")
	waitFor(t, b, func(inFlight, _ int) bool { return inFlight == 1 })
	queued := readAll(t.Context(), b, "k1", "k2", "k3")
	waitFor(t, b, func(_, queued int) bool { return queued == 3 })
	down := errors.New("database down")
	f.fail = down
	close(f.release)
	require.ErrorIs(t, (<-first).err, down)
	for range 3 {
		a := <-queued
		require.ErrorIs(t, a.err, down, a.key)
		require.False(t, a.ok)
	}
	waitFor(t, b, func(inFlight, queued int) bool { return inFlight == 0 && queued == 0 })
	f.fail = nil
	_, ok, err := b.read(t.Context(), "k4")
	require.NoError(t, err)
	require.True(t, ok, "the lane works again after a failed statement")
}

func TestReadBatcherLetsAQueuedReaderGiveUp(t *testing.T) {
	b, f := newFakeBatcher(1, 8)
	first := readAll(t.Context(), b, "block")
	waitFor(t, b, func(inFlight, _ int) bool { return inFlight == 1 })
	ctx, cancel := context.WithCancel(t.Context())
	impatient := readAll(ctx, b, "k1")
	patient := readAll(t.Context(), b, "k2")
	waitFor(t, b, func(_, queued int) bool { return queued == 2 })
	cancel()
	require.ErrorIs(t, (<-impatient).err, context.Canceled, "a reader whose request ended stops waiting")
	close(f.release)
	<-first
	require.Equal(t, readAnswer{"k2", "row of k2", true, nil}, <-patient)
	waitFor(t, b, func(inFlight, queued int) bool { return inFlight == 0 && queued == 0 })
}

func TestReadBatcherFreesTheLaneOfAReadThatPanicked(t *testing.T) {
	b, _ := newFakeBatcher(1, 8)
	require.Panics(t, func() { _, _, _ = b.read(t.Context(), "panic") }, "the panic reaches the caller (gin's recovery)")
	require.Zero(t, b.inFlight, "the lane is free again")
	_, ok, err := b.read(t.Context(), "k1")
	require.NoError(t, err)
	require.True(t, ok)
}
