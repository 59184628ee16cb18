//! Tests of the isola Zig binding (`zig build test`).
const std = @import("std");
const isola = @import("isola");
const testing = std.testing;

var shared_template: ?isola.Template = null;

/// One template for all tests of the process (a template is thread-safe).
fn tpl() !*const isola.Template {
    if (shared_template == null) shared_template = try isola.Template.init(.{});
    return &shared_template.?;
}

/// Evaluate `code` and expect its result, as JSON text, to be `expected`.
fn expectEvalResult(sb: *isola.Sandbox, code: [:0]const u8, expected: []const u8) !void {
    const got = try sb.evalResult(testing.allocator, code);
    defer testing.allocator.free(got);
    try testing.expectEqualStrings(expected, got);
}

fn sleepMs(ms: i64) void {
    testing.io.sleep(.fromMilliseconds(ms), .awake) catch {};
}

fn nowMs() i64 {
    return std.Io.Timestamp.now(testing.io, .awake).toMilliseconds();
}

test "version matches the header" {
    var buf: [32]u8 = undefined;
    const expected = try std.fmt.bufPrint(&buf, "{d}.{d}.{d}", .{ isola.c.ISOLA_VERSION_MAJOR, isola.c.ISOLA_VERSION_MINOR, isola.c.ISOLA_VERSION_PATCH });
    try testing.expectEqualStrings(expected, isola.version());
    try testing.expectEqualStrings("TIMEOUT", isola.ErrorCode.timeout.name());
}

test "every code of the C API has its own error" {
    // RESOURCE_EXHAUSTED (a full sandbox pool: free one and retry) was
    // error.Internal (a bug), so a Zig host could not tell the two apart.
    const codes = [_]u32{
        isola.c.ISOLA_ERROR_INVALID_ARGUMENT, isola.c.ISOLA_ERROR_INVALID_STATE,
        isola.c.ISOLA_ERROR_GUEST_EXCEPTION,  isola.c.ISOLA_ERROR_TIMEOUT,
        isola.c.ISOLA_ERROR_CANCELLED,        isola.c.ISOLA_ERROR_MEMORY_LIMIT,
        isola.c.ISOLA_ERROR_OUTPUT_LIMIT,     isola.c.ISOLA_ERROR_IO,
        isola.c.ISOLA_ERROR_TRAP,             isola.c.ISOLA_ERROR_INTERNAL,
        isola.c.ISOLA_ERROR_RESOURCE_EXHAUSTED,
    };
    for (codes, 0..) |code, i| {
        const err = @as(isola.ErrorCode, @enumFromInt(code)).toError();
        for (codes[0..i]) |earlier| {
            try testing.expect(err != @as(isola.ErrorCode, @enumFromInt(earlier)).toError());
        }
    }
    try testing.expectEqual(error.ResourceExhausted, isola.ErrorCode.resource_exhausted.toError());
    try testing.expectEqualStrings("RESOURCE_EXHAUSTED", isola.ErrorCode.resource_exhausted.name());
    try testing.expectEqual(error.Internal, @as(isola.ErrorCode, @enumFromInt(99)).toError());
}

test "eval defines a function and callJson returns its result" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.json);

    try sb.eval("def add(a, b):\n    return a + b\nprint('defined')\n", &sink);
    try testing.expectEqualStrings("defined\n", col.stdout.items);
    // The script ends with the expression print(...), whose value is None.
    try testing.expectEqualStrings("null", col.result.?);

    col.clear();
    try sb.callJson("add", "[1, 2]", null, &sink);
    try testing.expectEqualStrings("3", col.result.?);

    col.clear();
    try sb.callJson("add", "[\"a\"]", "{\"b\": \"b\"}", &sink);
    try testing.expectEqualStrings("\"ab\"", col.result.?);
    try testing.expect(!col.out_of_memory);
}

