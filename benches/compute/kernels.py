"""Small pyperformance-style compute kernels, run identically by every runtime.

`make bench` evaluates this file unchanged in native CPython, in an isola
sandbox, in WASI CPython under wasmtime-py and in Pyodide (as source run
in a fresh namespace, see RUN_KERNELS in benches/run.py), then calls
`bench_run(reps)`. Each kernel is sized to take tens of milliseconds in
native CPython; the result of every kernel is a small checksum that must be
the same in every runtime (so a runtime cannot win by doing less work).

Only the standard library (json, math, re) is used. The kernels follow the
shape of the pyperformance benchmarks of the same names, written small.
"""

import json
import math
import re
import time

# --- nbody: floating-point arithmetic on lists (pyperformance "nbody") ------

_PI = 3.14159265358979323
_SOLAR_MASS = 4 * _PI * _PI
_DAYS = 365.24


def _bodies():
    def body(x, y, z, vx, vy, vz, mass):
        return ([x, y, z], [vx * _DAYS, vy * _DAYS, vz * _DAYS], mass * _SOLAR_MASS)

    return [
        body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        body(4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01,
             1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
             9.54791938424326609e-04),
        body(8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01,
             -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
             2.85885980666130812e-04),
        body(1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01,
             2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
             4.36624404335156298e-05),
        body(1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01,
             2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
             5.15138902046611451e-05),
    ]


def nbody(steps=10000):
    bodies = _bodies()
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    dt = 0.01
    for _ in range(steps):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in pairs:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1, b2 = m1 * mag, m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
        for r, [vx, vy, vz], _m in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz
    energy = 0.0
    for i, (r1, v1, m1) in enumerate(bodies):
        energy += 0.5 * m1 * (v1[0] ** 2 + v1[1] ** 2 + v1[2] ** 2)
        for r2, _v2, m2 in bodies[i + 1:]:
            d = math.sqrt(sum((a - b) ** 2 for a, b in zip(r1, r2)))
            energy -= m1 * m2 / d
    return round(energy, 9)


# --- float: object creation and math calls (pyperformance "float") ----------


class _Point:
    __slots__ = ("x", "y", "z")

    def __init__(self, i):
        self.x = x = math.sin(i)
        self.y = math.cos(i) * 3
        self.z = (x * x) / 2

    def normalize(self):
        norm = math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)
        self.x /= norm
        self.y /= norm
        self.z /= norm

    def maximize(self, other):
        self.x = max(self.x, other.x)
        self.y = max(self.y, other.y)
        self.z = max(self.z, other.z)
        return self


def float_points(n=60000):
    points = [_Point(i) for i in range(n)]
    for p in points:
        p.normalize()
    best = points[0]
    for p in points[1:]:
        best = best.maximize(p)
    return [round(best.x, 6), round(best.y, 6), round(best.z, 6)]


# --- fannkuch: list permutations and slicing (pyperformance "fannkuch") -----


def fannkuch(n=8):
    count = list(range(1, n + 1))
    max_flips = 0
    m = n - 1
    r = n
    perm1 = list(range(n))
    check = 0
    while True:
        while r != 1:
            count[r - 1] = r
            r -= 1
        if perm1[0] != 0 and perm1[m] != m:
            perm = perm1[:]
            flips = 0
            k = perm[0]
            while k:
                perm[: k + 1] = perm[k::-1]
                flips += 1
                k = perm[0]
            max_flips = max(max_flips, flips)
            check += flips
        while r != n:
            perm1.insert(r, perm1.pop(0))
            count[r] -= 1
            if count[r] > 0:
                break
            r += 1
        else:
            return [max_flips, check]


# --- spectral_norm: nested loops, function calls (pyperformance) -----------


def _eval_a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def _a_times_u(u):
    n = len(u)
    return [sum(_eval_a(i, j) * u[j] for j in range(n)) for i in range(n)]


def _at_times_u(u):
    n = len(u)
    return [sum(_eval_a(j, i) * u[j] for j in range(n)) for i in range(n)]


def spectral_norm(n=90):
    u = [1.0] * n
    for _ in range(10):
        v = _at_times_u(_a_times_u(u))
        u = _at_times_u(_a_times_u(v))
    vbv = sum(a * b for a, b in zip(u, v))
    vv = sum(b * b for b in v)
    return round(math.sqrt(vbv / vv), 9)


