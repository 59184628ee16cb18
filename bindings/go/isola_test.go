package isola_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	isola "github.com/isola-sandbox/isola/bindings/go"
)

var tpl *isola.Template

func TestMain(m *testing.M) {
	var err error
	tpl, err = isola.NewTemplate(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "NewTemplate:", err)
		os.Exit(1)
	}
	code := m.Run()
	tpl.Close()
	os.Exit(code)
}

func newSandbox(t *testing.T, opts *isola.SandboxOptions) *isola.Sandbox {
	t.Helper()
	sb, err := tpl.NewSandbox(opts)
	if err != nil {
		t.Fatalf("NewSandbox: %v", err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func mustEval(t *testing.T, sb *isola.Sandbox, code string) {
	t.Helper()
	if err := sb.Eval(context.Background(), code, nil); err != nil {
		t.Fatalf("Eval: %v", err)
	}
}

func jsonEq(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("result %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestVersion(t *testing.T) {
	if v := isola.Version(); v != isola.HeaderVersion {
		t.Fatalf("library %q, header %q", v, isola.HeaderVersion)
	}
}

func TestEvalAndCall(t *testing.T) {
	sb := newSandbox(t, nil)
	ctx := context.Background()
	var c isola.Collector
	if err := sb.Eval(ctx, "def add(a, b):\n    return a + b\n40 + 2", &c); err != nil {
		t.Fatal(err)
	}
	// The script ends with an expression: its value is the eval's result.
	jsonEq(t, c.Result(), "42")
	res, err := sb.CallResult(ctx, "add", 40, 2)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, "42")
	// Big integers keep full precision.
	res, err = sb.CallResult(ctx, "add", json.RawMessage("9007199254740993"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != "9007199254740993" {
		t.Fatalf("got %s", res)
	}
	n, err := isola.CallAs[int](ctx, sb, "add", 1, 2)
	if err != nil || n != 3 {
		t.Fatalf("CallAs = %v, %v", n, err)
	}
	s, err := isola.CallAs[string](ctx, sb, "add", "ab", "cd")
	if err != nil || s != "abcd" {
		t.Fatalf("CallAs = %q, %v", s, err)
	}
	// Unknown function.
	if _, err := sb.CallResult(ctx, "nope"); err == nil {
		t.Fatal("calling an unknown function succeeded")
	}
}

func TestKwargs(t *testing.T) {
	sb := newSandbox(t, nil)
	ctx := context.Background()
	mustEval(t, sb, "def f(a, b=1, *, c=0, **rest):\n    return {'a': a, 'b': b, 'c': c, 'rest': rest}\n")
	var c isola.Collector
	if err := sb.Call(ctx, "f", []any{1}, map[string]any{"c": "x", "z": []int{1, 2}}, &c); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, c.Result(), `{"a":1,"b":1,"c":"x","rest":{"z":[1,2]}}`)

	c.Reset()
	if err := sb.CallJSON(ctx, "f", `[5, 6]`, `{"c": true}`, &c); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, c.Result(), `{"a":5,"b":6,"c":true,"rest":{}}`)

	c.Reset()
	if err := sb.CallArgs(ctx, "f", isola.Args(7).Named("c", nil), &c); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, c.Result(), `{"a":7,"b":1,"c":null,"rest":{}}`)

	if err := sb.CallJSON(ctx, "f", `[1,`, "", nil); !errors.Is(err, isola.ErrInvalidArgument) {
		t.Fatalf("malformed JSON: %v", err)
	}
}

func TestGeneratorOrder(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, `
def gen(n):
    for i in range(n):
        print("tick", i)
        yield {"i": i}
    return "done"
`)
	var c isola.Collector
	if err := sb.Call(context.Background(), "gen", []any{3}, nil, &c); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range c.Events {
		kinds = append(kinds, e.Kind.String())
	}
	// stdout may be buffered per line; items must come in order and the
	// result last.
	items := c.Items()
	if len(items) != 3 {
		t.Fatalf("items %v (events %v)", items, kinds)
	}
	for i, it := range items {
		jsonEq(t, it, fmt.Sprintf(`{"i":%d}`, i))
	}
	if last := c.Events[len(c.Events)-1]; last.Kind != isola.EventResult {
		t.Fatalf("last event %v, events %v", last.Kind, kinds)
	}
	jsonEq(t, c.Result(), `"done"`)
	if got := c.Stdout(); got != "tick 0\ntick 1\ntick 2\n" {
		t.Fatalf("stdout %q", got)
	}
	// Items are interleaved with the output that preceded them.
	if kinds[0] != "stdout" || kinds[1] != "item" {
		t.Fatalf("events %v", kinds)
	}
}

func TestOutputEvents(t *testing.T) {
	sb := newSandbox(t, nil)
	var c isola.Collector
	err := sb.Eval(context.Background(), `
import sys, logging
print("hello")
print("oops", file=sys.stderr)
logging.getLogger("agent").warning("careful %d", 3)
`, &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdout() != "hello\n" {
		t.Fatalf("stdout %q", c.Stdout())
	}
	if c.Stderr() != "oops\n" {
		t.Fatalf("stderr %q", c.Stderr())
	}
	logs := c.Logs()
	if len(logs) != 1 || logs[0].Level != 30 || logs[0].Logger != "agent" || !strings.Contains(logs[0].Text, "careful 3") {
		t.Fatalf("logs %+v", logs)
	}
	// SinkFuncs with only some functions set.
	var out []string
	err = sb.Eval(context.Background(), "print('a'); import sys; print('b', file=sys.stderr)",
		isola.SinkFuncs{Stdout: func(s string) { out = append(out, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(out, "") != "a\n" {
		t.Fatalf("stdout %q", out)
	}
}

func TestGuestException(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, "def bad(x):\n    raise ValueError('bad value %s' % x)\n")
	_, err := sb.CallResult(context.Background(), "bad", 7)
	if !errors.Is(err, isola.ErrGuestException) {
		t.Fatalf("err %v", err)
	}
	if errors.Is(err, isola.ErrTimeout) {
		t.Fatal("guest exception matches ErrTimeout")
	}
	var e *isola.Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *isola.Error: %T", err)
	}
	if e.GuestType != "ValueError" || !strings.Contains(e.Message, "Traceback") || !strings.Contains(e.Message, "bad value 7") {
		t.Fatalf("error %#v", e)
	}
	if e.ExitStatus != 0 {
		t.Fatalf("exit status %d of a ValueError", e.ExitStatus)
	}
	// The sandbox stays usable.
	mustEval(t, sb, "x = 1")
}

func TestEvalNamedNamesTheSourceInTracebacks(t *testing.T) {
	sb := newSandbox(t, nil)
	err := sb.EvalNamed(context.Background(), "def f():\n    return 1 // 0\nf()\n", "/srv/job.py", nil)
	var e *isola.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "File \"/srv/job.py\", line 2, in f") {
		t.Fatalf("err %#v", err)
	}
	var c isola.Collector
	if err := sb.EvalNamed(context.Background(), "print(__import__('inspect').currentframe().f_code.co_filename)", "cell.py", &c); err != nil {
		t.Fatal(err)
	}
	if got := c.Stdout(); got != "cell.py\n" {
		t.Fatalf("stdout %q", got)
	}
}

func TestSystemExitCarriesTheExitStatus(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, "import sys\ndef leave(code):\n    sys.exit(code)\n")
	if res, err := sb.CallResult(context.Background(), "leave", 0); err != nil || string(res) != "null" {
		t.Fatalf("sys.exit(0): %s, %v", res, err)
	}
	for code, want := range map[any]int{3: 3, 300: 300, "usage": 1} {
		_, err := sb.CallResult(context.Background(), "leave", code)
		var e *isola.Error
		if !errors.As(err, &e) || e.GuestType != "SystemExit" || e.ExitStatus != want {
			t.Fatalf("sys.exit(%v): %#v", code, err)
		}
	}
}

func TestTimeout(t *testing.T) {
	sb := newSandbox(t, &isola.SandboxOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := sb.Eval(context.Background(), "while True:\n    pass\n", nil)
	if !errors.Is(err, isola.ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if err := sb.Eval(context.Background(), "1", nil); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("after timeout: %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	sb := newSandbox(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := sb.Eval(ctx, "while True:\n    pass\n", nil)
	d := time.Since(start)
	if !errors.Is(err, isola.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if d > 1200*time.Millisecond {
		t.Fatalf("cancel took %v", d)
	}
	if err := sb.Eval(context.Background(), "1", nil); err == nil {
		t.Fatal("a cancelled sandbox still runs code")
	}

	// A deadline works the same way.
	sb2 := newSandbox(t, nil)
	dctx, dcancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer dcancel()
	err = sb2.Eval(dctx, "while True:\n    pass\n", nil)
	if !errors.Is(err, isola.ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}

	// A context already done: nothing runs, the sandbox stays usable.
	sb3 := newSandbox(t, nil)
	if err := sb3.Eval(ctx, "1", nil); !errors.Is(err, isola.ErrCancelled) {
		t.Fatalf("done ctx: %v", err)
	}
	mustEval(t, sb3, "1")
}

func TestCancelFromOtherGoroutine(t *testing.T) {
	sb := newSandbox(t, nil)
	// With no call running a cancel does nothing and says so.
	if running, err := sb.Cancel(); running || err != nil {
		t.Fatalf("idle cancel: %v %v", running, err)
	}
	mustEval(t, sb, "x = 1")
	go func() {
		for {
			time.Sleep(20 * time.Millisecond)
			if running, err := sb.Cancel(); running || err != nil {
				return
			}
		}
	}()
	err := sb.Eval(context.Background(), "while True:\n    pass\n", nil)
	if !errors.Is(err, isola.ErrCancelled) {
		t.Fatalf("err %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	sb := newSandbox(t, &isola.SandboxOptions{MaxMemory: 64 << 20})
	mustEval(t, sb, `
def grab(mib):
    try:
        b = bytearray(mib << 20)
        return len(b)
    except MemoryError:
        return "MemoryError"
`)
	res, err := sb.CallResult(context.Background(), "grab", 256)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `"MemoryError"`)
	// Uncaught.
	err = sb.Eval(context.Background(), "x = bytearray(512 << 20)", nil)
	if !errors.Is(err, isola.ErrMemoryLimit) || !strings.Contains(err.Error(), "MemoryError") {
		t.Fatalf("uncaught: %v", err)
	}
	// Still usable, and small allocations work.
	res, err = sb.CallResult(context.Background(), "grab", 1)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, fmt.Sprint(1<<20))
	used, err := sb.MemoryUsage()
	if err != nil || used == 0 || used > 64<<20 {
		t.Fatalf("MemoryUsage %d, %v", used, err)
	}
}

func TestHostCallsConcurrent(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	host := isola.HostFuncs{Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		var p struct{ I int }
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, err
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return json.Marshal(map[string]any{"name": name, "double": p.I * 2})
	}}
	sb := newSandbox(t, &isola.SandboxOptions{Host: host})
	mustEval(t, sb, `
import asyncio, sandbox
async def fan(n):
    answers = await asyncio.gather(*[sandbox.hostcall("work", {"i": i}) for i in range(n)])
    return [a["double"] for a in answers]
def one():
    return sandbox.hostcall_sync("work", {"i": 21})
`)
	start := time.Now()
	res, err := sb.CallResult(context.Background(), "fan", 8)
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `[0,2,4,6,8,10,12,14]`)
	if d >= 350*time.Millisecond {
		t.Fatalf("8 concurrent host calls of 50 ms took %v (max in flight %d)", d, maxInFlight.Load())
	}
	t.Logf("8 host calls: %v, max in flight %d", d, maxInFlight.Load())
	res, err = sb.CallResult(context.Background(), "one")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `{"name":"work","double":42}`)
}

func TestHostError(t *testing.T) {
	host := isola.HostFuncs{Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
		if name == "panic" {
			panic("boom")
		}
		return nil, fmt.Errorf("no tool named %s", name)
	}}
	sb := newSandbox(t, &isola.SandboxOptions{Host: host})
	mustEval(t, sb, `
import sandbox
async def ask(name):
    try:
        await sandbox.hostcall(name, None)
    except sandbox.HostError as e:
        return ["HostError", str(e)]
`)
	res, err := sb.CallResult(context.Background(), "ask", "search")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `["HostError","no tool named search"]`)
	res, err = sb.CallResult(context.Background(), "ask", "panic")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res), "boom") {
		t.Fatalf("panic answer %s", res)
	}
	// Uncaught HostError surfaces as a guest exception.
	err = sb.Eval(context.Background(), "await sandbox.hostcall('x')", nil)
	var e *isola.Error
	if !errors.As(err, &e) || e.Code != isola.CodeGuestException || e.GuestType != "HostError" {
		t.Fatalf("uncaught: %v", err)
	}

	// Without a host the operation is refused in the guest.
	plain := newSandbox(t, nil)
	err = plain.Eval(context.Background(), "import sandbox\nawait sandbox.hostcall('x')", nil)
	if !errors.Is(err, isola.ErrGuestException) {
		t.Fatalf("no host: %v", err)
	}
}

