//! isola for Zig: run untrusted Python in a WebAssembly sandbox, in process.
//!
//! A thin layer over the C API (include/isola.h, translated at build time
//! into the `isola_c` module, re-exported here as `c`):
//!
//!     var tpl = try isola.Template.init(.{});
//!     defer tpl.deinit();
//!     var sb = try isola.Sandbox.init(&tpl, .{});
//!     defer sb.deinit();
//!     try sb.eval("def add(a, b):\n    return a + b\n", null);
//!     try sb.callJson("add", "[1, 2]", null, &sink);   // sink.on_result gets "3"
//!
//! Failures are Zig errors (`error.Timeout`, `error.GuestException`, ...);
//! the message, the code and the Python exception type of the last failure
//! of a sandbox are in `sandbox.last_error` (and in a `Diagnostics` passed
//! through the options when creating templates and sandboxes).
//!
//! Threading (from the C API): a Template may be shared by all threads; a
//! Sandbox runs one call at a time, but `cancel` may be called from any
//! thread while a call runs; a Stream may be pushed to, closed and failed
//! from any thread; a Reply may be completed from any thread. Sink and Host
//! callbacks run on the calling thread's own stack.
const std = @import("std");

/// The translated C API, for what this wrapper does not cover.
pub const c = @import("isola_c");

/// Every failure the library reports, one error per stable code.
pub const Error = error{
    /// A NULL pointer, invalid UTF-8, malformed JSON/CBOR, an unknown function, a bad option.
    InvalidArgument,
    /// The sandbox is unusable (after a timeout, cancel or trap) or busy.
    InvalidState,
    /// Python code raised; the message holds the traceback.
    GuestException,
    /// The call ran past its time limit; discard the sandbox.
    Timeout,
    /// The call was cancelled; discard the sandbox.
    Cancelled,
    /// The sandbox hit its memory limit.
    MemoryLimit,
    /// A value or the call's output exceeded its limit.
    OutputLimit,
    /// A host file or OS operation failed.
    Io,
    /// The guest trapped (for example a stack overflow); discard the sandbox.
    Trap,
    /// A bug or an unexpected runtime failure (also: an unknown code).
    Internal,
    /// Every sandbox place of the process is taken (`c.isola_configure_engine`,
    /// `c.isola_capacity`): no sandbox was created; free one and retry.
    ResourceExhausted,
    /// An allocation of the C library failed.
    OutOfMemory,
};

/// The stable error codes of the C API.
pub const ErrorCode = enum(u32) {
    invalid_argument = c.ISOLA_ERROR_INVALID_ARGUMENT,
    invalid_state = c.ISOLA_ERROR_INVALID_STATE,
    guest_exception = c.ISOLA_ERROR_GUEST_EXCEPTION,
    timeout = c.ISOLA_ERROR_TIMEOUT,
    cancelled = c.ISOLA_ERROR_CANCELLED,
    memory_limit = c.ISOLA_ERROR_MEMORY_LIMIT,
    output_limit = c.ISOLA_ERROR_OUTPUT_LIMIT,
    io = c.ISOLA_ERROR_IO,
    trap = c.ISOLA_ERROR_TRAP,
    internal = c.ISOLA_ERROR_INTERNAL,
    resource_exhausted = c.ISOLA_ERROR_RESOURCE_EXHAUSTED,
    _,

    /// The stable name, e.g. "TIMEOUT".
    pub fn name(code: ErrorCode) [:0]const u8 {
        return std.mem.span(c.isola_error_code_name(@intFromEnum(code)));
    }

    /// The Zig error for this code.
    pub fn toError(code: ErrorCode) Error {
        return switch (code) {
            .invalid_argument => error.InvalidArgument,
            .invalid_state => error.InvalidState,
            .guest_exception => error.GuestException,
            .timeout => error.Timeout,
            .cancelled => error.Cancelled,
            .memory_limit => error.MemoryLimit,
            .output_limit => error.OutputLimit,
            .io => error.Io,
            .trap => error.Trap,
            .resource_exhausted => error.ResourceExhausted,
            .internal, _ => error.Internal,
        };
    }
};