# --- richards: an OS task scheduler, method calls and attributes ------------
# (pyperformance "richards", the classic Martin Richards benchmark, compact)

_IDLE, _WORKER, _HANDLER_A, _HANDLER_B, _DEVICE_A, _DEVICE_B = range(6)
_KIND_DEVICE, _KIND_WORK = 0, 1


class _Packet:
    __slots__ = ("link", "ident", "kind", "datum", "data")

    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * 4

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        p = queue
        while p.link is not None:
            p = p.link
        p.link = self
        return queue


class _Task:
    __slots__ = ("ident", "priority", "queue", "waiting", "held", "state")

    def __init__(self, ident, priority, queue, state):
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = True
        self.held = False
        self.state = state

    def runnable(self):
        return not self.held and (self.queue is not None if self.waiting else True)


class _Scheduler:
    def __init__(self):
        self.tasks = [None] * 6
        self.order = []
        self.queued = 0
        self.holds = 0
        self.current = None

    def add(self, task):
        self.tasks[task.ident] = task
        self.order.append(task)
        self.order.sort(key=lambda t: -t.priority)

    def queue_packet(self, pkt):
        task = self.tasks[pkt.ident]
        self.queued += 1
        pkt.link = None
        pkt.ident = self.current.ident
        task.queue = pkt.append_to(task.queue)
        return task

    def hold(self):
        self.holds += 1
        self.current.held = True

    def release(self, ident):
        self.tasks[ident].held = False

    def wait(self):
        self.current.waiting = True

    def run(self):
        while True:
            for task in self.order:
                if task.runnable():
                    break
            else:
                return
            self.current = task
            pkt = None
            if task.waiting and task.queue is not None:
                pkt = task.queue
                task.queue = pkt.link
                task.waiting = False
            if task.ident == _IDLE:
                self._idle(task)
            elif task.ident == _WORKER:
                self._worker(task, pkt)
            elif task.ident in (_HANDLER_A, _HANDLER_B):
                self._handler(task, pkt)
            else:
                self._device(task, pkt)

    def _idle(self, task):
        st = task.state
        st["count"] -= 1
        if st["count"] == 0:
            self.hold()
            return
        v = st["v1"]
        if v & 1 == 0:
            st["v1"] = v >> 1
            self.release(_DEVICE_A)
        else:
            st["v1"] = (v >> 1) ^ 0xD008
            self.release(_DEVICE_B)

    def _worker(self, task, pkt):
        if pkt is None:
            self.wait()
            return
        st = task.state
        st["dest"] = _HANDLER_B if st["dest"] == _HANDLER_A else _HANDLER_A
        pkt.ident = st["dest"]
        pkt.datum = 0
        for i in range(4):
            st["count"] = st["count"] % 26 + 1
            pkt.data[i] = st["count"]
        self.queue_packet(pkt)

    def _handler(self, task, pkt):
        st = task.state
        if pkt is not None:
            if pkt.kind == _KIND_WORK:
                st["work"] = pkt.append_to(st["work"])
            else:
                st["device"] = pkt.append_to(st["device"])
        work = st["work"]
        if work is not None:
            count = work.datum
            if count >= 4:
                st["work"] = work.link
                self.queue_packet(work)
                return
            dev = st["device"]
            if dev is not None:
                st["device"] = dev.link
                dev.datum = work.data[count]
                work.datum = count + 1
                self.queue_packet(dev)
                return
        self.wait()

    def _device(self, task, pkt):
        st = task.state
        if pkt is None:
            held = st["pending"]
            if held is None:
                self.wait()
                return
            st["pending"] = None
            self.queue_packet(held)
        else:
            st["pending"] = pkt
            self.hold()


