package storetest

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Crash says how KillChild runs and kills a child process.
type Crash struct {
	// Child names the test function the test binary runs as the child
	// ("TestCrashChild"); Env ("NAME=value") tells it that it is the child.
	Child string
	Env   string
	// After is how many acknowledgements to wait for before the kill; Limit
	// kills anyway after this long; Jitter delays the kill by a random
	// part of it, so the kill lands anywhere in the child's write cycle.
	After  int
	Limit  time.Duration
	Jitter time.Duration
	// Timeout is the child's own -test.timeout.
	Timeout time.Duration
}

// KillChild runs the test binary as a child writing to a store, passes
// each line it prints to ack (which reports whether the line acknowledges
// a write), and kills the child with SIGKILL once c.After writes were
// acknowledged. Lines printed before it died are acknowledgements too: the
// caller then checks the store holds every acknowledged write. The test
// fails if the child exits before the kill or acknowledges nothing; the
// child's stderr is logged. KillChild returns the acknowledgements counted.
func KillChild(t *testing.T, c Crash, ack func(line string) bool) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+c.Child+"$", "-test.count=1", "-test.timeout="+c.Timeout.String())
	cmd.Env = append(os.Environ(), c.Env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	n := 0
	read := func(l string) {
		if ack(l) {
			n++
		}
	}
	// until reads lines until stop fires or n reaches want; it reports
	// whether the child exited first.
	until := func(stop <-chan time.Time, want int) bool {
		for n < want {
			select {
			case l, ok := <-lines:
				if !ok {
					return true
				}
				read(l)
			case <-stop:
				return false
			}
		}
		return false
	}
	limit := time.NewTimer(c.Limit)
	defer limit.Stop()
	exited := until(limit.C, c.After)
	if !exited {
		jitter := time.NewTimer(rand.N(c.Jitter) + 1)
		exited = until(jitter.C, int(^uint(0)>>1))
		jitter.Stop()
	}
	if err := cmd.Process.Kill(); err != nil && !exited {
		t.Errorf("kill: %v", err)
	}
	for l := range lines {
		read(l)
	}
	werr := cmd.Wait()
	if exited {
		t.Fatalf("child exited before the kill: %v\n%s", werr, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("child stderr:\n%s", stderr.Bytes())
	}
	if n == 0 {
		t.Fatalf("child acknowledged nothing\n%s", stderr.Bytes())
	}
	return n
}
