package relay_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuMeter measures the CPU time a benchmark spends: this process's (the
// relay or the raw publisher, and the embedded nats-server) and, given a
// pool, that of the PostgreSQL backends of its database, read from /proc
// (PostgreSQL must run on this machine). On a shared machine CPU per event
// is far steadier than events per second: it says what the throughput would
// be where CPU is what runs out, as on this project's 2-core machine.
type cpuMeter struct {
	pool     *pgxpool.Pool
	self, db time.Duration // measured so far

	selfAt   time.Duration
	dbAt     map[string]float64 // backend pid → CPU ticks at start
	noDBProc bool               // a backend's /proc entry could not be read
}

// start starts a measured stretch.
func (m *cpuMeter) start(tb testing.TB) {
	m.selfAt, m.dbAt = processCPU(), m.backends(tb)
}

// stop ends the stretch begun by start, adding its CPU time.
func (m *cpuMeter) stop(tb testing.TB) {
	m.self += processCPU() - m.selfAt
	var ticks float64
	for pid, t := range m.backends(tb) {
		ticks += t - m.dbAt[pid] // a backend that connected since counts whole
	}
	m.db += time.Duration(ticks / userHZ * float64(time.Second))
}

// report adds the CPU per event measured as the metric "cpu-µs/event", and
// that of the database alone as "db-cpu-µs/event" if there is a pool.
func (m *cpuMeter) report(b *testing.B, events int) {
	b.ReportMetric(float64((m.self+m.db).Microseconds())/float64(events), "cpu-µs/event")
	if m.pool != nil {
		b.ReportMetric(float64(m.db.Microseconds())/float64(events), "db-cpu-µs/event")
		if m.noDBProc {
			b.Log("some PostgreSQL backends could not be read in /proc: db CPU is undercounted")
		}
	}
}

// userHZ is the unit of utime and stime in /proc/PID/stat on Linux.
const userHZ = 100

// processCPU returns this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backends returns the CPU ticks so far of each backend now connected to
// the pool's database, by pid; none without a pool.
func (m *cpuMeter) backends(tb testing.TB) map[string]float64 {
	out := map[string]float64{}
	if m.pool == nil {
		return out
	}
	var pids []int32
	err := m.pool.QueryRow(context.Background(),
		`SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE datname = current_database()`).Scan(&pids)
	if err != nil {
		tb.Fatal(err)
	}
	for _, pid := range pids {
		p := strconv.Itoa(int(pid))
		stat, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			m.noDBProc = true
			continue
		}
		// After the command, which may hold spaces: utime and stime are
		// the 12th and 13th fields.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			out[p] = u + s
		}
	}
	return out
}