/// Holds the details of the last failure reported through it: code,
/// message (the traceback for guest exceptions) and Python exception type.
/// The strings it returns stay valid until the next failure stored in it
/// or `deinit`.
pub const Diagnostics = struct {
    raw: ?*c.isola_error_t = null,

    /// Free the stored error, if any.
    pub fn deinit(d: *Diagnostics) void {
        c.isola_error_free(d.raw);
        d.raw = null;
    }

    /// Whether a failure is stored.
    pub fn isSet(d: *const Diagnostics) bool {
        return d.raw != null;
    }

    /// The code of the stored failure, null when there is none.
    pub fn code(d: *const Diagnostics) ?ErrorCode {
        const raw = d.raw orelse return null;
        return @enumFromInt(c.isola_error_code(raw));
    }

    /// The message of the stored failure, "" when there is none.
    pub fn message(d: *const Diagnostics) [:0]const u8 {
        const raw = d.raw orelse return "";
        return std.mem.span(c.isola_error_message(raw));
    }

    /// The Python exception type ("ValueError") of a stored guest
    /// exception, else "".
    pub fn guestType(d: *const Diagnostics) [:0]const u8 {
        const raw = d.raw orelse return "";
        return std.mem.span(c.isola_error_guest_type(raw));
    }

    /// For a stored uncaught SystemExit (`sys.exit(N)` in the guest): the
    /// status python would exit with (N as a C int; 1 for a non-integer
    /// code, which the guest printed on its stderr). null for any other
    /// failure or none; `sys.exit()` and `sys.exit(0)` are no error.
    pub fn exitStatus(d: *const Diagnostics) ?i32 {
        const raw = d.raw orelse return null;
        var status: i32 = 0;
        return if (c.isola_error_exit_status(raw, &status)) status else null;
    }

    fn store(d: *Diagnostics, raw: *c.isola_error_t) void {
        c.isola_error_free(d.raw);
        d.raw = raw;
    }
};

/// Turn a returned error object into a Zig error; its details go to
/// `diag` (or are freed when `diag` is null).
fn check(err: ?*c.isola_error_t, diag: ?*Diagnostics) Error!void {
    const raw = err orelse return;
    const code: ErrorCode = @enumFromInt(c.isola_error_code(raw));
    if (diag) |d| d.store(raw) else c.isola_error_free(raw);
    return code.toError();
}

/// The library version, "MAJOR.MINOR.PATCH".
pub fn version() [:0]const u8 {
    return std.mem.span(c.isola_version());
}

/// How values reach a Sink (items, results) or a Host (hostcall payloads).
pub const Format = enum(u32) {
    /// JSON text.
    json = c.ISOLA_FORMAT_JSON,
    /// CBOR bytes (RFC 8949).
    cbor = c.ISOLA_FORMAT_CBOR,
};

// ---------------------------------------------------------------------------
// Sink
// ---------------------------------------------------------------------------

/// Receives the output of one eval or call. Every callback is optional
/// (null drops that output) and gets `context` back. Callbacks run on the
/// thread making the call, in the order the guest produced the output,
/// never concurrently, and must not call into the same sandbox. The slices
/// are valid only during the callback.
pub const Sink = struct {
    context: ?*anyopaque = null,
    format: Format = .json,
    /// A value yielded by a generator (or sent with `sandbox.emit`).
    on_item: ?*const fn (context: ?*anyopaque, value: []const u8) void = null,
    /// Once per successful eval or call: a call's return value (`null` when
    /// it returns nothing); for `eval` / `evalFile` the value of the
    /// script's final expression statement, `null` when the script ends
    /// with a statement, the `repr` text (a JSON string) when the value has
    /// no JSON/CBOR form.
    on_result: ?*const fn (context: ?*anyopaque, value: []const u8) void = null,
    on_stdout: ?*const fn (context: ?*anyopaque, text: []const u8) void = null,
    on_stderr: ?*const fn (context: ?*anyopaque, text: []const u8) void = null,
    /// A `logging` record: level 10 DEBUG .. 50 CRITICAL.
    on_log: ?*const fn (context: ?*anyopaque, level: u32, logger: []const u8, message: []const u8) void = null,

    /// A Sink calling the methods `T` declares among `onItem`, `onResult`,
    /// `onStdout`, `onStderr` (`fn (*T, []const u8) void`) and `onLog`
    /// (`fn (*T, u32, []const u8, []const u8) void`) on `ptr`.
    pub fn of(comptime T: type, ptr: *T, format: Format) Sink {
        const W = struct {
            fn self(context: ?*anyopaque) *T {
                return @ptrCast(@alignCast(context.?));
            }
            fn item(context: ?*anyopaque, v: []const u8) void {
                self(context).onItem(v);
            }
            fn result(context: ?*anyopaque, v: []const u8) void {
                self(context).onResult(v);
            }
            fn out(context: ?*anyopaque, v: []const u8) void {
                self(context).onStdout(v);
            }
            fn err(context: ?*anyopaque, v: []const u8) void {
                self(context).onStderr(v);
            }
            fn log(context: ?*anyopaque, level: u32, logger: []const u8, message: []const u8) void {
                self(context).onLog(level, logger, message);
            }
        };
        return .{
            .context = ptr,
            .format = format,
            .on_item = if (@hasDecl(T, "onItem")) &W.item else null,
            .on_result = if (@hasDecl(T, "onResult")) &W.result else null,
            .on_stdout = if (@hasDecl(T, "onStdout")) &W.out else null,
            .on_stderr = if (@hasDecl(T, "onStderr")) &W.err else null,
            .on_log = if (@hasDecl(T, "onLog")) &W.log else null,
        };
    }

    fn table(s: *const Sink) c.isola_sink_t {
        return .{
            .struct_size = @sizeOf(c.isola_sink_t),
            .user_data = @constCast(s),
            .format = @intFromEnum(s.format),
            .on_item = if (s.on_item != null) &trampolineItem else null,
            .on_result = if (s.on_result != null) &trampolineResult else null,
            .on_stdout = if (s.on_stdout != null) &trampolineStdout else null,
            .on_stderr = if (s.on_stderr != null) &trampolineStderr else null,
            .on_log = if (s.on_log != null) &trampolineLog else null,
        };
    }

    fn from(user_data: ?*anyopaque) *const Sink {
        return @ptrCast(@alignCast(user_data.?));
    }
    fn bytes(data: [*c]const u8, len: usize) []const u8 {
        return if (len == 0) "" else data[0..len];
    }
    fn trampolineItem(user_data: ?*anyopaque, data: [*c]const u8, len: usize) callconv(.c) void {
        const s = from(user_data);
        s.on_item.?(s.context, bytes(data, len));
    }
    fn trampolineResult(user_data: ?*anyopaque, data: [*c]const u8, len: usize) callconv(.c) void {
        const s = from(user_data);
        s.on_result.?(s.context, bytes(data, len));
    }
    fn trampolineStdout(user_data: ?*anyopaque, text: [*c]const u8, len: usize) callconv(.c) void {
        const s = from(user_data);
        s.on_stdout.?(s.context, bytes(text, len));
    }
    fn trampolineStderr(user_data: ?*anyopaque, text: [*c]const u8, len: usize) callconv(.c) void {
        const s = from(user_data);
        s.on_stderr.?(s.context, bytes(text, len));
    }
    fn trampolineLog(user_data: ?*anyopaque, level: u32, logger: [*c]const u8, logger_len: usize, message: [*c]const u8, message_len: usize) callconv(.c) void {
        const s = from(user_data);
        s.on_log.?(s.context, level, bytes(logger, logger_len), bytes(message, message_len));
    }
};