const Recorder = struct {
    events: std.ArrayList([]u8) = .empty,

    fn deinit(r: *Recorder) void {
        for (r.events.items) |e| testing.allocator.free(e);
        r.events.deinit(testing.allocator);
    }
    fn add(r: *Recorder, kind: []const u8, v: []const u8) void {
        const e = std.fmt.allocPrint(testing.allocator, "{s}:{s}", .{ kind, v }) catch @panic("OOM");
        r.events.append(testing.allocator, e) catch @panic("OOM");
    }
    pub fn onItem(r: *Recorder, v: []const u8) void {
        r.add("item", v);
    }
    pub fn onResult(r: *Recorder, v: []const u8) void {
        r.add("result", v);
    }
    pub fn onStdout(r: *Recorder, v: []const u8) void {
        r.add("out", v);
    }
    pub fn onLog(r: *Recorder, level: u32, logger: []const u8, message: []const u8) void {
        var buf: [256]u8 = undefined;
        r.add("log", std.fmt.bufPrint(&buf, "{d}:{s}:{s}", .{ level, logger, message }) catch "?");
    }
};

test "generator items and prints arrive in the order produced" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.eval(
        \\import logging
        \\def gen(n):
        \\    for i in range(n):
        \\        print('before', i)
        \\        yield {'i': i}
        \\    logging.getLogger('app').warning('end')
        \\    return 'done'
    , null);
    var rec: Recorder = .{};
    defer rec.deinit();
    const sink = isola.Sink.of(Recorder, &rec, .json);
    try sb.callJson("gen", "[3]", null, &sink);
    const expected = [_][]const u8{
        "out:before 0\n", "item:{\"i\":0}", "out:before 1\n", "item:{\"i\":1}",
        "out:before 2\n", "item:{\"i\":2}", "log:30:app:end",  "result:\"done\"",
    };
    try testing.expectEqual(expected.len, rec.events.items.len);
    for (expected, rec.events.items) |want, got| try testing.expectEqualStrings(want, got);

    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const many = col.sink(.json);
    try sb.callJson("gen", "[100]", null, &many);
    try testing.expectEqual(@as(usize, 100), col.items.items.len);
    for (col.items.items, 0..) |item, i| {
        var buf: [32]u8 = undefined;
        try testing.expectEqualStrings(try std.fmt.bufPrint(&buf, "{{\"i\":{d}}}", .{i}), item);
    }
}

test "a cbor sink and callCbor" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.eval("def f(a, b):\n    return [a + b, 'a']\n", null);
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.cbor);
    try sb.callCbor("f", &.{ 0x82, 0x01, 0x02 }, &.{}, &sink); // f(1, 2)
    try testing.expectEqualSlices(u8, &.{ 0x82, 0x03, 0x61, 'a' }, col.result.?);
}

test "a guest exception is error.GuestException with message and type" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.eval("def boom(x):\n    raise ValueError(f'bad value {x}')\n", null);
    try testing.expectError(error.GuestException, sb.callJson("boom", "[7]", null, null));
    try testing.expectEqual(isola.ErrorCode.guest_exception, sb.last_error.code().?);
    try testing.expectEqualStrings("ValueError", sb.last_error.guestType());
    try testing.expect(std.mem.indexOf(u8, sb.last_error.message(), "bad value 7") != null);
    try testing.expectEqual(@as(?i32, null), sb.last_error.exitStatus());

    // sys.exit(N) carries the status python would exit with; sys.exit(0) succeeds.
    try sb.eval("import sys\ndef leave(code):\n    sys.exit(code)\n", null);
    try sb.callJson("leave", "[0]", null, null);
    try testing.expectError(error.GuestException, sb.callJson("leave", "[3]", null, null));
    try testing.expectEqualStrings("SystemExit", sb.last_error.guestType());
    try testing.expectEqual(@as(?i32, 3), sb.last_error.exitStatus());

    // Still usable; unknown functions and bad JSON are invalid arguments.
    try sb.eval("x = 1", null);
    try testing.expectError(error.InvalidArgument, sb.callJson("nope", null, null, null));
    try testing.expect(std.mem.indexOf(u8, sb.last_error.message(), "nope") != null);
    try testing.expectError(error.InvalidArgument, sb.callJson("boom", "[oops", null, null));
}

test "evalNamed names the source in tracebacks" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try testing.expectError(error.GuestException, sb.evalNamed("def f():\n    return 1 // 0\nf()\n", "/srv/job.py", null));
    try testing.expect(std.mem.indexOf(u8, sb.last_error.message(), "File \"/srv/job.py\", line 2, in f") != null);
    try sb.eval("x = 1", null);
}

