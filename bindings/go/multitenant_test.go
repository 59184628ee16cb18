package isola_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

const workCode = "def work(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"

func newWorker(t *testing.T) *isola.Sandbox {
	t.Helper()
	sb, err := tpl.NewSandbox(nil)
	if err != nil {
		t.Fatalf("NewSandbox: %v", err)
	}
	if err := sb.Eval(context.Background(), workCode, nil); err != nil {
		t.Fatalf("Eval: %v", err)
	}
	return sb
}

// TestPoolContextCancelIsCallScoped serves many tenants from a small pool.
// Some calls carry contexts that end at random moments (before, during or
// just after the call); a cancel must only ever stop the call it belongs
// to, never a later tenant's call. Run under -race by test.sh.
func TestPoolContextCancelIsCallScoped(t *testing.T) {
	const poolSize, tenants, rounds = 4, 12, 25
	pool := make(chan *isola.Sandbox, poolSize)
	for i := 0; i < poolSize; i++ {
		pool <- newWorker(t)
	}
	var okCalls, cancelled, replaced atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, tenants*rounds)
	for g := 0; g < tenants; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for r := 0; r < rounds; r++ {
				sb := <-pool
				n := 1000 + rng.Intn(40000)
				ctx := context.Background()
				var stop context.CancelFunc = func() {}
				deadline := rng.Intn(3) != 0 // a third of the calls never end early
				if deadline {
					ctx, stop = context.WithTimeout(ctx, time.Duration(rng.Intn(3000))*time.Microsecond)
				}
				res, err := sb.CallResult(ctx, "work", n)
				ctxErr := ctx.Err()
				stop()
				switch {
				case err == nil:
					var got int64
					if jerr := json.Unmarshal(res, &got); jerr != nil || got != int64(n)*int64(n-1)/2 {
						errs <- fmt.Errorf("work(%d) = %s", n, res)
					}
					okCalls.Add(1)
					pool <- sb
				case errors.Is(err, isola.ErrCancelled) && deadline:
					cancelled.Add(1)
					if ctxErr == nil {
						errs <- fmt.Errorf("cancelled while its context is alive: %v", err)
					}
					// A cancelled sandbox may be unusable: replace it.
					sb.Close()
					fresh, nerr := tpl.NewSandbox(nil)
					if nerr == nil {
						nerr = fresh.Eval(context.Background(), workCode, nil)
					}
					if nerr != nil {
						errs <- nerr
						return
					}
					replaced.Add(1)
					pool <- fresh
				default:
					errs <- fmt.Errorf("call (deadline %v) failed: %v", deadline, err)
					pool <- sb
				}
			}
		}(int64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	close(pool)
	for sb := range pool {
		sb.Close()
	}
	t.Logf("%d ok, %d cancelled, %d sandboxes replaced", okCalls.Load(), cancelled.Load(), replaced.Load())
	if okCalls.Load() == 0 {
		t.Fatal("no call succeeded")
	}
}

// A call waiting for a sandbox busy with another call gives up when its
// own context ends, leaving the running call alone.
func TestWaitingCallHonoursItsContext(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, "import time\ndef slow():\n    time.sleep(1.5)\n    return 1\n")
	first := make(chan error, 1)
	go func() {
		_, err := sb.CallResult(context.Background(), "slow")
		first <- err
	}()
	time.Sleep(200 * time.Millisecond)
	ctx, stop := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer stop()
	start := time.Now()
	_, err := sb.CallResult(ctx, "slow")
	if !errors.Is(err, isola.ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting call: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the waiting call gave up after %v", d)
	}
	if err := <-first; err != nil {
		t.Fatalf("the running call was disturbed: %v", err)
	}
	mustEval(t, sb, "1")
}

// Close from a Host goroutine while the call that made the host call waits
// for the answer: no deadlock; the call is cancelled and the sandbox freed.
func TestCloseFromAHostGoroutine(t *testing.T) {
	var sb *isola.Sandbox
	closed := make(chan struct{})
	host := isola.HostFuncs{Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
		sb.Close()
		close(closed)
		<-ctx.Done() // the call ends: cancelled by Close
		return nil, ctx.Err()
	}}
	var err error
	sb, err = tpl.NewSandbox(&isola.SandboxOptions{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- sb.Eval(context.Background(), "import sandbox\nsandbox.hostcall_sync('x')\n", nil)
	}()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close from a host goroutine deadlocked")
	}
	<-closed
	if !errors.Is(err, isola.ErrCancelled) {
		t.Fatalf("call: %v", err)
	}
	if err := sb.Eval(context.Background(), "1", nil); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := sb.IsUsable(); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("IsUsable after close: %v", err)
	}
}

func TestIsUsableAfterATimeout(t *testing.T) {
	sb := newSandbox(t, &isola.SandboxOptions{Timeout: 200 * time.Millisecond})
	if ok, err := sb.IsUsable(); !ok || err != nil {
		t.Fatalf("fresh: %v %v", ok, err)
	}
	if err := sb.Eval(context.Background(), "while True:\n    pass\n", nil); !errors.Is(err, isola.ErrTimeout) {
		t.Fatalf("spin: %v", err)
	}
	if ok, err := sb.IsUsable(); ok || err != nil {
		t.Fatalf("after timeout: %v %v", ok, err)
	}
}

func TestCapacityCountsLiveSandboxes(t *testing.T) {
	before, err := isola.CurrentCapacity()
	if err != nil {
		t.Fatal(err)
	}
	if before.MaxSandboxes == 0 || before.MaxMemoryPerSandbox == 0 {
		t.Fatalf("capacity %+v", before)
	}
	sb, err := tpl.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	during, _ := isola.CurrentCapacity()
	sb.Close()
	after, _ := isola.CurrentCapacity()
	// Finalizers of other tests' sandboxes may run meanwhile: only this
	// sandbox's own effect is certain.
	if during.LiveSandboxes < 1 || after.LiveSandboxes >= during.LiveSandboxes {
		t.Fatalf("live sandboxes %d, %d, %d", before.LiveSandboxes, during.LiveSandboxes, after.LiveSandboxes)
	}
	// The engine runs (TestMain built a template): too late to configure.
	if err := isola.ConfigureEngine(5, 0); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("ConfigureEngine after the first template: %v", err)
	}
}
