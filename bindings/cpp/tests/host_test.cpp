// Host calls and HTTP requests answered by an isola::Host, now or later
// from std::threads; exceptions thrown by a host; host lifetime.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "support.hpp"

using namespace std::chrono_literals;
using test::tpl;

namespace {

// Answers "double" with twice its payload, now or from a thread 50 ms later.
class Doubler : public isola::Host {
 public:
  explicit Doubler(bool later) : later_(later) {}
  ~Doubler() override { join(); }

  std::atomic<int> calls{0};

  void on_hostcall(std::string_view name, std::string_view payload, isola::Reply reply) override {
    calls++;
    if (name == "throw") {
      throw std::runtime_error("host exploded");
    }
    if (name == "drop") {
      return;  // the reply is dropped unanswered
    }
    if (name != "double") {
      reply.error("no such tool: " + std::string(name));
      return;
    }
    const std::string answer = std::to_string(2 * std::stol(std::string(payload)));
    if (!later_) {
      reply.ok_json(answer);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([reply = std::move(reply), answer]() mutable {
      std::this_thread::sleep_for(50ms);
      reply.ok_json(answer);
    });
  }

  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread &t : threads) {
      t.join();
    }
  }

 private:
  bool later_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

std::string eval_stdout(const isola::Sandbox &sb, std::string_view code) {
  isola::CollectSink sink;
  sb.eval(code, sink);
  return sink.out;
}

}  // namespace

TEST_CASE("a hostcall answered inside the callback") {
  auto host = std::make_shared<Doubler>(false);
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb, "import sandbox\nprint(await sandbox.hostcall('double', 21))\n") == "42\n");
  CHECK(eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('double', 5))\n") == "10\n");
  CHECK(host->calls == 2);
}

TEST_CASE("hostcalls replied later from std threads run concurrently") {
  auto host = std::make_shared<Doubler>(true);
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  const auto start = std::chrono::steady_clock::now();
  CHECK(eval_stdout(sb,
                    "import asyncio, sandbox\n"
                    "print(await asyncio.gather(*[sandbox.hostcall('double', i) for i in range(8)]))\n") ==
        "[0, 2, 4, 6, 8, 10, 12, 14]\n");
  CHECK(test::ms_since(start) < 350);  // eight 50 ms answers in sequence take 400 ms
  host->join();
  CHECK(host->calls == 8);
}

TEST_CASE("an error reply raises HostError in the guest") {
  auto host = std::make_shared<Doubler>(false);
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb,
                    "import sandbox\ntry:\n    sandbox.hostcall_sync('missing')\n"
                    "except sandbox.HostError as e:\n    print('refused:', e)\n") ==
        "refused: no such tool: missing\n");
}

TEST_CASE("a throwing host answers the guest with the exception message") {
  auto host = std::make_shared<Doubler>(false);
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb,
                    "import sandbox\ntry:\n    sandbox.hostcall_sync('throw')\n"
                    "except sandbox.HostError as e:\n    print(e)\n") == "host exploded\n");
  CHECK(eval_stdout(sb,
                    "import sandbox\ntry:\n    await sandbox.hostcall('drop')\n"
                    "except sandbox.HostError as e:\n    print(e)\n") ==
        "the host dropped the reply without answering\n");
  // The sandbox keeps working afterwards.
  CHECK(eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('double', 1))\n") == "2\n");
}

TEST_CASE("a reply completes once and reports it") {
  struct Twice : isola::Host {
    std::string second;
    void on_hostcall(std::string_view, std::string_view, isola::Reply reply) override {
      CHECK(reply.pending());
      reply.ok_json("1");
      CHECK_FALSE(reply.pending());
      try {
        reply.ok_json("2");
      } catch (const isola::Error &e) {
        second = e.code_name();
      }
    }
  };
  auto host = std::make_shared<Twice>();
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('x'))\n") == "1\n");
  CHECK(host->second == "INVALID_STATE");
}

TEST_CASE("a cbor host receives cbor payloads") {
  struct CborHost : isola::Host {
    CborHost() : isola::Host(isola::Format::Cbor) {}
    std::string payload;
    void on_hostcall(std::string_view, std::string_view p, isola::Reply reply) override {
      payload = std::string(p);
      const unsigned char answer[] = {0x63, 'y', 'e', 's'};  // CBOR "yes"
      reply.ok_cbor(answer, sizeof answer);
    }
  };
  auto host = std::make_shared<CborHost>();
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('q', [1, 2]))\n") == "yes\n");
  CHECK(host->payload == std::string("\x82\x01\x02", 3));
}

TEST_CASE("an http request reaches on_http and the reply the guest") {
  struct Web : isola::Host {
    void on_http(const isola::HttpRequest &req, isola::HttpReply reply) override {
      CHECK(req.method == "POST");
      CHECK(req.url == "https://api.test/echo");
      CHECK(req.body == "hello");
      bool saw_header = false;
      for (const auto &h : req.headers) {
        saw_header = saw_header || (h.first == "X-Key" && h.second == "k");
      }
      CHECK(saw_header);
      // Answer from another thread, after the callback returned.
      std::thread([r = std::move(reply)]() mutable {
        std::this_thread::sleep_for(20ms);
        r.ok(201, {{"Content-Type", "text/plain"}}, "created");
      }).detach();
    }
  };
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(std::make_shared<Web>()));
  CHECK(eval_stdout(sb,
                    "from sandbox import http\n"
                    "r = await http.post('https://api.test/echo', body=b'hello', headers={'X-Key': 'k'})\n"
                    "print(r.status, r.header('content-type'), await r.text())\n") ==
        "201 text/plain created\n");
  // The default on_hostcall refuses.
  CHECK(eval_stdout(sb,
                    "import sandbox\ntry:\n    sandbox.hostcall_sync('x')\n"
                    "except sandbox.HostError as e:\n    print(e)\n") ==
        "this host does not answer host calls\n");
}