func TestHTTP(t *testing.T) {
	var seen *isola.HTTPRequest
	host := isola.HostFuncs{HTTP: func(ctx context.Context, req *isola.HTTPRequest) (*isola.HTTPResponse, error) {
		if strings.Contains(req.URL, "forbidden") {
			return nil, errors.New("blocked by policy")
		}
		seen = req
		return &isola.HTTPResponse{
			Status: 201,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   []byte(fmt.Sprintf(`{"echo": %q, "len": %d}`, req.Method, len(req.Body))),
		}, nil
	}}
	sb := newSandbox(t, &isola.SandboxOptions{Host: host})
	mustEval(t, sb, `
from sandbox import http
import urllib.request
async def fetch():
    r = await http.post("https://api.example.test/x", headers={"X-Token": "t1"}, body=b"abc")
    return [r.status, r.header("content-type"), await r.json()]
def blocked():
    try:
        http.get_sync("https://forbidden.example.test/")
    except http.HTTPError as e:
        return str(e)
def via_urllib():
    with urllib.request.urlopen("https://api.example.test/u") as r:
        return r.read().decode()
`)
	res, err := sb.CallResult(context.Background(), "fetch")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `[201,"application/json",{"echo":"POST","len":3}]`)
	if seen == nil || seen.Method != "POST" || seen.URL != "https://api.example.test/x" ||
		seen.Header.Get("X-Token") != "t1" || string(seen.Body) != "abc" {
		t.Fatalf("request %+v", seen)
	}
	res, err = sb.CallResult(context.Background(), "blocked")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res), "blocked by policy") {
		t.Fatalf("blocked: %s", res)
	}
	res, err = sb.CallResult(context.Background(), "via_urllib")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `"{\"echo\": \"GET\", \"len\": 0}"`)
}

