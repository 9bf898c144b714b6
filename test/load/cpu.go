package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of /proc CPU times (100 on every
// mainstream architecture).
const clockTicks = 100

// cpuWatch attributes the machine's CPU time during a run: the whole machine
// (/proc/stat), this process, and named process trees (a pid and its direct
// children, e.g. the postmaster and its backends). Linux only; elsewhere it
// reports nothing.
type cpuWatch struct {
	trees map[string]int
	start cpuSnapshot
	at    time.Time
}

type cpuSnapshot struct {
	busy, total uint64        // machine jiffies
	self        time.Duration // this process, user + system
	trees       map[string]map[int]uint64
}

func newCPUWatch(trees map[string]int) *cpuWatch {
	w := &cpuWatch{trees: trees}
	w.start, w.at = w.snapshot(), time.Now()
	return w
}

func (w *cpuWatch) snapshot() cpuSnapshot {
	s := cpuSnapshot{trees: map[string]map[int]uint64{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseUint(f, 10, 64)
			if i < 8 { // user nice system idle iowait irq softirq steal
				s.total += n
				if i != 3 && i != 4 {
					s.busy += n
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	children := childrenOf()
	for name, pid := range w.trees {
		ticks := map[int]uint64{pid: procTicks(pid)}
		for _, c := range children[pid] {
			ticks[c] = procTicks(c)
		}
		s.trees[name] = ticks
	}
	return s
}

// String reports average CPUs used by each party since the watch started.
func (w *cpuWatch) String() string {
	end, secs := w.snapshot(), time.Since(w.at).Seconds()
	if end.total == w.start.total || secs <= 0 {
		return "n/a"
	}
	busy := float64(end.busy-w.start.busy) / float64(end.total-w.start.total)
	self := (end.self - w.start.self).Seconds() / secs
	parts := []string{fmt.Sprintf("machine %d CPUs %.0f%% busy", runtime.NumCPU(), busy*100),
		fmt.Sprintf("load tool %.2f CPU", self)}
	names := make([]string, 0, len(w.trees))
	for n := range w.trees {
		names = append(names, n)
	}
	sort.Strings(names)
	other := busy*float64(runtime.NumCPU()) - self
	for _, n := range names {
		used := float64(treeDelta(w.start.trees[n], end.trees[n])) / clockTicks / secs
		other -= used
		parts = append(parts, fmt.Sprintf("%s %.2f CPU", n, used))
	}
	parts = append(parts, fmt.Sprintf("everything else %.2f CPU", max(0, other)))
	return strings.Join(parts, ", ")
}

// perRequest returns each named process tree's CPU time per request since
// the watch started, in microseconds.
func (w *cpuWatch) perRequest(requests int) map[string]float64 {
	out := map[string]float64{}
	if requests <= 0 {
		return out
	}
	end := w.snapshot()
	for n := range w.trees {
		secs := float64(treeDelta(w.start.trees[n], end.trees[n])) / clockTicks
		out[n] = secs * 1e6 / float64(requests)
	}
	return out
}

// treeDelta is the CPU ticks a process tree used between two snapshots:
// processes that ended in between are lost, new ones count in full.
func treeDelta(start, end map[int]uint64) uint64 {
	var d uint64
	for pid, t := range end {
		if t >= start[pid] {
			d += t - start[pid]
		}
	}
	return d
}

// procTicks returns a process's utime + stime in clock ticks (0 if gone).
func procTicks(pid int) uint64 {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseUint(f[13], 10, 64)
	s, _ := strconv.ParseUint(f[14], 10, 64)
	return u + s
}

// procStat returns /proc/PID/stat's fields, numbered as in proc(5) minus one,
// with the command name (which may hold spaces) as one field.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return nil
	}
	return append([]string{s[:i-1], s[i+1 : j]}, strings.Fields(s[j+1:])...)
}

// childrenOf maps every pid to its direct children.
func childrenOf() map[int][]int {
	out := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(pid); len(f) > 3 {
			if ppid, err := strconv.Atoi(f[3]); err == nil {
				out[ppid] = append(out[ppid], pid)
			}
		}
	}
	return out
}

// postmasterPID finds the PostgreSQL server process behind a database URL
// on this machine: the parent of the backend serving our connection.
func postmasterPID(ctx context.Context, databaseURL string) (int, error) {
	conn, err := connect(ctx, databaseURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0, err
	}
	f := procStat(backend)
	if len(f) < 4 {
		return 0, fmt.Errorf("backend %d is not a local process", backend)
	}
	return strconv.Atoi(f[3])
}
