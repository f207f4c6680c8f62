package verify

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// goCommand returns the go command with args, run in dir, that ends with
// ctx: when ctx is done, the command and every process it started (go
// test's test binaries, the compilers) are killed as one process group,
// so that an interrupted projgen leaves no orphan behind.
func goCommand(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
