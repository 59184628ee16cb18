// isola.hpp: header-only C++17 wrapper of the isola C API (include/isola.h).
//
// RAII owners for templates, sandboxes, options, argument lists and
// streams; errors become `isola::Error` exceptions; output and host
// callbacks are virtual functions of `isola::Sink` and `isola::Host`.
//
// No C++ exception ever crosses into the library: every callback
// trampoline is `noexcept` and catches everything. An exception thrown by
// a Sink is kept and rethrown once the call returns; one thrown by a Host
// becomes an error reply to the guest (`sandbox.HostError`).
//
// Threading follows the C API: a Template may be shared by all threads; a
// Sandbox runs one call at a time, except `cancel()` which any thread may
// call while a call runs; a Stream may be pushed to, closed and failed from
// any thread; a Reply may be completed from any thread. Sink and Host
// callbacks run on the calling thread's own stack.
#ifndef ISOLA_HPP
#define ISOLA_HPP

#include <isola.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace isola {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

// The stable error codes of the C API (isola_error_code_t).
enum class ErrorCode : std::uint32_t {
  InvalidArgument = ISOLA_ERROR_INVALID_ARGUMENT,
  InvalidState = ISOLA_ERROR_INVALID_STATE,
  GuestException = ISOLA_ERROR_GUEST_EXCEPTION,
  Timeout = ISOLA_ERROR_TIMEOUT,
  Cancelled = ISOLA_ERROR_CANCELLED,
  MemoryLimit = ISOLA_ERROR_MEMORY_LIMIT,
  OutputLimit = ISOLA_ERROR_OUTPUT_LIMIT,
  Io = ISOLA_ERROR_IO,
  Trap = ISOLA_ERROR_TRAP,
  Internal = ISOLA_ERROR_INTERNAL,
  ResourceExhausted = ISOLA_ERROR_RESOURCE_EXHAUSTED,  // every sandbox place is taken
};

// The stable name of a code, e.g. "TIMEOUT".
inline const char *code_name(ErrorCode code) noexcept {
  return isola_error_code_name(static_cast<std::uint32_t>(code));
}

// An error reported by the library. `what()` is the library's message
// (the Python traceback for guest exceptions).
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string &message, std::string guest_type = {},
        std::optional<int> exit_status = std::nullopt)
      : std::runtime_error(message), code_(code), guest_type_(std::move(guest_type)),
        exit_status_(exit_status) {}

  ErrorCode code() const noexcept { return code_; }
  // "GUEST_EXCEPTION", "TIMEOUT", ...
  const char *code_name() const noexcept { return isola::code_name(code_); }
  // The Python exception type ("ValueError") for GuestException, else "".
  const std::string &guest_type() const noexcept { return guest_type_; }
  // For an uncaught SystemExit (sys.exit(N) in the guest): the status python
  // would exit with (N as a C int; 1 for a non-integer code, which the guest
  // printed on its stderr). Empty for every other error; sys.exit() and
  // sys.exit(0) are no error.
  std::optional<int> exit_status() const noexcept { return exit_status_; }
  // True when the sandbox that raised this must be discarded: a timeout, a
  // cancelled call, a trap, or an internal error (a panic during a call
  // also makes the sandbox unusable). InvalidState may mean "busy" or
  // "unusable": ask Sandbox::is_usable() when it matters.
  bool sandbox_is_dead() const noexcept {
    return code_ == ErrorCode::Timeout || code_ == ErrorCode::Cancelled || code_ == ErrorCode::Trap ||
           code_ == ErrorCode::Internal;
  }

 private:
  ErrorCode code_;
  std::string guest_type_;
  std::optional<int> exit_status_;
};

namespace detail {

// Take ownership of `err`; throw it as isola::Error when it is not NULL.
inline void check(isola_error_t *err) {
  if (err == nullptr) {
    return;
  }
  const auto code = static_cast<ErrorCode>(isola_error_code(err));
  std::string message;
  std::string guest_type;
  std::int32_t status = 0;
  const std::optional<int> exit_status =
      isola_error_exit_status(err, &status) ? std::optional<int>(status) : std::nullopt;
  try {
    message = isola_error_message(err);
    guest_type = isola_error_guest_type(err);
  } catch (...) {
    isola_error_free(err);
    throw;
  }
  isola_error_free(err);
  throw Error(code, message, std::move(guest_type), exit_status);
}

// Free an error we cannot report (inside a noexcept callback).
inline void ignore(isola_error_t *err) noexcept { isola_error_free(err); }

// Throw Error(InvalidArgument) when `s` holds a NUL byte: the C string
// would end there and the library would see only what comes before it
// (code "x = 1\0raise ..." ran as "x = 1"; python refuses source with a
// NUL byte).
inline void check_no_nul(std::string_view s) {
  const std::size_t at = s.find('\0');
  if (at != std::string_view::npos) {
    throw Error(ErrorCode::InvalidArgument,
                "isola: a string argument contains a NUL byte at offset " + std::to_string(at) +
                    " (a C string would end there)");
  }
}

// A NUL-terminated copy of a string_view (the C API wants C strings); a
// NUL byte inside throws Error(InvalidArgument).
inline std::string cstr(std::string_view s) {
  check_no_nul(s);
  return std::string(s.data(), s.size());
}

// NULL for an empty view, else the copy's c_str(). `holder` keeps it alive.
// A NUL byte inside throws Error(InvalidArgument).
inline const char *cstr_or_null(std::string_view s, std::string &holder) {
  if (s.empty()) {
    return nullptr;
  }
  check_no_nul(s);
  holder.assign(s.data(), s.size());
  return holder.c_str();
}

inline std::string_view view(const std::uint8_t *data, std::size_t len) noexcept {
  return len == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char *>(data), len);
}

}  // namespace detail

// How values reach a Sink (items, results) or a Host (hostcall payloads).
enum class Format : std::uint32_t {
  Json = ISOLA_FORMAT_JSON,  // JSON text
  Cbor = ISOLA_FORMAT_CBOR,  // CBOR bytes (RFC 8949) in the string_view
};

