package command_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters/command"
)

// The test binary plays the commands (os/exec's own trick): with
// COMMAND_TEST_HELPER set it acts as the program named in the variable.
func TestMain(m *testing.M) {
	switch os.Getenv("COMMAND_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "env":
		os.Stdout.WriteString(os.Getenv("LC_ALL") + "|" + os.Getenv("LANG") + "|" + os.Getenv("EXTRA") + "\n")
	case "args":
		os.Stdout.WriteString(strings.Join(os.Args[1:], "\n"))
	case "stdin":
		b, _ := os.ReadFile("/dev/stdin")
		os.Stdout.Write(b)
	case "fail":
		os.Stderr.WriteString("first\nsecond\nE: Could not get lock /var/lib/dpkg/lock-frontend\n")
		os.Exit(100)
	case "spawn":
		// A child that would outlive us unless the whole group is killed.
		exe, _ := os.Executable()
		p, err := os.StartProcess(exe, []string{exe}, &os.ProcAttr{
			Env: append(os.Environ(), "COMMAND_TEST_HELPER=sleep"), Files: []*os.File{nil, nil, nil}})
		if err != nil {
			os.Exit(3)
		}
		// Written whole or not at all: the test reads it while we run.
		tmp := os.Getenv("PIDFILE") + ".tmp"
		if os.WriteFile(tmp, []byte(itoa(p.Pid)), 0o644) != nil || os.Rename(tmp, os.Getenv("PIDFILE")) != nil {
			os.Exit(4)
		}
		time.Sleep(time.Minute)
	case "sleep":
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

func itoa(n int) string {
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func helper(t *testing.T, role string, args ...string) command.Command {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return command.Command{Name: exe, Args: args, Env: []string{"COMMAND_TEST_HELPER=" + role}}
}

func TestFixedLocale(t *testing.T) {
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	t.Setenv("LANG", "de_DE.UTF-8")
	c := helper(t, "env")
	c.Env = append(c.Env, "EXTRA=x")
	res, err := command.OS{}.Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(res.Stdout)); got != "C|C|x" {
		t.Errorf("LC_ALL|LANG|EXTRA = %q, want C|C|x: output must not depend on the caller's locale", got)
	}
}

func TestNoShell(t *testing.T) {
	args := []string{"a b", "$(touch /tmp/pwned)", "; rm -rf /", "`id`", "*"}
	res, err := command.OS{}.Run(context.Background(), helper(t, "args", args...))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(string(res.Stdout), "\n"); strings.Join(got, "|") != strings.Join(args, "|") {
		t.Errorf("arguments changed on the way: %q", got)
	}
}

func TestStdin(t *testing.T) {
	c := helper(t, "stdin")
	c.Stdin = []byte("y\n")
	res, err := command.OS{}.Run(context.Background(), c)
	if err != nil || string(res.Stdout) != "y\n" {
		t.Errorf("stdin echo = %q, %v", res.Stdout, err)
	}
}

func TestExitError(t *testing.T) {
	c := helper(t, "fail", "check-update")
	res, err := command.OS{}.Run(context.Background(), c)
	var ee *command.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v (%T), want *command.ExitError", err, err)
	}
	if ee.ExitCode != 100 || res.ExitCode != 100 {
		t.Errorf("exit code %d / %d, want 100", ee.ExitCode, res.ExitCode)
	}
	if !strings.Contains(err.Error(), "check-update: exit status 100") || !strings.Contains(err.Error(), "Could not get lock") {
		t.Errorf("message %q should name the command, the status and stderr's last lines", err)
	}
	if !strings.Contains(string(res.Stderr), "first") {
		t.Errorf("the Result keeps the whole stderr: %q", res.Stderr)
	}
}

func TestNotFound(t *testing.T) {
	_, err := command.OS{}.Run(context.Background(), command.Command{Name: "patchcore-no-such-program"})
	var ee *command.ExitError
	if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), "patchcore-no-such-program") {
		t.Errorf("missing program: %v, want a start error naming it", err)
	}
}

// Cancelling kills the command and everything it started, promptly. The
// cancellation comes once the helper has started its child (on a loaded
// machine that can take seconds), and Run must return soon after it.
func TestCancelKillsProcessGroup(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are a Unix feature")
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	c := helper(t, "spawn")
	c.Env = append(c.Env, "PIDFILE="+pidfile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := command.OS{}.Run(ctx, c)
		done <- err
	}()
	var grandchild string
	for wait := time.Now().Add(30 * time.Second); grandchild == ""; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(pidfile); err == nil {
			grandchild = string(b)
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned before the helper started its child: %v", err)
		default:
		}
		if time.Now().After(wait) {
			t.Fatal("the helper did not start its child within 30 s")
		}
	}
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of the cancellation: it must not wait for the child")
	}
	t.Logf("Run returned %v after the cancellation", time.Since(start))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + grandchild + "/stat")
		// Gone, or a zombie waiting for init to reap it, is dead.
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s survived the cancellation", grandchild)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
