package natstest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Binary returns the nats-server executable for tests that run it as a
// process: the path in the environment variable env if set, else
// nats-server on the PATH, else /usr/sbin/nats-server (Debian's package).
// It does not check that the file exists: Version does.
func Binary(env string) string {
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	return "/usr/sbin/nats-server"
}

// Version returns the major and minor version bin reports with --version
// ("nats-server: v2.15.2"), and that answer. It returns an error if bin
// cannot be run or its answer does not parse.
func Version(bin string) (major, minor int, answer string, err error) {
	out, err := exec.Command(bin, "--version").Output()
	answer = strings.TrimSpace(string(out))
	if err != nil {
		return 0, 0, answer, fmt.Errorf("natstest: %s --version: %w", bin, err)
	}
	if _, err := fmt.Sscanf(strings.TrimPrefix(answer, "nats-server: v"), "%d.%d", &major, &minor); err != nil {
		return 0, 0, answer, fmt.Errorf("natstest: %s --version said %q: %w", bin, answer, err)
	}
	return major, minor, answer, nil
}