/// A Sink target that copies everything it receives. Allocation failures
/// inside callbacks set `out_of_memory` (callbacks cannot fail).
pub const Collector = struct {
    allocator: std.mem.Allocator,
    items: std.ArrayList([]u8) = .empty,
    result: ?[]u8 = null,
    stdout: std.ArrayList(u8) = .empty,
    stderr: std.ArrayList(u8) = .empty,
    out_of_memory: bool = false,

    pub fn init(allocator: std.mem.Allocator) Collector {
        return .{ .allocator = allocator };
    }

    pub fn deinit(col: *Collector) void {
        col.clear();
        col.items.deinit(col.allocator);
        col.stdout.deinit(col.allocator);
        col.stderr.deinit(col.allocator);
    }

    /// Forget everything received so far (keeps the buffers).
    pub fn clear(col: *Collector) void {
        for (col.items.items) |item| col.allocator.free(item);
        col.items.clearRetainingCapacity();
        if (col.result) |r| col.allocator.free(r);
        col.result = null;
        col.stdout.clearRetainingCapacity();
        col.stderr.clearRetainingCapacity();
        col.out_of_memory = false;
    }

    /// A Sink that fills this collector.
    pub fn sink(col: *Collector, format: Format) Sink {
        return Sink.of(Collector, col, format);
    }

    pub fn onItem(col: *Collector, value: []const u8) void {
        const copy = col.allocator.dupe(u8, value) catch return col.oom();
        col.items.append(col.allocator, copy) catch {
            col.allocator.free(copy);
            col.oom();
        };
    }
    pub fn onResult(col: *Collector, value: []const u8) void {
        const copy = col.allocator.dupe(u8, value) catch return col.oom();
        if (col.result) |r| col.allocator.free(r);
        col.result = copy;
    }
    pub fn onStdout(col: *Collector, text: []const u8) void {
        col.stdout.appendSlice(col.allocator, text) catch col.oom();
    }
    pub fn onStderr(col: *Collector, text: []const u8) void {
        col.stderr.appendSlice(col.allocator, text) catch col.oom();
    }

    fn oom(col: *Collector) void {
        col.out_of_memory = true;
    }
};

// ---------------------------------------------------------------------------
// Host
// ---------------------------------------------------------------------------

/// The pending answer of one host call. Complete it exactly once, now or
/// later from any thread; completing consumes it (do not use it again).
pub const Reply = struct {
    raw: *c.isola_reply_t,

    /// Answer with a JSON value. Invalid JSON reaches the guest as an
    /// error and is also returned here as error.InvalidArgument.
    pub fn okJson(r: Reply, json: [:0]const u8) Error!void {
        return check(c.isola_reply_ok_json(r.raw, json.ptr), null);
    }
    /// Answer with a CBOR value.
    pub fn okCbor(r: Reply, cbor: []const u8) Error!void {
        return check(c.isola_reply_ok_cbor(r.raw, cbor.ptr, cbor.len), null);
    }
    /// The guest's await raises `sandbox.HostError(message)`.
    pub fn fail(r: Reply, message: [:0]const u8) Error!void {
        return check(c.isola_reply_error(r.raw, message.ptr), null);
    }
};

/// One HTTP header (the C layout: NUL-terminated strings).
pub const Header = c.isola_header_t;