test "a timeout stops a runaway call" {
    var sb = try isola.Sandbox.init(try tpl(), .{ .timeout_ms = 300 });
    defer sb.deinit();
    const start = nowMs();
    try testing.expectError(error.Timeout, sb.eval("while True:\n    pass\n", null));
    try testing.expect(nowMs() - start < 5000);
    try testing.expectEqual(isola.ErrorCode.timeout, sb.last_error.code().?);
    // A timed-out sandbox refuses further calls.
    try testing.expectError(error.InvalidState, sb.eval("1", null));

    var sb2 = try isola.Sandbox.init(try tpl(), .{});
    defer sb2.deinit();
    try sb2.eval("def spin():\n    while True:\n        pass\n", null);
    try sb2.setTimeoutMs(200);
    try testing.expectError(error.Timeout, sb2.callJson("spin", null, null, null));
}

/// Cancels every 50 ms until the call has returned: a cancel only stops a
/// call that is running, so one sent before the call starts does nothing.
fn cancelUntilDone(sb: *const isola.Sandbox, done: *const std.atomic.Value(bool)) void {
    while (!done.load(.acquire)) {
        sleepMs(50);
        sb.cancel() catch @panic("cancel failed");
    }
}

test "cancel from another thread stops the running call" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    var done = std.atomic.Value(bool).init(false);
    const thread = try std.Thread.spawn(.{}, cancelUntilDone, .{ &sb, &done });
    const start = nowMs();
    const result = sb.eval("while True:\n    pass\n", null);
    done.store(true, .release);
    thread.join();
    try testing.expectError(error.Cancelled, result);
    try testing.expect(nowMs() - start < 5000);
}

fn pushValues(stream: *const isola.Stream) void {
    var i: usize = 1;
    while (i <= 100) : (i += 1) {
        var buf: [16]u8 = undefined;
        const json = std.fmt.bufPrintSentinel(&buf, "{d}", .{i}, 0) catch unreachable;
        stream.pushJson(json) catch @panic("push failed");
    }
    stream.close() catch @panic("close failed");
}

test "a stream pushed from another thread feeds a generator" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.eval(
        \\def running_total(xs, *, scale):
        \\    t = 0
        \\    for x in xs:
        \\        t += x * scale
        \\        yield t
        \\    return 'end'
    , null);
    var stream = try isola.Stream.init(2);
    defer stream.deinit();
    var args = try isola.Args.init();
    defer args.deinit();
    try args.addStream(null, &stream);
    try args.addJson("scale", "10");
    const thread = try std.Thread.spawn(.{}, pushValues, .{&stream});
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.json);
    const result = sb.call("running_total", &args, &sink);
    thread.join();
    try result;
    try testing.expectEqual(@as(usize, 100), col.items.items.len);
    try testing.expectEqualStrings("50500", col.items.items[99]);
    try testing.expectEqualStrings("\"end\"", col.result.?);
    try testing.expectError(error.InvalidState, stream.pushJson("1"));
}

test "evalResult returns the value of the final expression" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try expectEvalResult(&sb, "x = 20\nx + 22", "42");
    try expectEvalResult(&sb, "y = 1", "null");
    // Without a JSON form the result is the repr text.
    try expectEvalResult(&sb, "{1, 2}", "\"{1, 2}\"");
    // Through a sink: the output first, then exactly one result.
    var rec: Recorder = .{};
    defer rec.deinit();
    const sink = isola.Sink.of(Recorder, &rec, .json);
    try sb.eval("print(x)\nx * 2", &sink);
    try testing.expectEqual(@as(usize, 2), rec.events.items.len);
    try testing.expectEqualStrings("out:20\n", rec.events.items[0]);
    try testing.expectEqualStrings("result:40", rec.events.items[1]);
    try testing.expectError(error.GuestException, sb.evalResult(testing.allocator, "raise KeyError('k')"));
}

test "evalFileResult returns a mounted script's result" {
    // The guest writes the script into a read-write mount of /tmp, then
    // runs it from there.
    var sb = try isola.Sandbox.init(try tpl(), .{
        .mounts = &.{.{ .host_path = "/tmp", .guest_path = "/scratch", .mode = .read_write }},
    });
    defer sb.deinit();
    try sb.eval("open('/scratch/isola-zig-eval-file-result.py', 'w').write('n = 6\\nn * 7\\n')", null);
    defer sb.eval("import os\nos.remove('/scratch/isola-zig-eval-file-result.py')", null) catch {};
    const answer = try sb.evalFileResult(testing.allocator, "/scratch/isola-zig-eval-file-result.py");
    defer testing.allocator.free(answer);
    try testing.expectEqualStrings("42", answer);
}