func TestTemplateDefaultHost(t *testing.T) {
	host := isola.HostFuncs{Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`"from default host"`), nil
	}}
	tp, err := isola.NewTemplate(&isola.TemplateOptions{
		Prelude:  "import sandbox\nGREETING = 'hi'\n",
		Defaults: isola.SandboxOptions{Host: host, Env: map[string]string{"MODE": "test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	sb, err := tp.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	mustEval(t, sb, "import os\nasync def f():\n    return [GREETING, os.environ['MODE'], await sandbox.hostcall('x')]\n")
	res, err := sb.CallResult(context.Background(), "f")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `["hi","test","from default host"]`)
}

func TestStream(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, `
def doubled(xs, label="x"):
    total = 0
    for x in xs:
        total += x
        yield [label, x * 2]
    return total
async def asum(xs):
    return sum([x async for x in xs])
`)
	st, err := isola.NewStream(2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Free()
	pushErr := make(chan error, 1)
	go func() {
		for i := 1; i <= 20; i++ {
			if err := st.Push(i); err != nil {
				pushErr <- err
				return
			}
		}
		pushErr <- st.Close()
	}()
	var c isola.Collector
	if err := sb.CallArgs(context.Background(), "doubled", new(isola.CallArgs).Stream(st).Named("label", "n"), &c); err != nil {
		t.Fatal(err)
	}
	if err := <-pushErr; err != nil {
		t.Fatal(err)
	}
	items := c.Items()
	if len(items) != 20 {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		jsonEq(t, it, fmt.Sprintf(`["n",%d]`, 2*(i+1)))
	}
	jsonEq(t, c.Result(), "210")

	// Named stream consumed with async for; values pushed before the call.
	st2, _ := isola.NewStream(4)
	defer st2.Free()
	for _, v := range []int{1, 2, 3} {
		if err := st2.Push(v); err != nil {
			t.Fatal(err)
		}
	}
	st2.Close()
	c.Reset()
	if err := sb.CallArgs(context.Background(), "asum", new(isola.CallArgs).NamedStream("xs", st2), &c); err != nil {
		t.Fatal(err)
	}
	jsonEq(t, c.Result(), "6")
	// A stream feeds one call only; pushing after its call fails.
	if err := st2.Push(4); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("push after close: %v", err)
	}
	if err := sb.CallArgs(context.Background(), "asum", new(isola.CallArgs).Stream(st2), nil); err == nil {
		t.Fatal("a stream fed two calls")
	}
}

// A failed stream ends the guest's loop with sandbox.StreamError(message),
// after the values pushed before the failure; the stream is closed then.
func TestStreamFail(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, `
import sandbox
def relay(xs):
    try:
        for x in xs:
            yield x
    except sandbox.StreamError as e:
        return [type(e).__name__, str(e)]
    return "no error"
`)
	st, err := isola.NewStream(2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Free()
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 5; i++ {
			if err := st.Push(i); err != nil {
				done <- err
				return
			}
		}
		done <- st.Fail("upstream broke at 6")
	}()
	var c isola.Collector
	if err := sb.CallArgs(context.Background(), "relay", new(isola.CallArgs).Stream(st), &c); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Every value pushed before Fail arrives, in order, before the error.
	var got []string
	for _, e := range c.Events {
		got = append(got, e.Kind.String()+":"+string(e.Value))
	}
	if len(got) != 6 || strings.Join(got[:5], " ") != "item:1 item:2 item:3 item:4 item:5" || got[5][:7] != "result:" {
		t.Fatalf("events %v", got)
	}
	var res []string
	if err := json.Unmarshal(c.Result(), &res); err != nil || len(res) != 2 {
		t.Fatalf("result %s: %v", c.Result(), err)
	}
	// str(e) contains the message (the library may prefix it).
	if res[0] != "StreamError" || !strings.Contains(res[1], "upstream broke at 6") {
		t.Fatalf("guest saw %q", res)
	}
	if err := st.Push(7); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("push after Fail: %v", err)
	}
}