// The library version, "MAJOR.MINOR.PATCH".
inline const char *version() noexcept { return isola_version(); }

// ---------------------------------------------------------------------------
// Sink: receives the output of one eval or call
// ---------------------------------------------------------------------------

// Override what you need; the defaults drop the output. Callbacks run on
// the thread making the call, in the order the guest produced the output,
// never concurrently, and must not call into the same sandbox. The views
// are valid only during the callback. If a callback throws, the later
// callbacks of that call are skipped and the exception is rethrown when
// the call returns (unless the call itself failed: its isola::Error wins,
// since it tells whether the sandbox is still usable).
class Sink {
 public:
  explicit Sink(Format format = Format::Json) noexcept : format_(format) {}
  virtual ~Sink() = default;

  Format format() const noexcept { return format_; }

  // A value yielded by a generator (or sent with sandbox.emit).
  virtual void on_item(std::string_view value) { (void)value; }
  // Once per successful eval or call. A call's return value ("null" when
  // the function or generator returns nothing); for eval / eval_file the
  // value of the script's final expression statement, "null" when the
  // script ends with a statement, the repr text (a JSON string) when the
  // value has no JSON/CBOR form.
  virtual void on_result(std::string_view value) { (void)value; }
  virtual void on_stdout(std::string_view text) { (void)text; }
  virtual void on_stderr(std::string_view text) { (void)text; }
  // A `logging` record: level 10 DEBUG .. 50 CRITICAL.
  virtual void on_log(unsigned level, std::string_view logger, std::string_view message) {
    (void)level;
    (void)logger;
    (void)message;
  }

 protected:
  Sink(const Sink &) = default;
  Sink &operator=(const Sink &) = default;

 private:
  Format format_;
};

// One logging record kept by CollectSink.
struct LogRecord {
  unsigned level = 0;
  std::string logger;
  std::string message;
};

// A Sink that keeps everything: handy for tests and simple programs.
class CollectSink : public Sink {
 public:
  explicit CollectSink(Format format = Format::Json) noexcept : Sink(format) {}

  std::vector<std::string> items;
  std::string result;
  bool has_result = false;
  std::string out;  // stdout
  std::string err;  // stderr
  std::vector<LogRecord> logs;

  void on_item(std::string_view value) override { items.emplace_back(value); }
  void on_result(std::string_view value) override {
    result.assign(value.data(), value.size());
    has_result = true;
  }
  void on_stdout(std::string_view text) override { out.append(text.data(), text.size()); }
  void on_stderr(std::string_view text) override { err.append(text.data(), text.size()); }
  void on_log(unsigned level, std::string_view logger, std::string_view message) override {
    logs.push_back(LogRecord{level, std::string(logger), std::string(message)});
  }
};

namespace detail {

// The per-call bridge between isola_sink_t and a Sink.
struct SinkCall {
  Sink *sink;
  std::exception_ptr error;

  explicit SinkCall(Sink *s) noexcept : sink(s) {}

  isola_sink_t table() noexcept {
    isola_sink_t t{};
    t.struct_size = sizeof t;
    t.user_data = this;
    t.format = static_cast<std::uint32_t>(sink->format());
    t.on_item = &SinkCall::item;
    t.on_result = &SinkCall::result;
    t.on_stdout = &SinkCall::out;
    t.on_stderr = &SinkCall::err;
    t.on_log = &SinkCall::log;
    return t;
  }

  template <typename F>
  static void guarded(void *user_data, F &&f) noexcept {
    auto *self = static_cast<SinkCall *>(user_data);
    if (self->error) {
      return;
    }
    try {
      f(*self->sink);
    } catch (...) {
      self->error = std::current_exception();
    }
  }

  static void item(void *ud, const std::uint8_t *data, std::size_t len) noexcept {
    guarded(ud, [&](Sink &s) { s.on_item(view(data, len)); });
  }
  static void result(void *ud, const std::uint8_t *data, std::size_t len) noexcept {
    guarded(ud, [&](Sink &s) { s.on_result(view(data, len)); });
  }
  static void out(void *ud, const char *text, std::size_t len) noexcept {
    guarded(ud, [&](Sink &s) { s.on_stdout(std::string_view(text, len)); });
  }
  static void err(void *ud, const char *text, std::size_t len) noexcept {
    guarded(ud, [&](Sink &s) { s.on_stderr(std::string_view(text, len)); });
  }
  static void log(void *ud, std::uint32_t level, const char *logger, std::size_t logger_len,
                  const char *message, std::size_t message_len) noexcept {
    guarded(ud, [&](Sink &s) {
      s.on_log(level, std::string_view(logger, logger_len), std::string_view(message, message_len));
    });
  }

  // Throw the call's error first, else the sink's exception.
  void finish(isola_error_t *call_error) {
    check(call_error);
    if (error) {
      std::rethrow_exception(error);
    }
  }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Host: answers guest host calls and HTTP requests
// ---------------------------------------------------------------------------

namespace detail {

// The shared slot of a pending reply: whoever exchanges the pointer out
// first completes it. While the host callback runs, a Reply dropped on the
// callback's own thread leaves the answer to the trampoline, which then
// knows whether the callback threw (and with which message).
template <typename Raw>
struct ReplySlot {
  std::atomic<Raw *> raw;
  std::atomic<bool> in_callback{true};
  std::thread::id callback_thread = std::this_thread::get_id();