/// A guest HTTP request, valid only during the callback.
pub const HttpRequest = struct {
    method: [:0]const u8,
    url: [:0]const u8,
    headers: []const Header,
    body: []const u8,

    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(req: *const HttpRequest, name: []const u8) ?[:0]const u8 {
        for (req.headers) |h| {
            if (std.ascii.eqlIgnoreCase(std.mem.span(h.name), name)) return std.mem.span(h.value);
        }
        return null;
    }
};

/// The pending answer of one HTTP request; same rules as Reply.
pub const HttpReply = struct {
    raw: *c.isola_http_reply_t,

    pub fn ok(r: HttpReply, status: u16, headers: []const Header, body: []const u8) Error!void {
        return check(c.isola_http_reply_ok(r.raw, status, headers.ptr, headers.len, body.ptr, body.len), null);
    }
    /// The guest gets `sandbox.http.HTTPError(message)`.
    pub fn fail(r: HttpReply, message: [:0]const u8) Error!void {
        return check(c.isola_http_reply_error(r.raw, message.ptr), null);
    }
    /// Answer with status and headers now and stream the body: push its
    /// chunks into the returned HttpBody (at most `capacity` unread).
    /// Consumes the reply, also on an error. Never blocks, so it may be
    /// called inside the callback.
    pub fn start(r: HttpReply, status: u16, headers: []const Header, capacity: usize) Error!HttpBody {
        var raw: ?*c.isola_http_body_t = null;
        try check(c.isola_http_reply_start(r.raw, status, headers.ptr, headers.len, capacity, &raw), null);
        return .{ .raw = raw.? };
    }
};

/// The body of a streamed HTTP response (HttpReply.start). Thread-safe:
/// push from one thread, end from another. A body freed without `end` or
/// `fail` reads in the guest as an HTTPError after the chunks already
/// pushed, never as a complete, shorter body.
pub const HttpBody = struct {
    raw: *c.isola_http_body_t,

    pub fn deinit(b: *HttpBody) void {
        c.isola_http_body_free(b.raw);
        b.* = undefined;
    }
    /// Push one chunk (copied); blocks while the body is full, so not
    /// from inside a callback (error.InvalidState there: use tryPush).
    /// error.InvalidState once the body ended or its call is over.
    pub fn push(b: *const HttpBody, chunk: []const u8) Error!void {
        return check(c.isola_http_body_push(b.raw, chunk.ptr, chunk.len), null);
    }
    /// Push without waiting: false when the body is full (nothing queued).
    pub fn tryPush(b: *const HttpBody, chunk: []const u8) Error!bool {
        var pushed = false;
        try check(c.isola_http_body_try_push(b.raw, chunk.ptr, chunk.len, &pushed), null);
        return pushed;
    }
    /// End the body after the chunks already pushed.
    pub fn end(b: *const HttpBody) Error!void {
        return check(c.isola_http_body_end(b.raw), null);
    }
    /// End the body with a failure: the guest's read raises HTTPError(message).
    pub fn fail(b: *const HttpBody, message: [:0]const u8) Error!void {
        return check(c.isola_http_body_fail(b.raw, message.ptr), null);
    }
    /// True once the guest's call is over or it stopped reading the body.
    pub fn isAbandoned(b: *const HttpBody) bool {
        return c.isola_http_body_is_abandoned(b.raw);
    }
};

/// Answers the guest's host calls and HTTP requests. Callbacks are
/// optional (a missing one refuses with a guest exception) and run on the
/// thread making the eval/call; one Host attached to sandboxes on several
/// threads is called concurrently. Each callback owns its reply and must
/// complete it exactly once. `deinit_context` runs once when the last
/// sandbox or options object using the host is gone.
pub const Host = struct {
    context: ?*anyopaque = null,
    /// How hostcall payloads arrive.
    format: Format = .json,
    on_hostcall: ?*const fn (context: ?*anyopaque, name: []const u8, payload: []const u8, reply: Reply) void = null,
    on_http: ?*const fn (context: ?*anyopaque, request: *const HttpRequest, reply: HttpReply) void = null,
    deinit_context: ?*const fn (context: ?*anyopaque) void = null,

    // The library keeps `user_data` until its last user is gone: a heap
    // copy of the Host, freed by `trampolineFree`.
    fn attach(h: Host, options: *c.isola_sandbox_options_t, diag: ?*Diagnostics) Error!void {
        const copy = std.heap.c_allocator.create(Host) catch return error.OutOfMemory;
        copy.* = h;
        const table: c.isola_host_t = .{
            .struct_size = @sizeOf(c.isola_host_t),
            .user_data = copy,
            .user_data_free = &trampolineFree,
            .format = @intFromEnum(h.format),
            .on_hostcall = if (h.on_hostcall != null) &trampolineHostcall else null,
            .on_http_request = if (h.on_http != null) &trampolineHttp else null,
        };
        check(c.isola_sandbox_options_set_host(options, &table), diag) catch |err| {
            // A refused host is not taken over by the library.
            std.heap.c_allocator.destroy(copy);
            return err;
        };
    }

    fn from(user_data: ?*anyopaque) *const Host {
        return @ptrCast(@alignCast(user_data.?));
    }
    fn trampolineFree(user_data: ?*anyopaque) callconv(.c) void {
        const h: *Host = @ptrCast(@alignCast(user_data.?));
        if (h.deinit_context) |f| f(h.context);
        std.heap.c_allocator.destroy(h);
    }
    fn trampolineHostcall(user_data: ?*anyopaque, name: [*c]const u8, name_len: usize, payload: [*c]const u8, payload_len: usize, reply: ?*c.isola_reply_t) callconv(.c) void {
        const h = from(user_data);
        const body: []const u8 = if (payload_len == 0) "" else payload[0..payload_len];
        h.on_hostcall.?(h.context, name[0..name_len], body, .{ .raw = reply.? });
    }
    fn trampolineHttp(user_data: ?*anyopaque, request: [*c]const c.isola_http_request_t, reply: ?*c.isola_http_reply_t) callconv(.c) void {
        const h = from(user_data);
        const r = request[0];
        const req: HttpRequest = .{
            .method = std.mem.span(r.method),
            .url = std.mem.span(r.url),
            .headers = if (r.header_count == 0) &.{} else r.headers[0..r.header_count],
            .body = if (r.body_len == 0) "" else r.body[0..r.body_len],
        };
        h.on_http.?(h.context, &req, .{ .raw = reply.? });
    }
};

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