TEST_CASE("a streamed http body reaches the guest chunk by chunk") {
  struct Events : isola::Host {
    std::mutex mutex;
    std::condition_variable changed;
    bool saw_first = false;
    bool first_before_last = false;
    std::thread pusher;
    ~Events() override {
      if (pusher.joinable()) {
        pusher.join();
      }
    }
    void on_hostcall(std::string_view name, std::string_view payload, isola::Reply reply) override {
      if (name == "saw" && payload.find("one") != std::string_view::npos) {
        std::lock_guard<std::mutex> lock(mutex);
        saw_first = true;
        changed.notify_all();
      }
      reply.ok_json("null");
    }
    void on_http(const isola::HttpRequest &, isola::HttpReply reply) override {
      isola::HttpBody body = reply.start(200, {{"Content-Type", "text/event-stream"}}, 1);
      pusher = std::thread([this, body = std::move(body)]() mutable {
        body.push("data: one\n\n");
        {
          std::unique_lock<std::mutex> lock(mutex);
          first_before_last = changed.wait_for(lock, 60s, [this] { return saw_first; });
        }
        body.push("data: two\n\n");
        body.end();
      });
    }
  };
  auto host = std::make_shared<Events>();
  isola::Sandbox sb = tpl().sandbox(isola::SandboxOptions().host(host));
  CHECK(eval_stdout(sb,
                    "from sandbox import http\n"
                    "import sandbox\n"
                    "r = await http.get('https://llm.test/stream')\n"
                    "print(r.status, r.header('content-type'))\n"
                    "async for chunk in r.aiter_bytes():\n"
                    "    await sandbox.hostcall('saw', chunk.decode())\n"
                    "    print(repr(chunk.decode()))\n") ==
        "200 text/event-stream\n'data: one\\n\\n'\n'data: two\\n\\n'\n");
  host->pusher.join();
  CHECK(host->first_before_last);
}

TEST_CASE("the host is released when its last user is gone") {
  std::weak_ptr<Doubler> weak;
  {
    auto host = std::make_shared<Doubler>(false);
    weak = host;
    isola::SandboxOptions options;
    options.host(host);
    host.reset();
    CHECK_FALSE(weak.expired());  // held by the options
    isola::Sandbox sb = tpl().sandbox(options);
    options = isola::SandboxOptions();  // free the first options
    CHECK_FALSE(weak.expired());        // held by the sandbox
    CHECK(eval_stdout(sb, "import sandbox\nprint(sandbox.hostcall_sync('double', 4))\n") == "8\n");
  }
  CHECK(weak.expired());

  // A host on the template defaults serves every sandbox of the template.
  auto shared = std::make_shared<Doubler>(false);
  isola::TemplateOptions options;
  options.host(shared);
  const isola::Template t = isola::Template::create(options);
  isola::Sandbox a = t.sandbox();
  isola::Sandbox b = t.sandbox();
  CHECK(eval_stdout(a, "import sandbox\nprint(sandbox.hostcall_sync('double', 1))\n") == "2\n");
  CHECK(eval_stdout(b, "import sandbox\nprint(sandbox.hostcall_sync('double', 2))\n") == "4\n");
  CHECK(shared->calls == 2);

  CHECK_THROWS_AS(isola::SandboxOptions().host(nullptr), isola::Error);
}

namespace {

// Keeps the reply of each host call (answered after the call is gone).
class Holder : public isola::Host {
 public:
  std::vector<isola::Reply> replies;
  bool abandoned_during_call = true;
  void *call_data = nullptr;

  void on_hostcall(std::string_view, std::string_view, isola::Reply reply) override {
    abandoned_during_call = reply.abandoned();
    call_data = reply.call_data();
    replies.push_back(std::move(reply));
  }
};

}  // namespace

TEST_CASE("a host sees its tenant's call data and when the call was abandoned") {
  auto holder = std::make_shared<Holder>();
  isola::SandboxOptions options;
  options.host(holder).timeout(300ms);
  isola::Sandbox sb = tpl().sandbox(options);
  int tenant = 3;
  sb.set_call_data(&tenant);
  CHECK(sb.is_usable());
  const isola::Error e = test::expect_error([&] { sb.eval("import sandbox\nsandbox.hostcall_sync('slow')\n"); });
  CHECK(e.code() == isola::ErrorCode::Timeout);
  CHECK(e.sandbox_is_dead());
  CHECK_FALSE(sb.is_usable());
  REQUIRE(holder->replies.size() == 1);
  CHECK_FALSE(holder->abandoned_during_call);
  CHECK(holder->call_data == &tenant);
  CHECK(holder->replies[0].abandoned());
  holder->replies[0].ok_json("1");  // accepted and dropped
  CHECK(holder->replies[0].abandoned());
}