  explicit ReplySlot(Raw *r) noexcept : raw(r) {}
  Raw *take() noexcept { return raw.exchange(nullptr); }
  bool trampoline_answers_drops() const noexcept {
    return in_callback.load() && std::this_thread::get_id() == callback_thread;
  }
};

inline bool is_abandoned(const isola_reply_t *r) noexcept { return isola_reply_is_abandoned(r); }
inline bool is_abandoned(const isola_http_reply_t *r) noexcept { return isola_http_reply_is_abandoned(r); }
inline void *call_data_of(const isola_reply_t *r) noexcept { return isola_reply_call_data(r); }
inline void *call_data_of(const isola_http_reply_t *r) noexcept { return isola_http_reply_call_data(r); }

inline void complete_error(isola_reply_t *r, const char *message) noexcept {
  ignore(isola_reply_error(r, message));
}
inline void complete_error(isola_http_reply_t *r, const char *message) noexcept {
  ignore(isola_http_reply_error(r, message));
}

// Move-only owner of one pending reply. A reply destroyed while still
// pending is completed with an error, so the guest never waits forever.
template <typename Raw>
class PendingReply {
 public:
  PendingReply() noexcept = default;
  explicit PendingReply(std::shared_ptr<ReplySlot<Raw>> slot) noexcept : slot_(std::move(slot)) {}
  PendingReply(PendingReply &&other) noexcept = default;
  PendingReply &operator=(PendingReply &&other) noexcept {
    if (this != &other) {
      abandon();
      slot_ = std::move(other.slot_);
    }
    return *this;
  }
  PendingReply(const PendingReply &) = delete;
  PendingReply &operator=(const PendingReply &) = delete;
  ~PendingReply() { abandon(); }

  // True while the reply still waits for an answer.
  bool pending() const noexcept { return slot_ && slot_->raw.load() != nullptr; }
  explicit operator bool() const noexcept { return pending(); }
  // True once the call that asked is over (finished, cancelled, timed
  // out): nobody waits for the answer, so expensive work may stop. Still
  // complete (or drop) the reply. True when no longer pending.
  bool abandoned() const noexcept {
    Raw *r = slot_ ? slot_->raw.load() : nullptr;
    return r == nullptr || is_abandoned(r);
  }
  // The call_data of the sandbox that asked (Sandbox::set_call_data), or
  // nullptr.
  void *call_data() const noexcept {
    Raw *r = slot_ ? slot_->raw.load() : nullptr;
    return r == nullptr ? nullptr : call_data_of(r);
  }

 protected:
  // The raw reply, now ours to complete; throws when already completed.
  Raw *take() {
    Raw *r = slot_ ? slot_->take() : nullptr;
    slot_.reset();
    if (r == nullptr) {
      throw Error(ErrorCode::InvalidState, "isola: this reply was already completed");
    }
    return r;
  }

 private:
  void abandon() noexcept {
    if (slot_) {
      if (slot_->trampoline_answers_drops()) {
        slot_.reset();
        return;
      }
      if (Raw *r = slot_->take()) {
        complete_error(r, "the host dropped the reply without answering");
      }
      slot_.reset();
    }
  }

  std::shared_ptr<ReplySlot<Raw>> slot_;
};

}  // namespace detail

// The pending answer of one `sandbox.hostcall`. Complete it exactly once,
// now or later from any thread. Completing twice throws
// Error(InvalidState); dropping it unanswered fails the guest's call.
class Reply : public detail::PendingReply<isola_reply_t> {
 public:
  using PendingReply::PendingReply;