pub const MountMode = enum(u32) {
    read_only = c.ISOLA_MOUNT_READ_ONLY,
    read_write = c.ISOLA_MOUNT_READ_WRITE,
};

/// A host directory made visible to the guest.
pub const Mount = struct {
    host_path: [:0]const u8,
    guest_path: [:0]const u8,
    mode: MountMode = .read_only,
};

/// An environment variable of the guest's `os.environ`.
pub const EnvVar = struct {
    key: [:0]const u8,
    value: [:0]const u8,
};

/// Per-sandbox settings; null fields inherit the template's defaults.
pub const SandboxOptions = struct {
    /// Memory cap in bytes; allocation past it raises MemoryError.
    max_memory: ?u64 = null,
    /// Time limit of each eval/call in milliseconds (0: none).
    timeout_ms: ?u64 = null,
    /// Cap of one emitted value / HTTP response body.
    max_value_bytes: ?u64 = null,
    /// Cap of everything one call emits.
    max_output_bytes: ?u64 = null,
    mounts: []const Mount = &.{},
    env: []const EnvVar = &.{},
    /// The guest's standard input (sys.stdin, input()): these bytes
    /// (copied), then end-of-file; read once across calls.
    stdin: ?[]const u8 = null,
    /// The guest's command line, `sys.argv`: `argv[0]` the program
    /// (script) name, then its arguments (copied). Null inherits (by
    /// default `sys.argv` is `['sandbox']`); set per sandbox it replaces
    /// the template default's list. Empty or invalid UTF-8:
    /// error.InvalidArgument (`isola_sandbox_options_set_argv`).
    argv: ?[]const [*:0]const u8 = null,
    host: ?Host = null,
    /// Receives the details when creating the sandbox fails (unused in
    /// template defaults).
    diagnostics: ?*Diagnostics = null,

    fn apply(o: SandboxOptions, raw: *c.isola_sandbox_options_t, diag: ?*Diagnostics) Error!void {
        if (o.max_memory) |v| try check(c.isola_sandbox_options_set_max_memory(raw, v), diag);
        if (o.timeout_ms) |v| try check(c.isola_sandbox_options_set_timeout_ms(raw, v), diag);
        if (o.max_value_bytes) |v| try check(c.isola_sandbox_options_set_max_value_bytes(raw, v), diag);
        if (o.max_output_bytes) |v| try check(c.isola_sandbox_options_set_max_output_bytes(raw, v), diag);
        for (o.mounts) |m| {
            try check(c.isola_sandbox_options_add_mount(raw, m.host_path.ptr, m.guest_path.ptr, @intFromEnum(m.mode)), diag);
        }
        for (o.env) |e| try check(c.isola_sandbox_options_set_env(raw, e.key.ptr, e.value.ptr), diag);
        if (o.stdin) |data| try check(c.isola_sandbox_options_set_stdin(raw, data.ptr, data.len), diag);
        if (o.argv) |args| try check(c.isola_sandbox_options_set_argv(raw, @ptrCast(args.ptr), args.len), diag);
        if (o.host) |h| try h.attach(raw, diag);
    }
};

/// Where compiled runtimes are cached.
pub const CacheDir = union(enum) {
    /// `$ISOLA_CACHE_DIR`, else `$XDG_CACHE_HOME/isola`, else `~/.cache/isola`.
    default,
    /// No cache: every template compiles the runtime.
    none,
    path: [:0]const u8,
};