fn pushThenFail(stream: *const isola.Stream) void {
    var i: usize = 1;
    while (i <= 5) : (i += 1) {
        var buf: [16]u8 = undefined;
        const json = std.fmt.bufPrintSentinel(&buf, "{d}", .{i}, 0) catch unreachable;
        stream.pushJson(json) catch @panic("push failed");
    }
    stream.fail("upstream broke") catch @panic("fail failed");
}

test "a failed stream raises StreamError in the guest after the earlier values" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.eval(
        \\import sandbox
        \\def relay(xs):
        \\    try:
        \\        for x in xs:
        \\            yield x
        \\    except sandbox.StreamError as e:
        \\        return [type(e).__name__, 'upstream broke' in str(e)]
        \\    return 'no error'
    , null);
    var stream = try isola.Stream.init(2); // the failure waits behind unread values
    defer stream.deinit();
    var args = try isola.Args.init();
    defer args.deinit();
    try args.addStream(null, &stream);
    const thread = try std.Thread.spawn(.{}, pushThenFail, .{&stream});
    var rec: Recorder = .{};
    defer rec.deinit();
    const sink = isola.Sink.of(Recorder, &rec, .json);
    const result = sb.call("relay", &args, &sink);
    thread.join();
    try result;
    const expected = [_][]const u8{ "item:1", "item:2", "item:3", "item:4", "item:5", "result:[\"StreamError\",true]" };
    try testing.expectEqual(expected.len, rec.events.items.len);
    for (expected, rec.events.items) |want, got| try testing.expectEqualStrings(want, got);
    // Failing closed the stream.
    try testing.expectError(error.InvalidState, stream.pushJson("6"));
}

const Doubler = struct {
    later: bool,
    calls: std.atomic.Value(u32) = .init(0),
    threads: [16]?std.Thread = @splat(null),
    thread_count: std.atomic.Value(usize) = .init(0),
    freed: bool = false,

    fn answerLater(reply: isola.Reply, n: i64) void {
        sleepMs(50);
        var buf: [32]u8 = undefined;
        reply.okJson(std.fmt.bufPrintSentinel(&buf, "{d}", .{n * 2}, 0) catch unreachable) catch @panic("reply failed");
    }

    fn onHostcall(context: ?*anyopaque, name: []const u8, payload: []const u8, reply: isola.Reply) void {
        const d: *Doubler = @ptrCast(@alignCast(context.?));
        _ = d.calls.fetchAdd(1, .monotonic);
        if (!std.mem.eql(u8, name, "double")) {
            reply.fail("no such tool") catch {};
            return;
        }
        const n = std.fmt.parseInt(i64, payload, 10) catch {
            reply.fail("not a number") catch {};
            return;
        };
        if (d.later) {
            const slot = d.thread_count.fetchAdd(1, .monotonic);
            d.threads[slot] = std.Thread.spawn(.{}, answerLater, .{ reply, n }) catch @panic("spawn failed");
        } else {
            var buf: [32]u8 = undefined;
            reply.okJson(std.fmt.bufPrintSentinel(&buf, "{d}", .{n * 2}, 0) catch unreachable) catch {};
        }
    }

    fn onFree(context: ?*anyopaque) void {
        const d: *Doubler = @ptrCast(@alignCast(context.?));
        d.freed = true;
    }

    fn host(d: *Doubler) isola.Host {
        return .{ .context = d, .on_hostcall = &onHostcall, .deinit_context = &onFree };
    }

    fn join(d: *Doubler) void {
        for (&d.threads) |*t| if (t.*) |th| {
            th.join();
            t.* = null;
        };
    }
};

fn evalStdout(sb: *isola.Sandbox, code: [:0]const u8) ![]u8 {
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.json);
    try sb.eval(code, &sink);
    return testing.allocator.dupe(u8, col.stdout.items);
}

