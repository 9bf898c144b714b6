package testenv

import (
	"bytes"
	"sync"
)

// LogBuffer collects a process's or a server's output: written by its
// goroutines (or exec's copier), read by the test for failure messages and
// checks. Safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