func TestEvalResult(t *testing.T) {
	sb := newSandbox(t, nil)
	ctx := context.Background()
	res, err := sb.EvalResult(ctx, "x = 20\nx + 22")
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != "42" {
		t.Fatalf("EvalResult = %s, want 42", res)
	}
	res, err = sb.EvalResult(ctx, "y = 1")
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != "null" {
		t.Fatalf("EvalResult = %s, want null", res)
	}
	// Without a JSON form the result is the repr text.
	res, err = sb.EvalResult(ctx, "{1, 2}")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, `"{1, 2}"`)
	// Exactly one result per eval, after the script's output.
	var c isola.Collector
	if err := sb.Eval(ctx, "print(x)\nx * 2", &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Events) != 2 || c.Events[0].Kind != isola.EventStdout || c.Events[1].Kind != isola.EventResult {
		t.Fatalf("events %+v", c.Events)
	}
	jsonEq(t, c.Result(), "40")
	if _, err := sb.EvalResult(ctx, "raise ValueError('no')"); !errors.Is(err, isola.ErrGuestException) {
		t.Fatalf("err %v", err)
	}
}

func TestMountsAndEnv(t *testing.T) {
	ro, rw := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "data.txt"), []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ro, "script.py"), []byte("FROM_FILE = open('/data/data.txt').read().upper()\nprint('script ran')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := newSandbox(t, &isola.SandboxOptions{
		Mounts: []isola.Mount{{Host: ro, Guest: "/data"}, {Host: rw, Guest: "/out", ReadWrite: true}},
		Env:    map[string]string{"AGENT": "go", "LEVEL": "3"},
	})
	var c isola.Collector
	if err := sb.EvalFile(context.Background(), "/data/script.py", &c); err != nil {
		t.Fatal(err)
	}
	if c.Stdout() != "script ran\n" {
		t.Fatalf("stdout %q", c.Stdout())
	}
	mustEval(t, sb, `
import os
def check():
    with open("/out/result.txt", "w") as f:
        f.write(FROM_FILE)
    try:
        open("/data/new.txt", "w").write("x")
        ro = "writable"
    except OSError:
        ro = "read-only"
    return [FROM_FILE, ro, os.environ["AGENT"], os.environ["LEVEL"], "HOME" in os.environ and os.environ["HOME"] == os.getenv("HOME")]
`)
	res, err := sb.CallResult(context.Background(), "check")
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	json.Unmarshal(res, &got)
	if len(got) != 5 || got[0] != "PAYLOAD" || got[1] != "read-only" || got[2] != "go" || got[3] != "3" {
		t.Fatalf("got %s", res)
	}
	b, err := os.ReadFile(filepath.Join(rw, "result.txt"))
	if err != nil || string(b) != "PAYLOAD" {
		t.Fatalf("host file %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "new.txt")); err == nil {
		t.Fatal("guest wrote into a read-only mount")
	}
}