pub const TemplateOptions = struct {
    /// A runtime component file instead of the embedded runtime. Set at
    /// most one of `runtime_path` and `runtime_name` (both:
    /// error.InvalidArgument, no diagnostics).
    runtime_path: ?[:0]const u8 = null,
    /// A runtime installed beside the library, by name: "sci" is the
    /// scientific runtime (numpy), the file `isola-python-sci.wasm`, looked
    /// up in `$ISOLA_RUNTIME_DIR` if set, else in the directory holding
    /// libisola (`isola_template_options_set_runtime_name`). A malformed
    /// name or a missing file is error.InvalidArgument; the diagnostics
    /// say where it looked.
    runtime_name: ?[:0]const u8 = null,
    cache_dir: CacheDir = .default,
    /// Python source run in every new sandbox.
    prelude: ?[:0]const u8 = null,
    /// Run the prelude once, in `Template.init`, and start every sandbox
    /// from a snapshot taken after it instead of running it in each
    /// (`isola_template_options_set_prelude_snapshot`). `Template.init`
    /// then fails with the prelude's error, or error.InvalidArgument when
    /// it leaves open files or unfinished tasks behind. The first build of
    /// a prelude compiles the runtime (tens of seconds); the cache keeps it.
    prelude_snapshot: bool = false,
    /// Default settings of every sandbox of the template.
    defaults: SandboxOptions = .{},
    /// Receives the details when building the template fails.
    diagnostics: ?*Diagnostics = null,
};

// ---------------------------------------------------------------------------
// Template, Sandbox
// ---------------------------------------------------------------------------

/// A compiled Python runtime plus default options. Thread-safe: share one
/// template between threads. Sandboxes stay valid after `deinit`.
pub const Template = struct {
    raw: *c.isola_template_t,

    pub fn init(opts: TemplateOptions) Error!Template {
        const diag = opts.diagnostics;
        const raw_opts = c.isola_template_options_new() orelse return error.OutOfMemory;
        defer c.isola_template_options_free(raw_opts);
        if (opts.runtime_path != null and opts.runtime_name != null) return error.InvalidArgument;
        if (opts.runtime_path) |p| try check(c.isola_template_options_set_runtime_path(raw_opts, p.ptr), diag);
        if (opts.runtime_name) |n| try check(c.isola_template_options_set_runtime_name(raw_opts, n.ptr), diag);
        switch (opts.cache_dir) {
            .default => {},
            .none => try check(c.isola_template_options_set_cache_dir(raw_opts, null), diag),
            .path => |p| try check(c.isola_template_options_set_cache_dir(raw_opts, p.ptr), diag),
        }
        if (opts.prelude) |p| try check(c.isola_template_options_set_prelude(raw_opts, p.ptr), diag);
        if (opts.prelude_snapshot) try check(c.isola_template_options_set_prelude_snapshot(raw_opts, true), diag);
        try opts.defaults.apply(c.isola_template_options_defaults(raw_opts).?, diag);
        var raw: ?*c.isola_template_t = null;
        try check(c.isola_template_new(raw_opts, &raw), diag);
        return .{ .raw = raw.? };
    }

    pub fn deinit(t: *Template) void {
        c.isola_template_free(t.raw);
        t.* = undefined;
    }
};

