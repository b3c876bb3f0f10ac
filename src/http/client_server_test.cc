// The server and the client against each other over loopback sockets.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio.hpp>
#include <future>

#include <pthread.h>

#include "http/client.h"
#include "http/server.h"

namespace sy::http {
namespace {

namespace asio = boost::asio;

class TestHandler final : public Handler {
 public:
  Task<void> handle(Request& req, Response& res) override {
    if (req.path() == "/stream") {
      co_await res.begin_stream(200, "text/event-stream");
      for (int i = 0; i < 3; ++i) {
        const std::string event = "data: " + std::to_string(i) + "\n\n";
        co_await res.write(event);
      }
      co_await res.end_stream();
      co_return;
    }
    if (req.path() == "/thread") {  // the name of the worker thread that serves it
      std::array<char, 16> name{};
      pthread_getname_np(pthread_self(), name.data(), name.size());
      co_await res.send(200, "text/plain", name.data(), {});
      co_return;
    }
    const std::array<Header, 1> extra{Header{"x-echo-method", req.method_name()}};
    co_await res.send(200, "text/plain", req.body(), extra);
  }
  std::string error_body(const Error& e, std::string_view) const override {
    return "{\"error\":\"" + std::string(error_code_name(e.code)) + "\"}";
  }
};

class ClientServer : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions o;
    o.port = 0;
    o.workers = 2;
    o.limits.body_bytes = 1024;
    o.limits.header_bytes = 512;
    server_ = std::make_unique<Server>(o, [](int) { return std::make_unique<TestHandler>(); });
    auto port = server_->start();
    ASSERT_TRUE(port) << port.error().message;
    url_ = *Url::parse("http://127.0.0.1:" + std::to_string(*port));
  }
  void TearDown() override {
    server_->drain();
    server_->wait();
  }

  // Runs a test coroutine to completion. The io_context outlives every Client of the test.
  template <class F>
  void run(F body) {
    std::promise<void> done;
    asio::co_spawn(ioc_, body(), [&](std::exception_ptr e) {
      if (e) done.set_exception(e);
      else done.set_value();
    });
    ioc_.restart();
    ioc_.run();
    done.get_future().get();
  }

  asio::io_context ioc_;

  std::unique_ptr<Server> server_;
  Url url_;
};

TEST_F(ClientServer, PostEchoReusesConnection) {
  Client client;
  run([&]() -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto ex = client.exchange(url_);
      const std::array<std::string_view, 2> body{"hello ", "world"};
      auto r = co_await ex->send({"POST", "/echo", {}, body});
      EXPECT_TRUE(r) << (r ? "" : r.error().message);
      EXPECT_EQ(ex->status(), 200);
      EXPECT_EQ(ex->header("x-echo-method"), "POST");
      EXPECT_EQ(client.counters().idle.load(), 0);  // in use
      EXPECT_EQ(client.counters().open.load(), 1);
      auto text = co_await ex->read_body();
      EXPECT_EQ(*text, "hello world");
    }
  });
  EXPECT_EQ(client.counters().idle.load(), 1);
  EXPECT_EQ(client.counters().open.load(), 1);
}

TEST_F(ClientServer, WorkersThreadsAreNamedAndHeaderNamesMatchInAnyCase) {
  Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url_);
    auto r = co_await ex->send({"GET", "/thread", {}, {}});
    EXPECT_TRUE(r);
    EXPECT_EQ(ex->header("Content-Type"), "text/plain");
    EXPECT_EQ(ex->header("CONTENT-TYPE"), "text/plain");
    EXPECT_EQ(ex->header("content-typ"), "");
    auto name = co_await ex->read_body();
    EXPECT_TRUE(*name == "sy-http-0" || *name == "sy-http-1") << *name;
  });
}

TEST_F(ClientServer, StreamArrivesInPieces) {
  Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url_);
    auto r = co_await ex->send({"GET", "/stream", {}, {}});
    EXPECT_TRUE(r);
    EXPECT_EQ(ex->header("transfer-encoding"), "chunked");
    std::string all;
    for (;;) {
      auto piece = co_await ex->read_some();
      EXPECT_TRUE(piece);
      if (!piece || piece->empty()) break;
      all.append(*piece);
    }
    EXPECT_EQ(all, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  });
}

TEST_F(ClientServer, OversizedBodyGets413InHandlersDialect) {
  Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url_);
    const std::string big(2000, 'x');
    const std::array<std::string_view, 1> body{big};
    auto r = co_await ex->send({"POST", "/echo", {}, body});
    EXPECT_TRUE(r);
    EXPECT_EQ(ex->status(), 413);
    EXPECT_EQ(*(co_await ex->read_body()), "{\"error\":\"payload_too_large\"}");
  });
}

TEST_F(ClientServer, OversizedHeaderGets431) {
  Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url_);
    const std::string big(1000, 'h');
    const std::array<Header, 1> headers{Header{"x-big", big}};
    auto r = co_await ex->send({"GET", "/echo", headers, {}});
    EXPECT_TRUE(r);
    EXPECT_EQ(ex->status(), 431);
  });
}

TEST_F(ClientServer, UnreachableUpstreamIsAnError) {
  Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(*Url::parse("http://127.0.0.1:1"));
    auto r = co_await ex->send({"GET", "/", {}, {}});
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kUpstreamUnreachable);
    }
  });
}

TEST(Url, Parse) {
  auto u = Url::parse("https://api.openai.com/v1/");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/v1");
  EXPECT_EQ(Url::parse("http://localhost:8081")->port, 8081);
  EXPECT_FALSE(Url::parse("ftp://x"));
  EXPECT_FALSE(Url::parse("http://x:99999"));
}

}  // namespace
}  // namespace sy::http
