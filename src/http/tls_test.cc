// The client's TLS against a real TLS server (openssl s_server) with a throwaway CA.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <boost/asio.hpp>
#include <gtest/gtest.h>

#include "http/client.h"

namespace sy::http {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sy-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl is needed for this test";
    port_ = free_port();
    const std::string serve =
        "openssl s_server -quiet -www -accept 127.0.0.1:" + std::to_string(port_) + " -cert " +
        (dir_ / "cert.pem").string() + " -key " + (dir_ / "key.pem").string() +
        " >/dev/null 2>&1 & echo $! > " + (dir_ / "pid").string();
    ASSERT_EQ(std::system(serve.c_str()), 0);
    ASSERT_TRUE(wait_listening()) << "openssl s_server did not start on port " << port_;
  }
  void TearDown() override {
    std::ifstream pid(dir_ / "pid");
    if (int p = 0; pid >> p && p > 0) {
      ::kill(p, SIGTERM);
    }
    fs::remove_all(dir_);
  }

  static int free_port() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }
  bool wait_listening() const {
    asio::io_context ioc;
    for (int i = 0; i < 200; ++i) {
      asio::ip::tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)}, ec);
      if (!ec) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  // GET / over TLS with `options`; returns the status or the error message.
  std::string get(ClientOptions options) {
    std::string outcome;
    asio::io_context ioc;
    {
      Client client(options);
      asio::co_spawn(
          ioc,
          [&]() -> Task<void> {
            auto ex = client.exchange(*Url::parse("https://127.0.0.1:" + std::to_string(port_)));
            auto r = co_await ex->send({"GET", "/", {}, {}});
            outcome = r ? std::to_string(ex->status()) : r.error().message;
            if (r) {
              co_await ex->read_body();
            }
          },
          asio::detached);
      ioc.run();
    }
    return outcome;
  }

  fs::path dir_;
  int port_ = 0;
};

TEST_F(Tls, UntrustedCertificateIsRefused) {
  const std::string outcome = get({});
  EXPECT_NE(outcome.find("TLS handshake failed"), std::string::npos) << outcome;
  EXPECT_NE(outcome.find("certificate verify failed"), std::string::npos) << outcome;
}

TEST_F(Tls, TrustedCaIsAccepted) {
  ClientOptions o;
  o.ca_file = (dir_ / "cert.pem").string();
  EXPECT_EQ(get(o), "200");
}

}  // namespace
}  // namespace sy::http