/// A live sandbox: one call at a time; `cancel` from any thread. After
/// error.Timeout, error.Cancelled or error.Trap, discard it.
pub const Sandbox = struct {
    raw: *c.isola_sandbox_t,
    /// The details of the last failed call of this sandbox.
    last_error: Diagnostics = .{},

    pub fn init(template: *const Template, opts: SandboxOptions) Error!Sandbox {
        const diag = opts.diagnostics;
        const raw_opts = c.isola_sandbox_options_new() orelse return error.OutOfMemory;
        defer c.isola_sandbox_options_free(raw_opts);
        try opts.apply(raw_opts, diag);
        var raw: ?*c.isola_sandbox_t = null;
        try check(c.isola_sandbox_new(template.raw, raw_opts, &raw), diag);
        return .{ .raw = raw.? };
    }

    /// Free the sandbox; no other thread may be inside a call on it.
    pub fn deinit(s: *Sandbox) void {
        s.last_error.deinit();
        c.isola_sandbox_free(s.raw);
        s.* = undefined;
    }

    /// Run Python source in the module namespace (top-level await allowed).
    /// The sink's `on_result` gets the script's result once (see
    /// `Sink.on_result`; `evalResult` returns it).
    pub fn eval(s: *Sandbox, code: [:0]const u8, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_eval(s.raw, code.ptr, if (table) |*t| t else null));
    }

    /// Run `code` and return its result as JSON text owned by the caller
    /// (free it with `allocator`): the value of the final expression
    /// statement (`"x = 20\nx + 22"` gives `42`), or `null` when the script
    /// ends with a statement. Other output is dropped.
    pub fn evalResult(s: *Sandbox, allocator: std.mem.Allocator, code: [:0]const u8) Error![]u8 {
        var keep: ResultKeeper = .{ .allocator = allocator };
        errdefer keep.deinit();
        const sink = Sink.of(ResultKeeper, &keep, .json);
        try s.eval(code, &sink);
        return keep.take();
    }

    /// Run Python source like `eval`, named `filename` in tracebacks,
    /// `linecache` and `inspect` (python's `compile(code, filename,
    /// "exec")`), e.g. the host path it was read from; `eval`'s sources are
    /// `<script-1>`, `<script-2>`, ...
    pub fn evalNamed(s: *Sandbox, code: [:0]const u8, filename: [:0]const u8, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_eval_named(s.raw, code.ptr, filename.ptr, if (table) |*t| t else null));
    }

    /// Run the file at `guest_path` (inside a mount), like `eval`.
    pub fn evalFile(s: *Sandbox, guest_path: [:0]const u8, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_eval_file(s.raw, guest_path.ptr, if (table) |*t| t else null));
    }

    /// The result of the file at `guest_path`, like `evalResult`.
    pub fn evalFileResult(s: *Sandbox, allocator: std.mem.Allocator, guest_path: [:0]const u8) Error![]u8 {
        var keep: ResultKeeper = .{ .allocator = allocator };
        errdefer keep.deinit();
        const sink = Sink.of(ResultKeeper, &keep, .json);
        try s.evalFile(guest_path, &sink);
        return keep.take();
    }

    /// Call global `function` with a JSON array of positional and a JSON
    /// object of keyword arguments (null: none).
    pub fn callJson(s: *Sandbox, function: [:0]const u8, args_json: ?[:0]const u8, kwargs_json: ?[:0]const u8, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_call_json(
            s.raw,
            function.ptr,
            if (args_json) |a| a.ptr else null,
            if (kwargs_json) |k| k.ptr else null,
            if (table) |*t| t else null,
        ));
    }

    /// As callJson with CBOR: `args` a CBOR array, `kwargs` a CBOR map
    /// (empty: none).
    pub fn callCbor(s: *Sandbox, function: [:0]const u8, args: []const u8, kwargs: []const u8, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_call_cbor(s.raw, function.ptr, args.ptr, args.len, kwargs.ptr, kwargs.len, if (table) |*t| t else null));
    }

    /// Call `function` with `args` (which the call empties; refill before
    /// calling again). Streams in `args` are read while the call runs.
    pub fn call(s: *Sandbox, function: [:0]const u8, args: *Args, sink: ?*const Sink) Error!void {
        const table = if (sink) |k| k.table() else null;
        return s.finish(c.isola_sandbox_call(s.raw, function.ptr, args.raw, if (table) |*t| t else null));
    }

    /// Stop the running call from any thread: it fails with
    /// error.Cancelled and the sandbox must be discarded. With no call
    /// running it does nothing (a cancel applies only to the running call).
    pub fn cancel(s: *const Sandbox) Error!void {
        return check(c.isola_sandbox_cancel(s.raw), null);
    }

    /// Time limit of each following call in milliseconds (0: none).
    pub fn setTimeoutMs(s: *Sandbox, milliseconds: u64) Error!void {
        return s.finish(c.isola_sandbox_set_timeout_ms(s.raw, milliseconds));
    }

    /// Bytes of linear memory the sandbox holds.
    pub fn memoryUsage(s: *Sandbox) Error!u64 {
        var bytes: u64 = 0;
        try s.finish(c.isola_sandbox_memory_usage(s.raw, &bytes));
        return bytes;
    }

    /// Create or replace `path` in the sandbox's in-memory scratch file
    /// system (/tmp or /home/user; relative paths are relative to
    /// /home/user) with `data`, creating missing parent directories. Before
    /// or between calls. Outside the scratch file system:
    /// error.InvalidArgument; past a scratch cap: error.Io.
    pub fn writeFile(s: *Sandbox, path: [:0]const u8, data: []const u8) Error!void {
        const ptr: ?[*]const u8 = if (data.len == 0) null else data.ptr;
        try s.finish(c.isola_sandbox_write_file(s.raw, path.ptr, ptr, data.len));
    }

    /// The bytes of `path` in the scratch file system, copied into memory
    /// from `allocator` (the caller frees them). A missing file: error.Io.
    pub fn readFile(s: *Sandbox, allocator: std.mem.Allocator, path: [:0]const u8) (Error || std.mem.Allocator.Error)![]u8 {
        var buffer: ?*c.isola_buffer_t = null;
        try s.finish(c.isola_sandbox_read_file(s.raw, path.ptr, &buffer));
        defer c.isola_buffer_free(buffer);
        const len = c.isola_buffer_len(buffer);
        if (len == 0) return allocator.alloc(u8, 0);
        return allocator.dupe(u8, c.isola_buffer_data(buffer)[0..len]);
    }

    /// The entries of directory `path` of the scratch file system, sorted
    /// by name; `deinit` the listing. A missing directory: error.Io.
    pub fn listDir(s: *Sandbox, path: [:0]const u8) Error!DirListing {
        var raw: ?*c.isola_dir_listing_t = null;
        try s.finish(c.isola_sandbox_list_dir(s.raw, path.ptr, &raw));
        return .{ .raw = raw };
    }

    fn finish(s: *Sandbox, err: ?*c.isola_error_t) Error!void {
        if (err == null) return;
        return check(err, &s.last_error);
    }
};