func TestManySandboxesConcurrently(t *testing.T) {
	const n, workers = 50, 8
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				errs <- func() error {
					sb, err := tpl.NewSandbox(nil)
					if err != nil {
						return err
					}
					defer sb.Close()
					ctx := context.Background()
					if err := sb.Eval(ctx, fmt.Sprintf("SECRET = %d\ndef get(k):\n    return [SECRET, SECRET * k]\n", i), nil); err != nil {
						return err
					}
					for k := 1; k <= 3; k++ {
						res, err := sb.CallResult(ctx, "get", k)
						if err != nil {
							return err
						}
						if want := fmt.Sprintf("[%d,%d]", i, i*k); strings.ReplaceAll(string(res), " ", "") != want {
							return fmt.Errorf("sandbox %d: got %s want %s", i, res, want)
						}
					}
					return nil
				}()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d sandboxes on %d goroutines: %v", n, workers, time.Since(start))
}

func TestConcurrentCallsSerialize(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, "count = 0\ndef inc():\n    global count\n    count += 1\n    return count\n")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := sb.CallResult(context.Background(), "inc"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	res, err := sb.CallResult(context.Background(), "inc")
	if err != nil {
		t.Fatal(err)
	}
	jsonEq(t, res, "81")
}

func TestCloseTwice(t *testing.T) {
	sb, err := tpl.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Eval(context.Background(), "1", nil); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("eval after close: %v", err)
	}
	if _, err := sb.Cancel(); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("cancel after close: %v", err)
	}
	tp, err := isola.NewTemplate(nil)
	if err != nil {
		t.Fatal(err)
	}
	sb2, err := tp.NewSandbox(nil)
	if err != nil {
		t.Fatal(err)
	}
	tp.Close()
	tp.Close()
	if _, err := tp.NewSandbox(nil); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("NewSandbox after close: %v", err)
	}
	// A sandbox outlives its template.
	mustEval(t, sb2, "1")
	sb2.Close()
	st, _ := isola.NewStream(1)
	st.Free()
	st.Free()
	if err := st.Push(1); !errors.Is(err, isola.ErrInvalidState) {
		t.Fatalf("push after free: %v", err)
	}
}

