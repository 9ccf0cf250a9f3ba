package natsembed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrDirInUse is Start's error when another process holds the store: two
// servers writing one JetStream store corrupt it.
var ErrDirInUse = errors.New("natsembed: the store is in use by another process")

// lockName is the file in the store whose lock says which process owns it.
const lockName = "invoicing.lock"

// lockDir creates dir if need be and takes its lock file, without waiting,
// writing this process's id into it. It returns the file to close (which
// releases the lock), or an error wrapping ErrDirInUse naming the holder's
// process id. The operating system drops the lock of a process that dies.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsembed: create the store: %w", err)
	}
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("natsembed: open %s: %w", path, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("natsembed: lock %s: %w", path, err)
	}
	if !held {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := "another process"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			holder = "process " + strconv.Itoa(pid)
		}
		return nil, fmt.Errorf("%w: %s holds %s", ErrDirInUse, holder, path)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