test "host calls answered now, later from threads, and refused" {
    {
        var d: Doubler = .{ .later = false };
        var sb = try isola.Sandbox.init(try tpl(), .{ .host = d.host() });
        const out = try evalStdout(&sb, "import sandbox\nprint(await sandbox.hostcall('double', 21))\n");
        defer testing.allocator.free(out);
        try testing.expectEqualStrings("42\n", out);
        const refused = try evalStdout(&sb,
            \\import sandbox
            \\try:
            \\    sandbox.hostcall_sync('missing')
            \\except sandbox.HostError as e:
            \\    print('refused:', e)
        );
        defer testing.allocator.free(refused);
        try testing.expectEqualStrings("refused: no such tool\n", refused);
        try testing.expect(!d.freed);
        sb.deinit();
        try testing.expect(d.freed); // deinit_context ran with the last user
    }
    {
        var d: Doubler = .{ .later = true };
        var sb = try isola.Sandbox.init(try tpl(), .{ .host = d.host() });
        defer sb.deinit();
        const start = nowMs();
        const out = try evalStdout(&sb,
            \\import asyncio, sandbox
            \\print(await asyncio.gather(*[sandbox.hostcall('double', i) for i in range(8)]))
        );
        defer testing.allocator.free(out);
        d.join();
        try testing.expectEqualStrings("[0, 2, 4, 6, 8, 10, 12, 14]\n", out);
        try testing.expect(nowMs() - start < 350); // not 8 x 50 ms in sequence
        try testing.expectEqual(@as(u32, 8), d.calls.load(.monotonic));
    }
}

fn onHttp(_: ?*anyopaque, req: *const isola.HttpRequest, reply: isola.HttpReply) void {
    const ok = std.mem.eql(u8, req.method, "POST") and std.mem.eql(u8, req.body, "hello") and
        std.mem.eql(u8, req.header("x-key") orelse "", "k");
    if (!ok) {
        reply.fail("unexpected request") catch {};
        return;
    }
    const headers = [_]isola.Header{.{ .name = "Content-Type", .value = "text/plain" }};
    reply.ok(201, &headers, "created") catch {};
}

test "an http request reaches the host" {
    var sb = try isola.Sandbox.init(try tpl(), .{ .host = .{ .on_http = &onHttp } });
    defer sb.deinit();
    const out = try evalStdout(&sb,
        \\from sandbox import http
        \\r = await http.post('https://api.test/echo', body=b'hello', headers={'X-Key': 'k'})
        \\print(r.status, r.header('content-type'), await r.text())
    );
    defer testing.allocator.free(out);
    try testing.expectEqualStrings("201 text/plain created\n", out);
}

/// Streams two events; the second only once the guest reported the first.
const EventSource = struct {
    saw_first: std.atomic.Value(bool) = .init(false),
    first_before_last: bool = false,
    pusher: ?std.Thread = null,

    fn push(e: *EventSource, body_in: isola.HttpBody) void {
        var body = body_in;
        defer body.deinit();
        body.push("data: one\n\n") catch @panic("push failed");
        var waited: u32 = 0;
        while (!e.saw_first.load(.acquire) and waited < 60_000) : (waited += 10) sleepMs(10);
        e.first_before_last = e.saw_first.load(.acquire);
        body.push("data: two\n\n") catch @panic("push failed");
        body.end() catch @panic("end failed");
    }

    fn onHostcall(context: ?*anyopaque, name: []const u8, payload: []const u8, reply: isola.Reply) void {
        const e: *EventSource = @ptrCast(@alignCast(context.?));
        if (std.mem.eql(u8, name, "saw") and std.mem.indexOf(u8, payload, "one") != null) {
            e.saw_first.store(true, .release);
        }
        reply.okJson("null") catch {};
    }

    fn onHttp(context: ?*anyopaque, _: *const isola.HttpRequest, reply: isola.HttpReply) void {
        const e: *EventSource = @ptrCast(@alignCast(context.?));
        const headers = [_]isola.Header{.{ .name = "Content-Type", .value = "text/event-stream" }};
        const body = reply.start(200, &headers, 1) catch @panic("start failed");
        e.pusher = std.Thread.spawn(.{}, push, .{ e, body }) catch @panic("spawn failed");
    }
};

test "a streamed http body reaches the guest chunk by chunk" {
    var e: EventSource = .{};
    var sb = try isola.Sandbox.init(try tpl(), .{ .host = .{
        .context = &e,
        .on_hostcall = &EventSource.onHostcall,
        .on_http = &EventSource.onHttp,
    } });
    defer sb.deinit();
    const out = try evalStdout(&sb,
        \\from sandbox import http
        \\import sandbox
        \\r = await http.get('https://llm.test/stream')
        \\print(r.status, r.header('content-type'))
        \\async for chunk in r.aiter_bytes():
        \\    await sandbox.hostcall('saw', chunk.decode())
        \\    print(repr(chunk.decode()))
    );
    defer testing.allocator.free(out);
    if (e.pusher) |t| t.join();
    try testing.expectEqualStrings("200 text/event-stream\n'data: one\\n\\n'\n'data: two\\n\\n'\n", out);
    try testing.expect(e.first_before_last);
}