func TestSinkPanicIsReraised(t *testing.T) {
	sb := newSandbox(t, nil)
	func() {
		defer func() {
			if v := recover(); v != "sink exploded" {
				t.Fatalf("recovered %v", v)
			}
		}()
		sb.Eval(context.Background(), "print('x')\nprint('y')", isola.SinkFuncs{Stdout: func(string) { panic("sink exploded") }})
		t.Fatal("no panic")
	}()
	mustEval(t, sb, "1")
}

func TestErrorStrings(t *testing.T) {
	err := &isola.Error{Code: isola.CodeTimeout, Message: "too slow"}
	if err.Error() != "isola: TIMEOUT: too slow" || !errors.Is(err, isola.ErrTimeout) || errors.Is(err, isola.ErrCancelled) {
		t.Fatalf("%v", err)
	}
	if _, err := isola.NewStream(0); !errors.Is(err, isola.ErrInvalidArgument) {
		t.Fatalf("NewStream(0): %v", err)
	}
	if _, err := tpl.NewSandbox(&isola.SandboxOptions{Env: map[string]string{"A=B": "x"}}); !errors.Is(err, isola.ErrInvalidArgument) {
		t.Fatalf("bad env: %v", err)
	}
	if _, err := tpl.NewSandbox(&isola.SandboxOptions{Mounts: []isola.Mount{{Host: "/nonexistent/dir", Guest: "/x"}}}); err == nil {
		t.Fatal("mounting a missing directory succeeded")
	}
}