/// Keeps only the result of one eval (for `evalResult`).
const ResultKeeper = struct {
    allocator: std.mem.Allocator,
    result: ?[]u8 = null,
    out_of_memory: bool = false,

    pub fn onResult(k: *ResultKeeper, value: []const u8) void {
        const copy = k.allocator.dupe(u8, value) catch {
            k.out_of_memory = true;
            return;
        };
        if (k.result) |r| k.allocator.free(r);
        k.result = copy;
    }

    fn deinit(k: *ResultKeeper) void {
        if (k.result) |r| k.allocator.free(r);
        k.result = null;
    }

    fn take(k: *ResultKeeper) Error![]u8 {
        if (k.out_of_memory) return error.OutOfMemory;
        // The library delivers exactly one result per successful eval.
        const r = k.result orelse return error.Internal;
        k.result = null;
        return r;
    }
};

// ---------------------------------------------------------------------------
// Streams and argument lists
// ---------------------------------------------------------------------------

/// A bounded queue feeding one guest iterator argument. Push, close and
/// fail from any thread while a call consumes it; a push blocks while full.
pub const Stream = struct {
    raw: *c.isola_stream_t,

    pub fn init(capacity: usize) Error!Stream {
        var raw: ?*c.isola_stream_t = null;
        try check(c.isola_stream_new(capacity, &raw), null);
        return .{ .raw = raw.? };
    }

    /// Free the stream; a call still reading it sees its end.
    pub fn deinit(s: *Stream) void {
        c.isola_stream_free(s.raw);
        s.* = undefined;
    }

    /// error.InvalidState once closed or failed (also a push blocked on a
    /// full stream at that moment) or once its call ended.
    pub fn pushJson(s: *const Stream, json: [:0]const u8) Error!void {
        return check(c.isola_stream_push_json(s.raw, json.ptr), null);
    }
    pub fn pushCbor(s: *const Stream, cbor: []const u8) Error!void {
        return check(c.isola_stream_push_cbor(s.raw, cbor.ptr, cbor.len), null);
    }
    /// End the input; closing twice is allowed.
    pub fn close(s: *const Stream) Error!void {
        return check(c.isola_stream_close(s.raw), null);
    }
    /// End the input with an error: after the values already pushed, the
    /// guest's iteration raises `sandbox.StreamError` (its str contains
    /// `message`). Blocks like a push while the stream is full; the stream
    /// is closed afterwards.
    pub fn fail(s: *const Stream, message: [:0]const u8) Error!void {
        return check(c.isola_stream_fail(s.raw, message.ptr), null);
    }
};

/// Arguments of Sandbox.call: positional first, then keywords (`name`).
pub const Args = struct {
    raw: *c.isola_args_t,

    pub fn init() Error!Args {
        return .{ .raw = c.isola_args_new() orelse return error.OutOfMemory };
    }
    pub fn deinit(a: *Args) void {
        c.isola_args_free(a.raw);
        a.* = undefined;
    }

    /// A JSON value; `name` null for a positional argument.
    pub fn addJson(a: *Args, name: ?[:0]const u8, json: [:0]const u8) Error!void {
        return check(c.isola_args_add_json(a.raw, if (name) |n| n.ptr else null, json.ptr), null);
    }
    pub fn addCbor(a: *Args, name: ?[:0]const u8, cbor: []const u8) Error!void {
        return check(c.isola_args_add_cbor(a.raw, if (name) |n| n.ptr else null, cbor.ptr, cbor.len), null);
    }
    /// An iterator argument fed by `stream` (a stream feeds one call).
    pub fn addStream(a: *Args, name: ?[:0]const u8, stream: *const Stream) Error!void {
        return check(c.isola_args_add_stream(a.raw, if (name) |n| n.ptr else null, stream.raw), null);
    }
    /// Elements of a JSON array as positional, members of a JSON object as
    /// keyword arguments (null: none). All or nothing.
    pub fn addJsonLists(a: *Args, array_json: ?[:0]const u8, object_json: ?[:0]const u8) Error!void {
        return check(c.isola_args_add_json_lists(a.raw, if (array_json) |j| j.ptr else null, if (object_json) |j| j.ptr else null), null);
    }
};

/// Entries of a scratch directory (`Sandbox.listDir`), sorted by name.
pub const DirListing = struct {
    raw: ?*c.isola_dir_listing_t,

    /// How many entries there are.
    pub fn len(l: DirListing) usize {
        return c.isola_dir_listing_len(l.raw);
    }

    /// The name of entry `index` (< len()); valid until `deinit`.
    pub fn name(l: DirListing, index: usize) [:0]const u8 {
        return std.mem.span(c.isola_dir_listing_name(l.raw, index));
    }

    /// Whether entry `index` is a directory.
    pub fn isDir(l: DirListing, index: usize) bool {
        return c.isola_dir_listing_kind(l.raw, index) == c.ISOLA_FILE_KIND_DIRECTORY;
    }

    /// Free the listing.
    pub fn deinit(l: DirListing) void {
        c.isola_dir_listing_free(l.raw);
    }
};