def richards(iterations=4):
    total = []
    for _ in range(iterations):
        s = _Scheduler()
        s.add(_Task(_IDLE, 0, None, {"count": 4000, "v1": 1}))
        s.tasks[_IDLE].waiting = False
        work = _Packet(None, 0, _KIND_WORK)
        work = _Packet(work, 0, _KIND_WORK)
        s.add(_Task(_WORKER, 1000, work, {"dest": _HANDLER_A, "count": 0}))
        for handler, device in ((_HANDLER_A, _DEVICE_A), (_HANDLER_B, _DEVICE_B)):
            q = _Packet(None, device, _KIND_DEVICE)
            q = _Packet(q, device, _KIND_DEVICE)
            q = _Packet(q, device, _KIND_DEVICE)
            s.add(_Task(handler, 2000 + handler, q, {"work": None, "device": None}))
        for device in (_DEVICE_A, _DEVICE_B):
            s.add(_Task(device, 4000 + device, None, {"pending": None}))
        s.run()
        total.append([s.queued, s.holds])
    return total[-1]


# --- json: encode and decode a nested document (pyperformance json_*) -------

_DOC = {
    "key": "some string value",
    "numbers": list(range(40)),
    "nested": [{"id": i, "name": "item %d" % i, "ok": i % 3 == 0, "score": i * 1.25,
                "tags": ["a", "bb", "ccc"], "none": None} for i in range(30)],
    "unicode": "h\u00e9llo w\u00f6rld \u2603",
}


def json_dumps(loops=300):
    size = 0
    for _ in range(loops):
        size += len(json.dumps(_DOC))
        size += len(json.dumps(_DOC, indent=2, sort_keys=True))
    return size


def json_loads(loops=600):
    text = json.dumps(_DOC)
    pretty = json.dumps(_DOC, indent=2)
    count = 0
    for _ in range(loops):
        count += len(json.loads(text)["nested"])
        count += len(json.loads(pretty)["numbers"])
    return count


# --- regex: compile-once patterns over generated text (regex_v8-like) -------


def regex(loops=25):
    words = ["alpha", "beta42", "gamma", "delta-7", "user@example.org", "2026-12-01",
             "http://a.example/x?y=1", "Zeta", "eta_9", "theta", "IOTA", "kappa.lambda"]
    text = " ".join(words[(i * 7) % len(words)] for i in range(1500))
    patterns = [
        re.compile(r"\b[a-z]+\d+\b"),
        re.compile(r"[\w.]+@[\w.]+\.\w+"),
        re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
        re.compile(r"https?://[^\s?]+(\?\S*)?"),
        re.compile(r"\b[A-Z][a-z]+\b"),
        re.compile(r"(?i)\bkappa\.(\w+)"),
    ]
    found = 0
    for _ in range(loops):
        for pat in patterns:
            found += len(pat.findall(text))
        found += len(re.sub(r"\d", "#", text))
        found += len(text.split())
    return found


# --- pidigits: big-integer arithmetic (pyperformance "pidigits") -----------


def pidigits(digits=1000):
    out = []
    q, r, t, k, n, l = 1, 0, 1, 1, 3, 3
    while len(out) < digits:
        if 4 * q + r - t < n * t:
            out.append(n)
            q, r, n = 10 * q, 10 * (r - n * t), (10 * (3 * q + r)) // t - 10 * n
        else:
            q, r, t, k, n, l = (q * k, (2 * q + r) * l, t * l, k + 1,
                                (q * (7 * k + 2) + r * l) // (t * l), l + 2)
    return "".join(map(str, out[-12:]))


KERNELS = {
    "nbody": nbody,
    "float": float_points,
    "fannkuch": fannkuch,
    "spectral_norm": spectral_norm,
    "richards": richards,
    "json_dumps": json_dumps,
    "json_loads": json_loads,
    "regex": regex,
    "pidigits": pidigits,
}


def bench_run(reps=5, only=None):
    """Run every kernel once to warm up, then `reps` timed times.

    Returns {name: {"seconds": [..], "check": checksum}}; times come from
    the runtime's own `time.perf_counter`, so host call overhead is not
    counted.
    """
    results = {}
    for name, fn in KERNELS.items():
        if only and name not in only:
            continue
        check = fn()
        seconds = []
        for _ in range(reps):
            start = time.perf_counter()
            again = fn()
            seconds.append(time.perf_counter() - start)
            if again != check:
                raise AssertionError("%s is not deterministic: %r != %r" % (name, again, check))
        results[name] = {"seconds": seconds, "check": check}
    return results