// goid returns the current goroutine's id, parsed from runtime.Stack.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	return strings.Fields(string(buf))[1]
}

// grow uses about n KiB of goroutine stack, forcing stack growth (the
// operation that used to abort with "morestack on g0" when a callback ran on
// a wasmtime fiber stack).
func grow(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return grow(n-1) + int(pad[n%1024])
}

// Eval and Call are plain cgo calls: sink callbacks run on the calling
// goroutine and its OS thread, before the call returns, and may grow the
// goroutine stack; host calls interleave with them.
func TestCallbacksOnCallingGoroutine(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wantG, wantTid := goid(), syscall.Gettid()

	var hostCalls atomic.Int32
	host := isola.HostFuncs{Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
		hostCalls.Add(1)
		return payload, nil
	}}
	sb := newSandbox(t, &isola.SandboxOptions{Host: host})
	var events, wrong int
	check := func() {
		events++
		if goid() != wantG || syscall.Gettid() != wantTid {
			wrong++
		}
		grow(256)
	}
	sink := isola.SinkFuncs{
		Item:   func(json.RawMessage) { check() },
		Result: func(json.RawMessage) { check() },
		Stdout: func(string) { check() },
		Log:    func(int, string, string) { check() },
	}
	mustEval(t, sb, `
import logging, sandbox
def gen(n):
    for i in range(n):
        print(i)
        logging.warning("w%d", i)
        yield sandbox.hostcall_sync("echo", {"i": i})["i"]
`)
	for round := 0; round < 3; round++ {
		events = 0
		if err := sb.Call(context.Background(), "gen", []any{20}, nil, sink); err != nil {
			t.Fatal(err)
		}
		if events != 61 {
			t.Fatalf("round %d: %d sink events, want 61", round, events)
		}
	}
	if wrong != 0 {
		t.Fatalf("%d sink callbacks ran off the calling goroutine/thread", wrong)
	}
	if n := hostCalls.Load(); n != 60 {
		t.Fatalf("%d host calls, want 60", n)
	}
}

func BenchmarkCall(b *testing.B) {
	sb, err := tpl.NewSandbox(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	if err := sb.Eval(context.Background(), "def add(a, b):\n    return a + b\n", nil); err != nil {
		b.Fatal(err)
	}
	var c isola.Collector
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Reset()
		if err := sb.CallJSON(context.Background(), "add", "[1, 2]", "", &c); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOutputLimit(t *testing.T) {
	sb := newSandbox(t, &isola.SandboxOptions{MaxOutputBytes: 1 << 16})
	err := sb.Eval(context.Background(), "for i in range(10000):\n    print('x' * 100)\n", nil)
	if !errors.Is(err, isola.ErrOutputLimit) {
		t.Fatalf("err %v", err)
	}
}

// A streamed body reaches the guest chunk by chunk: the guest reads the
// first event (and tells the host) before the host writes the last one.
func TestHTTPBodyStream(t *testing.T) {
	sawFirst := make(chan struct{})
	var once sync.Once
	var firstBeforeLast atomic.Bool
	host := isola.HostFuncs{
		Call: func(ctx context.Context, name string, payload json.RawMessage) (json.RawMessage, error) {
			if name == "saw" && strings.Contains(string(payload), "one") {
				once.Do(func() { close(sawFirst) })
			}
			return nil, nil
		},
		HTTP: func(ctx context.Context, req *isola.HTTPRequest) (*isola.HTTPResponse, error) {
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte("data: one\n\n"))
				select {
				case <-sawFirst:
					firstBeforeLast.Store(true)
				case <-time.After(60 * time.Second):
				}
				_, _ = pw.Write([]byte("data: two\n\n"))
				if strings.Contains(req.URL, "broken") {
					pw.CloseWithError(errors.New("upstream reset"))
				} else {
					pw.Close()
				}
			}()
			return &isola.HTTPResponse{
				Header:     http.Header{"Content-Type": {"text/event-stream"}},
				BodyStream: pr,
			}, nil
		},
	}
	sb := newSandbox(t, &isola.SandboxOptions{Host: host})
	mustEval(t, sb, `
from sandbox import http
import sandbox
async def events(url):
    r = await http.get(url)
    yield [r.status, r.header("content-type")]
    try:
        async for chunk in r.aiter_bytes():
            await sandbox.hostcall("saw", chunk.decode())
            yield chunk.decode()
    except http.HTTPError as e:
        yield "error: " + str(e)
`)
	var items []string
	sink := isola.SinkFuncs{Item: func(v json.RawMessage) { items = append(items, string(v)) }}
	if err := sb.Call(context.Background(), "events", []any{"https://llm.test/stream"}, nil, sink); err != nil {
		t.Fatal(err)
	}
	want := `[200,"text/event-stream"]|"data: one\n\n"|"data: two\n\n"`
	if got := strings.Join(items, "|"); got != want {
		t.Fatalf("items %s, want %s", got, want)
	}
	if !firstBeforeLast.Load() {
		t.Fatal("the guest did not see the first event before the last was written")
	}
	items = nil
	sawFirst = make(chan struct{})
	once = sync.Once{}
	if err := sb.Call(context.Background(), "events", []any{"https://llm.test/broken"}, nil, sink); err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 || !strings.Contains(items[3], "upstream reset") {
		t.Fatalf("broken stream items %v", items)
	}
}

