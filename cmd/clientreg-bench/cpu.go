package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuClock reads the CPU time spent so far by this process (the service,
// its projectors and workers run in it) and by the PostgreSQL server when
// it runs on this host. A step whose wall time has a target can use at
// most cores × that time: set beside the CPU it took, that tells a step
// short of cores from one waiting on itself.
type cpuClock struct {
	postmaster int // 0: the server is not a process of this host
}

// cpuReading is the CPU time spent up to a moment.
type cpuReading struct {
	service, server time.Duration
}

// cpuSpent is the CPU time a step took.
type cpuSpent struct {
	service, server time.Duration
	serverKnown     bool
}

func (c cpuSpent) total() time.Duration { return c.service + c.server }

// newCPUClock finds the server's postmaster: the parent of the backend of
// one of the pool's connections, if that backend is a process of this host
// serving this database (its process title names the database).
func newCPUClock(ctx context.Context, pool *pgxpool.Pool) *cpuClock {
	var pid int
	var db string
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid(), current_database()`).Scan(&pid, &db); err != nil {
		return &cpuClock{}
	}
	title, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.HasPrefix(string(title), "postgres:") || !strings.Contains(string(title), " "+db+" ") {
		return &cpuClock{}
	}
	st, err := readProcStat(pid)
	if err != nil {
		return &cpuClock{}
	}
	return &cpuClock{postmaster: st.ppid}
}

func (c *cpuClock) read() cpuReading {
	var r cpuReading
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.service = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if c.postmaster != 0 {
		r.server = serverCPU(c.postmaster)
	}
	return r
}

// since is the CPU spent from earlier to now.
func (c *cpuClock) since(earlier cpuReading) cpuSpent {
	now := c.read()
	return cpuSpent{service: now.service - earlier.service, server: now.server - earlier.server, serverKnown: c.postmaster != 0}
}

// serverCPU is the CPU time of the postmaster, of the backends and workers
// it has reaped (its children's times) and of those running: every
// database's, autovacuum's and the parallel workers' alike.
func serverCPU(postmaster int) time.Duration {
	pm, err := readProcStat(postmaster)
	if err != nil {
		return 0
	}
	ticks := pm.utime + pm.stime + pm.cutime + pm.cstime
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil && st.ppid == postmaster {
			ticks += st.utime + st.stime
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's times: 100 on Linux whatever
// the kernel's own tick.
const clockTicks = 100

type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

// readProcStat reads /proc/PID/stat; the fields are counted from after the
// command name, which may hold spaces and parentheses.
func readProcStat(pid int) (procStat, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var st procStat
	st.ppid, _ = strconv.Atoi(f[1])
	for j, dst := range []*int64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		*dst, _ = strconv.ParseInt(f[11+j], 10, 64)
	}
	return st, nil
}

// String says what a step took, e.g. "20.6 s (server 13.7, service 6.9)".
func (c cpuSpent) String() string {
	if !c.serverKnown {
		return fmt.Sprintf("service %.1f s, server not measured", c.service.Seconds())
	}
	return fmt.Sprintf("%.1f s (server %.1f, service %.1f)", c.total().Seconds(), c.server.Seconds(), c.service.Seconds())
}

// cpuBudget is the most CPU a step can use and still take no longer than
// target: every core busy all along.
func cpuBudget(target time.Duration) time.Duration {
	return time.Duration(runtime.NumCPU()) * target
}