  // Answer with a JSON value. Invalid JSON reaches the guest as an error
  // and is also thrown here as Error(InvalidArgument).
  void ok_json(std::string_view json) {
    const std::string text = detail::cstr(json);
    detail::check(isola_reply_ok_json(take(), text.c_str()));
  }
  void ok_cbor(const void *data, std::size_t len) {
    detail::check(isola_reply_ok_cbor(take(), static_cast<const std::uint8_t *>(data), len));
  }
  // The guest's await raises sandbox.HostError(message).
  void error(std::string_view message) {
    const std::string text = detail::cstr(message);
    detail::check(isola_reply_error(take(), text.c_str()));
  }
};

// One HTTP header of a reply.
struct Header {
  std::string name;
  std::string value;
};

// A guest HTTP request; every view is valid only during the callback.
struct HttpRequest {
  std::string_view method;
  std::string_view url;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
};

// The body of a streamed HTTP response (HttpReply::start): push chunks
// from any thread while the guest reads them, then end() or fail().
// Move-only; thread-safe (push from one thread, end from another). A body
// destroyed without end() or fail() reads in the guest as an HTTPError
// after the chunks already pushed, never as a complete, shorter body.
class HttpBody {
 public:
  HttpBody() noexcept = default;
  explicit HttpBody(isola_http_body_t *raw) noexcept : raw_(raw) {}
  HttpBody(HttpBody &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  HttpBody &operator=(HttpBody &&other) noexcept {
    if (this != &other) {
      isola_http_body_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  HttpBody(const HttpBody &) = delete;
  HttpBody &operator=(const HttpBody &) = delete;
  ~HttpBody() { isola_http_body_free(raw_); }

  // Push one chunk (copied); blocks while the body is full. Not from
  // inside a callback (throws Error(InvalidState) there; use try_push).
  // Throws Error(InvalidState) once the body ended or its call is over.
  void push(std::string_view chunk) {
    detail::check(isola_http_body_push(raw_, bytes(chunk), chunk.size()));
  }
  // Push without waiting: false when the body is full (nothing queued).
  bool try_push(std::string_view chunk) {
    bool pushed = false;
    detail::check(isola_http_body_try_push(raw_, bytes(chunk), chunk.size(), &pushed));
    return pushed;
  }
  // End the body after the chunks already pushed.
  void end() { detail::check(isola_http_body_end(raw_)); }
  // End it with a failure: the guest's read raises HTTPError(message).
  void fail(std::string_view message) {
    const std::string text = detail::cstr(message);
    detail::check(isola_http_body_fail(raw_, text.c_str()));
  }
  // True once the guest's call is over or it stopped reading the body.
  bool abandoned() const noexcept { return isola_http_body_is_abandoned(raw_); }
  isola_http_body_t *raw() const noexcept { return raw_; }

 private:
  static const std::uint8_t *bytes(std::string_view chunk) noexcept {
    return reinterpret_cast<const std::uint8_t *>(chunk.data());
  }
  isola_http_body_t *raw_ = nullptr;
};

// The pending answer of one guest HTTP request (same rules as Reply).
class HttpReply : public detail::PendingReply<isola_http_reply_t> {
 public:
  using PendingReply::PendingReply;

  void ok(std::uint16_t status, const std::vector<Header> &headers = {}, std::string_view body = {}) {
    const std::vector<isola_header_t> raw = raw_headers(headers);
    detail::check(isola_http_reply_ok(take(), status, raw.empty() ? nullptr : raw.data(), raw.size(),
                                      reinterpret_cast<const std::uint8_t *>(body.data()), body.size()));
  }
  // Answer with status and headers now and stream the body: push its
  // chunks into the returned HttpBody (at most `capacity` unread). Never
  // blocks, so it may be called inside on_http.
  HttpBody start(std::uint16_t status, const std::vector<Header> &headers = {}, std::size_t capacity = 16) {
    const std::vector<isola_header_t> raw = raw_headers(headers);
    isola_http_body_t *body = nullptr;
    detail::check(isola_http_reply_start(take(), status, raw.empty() ? nullptr : raw.data(), raw.size(),
                                         capacity, &body));
    return HttpBody(body);
  }
  // The guest gets sandbox.http.HTTPError(message).
  void error(std::string_view message) {
    const std::string text = detail::cstr(message);
    detail::check(isola_http_reply_error(take(), text.c_str()));
  }

 private:
  static std::vector<isola_header_t> raw_headers(const std::vector<Header> &headers) {
    std::vector<isola_header_t> raw;
    raw.reserve(headers.size());
    for (const Header &h : headers) {
      detail::check_no_nul(h.name);
      detail::check_no_nul(h.value);
      raw.push_back(isola_header_t{h.name.c_str(), h.value.c_str()});
    }
    return raw;
  }
};

// Override to serve the guest. The callbacks run on the thread making the
// eval/call; one Host shared by sandboxes on several threads is called
// concurrently. A callback that throws while still holding its reply
// answers the guest with an error carrying the exception's message.
class Host {
 public:
  explicit Host(Format format = Format::Json) noexcept : format_(format) {}
  virtual ~Host() = default;

  // How hostcall payloads arrive.
  Format format() const noexcept { return format_; }

  // `await sandbox.hostcall(name, payload)`; `payload` is in format().
  // The views point into the library's buffers and are valid only during
  // this callback: copy them (std::string(name)) before handing the work
  // and the Reply to another thread.
  virtual void on_hostcall(std::string_view name, std::string_view payload, Reply reply) {
    (void)name;
    (void)payload;
    reply.error("this host does not answer host calls");
  }
  // `sandbox.http` requests and urllib.request.urlopen. Every view in
  // `request` is valid only during this callback; copy what you keep.
  virtual void on_http(const HttpRequest &request, HttpReply reply) {
    (void)request;
    reply.error("this host does not answer HTTP requests");
  }

 protected:
  Host(const Host &) = default;
  Host &operator=(const Host &) = default;

 private:
  Format format_;
};

namespace detail {

// After the host callback returned or threw: when nobody holds the reply
// any more and it is still unanswered, answer it with `message`.
template <typename Raw>
void settle(std::shared_ptr<ReplySlot<Raw>> &slot, const char *message) noexcept {
  slot->in_callback.store(false);
  if (slot.use_count() == 1) {
    if (Raw *r = slot->take()) {
      complete_error(r, message);
    }
  }
}

// Run a host callback with its reply slot; never lets an exception out.
template <typename Raw, typename F>
void run_host_callback(Raw *reply, F &&f) noexcept {
  std::shared_ptr<ReplySlot<Raw>> slot;
  try {
    slot = std::make_shared<ReplySlot<Raw>>(reply);
  } catch (...) {
    complete_error(reply, "out of memory in the C++ host bridge");
    return;
  }
  try {
    f(slot);
  } catch (const std::exception &e) {
    settle(slot, e.what());
    return;
  } catch (...) {
    settle(slot, "the host callback threw a non-standard exception");
    return;
  }
  settle(slot, "the host dropped the reply without answering");
}

// Owned by the library once attached: freed through user_data_free.
struct HostBridge {
  std::shared_ptr<Host> host;

  static void free(void *user_data) noexcept { delete static_cast<HostBridge *>(user_data); }

  static void hostcall(void *user_data, const char *name, std::size_t name_len, const std::uint8_t *payload,
                       std::size_t payload_len, isola_reply_t *reply) noexcept {
    auto *self = static_cast<HostBridge *>(user_data);
    run_host_callback(reply, [&](const std::shared_ptr<ReplySlot<isola_reply_t>> &slot) {
      self->host->on_hostcall(std::string_view(name, name_len), view(payload, payload_len), Reply(slot));
    });
  }

  static void http(void *user_data, const isola_http_request_t *request, isola_http_reply_t *reply) noexcept {
    auto *self = static_cast<HostBridge *>(user_data);
    run_host_callback(reply, [&](const std::shared_ptr<ReplySlot<isola_http_reply_t>> &slot) {
      HttpRequest req;
      req.method = request->method;
      req.url = request->url;
      req.headers.reserve(request->header_count);
      for (std::size_t i = 0; i < request->header_count; i++) {
        req.headers.emplace_back(request->headers[i].name, request->headers[i].value);
      }
      req.body = view(request->body, request->body_len);
      self->host->on_http(req, HttpReply(slot));
    });
  }
};

// The sandbox settings shared by SandboxOptions and the template
// defaults; Derived provides `isola_sandbox_options_t *raw_settings()`.
template <typename Derived>
class SandboxSettings {
 public:
  // Memory cap in bytes; allocation past it raises MemoryError.
  Derived &max_memory(std::uint64_t bytes) {
    check(isola_sandbox_options_set_max_memory(raw(), bytes));
    return self();
  }
  // Time limit of each eval/call; 0 removes it. Past it: Error(Timeout).
  Derived &timeout(std::chrono::milliseconds limit) {
    check(isola_sandbox_options_set_timeout_ms(raw(), to_ms(limit)));
    return self();
  }
  Derived &max_value_bytes(std::uint64_t bytes) {
    check(isola_sandbox_options_set_max_value_bytes(raw(), bytes));
    return self();
  }
  Derived &max_output_bytes(std::uint64_t bytes) {
    check(isola_sandbox_options_set_max_output_bytes(raw(), bytes));
    return self();
  }
  // Show host directory `host_path` at guest path `guest_path`.
  Derived &mount(std::string_view host_path, std::string_view guest_path, bool writable = false) {
    check(isola_sandbox_options_add_mount(raw(), cstr(host_path).c_str(), cstr(guest_path).c_str(),
                                          writable ? ISOLA_MOUNT_READ_WRITE : ISOLA_MOUNT_READ_ONLY));
    return self();
  }
  Derived &env(std::string_view key, std::string_view value) {
    check(isola_sandbox_options_set_env(raw(), cstr(key).c_str(), cstr(value).c_str()));
    return self();
  }
  // The guest's standard input (sys.stdin, input()): these bytes (copied),
  // then end-of-file; read once over the sandbox's life, across calls.
  Derived &stdin_data(std::string_view data) {
    check(isola_sandbox_options_set_stdin(raw(), reinterpret_cast<const std::uint8_t *>(data.data()),
                                          data.size()));
    return self();
  }
  // The guest's command line, sys.argv: argv[0] the program (script)
  // name, then its arguments (copied). Without it sys.argv is
  // ['sandbox']; per sandbox it replaces the template default's list.
  // An empty list or a string with a NUL byte (which no C string holds)
  // throws Error(ErrorCode::InvalidArgument), as does invalid UTF-8
  // (isola_sandbox_options_set_argv).
  Derived &argv(const std::vector<std::string> &args) {
    std::vector<const char *> pointers;
    pointers.reserve(args.size());
    for (std::size_t i = 0; i < args.size(); i++) {
      if (args[i].find('\0') != std::string::npos) {
        throw Error(ErrorCode::InvalidArgument,
                    "isola: argv[" + std::to_string(i) + "] contains a NUL byte");
      }
      pointers.push_back(args[i].c_str());
    }
    check(isola_sandbox_options_set_argv(raw(), pointers.data(), pointers.size()));
    return self();
  }
  // Serve host calls and HTTP with `host` (kept alive by the library).
  Derived &host(std::shared_ptr<Host> h) {
    if (!h) {
      throw Error(ErrorCode::InvalidArgument, "isola: host must not be null");
    }
    const Format format = h->format();
    auto *bridge = new HostBridge{std::move(h)};
    isola_host_t table{};
    table.struct_size = sizeof table;
    table.user_data = bridge;
    table.user_data_free = &HostBridge::free;
    table.format = static_cast<std::uint32_t>(format);
    table.on_hostcall = &HostBridge::hostcall;
    table.on_http_request = &HostBridge::http;
    isola_error_t *err = isola_sandbox_options_set_host(raw(), &table);
    if (err != nullptr) {
      delete bridge;  // a refused host is not taken over by the library
      check(err);
    }
    return self();
  }

  static std::uint64_t to_ms(std::chrono::milliseconds limit) {
    if (limit.count() < 0) {
      throw Error(ErrorCode::InvalidArgument, "isola: negative timeout");
    }
    return static_cast<std::uint64_t>(limit.count());
  }

 private:
  Derived &self() noexcept { return static_cast<Derived &>(*this); }
  isola_sandbox_options_t *raw() { return self().raw_settings(); }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

// Per-sandbox settings; unset ones inherit the template's defaults.
// Builder style: SandboxOptions().max_memory(64 << 20).timeout(1s).
class SandboxOptions : public detail::SandboxSettings<SandboxOptions> {
 public:
  SandboxOptions() : raw_(isola_sandbox_options_new()) {
    if (raw_ == nullptr) {
      throw std::bad_alloc();
    }
  }
  SandboxOptions(SandboxOptions &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  SandboxOptions &operator=(SandboxOptions &&other) noexcept {
    if (this != &other) {
      isola_sandbox_options_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  SandboxOptions(const SandboxOptions &) = delete;
  SandboxOptions &operator=(const SandboxOptions &) = delete;
  ~SandboxOptions() { isola_sandbox_options_free(raw_); }

  isola_sandbox_options_t *raw() const noexcept { return raw_; }
  isola_sandbox_options_t *raw_settings() {
    if (raw_ == nullptr) {
      throw Error(ErrorCode::InvalidState, "isola: use of moved-from SandboxOptions");
    }
    return raw_;
  }

 private:
  isola_sandbox_options_t *raw_;
};

// Template settings (runtime, cache, prelude) plus the default sandbox
// settings (the SandboxSettings methods set those defaults).
class TemplateOptions : public detail::SandboxSettings<TemplateOptions> {
 public:
  TemplateOptions() : raw_(isola_template_options_new()) {
    if (raw_ == nullptr) {
      throw std::bad_alloc();
    }
  }
  TemplateOptions(TemplateOptions &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  TemplateOptions &operator=(TemplateOptions &&other) noexcept {
    if (this != &other) {
      isola_template_options_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  TemplateOptions(const TemplateOptions &) = delete;
  TemplateOptions &operator=(const TemplateOptions &) = delete;
  ~TemplateOptions() { isola_template_options_free(raw_); }

  // Use a runtime component file instead of the embedded runtime.
  TemplateOptions &runtime_path(std::string_view path) {
    detail::check(isola_template_options_set_runtime_path(raw_checked(), detail::cstr(path).c_str()));
    return *this;
  }
  // Use the runtime installed beside the library under `name`: "sci" is
  // the scientific runtime (numpy), the file isola-python-sci.wasm. Looked
  // up now, in $ISOLA_RUNTIME_DIR if set, else in the directory holding
  // libisola; replaces any runtime path set before. A malformed name or a
  // missing file throws Error(ErrorCode::InvalidArgument) naming where it
  // looked (isola_template_options_set_runtime_name).
  TemplateOptions &runtime_name(std::string_view name) {
    detail::check(isola_template_options_set_runtime_name(raw_checked(), detail::cstr(name).c_str()));
    return *this;
  }
  TemplateOptions &embedded_runtime() {
    detail::check(isola_template_options_set_runtime_path(raw_checked(), nullptr));
    return *this;
  }
  // Cache compiled runtimes in `dir` (created if missing).
  TemplateOptions &cache_dir(std::string_view dir) {
    detail::check(isola_template_options_set_cache_dir(raw_checked(), detail::cstr(dir).c_str()));
    return *this;
  }
  TemplateOptions &no_cache() {
    detail::check(isola_template_options_set_cache_dir(raw_checked(), nullptr));
    return *this;
  }
  // Python source run in every new sandbox; its names are visible later.
  TemplateOptions &prelude(std::string_view code) {
    detail::check(isola_template_options_set_prelude(raw_checked(), detail::cstr(code).c_str()));
    return *this;
  }

  // Run the prelude once, when the template is built, and start every
  // sandbox from a snapshot taken after it instead of running it in each
  // (isola_template_options_set_prelude_snapshot). Template::create then
  // throws the prelude's error, or Error(ErrorCode::InvalidArgument) when
  // it leaves open files or unfinished tasks behind. The first build of a
  // prelude compiles the runtime (tens of seconds); the cache keeps it.
  TemplateOptions &prelude_snapshot(bool enabled = true) {
    detail::check(isola_template_options_set_prelude_snapshot(raw_checked(), enabled));
    return *this;
  }

  isola_template_options_t *raw() const noexcept { return raw_; }
  isola_sandbox_options_t *raw_settings() { return isola_template_options_defaults(raw_checked()); }

 private:
  isola_template_options_t *raw_checked() {
    if (raw_ == nullptr) {
      throw Error(ErrorCode::InvalidState, "isola: use of moved-from TemplateOptions");
    }
    return raw_;
  }

  isola_template_options_t *raw_;
};

// ---------------------------------------------------------------------------
// Streams and argument lists
// ---------------------------------------------------------------------------

// A bounded queue feeding one guest iterator argument. Push, close and fail
// from any thread while a call consumes it; a push blocks while it is full.
class Stream {
 public:
  explicit Stream(std::size_t capacity = 16) {
    detail::check(isola_stream_new(capacity, &raw_));
  }
  Stream(Stream &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Stream &operator=(Stream &&other) noexcept {
    if (this != &other) {
      isola_stream_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  ~Stream() { isola_stream_free(raw_); }

  // Fails with Error(InvalidState) once closed or failed (also a push
  // blocked on a full stream at that moment) or once its call ended.
  void push_json(std::string_view json) const {
    detail::check(isola_stream_push_json(raw_, detail::cstr(json).c_str()));
  }
  void push_cbor(const void *data, std::size_t len) const {
    detail::check(isola_stream_push_cbor(raw_, static_cast<const std::uint8_t *>(data), len));
  }
  // End the input; closing twice is allowed.
  void close() const { detail::check(isola_stream_close(raw_)); }
  // End the input with an error: after the values already pushed, the
  // guest's iteration raises sandbox.StreamError (its str contains
  // `message`). Blocks like a push while the stream is full; the stream is
  // closed afterwards.
  void fail(std::string_view message) const {
    detail::check(isola_stream_fail(raw_, detail::cstr(message).c_str()));
  }

  isola_stream_t *raw() const noexcept { return raw_; }

 private:
  isola_stream_t *raw_ = nullptr;
};

// Arguments of Sandbox::call: positional ones first, then keywords. The
// call consumes them: refill before calling again.
class Args {
 public:
  Args() : raw_(isola_args_new()) {
    if (raw_ == nullptr) {
      throw std::bad_alloc();
    }
  }
  Args(Args &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Args &operator=(Args &&other) noexcept {
    if (this != &other) {
      isola_args_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  Args(const Args &) = delete;
  Args &operator=(const Args &) = delete;
  ~Args() { isola_args_free(raw_); }

  // Positional JSON value.
  Args &json(std::string_view value) {
    detail::check(isola_args_add_json(raw_, nullptr, detail::cstr(value).c_str()));
    return *this;
  }
  // Keyword JSON value.
  Args &json(std::string_view name, std::string_view value) {
    detail::check(isola_args_add_json(raw_, detail::cstr(name).c_str(), detail::cstr(value).c_str()));
    return *this;
  }
  Args &cbor(const void *data, std::size_t len) {
    detail::check(isola_args_add_cbor(raw_, nullptr, static_cast<const std::uint8_t *>(data), len));
    return *this;
  }
  Args &cbor(std::string_view name, const void *data, std::size_t len) {
    detail::check(
        isola_args_add_cbor(raw_, detail::cstr(name).c_str(), static_cast<const std::uint8_t *>(data), len));
    return *this;
  }
  // A positional iterator fed by `stream` (a stream feeds one call).
  Args &stream(const Stream &s) {
    detail::check(isola_args_add_stream(raw_, nullptr, s.raw()));
    return *this;
  }
  Args &stream(std::string_view name, const Stream &s) {
    detail::check(isola_args_add_stream(raw_, detail::cstr(name).c_str(), s.raw()));
    return *this;
  }
  // Elements of a JSON array as positional, members of a JSON object as
  // keyword arguments; empty views mean none. All or nothing.
  Args &json_lists(std::string_view array_json, std::string_view object_json = {}) {
    std::string a, o;
    detail::check(isola_args_add_json_lists(raw_, detail::cstr_or_null(array_json, a),
                                            detail::cstr_or_null(object_json, o)));
    return *this;
  }

  isola_args_t *raw() const noexcept { return raw_; }

 private:
  isola_args_t *raw_;
};

// ---------------------------------------------------------------------------
// Template and Sandbox
// ---------------------------------------------------------------------------

class Sandbox;

// What a cancel request did (isola_cancel_outcome_t).
enum class CancelOutcome : std::uint32_t {
  Requested = ISOLA_CANCEL_REQUESTED,  // a call was running; it stops with Cancelled
  Idle = ISOLA_CANCEL_IDLE,            // no call was running; nothing happened
  Gone = ISOLA_CANCEL_GONE,            // the sandbox was destroyed; nothing happened
};

// Stops the running call of one sandbox from any thread. Independent of
// the Sandbox's lifetime: a watchdog thread may keep it and cancel after
// the Sandbox was destroyed (Gone). A cancel only ever reaches the call
// running when it is made. Move-only; cancel() may be called from several
// threads at once.
class CancelHandle {
 public:
  CancelHandle() noexcept = default;
  explicit CancelHandle(isola_cancel_handle_t *raw) noexcept : raw_(raw) {}
  CancelHandle(CancelHandle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  CancelHandle &operator=(CancelHandle &&other) noexcept {
    if (this != &other) {
      isola_cancel_handle_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  CancelHandle(const CancelHandle &) = delete;
  CancelHandle &operator=(const CancelHandle &) = delete;
  ~CancelHandle() { isola_cancel_handle_free(raw_); }

  CancelOutcome cancel() const {
    isola_cancel_outcome_t outcome = ISOLA_CANCEL_IDLE;
    detail::check(isola_cancel_handle_cancel(raw_, &outcome));
    return static_cast<CancelOutcome>(outcome);
  }

  const isola_cancel_handle_t *raw() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }

 private:
  isola_cancel_handle_t *raw_ = nullptr;
};

// A compiled Python runtime plus defaults. Thread-safe; sandboxes outlive
// it safely. Move-only.
class Template {
 public:
  static Template create() { return create_raw(nullptr); }
  static Template create(const TemplateOptions &options) { return create_raw(options.raw()); }

  Template(Template &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Template &operator=(Template &&other) noexcept {
    if (this != &other) {
      isola_template_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  Template(const Template &) = delete;
  Template &operator=(const Template &) = delete;
  ~Template() { isola_template_free(raw_); }

  inline Sandbox sandbox() const;
  inline Sandbox sandbox(const SandboxOptions &options) const;

  const isola_template_t *raw() const noexcept { return raw_; }

 private:
  explicit Template(isola_template_t *raw) noexcept : raw_(raw) {}
  static Template create_raw(const isola_template_options_t *options) {
    isola_template_t *raw = nullptr;
    detail::check(isola_template_new(options, &raw));
    return Template(raw);
  }

  isola_template_t *raw_;
};

// A live sandbox. One call at a time; `cancel()` from any thread. After
// Timeout, Cancelled or Trap errors discard it. Move-only; do not move it
// while another thread is inside a call on it. Destroying it while a call
// runs (even from one of that call's callbacks) cancels the call and frees
// the sandbox when the call returns.
class Sandbox {
 public:
  static Sandbox create(const Template &tpl) { return create_raw(tpl, nullptr); }
  static Sandbox create(const Template &tpl, const SandboxOptions &options) {
    return create_raw(tpl, options.raw());
  }

  Sandbox(Sandbox &&other) noexcept
      : raw_(std::exchange(other.raw_, nullptr)), cancel_(std::move(other.cancel_)) {}
  Sandbox &operator=(Sandbox &&other) noexcept {
    if (this != &other) {
      isola_sandbox_free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
      cancel_ = std::move(other.cancel_);
    }
    return *this;
  }
  Sandbox(const Sandbox &) = delete;
  Sandbox &operator=(const Sandbox &) = delete;
  ~Sandbox() { isola_sandbox_free(raw_); }

  // Run Python source in the module namespace (top-level await allowed).
  // The sink's on_result receives the script's result once (see
  // Sink::on_result; eval_result returns it).
  void eval(std::string_view code, Sink &sink) const {
    const std::string text = detail::cstr(code);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_eval(raw_, text.c_str(), &table));
  }
  // Run Python source, dropping its output.
  void eval(std::string_view code) const {
    detail::check(isola_sandbox_eval(raw_, detail::cstr(code).c_str(), nullptr));
  }
  // Convenience: run `code` and return its result as JSON text, the value
  // of the final expression statement ("x = 20\nx + 22" gives "42"), or
  // "null" when the script ends with a statement. Other output is dropped.
  std::string eval_result(std::string_view code) const {
    CollectSink sink;
    eval(code, sink);
    return sink.result;
  }
  // Run Python source like eval, named `filename` in tracebacks,
  // linecache and inspect (python's compile(code, filename, "exec")), e.g.
  // the host path it was read from; eval's sources are <script-1>, ...
  void eval_named(std::string_view code, std::string_view filename, Sink &sink) const {
    const std::string text = detail::cstr(code);
    const std::string name = detail::cstr(filename);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_eval_named(raw_, text.c_str(), name.c_str(), &table));
  }
  // Run named Python source, dropping its output.
  void eval_named(std::string_view code, std::string_view filename) const {
    detail::check(isola_sandbox_eval_named(raw_, detail::cstr(code).c_str(),
                                           detail::cstr(filename).c_str(), nullptr));
  }
  // Run the file at `guest_path` (inside a mount), like eval.
  void eval_file(std::string_view guest_path, Sink &sink) const {
    const std::string path = detail::cstr(guest_path);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_eval_file(raw_, path.c_str(), &table));
  }
  void eval_file(std::string_view guest_path) const {
    detail::check(isola_sandbox_eval_file(raw_, detail::cstr(guest_path).c_str(), nullptr));
  }
  // The file's result as JSON text, like eval_result.
  std::string eval_file_result(std::string_view guest_path) const {
    CollectSink sink;
    eval_file(guest_path, sink);
    return sink.result;
  }

  // Call global `function` with a JSON array of positional and a JSON
  // object of keyword arguments (empty views: none).
  void call_json(std::string_view function, std::string_view args_json, std::string_view kwargs_json,
                 Sink &sink) const {
    const std::string fn = detail::cstr(function);
    std::string a, k;
    const char *args = detail::cstr_or_null(args_json, a);
    const char *kwargs = detail::cstr_or_null(kwargs_json, k);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_call_json(raw_, fn.c_str(), args, kwargs, &table));
  }
  void call_json(std::string_view function, std::string_view args_json, Sink &sink) const {
    call_json(function, args_json, {}, sink);
  }
  // Convenience: the call's result as JSON text (items are dropped).
  std::string call_json(std::string_view function, std::string_view args_json = {},
                        std::string_view kwargs_json = {}) const {
    CollectSink sink;
    call_json(function, args_json, kwargs_json, sink);
    return sink.result;
  }

  // As call_json with CBOR: `args` a CBOR array, `kwargs` a CBOR map
  // (length 0: none).
  void call_cbor(std::string_view function, const void *args, std::size_t args_len, const void *kwargs,
                 std::size_t kwargs_len, Sink &sink) const {
    const std::string fn = detail::cstr(function);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_call_cbor(raw_, fn.c_str(), static_cast<const std::uint8_t *>(args), args_len,
                                        static_cast<const std::uint8_t *>(kwargs), kwargs_len, &table));
  }

  // Call `function` with `args` (which the call empties). Streams in
  // `args` are read while the call runs: push from other threads.
  void call(std::string_view function, Args &args, Sink &sink) const {
    const std::string fn = detail::cstr(function);
    detail::SinkCall bridge(&sink);
    const isola_sink_t table = bridge.table();
    bridge.finish(isola_sandbox_call(raw_, fn.c_str(), args.raw(), &table));
  }
  void call(std::string_view function, Args &args) const {
    detail::check(isola_sandbox_call(raw_, detail::cstr(function).c_str(), args.raw(), nullptr));
  }

  // Stop the running call from any thread; it fails with
  // Error(Cancelled) and the sandbox must be discarded. With no call
  // running nothing happens (Idle): a cancel never reaches a later call.
  // The Sandbox must outlive this call; a watchdog that may race with the
  // Sandbox's destruction uses cancel_handle() instead.
  CancelOutcome cancel() const { return cancel_.cancel(); }

  // A handle that cancels this sandbox's running call from any thread and
  // stays valid after the Sandbox is destroyed.
  CancelHandle cancel_handle() const {
    isola_cancel_handle_t *raw = nullptr;
    detail::check(isola_sandbox_cancel_handle(raw_, &raw));
    return CancelHandle(raw);
  }

  // Time limit of each following call (0: none).
  void set_timeout(std::chrono::milliseconds limit) const {
    detail::check(isola_sandbox_set_timeout_ms(raw_, detail::SandboxSettings<SandboxOptions>::to_ms(limit)));
  }

  // False after a timeout, a cancelled call, a trap or an internal error
  // during a call: discard the sandbox then.
  bool is_usable() const {
    bool usable = false;
    detail::check(isola_sandbox_is_usable(raw_, &usable));
    return usable;
  }

  // Tag the sandbox for host callbacks (Reply::call_data()): one Host
  // shared by many sandboxes tells its tenants apart.
  void set_call_data(void *call_data) const { detail::check(isola_sandbox_set_call_data(raw_, call_data)); }

  // Bytes of linear memory the sandbox holds.
  std::uint64_t memory_usage() const {
    std::uint64_t bytes = 0;
    detail::check(isola_sandbox_memory_usage(raw_, &bytes));
    return bytes;
  }

  // Create or replace `path` in the sandbox's in-memory scratch file
  // system (/tmp or /home/user; relative paths are relative to /home/user)
  // with `data`, creating missing parent directories. Before or between
  // calls. Outside the scratch file system: ErrorCode::InvalidArgument; past
  // a scratch cap: ErrorCode::Io.
  void write_file(const std::string &path, const std::vector<std::uint8_t> &data) const {
    detail::check(isola_sandbox_write_file(raw_, detail::cstr(path).c_str(), data.empty() ? nullptr : data.data(),
                                           data.size()));
  }

  // The bytes of `path` in the scratch file system (an artifact the guest
  // produced). A missing file: ErrorCode::Io.
  std::vector<std::uint8_t> read_file(const std::string &path) const {
    isola_buffer_t *buffer = nullptr;
    detail::check(isola_sandbox_read_file(raw_, detail::cstr(path).c_str(), &buffer));
    const std::uint8_t *data = isola_buffer_data(buffer);
    std::vector<std::uint8_t> bytes(data, data + isola_buffer_len(buffer));
    isola_buffer_free(buffer);
    return bytes;
  }

  // The entries of directory `path` of the scratch file system, sorted by
  // name: (name, kind) pairs.
  std::vector<std::pair<std::string, isola_file_kind_t>> list_dir(const std::string &path) const {
    isola_dir_listing_t *listing = nullptr;
    detail::check(isola_sandbox_list_dir(raw_, detail::cstr(path).c_str(), &listing));
    std::vector<std::pair<std::string, isola_file_kind_t>> entries;
    const std::size_t count = isola_dir_listing_len(listing);
    entries.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      entries.emplace_back(isola_dir_listing_name(listing, i), isola_dir_listing_kind(listing, i));
    }
    isola_dir_listing_free(listing);
    return entries;
  }

  const isola_sandbox_t *raw() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }

 private:
  Sandbox(isola_sandbox_t *raw, CancelHandle cancel) noexcept : raw_(raw), cancel_(std::move(cancel)) {}
  static Sandbox create_raw(const Template &tpl, const isola_sandbox_options_t *options) {
    isola_sandbox_t *raw = nullptr;
    detail::check(isola_sandbox_new(tpl.raw(), options, &raw));
    isola_cancel_handle_t *cancel = nullptr;
    isola_error_t *err = isola_sandbox_cancel_handle(raw, &cancel);
    if (err != nullptr) {
      isola_sandbox_free(raw);
      detail::check(err);
    }
    return Sandbox(raw, CancelHandle(cancel));
  }

  isola_sandbox_t *raw_;
  CancelHandle cancel_;
};

inline Sandbox Template::sandbox() const { return Sandbox::create(*this); }
inline Sandbox Template::sandbox(const SandboxOptions &options) const { return Sandbox::create(*this, options); }

}  // namespace isola

#endif  // ISOLA_HPP
