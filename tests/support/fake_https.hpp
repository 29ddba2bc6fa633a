#pragma once
// Test-time PKI and a small HTTPS server that plays a remote service (Stream, a JWKS host):
// it records every request, counts TCP accepts (to see connection reuse), and answers with a
// handler, which may delay or hang.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace streamgate::test {

struct TestPki {
  std::string dir;
  std::string ca_cert;      // PEM file of the test CA
  std::string server_cert;  // for 127.0.0.1 and localhost, signed by the CA
  std::string server_key;
  std::string other_host_cert;  // for other.example only, signed by the CA
  std::string other_host_key;
  std::string server2_cert;  // also for 127.0.0.1, with CN=server2 (certificate rotation)
  std::string server2_key;
};
// Made once per process with the openssl command-line tool.
const TestPki& test_pki();

struct FakeRequest {
  std::string method;
  std::string target;
  std::string path;
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::chrono::steady_clock::time_point at;
  // A header's value by its lower-case name, or "".
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};
  bool hang = false;         // never answer (until the server stops)
  bool close_after = false;  // close the connection after answering, whatever the headers say
};

class FakeHttpsServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;
  FakeHttpsServer(const std::string& cert_file, const std::string& key_file, Handler handler);
  ~FakeHttpsServer();
  std::uint16_t port() const;
  std::string base_url() const { return "https://127.0.0.1:" + std::to_string(port()); }
  std::vector<FakeRequest> requests() const;
  std::size_t accepts() const;
  void set_handler(Handler handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamgate::test