test "options: prelude, env, memory limit, diagnostics" {
    var t = try isola.Template.init(.{
        .prelude = "BASE = 41\n",
        .defaults = .{ .env = &.{.{ .key = "GREETING", .value = "hi" }}, .max_memory = 256 << 20 },
    });
    defer t.deinit();
    var sb = try isola.Sandbox.init(&t, .{ .max_memory = 64 << 20 });
    defer sb.deinit();
    try sb.eval("import os\ndef f():\n    return [BASE + 1, os.environ['GREETING']]\n", null);
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.json);
    try sb.callJson("f", null, null, &sink);
    try testing.expectEqualStrings("[42,\"hi\"]", col.result.?);
    try testing.expect(try sb.memoryUsage() > 0);

    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    try testing.expectError(error.InvalidArgument, isola.Sandbox.init(&t, .{
        .env = &.{.{ .key = "A=B", .value = "x" }},
        .diagnostics = &diag,
    }));
    try testing.expectEqual(isola.ErrorCode.invalid_argument, diag.code().?);
    try testing.expect(diag.message().len > 0);

    try testing.expectError(error.InvalidArgument, isola.Stream.init(0));
}

test "files go into the scratch file system and artifacts come back" {
    var sb = try isola.Sandbox.init(try tpl(), .{});
    defer sb.deinit();
    try sb.writeFile("/tmp/in/data.bin", &[_]u8{ 0, 1, 2, 255 });
    try sb.eval("import os\ndata = open('/tmp/in/data.bin', 'rb').read()\nos.makedirs('/tmp/out/sub', exist_ok=True)\nopen('/tmp/out/result.bin', 'wb').write(bytes(reversed(data)))\n", null);
    const bytes = try sb.readFile(testing.allocator, "/tmp/out/result.bin");
    defer testing.allocator.free(bytes);
    try testing.expectEqualSlices(u8, &[_]u8{ 255, 2, 1, 0 }, bytes);
    const listing = try sb.listDir("/tmp/out");
    defer listing.deinit();
    try testing.expectEqual(@as(usize, 2), listing.len());
    try testing.expectEqualStrings("result.bin", listing.name(0));
    try testing.expect(!listing.isDir(0));
    try testing.expectEqualStrings("sub", listing.name(1));
    try testing.expect(listing.isDir(1));
    try testing.expectError(error.Io, sb.readFile(testing.allocator, "/tmp/missing"));
    try testing.expectError(error.InvalidArgument, sb.writeFile("/etc/passwd", "x"));
}

test "stdin is what the guest reads from standard input" {
    var sb = try isola.Sandbox.init(try tpl(), .{ .stdin = "21\nrest" });
    defer sb.deinit();
    var col = isola.Collector.init(testing.allocator);
    defer col.deinit();
    const sink = col.sink(.json);
    try sb.eval("import sys\ndef first():\n    return int(input()) * 2\ndef rest():\n    return sys.stdin.read()\n", &sink);
    col.clear();
    try sb.callJson("first", "[]", null, &sink);
    try testing.expectEqualStrings("42", col.result.?);
    col.clear();
    try sb.callJson("rest", "[]", null, &sink);
    try testing.expectEqualStrings("\"rest\"", col.result.?);
}

// The scientific runtime chosen by name: `make runtime-sci` lays
// isola-python-sci.wasm out beside target/debug/libisola.so, where the
// library looks for it.
test "runtime_name sci evaluates numpy" {
    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    var sci = isola.Template.init(.{ .runtime_name = "sci", .diagnostics = &diag }) catch |err| {
        std.debug.print("runtime sci: {s} (build it with `make runtime-sci`)\n", .{diag.message()});
        return err;
    };
    defer sci.deinit();
    var sb = try isola.Sandbox.init(&sci, .{});
    defer sb.deinit();
    try expectEvalResult(&sb, "import numpy\nint(numpy.arange(6).reshape(2, 3).sum())", "15");
    try expectEvalResult(&sb, "(numpy.arange(6.0).reshape(2, 3) @ numpy.array([1.0, 2.0, 3.0])).tolist()", "[8.0,26.0]");

    // The default runtime has no numpy: the name really chose another component.
    var plain = try isola.Sandbox.init(try tpl(), .{});
    defer plain.deinit();
    try testing.expectError(error.GuestException, plain.eval("import numpy", null));
    try testing.expectEqualStrings("ModuleNotFoundError", plain.last_error.guestType());
}

