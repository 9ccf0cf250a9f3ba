package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// patroniInstall is the command the failover test's failure names when
// Patroni or etcd is missing (.ci/run runs it).
const patroniInstall = "apt-get install -y patroni etcd-server"

// patroniCluster is three PostgreSQL members under Patroni with one etcd as
// its configuration store, all on loopback ports of their own, in
// synchronous mode: a commit is acknowledged once the synchronous standby
// has it, so a failover to that standby loses no acknowledged commit.
type patroniCluster struct {
	dir     string // the cluster's parent directory: etcd's and each member's data, logs
	cred    *syscall.Credential
	etcd    *exec.Cmd
	members []*patroniMember
	http    *http.Client
}

// patroniMember is one Patroni process and the PostgreSQL it runs.
type patroniMember struct {
	name     string
	pgPort   int
	restPort int
	cmd      *exec.Cmd
	done     chan struct{}
}

// clusterMember is a member as Patroni's GET /cluster lists it.
type clusterMember struct {
	Name  string `json:"name"`
	Role  string `json:"role"`  // leader, sync_standby, replica
	State string `json:"state"` // running, streaming, starting, stopped...
	Port  int    `json:"port"`
	TL    int    `json:"timeline"`
}

// startPatroni starts etcd and three Patroni members, stopped and removed
// when the test ends, and waits until the cluster has a leader, a
// synchronous standby and a replica. It fails the test naming the install
// command if patroni or etcd is missing.
func startPatroni(t *testing.T) *patroniCluster {
	t.Helper()
	var missing []string
	for _, tool := range []string{"patroni", "etcd"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("the failover test needs %s on the PATH (Debian packages patroni and etcd-server): %s",
			strings.Join(missing, " and "), patroniInstall)
	}
	pgBin, err := pgBinDir()
	if err == nil {
		// Patroni runs every PostgreSQL tool from one directory, not only
		// initdb and pg_ctl.
		if _, err = os.Stat(filepath.Join(pgBin, "pg_controldata")); err != nil {
			if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_controldata"); len(dirs) > 0 {
				slices.Sort(dirs)
				pgBin, err = filepath.Dir(dirs[len(dirs)-1]), nil
			}
		}
	}
	if err != nil {
		t.Fatalf("Patroni needs the PostgreSQL binaries (initdb, pg_ctl, pg_controldata, pg_rewind) in one directory: set PG_BIN: %v", err)
	}
	// Not t.TempDir: its parents are root's and closed to the postgres user.
	dir, err := os.MkdirTemp("", "invoicing-fault-patroni-")
	if err != nil {
		t.Fatal(err)
	}
	c := &patroniCluster{dir: dir, http: &http.Client{Timeout: 5 * time.Second}}
	if os.Geteuid() == 0 {
		if c.cred, err = credentialOf("postgres"); err != nil {
			t.Fatalf("running as root needs a postgres user to own the cluster: %v", err)
		}
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.stop(pgBin) })

	etcdPort, peerPort := freePort(t), freePort(t)
	c.etcd = c.command("etcd", "--name", "etcd", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPort),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peerPort),
		"--initial-cluster", fmt.Sprintf("etcd=http://127.0.0.1:%d", peerPort))
	if err := c.startLogged(c.etcd, "etcd.log"); err != nil {
		t.Fatal(err)
	}
	if err := waitTCP(etcdPort, 20*time.Second, nil); err != nil {
		t.Fatalf("etcd: %v\n%s", err, tail(filepath.Join(dir, "etcd.log"), 20))
	}

	for i := range 3 {
		m := &patroniMember{name: fmt.Sprintf("pg%d", i+1), pgPort: freePort(t), restPort: freePort(t)}
		conf := filepath.Join(dir, m.name+".yml")
		if err := os.WriteFile(conf, []byte(patroniConfig(dir, pgBin, m, etcdPort)), 0o644); err != nil {
			t.Fatal(err)
		}
		m.cmd = c.command("patroni", conf)
		if err := c.startLogged(m.cmd, m.name+".log"); err != nil {
			t.Fatal(err)
		}
		m.done = make(chan struct{})
		go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(m.cmd, m.done)
		c.members = append(c.members, m)
		if i == 0 {
			// The first member bootstraps the cluster; the others then
			// copy it with pg_basebackup.
			if _, err := c.waitHealthy(90*time.Second, 1); err != nil {
				t.Fatalf("%v\n%s", err, tail(filepath.Join(dir, m.name+".log"), 30))
			}
		}
	}
	if _, err := c.waitHealthy(120*time.Second, 3); err != nil {
		t.Fatalf("%v\n%s", err, tail(filepath.Join(dir, "pg3.log"), 30))
	}
	return c
}

// patroniConfig is member m's configuration: fast loops (one second) so a
// failure is seen soon, trust on loopback, fsync off (the test kills
// processes, never the machine).
func patroniConfig(dir, pgBin string, m *patroniMember, etcdPort int) string {
	return fmt.Sprintf(`scope: invoicing-fault
name: %[1]s
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:%[2]d
  connect_address: 127.0.0.1:%[2]d
etcd3:
  hosts: 127.0.0.1:%[3]d
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        fsync: 'off'
        wal_log_hints: 'on'
        shared_buffers: 64MB
  initdb:
  - encoding: UTF8
  - auth: trust
  pg_hba:
  - host replication all 127.0.0.1/32 trust
  - host all all 127.0.0.1/32 trust
  - local all all trust
postgresql:
  listen: 127.0.0.1:%[4]d
  connect_address: 127.0.0.1:%[4]d
  data_dir: %[5]s
  bin_dir: %[6]s
  pgpass: %[7]s
  authentication:
    replication: {username: postgres}
    superuser: {username: postgres}
  parameters:
    unix_socket_directories: '%[8]s'
`, m.name, m.restPort, etcdPort, m.pgPort, filepath.Join(dir, m.name), pgBin,
		filepath.Join(dir, m.name+".pgpass"), dir)
}