func TestItems(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, `
import time
def count(n):
    for i in range(n):
        yield {"i": i}
    return "done"
def broken():
    yield 1
    raise ValueError("bad item")
def forever():
    i = 0
    while True:
        i += 1
        yield i
`)
	var got []string
	for item, err := range sb.Items(context.Background(), "count", 3) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(item))
	}
	if strings.Join(got, ",") != `{"i":0},{"i":1},{"i":2}` {
		t.Fatalf("items %v", got)
	}

	got = nil
	var last error
	for item, err := range sb.Items(context.Background(), "broken") {
		if err != nil {
			last = err
			continue
		}
		got = append(got, string(item))
	}
	if len(got) != 1 || got[0] != "1" || !errors.Is(last, isola.ErrGuestException) ||
		!strings.Contains(last.Error(), "bad item") {
		t.Fatalf("items %v, error %v", got, last)
	}

	// Breaking out stops an endless generator and returns once the call has.
	n := 0
	for item, err := range sb.Items(context.Background(), "forever") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if string(item) == "5" {
			break
		}
	}
	if n != 5 {
		t.Fatalf("took %d items", n)
	}
	if usable, _ := sb.IsUsable(); usable {
		t.Fatal("a call stopped by break should have been cancelled")
	}
}

// MemoryUsage answers while a call runs, without waiting for it: here
// from the call's own sink callback, where waiting would never end.
func TestMemoryUsageDuringACall(t *testing.T) {
	sb := newSandbox(t, nil)
	mustEval(t, sb, "def gen():\n    data = bytearray(8 << 20)\n    yield len(data)\n")
	var used uint64
	var usageErr error
	sink := isola.SinkFuncs{Item: func(json.RawMessage) { used, usageErr = sb.MemoryUsage() }}
	if err := sb.Call(context.Background(), "gen", nil, nil, sink); err != nil {
		t.Fatal(err)
	}
	if usageErr != nil || used < 8<<20 {
		t.Fatalf("MemoryUsage %d, %v", used, usageErr)
	}
}

func TestStdinIsWhatTheHostGave(t *testing.T) {
	sb := newSandbox(t, &isola.SandboxOptions{Stdin: []byte("21\nrest")})
	mustEval(t, sb, "import sys\ndef first():\n    return int(input()) * 2\ndef rest():\n    return [sys.stdin.read(), sys.stdin.read()]\n")
	res, err := sb.CallResult(context.Background(), "first")
	if err != nil || string(res) != "42" {
		t.Fatalf("first: %s, %v", res, err)
	}
	res, err = sb.CallResult(context.Background(), "rest")
	if err != nil || string(res) != `["rest",""]` {
		t.Fatalf("rest: %s, %v", res, err)
	}
	plain := newSandbox(t, nil)
	mustEval(t, plain, "import sys\ndef rest():\n    return sys.stdin.read()\n")
	if res, err := plain.CallResult(context.Background(), "rest"); err != nil || string(res) != `""` {
		t.Fatalf("default stdin: %s, %v", res, err)
	}
}