test "runtime_name of an unknown runtime is error.InvalidArgument saying where it looked" {
    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    try testing.expectError(error.InvalidArgument, isola.Template.init(.{ .runtime_name = "no-such-runtime", .diagnostics = &diag }));
    try testing.expectEqual(isola.ErrorCode.invalid_argument, diag.code().?);
    try testing.expect(std.mem.indexOf(u8, diag.message(), "isola-python-no-such-runtime.wasm") != null);
    try testing.expectError(error.InvalidArgument, isola.Template.init(.{ .runtime_name = "../sci", .diagnostics = &diag }));
    try testing.expect(std.mem.indexOf(u8, diag.message(), "runtime name") != null);
    try testing.expectError(error.InvalidArgument, isola.Template.init(.{ .runtime_name = "sci", .runtime_path = "/x.wasm" }));
}

test "argv becomes the guest sys.argv per sandbox over the template default" {
    var t = try isola.Template.init(.{ .defaults = .{ .argv = &.{ "tool.py", "--from-template" } } });
    defer t.deinit();
    const read_argv = "import sys\nsys.argv";
    var inherits = try isola.Sandbox.init(&t, .{});
    defer inherits.deinit();
    try expectEvalResult(&inherits, read_argv, "[\"tool.py\",\"--from-template\"]");
    var own = try isola.Sandbox.init(&t, .{ .argv = &.{ "report.py", "--count", "3", "a b" } });
    defer own.deinit();
    try expectEvalResult(&own,
        \\import argparse
        \\p = argparse.ArgumentParser()
        \\p.add_argument('--count', type=int)
        \\p.add_argument('files', nargs='*')
        \\a = p.parse_args()
        \\[p.prog, a.count, a.files]
    , "[\"report.py\",3,[\"a b\"]]");
    var plain = try isola.Sandbox.init(try tpl(), .{});
    defer plain.deinit();
    try expectEvalResult(&plain, read_argv, "[\"sandbox\"]");

    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    try testing.expectError(error.InvalidArgument, isola.Sandbox.init(&t, .{ .argv = &.{}, .diagnostics = &diag }));
    try testing.expect(std.mem.indexOf(u8, diag.message(), "argv[0]") != null);
    try testing.expectError(error.InvalidArgument, isola.Sandbox.init(&t, .{ .argv = &.{ "x.py", "\xff" }, .diagnostics = &diag }));
    try testing.expect(std.mem.indexOf(u8, diag.message(), "argv[1] is not valid UTF-8") != null);
}

// The prelude of the C++ and Go binding tests too: the same prelude and
// template settings share one cached snapshot (compiled once per cache).
const snapshot_prelude = "import random\nTOKEN = random.random()\ndef snap_double(x):\n    return 2 * x\n";

test "prelude_snapshot runs the prelude once for every sandbox" {
    var t = try isola.Template.init(.{ .prelude = snapshot_prelude, .prelude_snapshot = true });
    defer t.deinit();
    var a = try isola.Sandbox.init(&t, .{});
    defer a.deinit();
    var b = try isola.Sandbox.init(&t, .{});
    defer b.deinit();
    const probe = "[snap_double(21), TOKEN]";
    const first = try a.evalResult(testing.allocator, probe);
    defer testing.allocator.free(first);
    try testing.expect(std.mem.startsWith(u8, first, "[42,"));
    // One run at template build: the number it drew is in every sandbox (a
    // prelude run per sandbox would draw a new one each time).
    try expectEvalResult(&b, probe, first);

    // With the snapshot the prelude runs in Template.init, so its error
    // is reported there.
    var diag: isola.Diagnostics = .{};
    defer diag.deinit();
    try testing.expectError(error.GuestException, isola.Template.init(.{
        .prelude = "raise KeyError('prelude broke')\n",
        .prelude_snapshot = true,
        .diagnostics = &diag,
    }));
    try testing.expectEqualStrings("KeyError", diag.guestType());
}