// command prepares a process of the cluster, run as the cluster's owner.
func (c *patroniCluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir, "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (c *patroniCluster) startLogged(cmd *exec.Cmd, logName string) error {
	log, err := os.Create(filepath.Join(c.dir, logName))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return log.Close() // the child holds its own descriptor
}

// stop ends every Patroni member (which stops its PostgreSQL), then any
// PostgreSQL left running, then etcd, and removes the directory.
func (c *patroniCluster) stop(pgBin string) {
	for _, m := range c.members {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, m := range c.members {
		select {
		case <-m.done:
		case <-time.After(30 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.done
		}
		pgctl := c.command(filepath.Join(pgBin, "pg_ctl"), "stop", "-D", filepath.Join(c.dir, m.name), "-m", "immediate")
		_ = pgctl.Run() // it fails if Patroni stopped it already
	}
	if c.etcd != nil && c.etcd.Process != nil {
		_ = c.etcd.Process.Kill()
		_ = c.etcd.Wait()
	}
	_ = os.RemoveAll(c.dir)
}

// URL returns the multi-host URL of database db over every member, which
// connects to whichever member is the primary (target_session_attrs), the
// sessions named app.
func (c *patroniCluster) URL(db, app string) string {
	hosts := make([]string, len(c.members))
	for i, m := range c.members {
		hosts[i] = "127.0.0.1:" + strconv.Itoa(m.pgPort)
	}
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=5&application_name=%s",
		strings.Join(hosts, ","), db, app)
}

// cluster returns the members as Patroni's REST API lists them, asking
// each member in turn until one answers.
func (c *patroniCluster) cluster() ([]clusterMember, error) {
	var lastErr error
	for _, m := range c.members {
		res, err := c.http.Get(fmt.Sprintf("http://127.0.0.1:%d/cluster", m.restPort))
		if err != nil {
			lastErr = err
			continue
		}
		var body struct{ Members []clusterMember }
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		return body.Members, nil
	}
	return nil, fmt.Errorf("no Patroni member answers: %w", lastErr)
}

// waitHealthy waits until n members run, one of them the leader and, with
// more than one, one a synchronous standby; it returns the members.
func (c *patroniCluster) waitHealthy(timeout time.Duration, n int) ([]clusterMember, error) {
	return c.waitFor(timeout, n, func([]clusterMember) error { return nil })
}

// waitFor is waitHealthy, the healthy cluster also meeting cond (nil).
func (c *patroniCluster) waitFor(timeout time.Duration, n int, cond func([]clusterMember) error) ([]clusterMember, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range c.members {
			select {
			case <-m.done:
				return nil, fmt.Errorf("patroni %s exited:\n%s", m.name, tail(filepath.Join(c.dir, m.name+".log"), 30))
			default:
			}
		}
		ms, err := c.cluster()
		if err == nil {
			err = healthy(ms, n)
		}
		if err == nil {
			err = cond(ms)
		}
		if err == nil {
			return ms, nil
		}
		if time.Now().After(deadline) {
			return ms, fmt.Errorf("waited %s for a healthy cluster of %d: %w (members: %s)", timeout, n, err, describeMembers(ms))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func healthy(ms []clusterMember, n int) error {
	roles := map[string]int{}
	for _, m := range ms {
		if m.State != "running" && m.State != "streaming" {
			return fmt.Errorf("%s is %s", m.Name, m.State)
		}
		roles[m.Role]++
	}
	switch {
	case len(ms) != n:
		return fmt.Errorf("%d members, want %d", len(ms), n)
	case roles["leader"] != 1:
		return fmt.Errorf("%d leaders", roles["leader"])
	case n > 1 && roles["sync_standby"] != 1:
		return fmt.Errorf("%d synchronous standbys", roles["sync_standby"])
	}
	return nil
}

// leader returns the leader among ms, or the zero member.
func leader(ms []clusterMember) clusterMember {
	for _, m := range ms {
		if m.Role == "leader" {
			return m
		}
	}
	return clusterMember{}
}

// member returns the member named name.
func (c *patroniCluster) member(name string) *patroniMember {
	for _, m := range c.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

// withRole returns the first member whose role is role.
func (c *patroniCluster) withRole(role string) (*patroniMember, error) {
	ms, err := c.cluster()
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Role == role {
			return c.member(m.Name), nil
		}
	}
	return nil, fmt.Errorf("no member is %s: %+v", role, ms)
}

// killPostmaster sends SIGKILL to m's postmaster (its pid is the first line
// of postmaster.pid); Patroni, still running, notices and restarts it.
func (c *patroniCluster) killPostmaster(m *patroniMember) error {
	b, err := os.ReadFile(filepath.Join(c.dir, m.name, "postmaster.pid"))
	if err != nil {
		return err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil {
		return fmt.Errorf("postmaster.pid of %s: %w", m.name, err)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// rest posts body to path on m's REST API and returns an error unless the
// answer is 2xx.
func (c *patroniCluster) rest(ctx context.Context, m *patroniMember, path string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", m.restPort, path), bytes.NewReader(b))
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var answer bytes.Buffer
	_, _ = answer.ReadFrom(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s on %s: %d %s", path, m.name, res.StatusCode, answer.String())
	}
	return nil
}
