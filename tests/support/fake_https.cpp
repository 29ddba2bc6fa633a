#include "tests/support/fake_https.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <condition_variable>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "tests/support/keys.hpp"

namespace streamgate::test {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

void sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("command failed: " + cmd);
}

TestPki make_pki() {
  TestPki p;
  p.dir = make_temp_dir("sg-pki");
  const std::string d = p.dir;
  p.ca_cert = d + "/ca.pem";
  p.server_cert = d + "/server.pem";
  p.server_key = d + "/server.key";
  p.other_host_cert = d + "/other.pem";
  p.other_host_key = d + "/other.key";
  sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
     "/CN=streamgate-test-ca "
     "-keyout " +
     d + "/ca.key -out " + p.ca_cert +
     " -addext basicConstraints=critical,CA:TRUE "
     "-addext keyUsage=critical,keyCertSign,cRLSign");
  const auto leaf = [&](const std::string& name, const std::string& san, const std::string& cert,
                        const std::string& key) {
    write_file(d + "/" + name + ".ext",
               "subjectAltName=" + san + "\nextendedKeyUsage=serverAuth\n");
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name +
       " -keyout " + key + " -out " + d + "/" + name + ".csr");
    sh("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + p.ca_cert + " -CAkey " + d +
       "/ca.key -CAcreateserial"
       " -days 2 -extfile " +
       d + "/" + name + ".ext -out " + cert);
  };
  leaf("server", "IP:127.0.0.1,DNS:localhost", p.server_cert, p.server_key);
  leaf("other", "DNS:other.example", p.other_host_cert, p.other_host_key);
  p.server2_cert = d + "/server2.pem";
  p.server2_key = d + "/server2.key";
  leaf("server2", "IP:127.0.0.1,DNS:localhost", p.server2_cert, p.server2_key);
  return p;
}

std::map<std::string, std::string> decode_query(std::string_view target) {
  std::map<std::string, std::string> out;
  const std::string t(target);
  auto u = boost::urls::parse_origin_form(boost::core::string_view(t.data(), t.size()));
  if (!u) return out;
  for (auto p : u->params()) out[std::string(p.key)] = std::string(p.value);
  return out;
}

}  // namespace

const TestPki& test_pki() {
  static const TestPki pki = make_pki();
  return pki;
}

struct FakeHttpsServer::Impl {
  asio::io_context io;
  ssl::context ctx{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> accepts{0};
  mutable std::mutex mutex;
  std::condition_variable stop_cv;
  Handler handler;
  std::vector<FakeRequest> requests;
  std::vector<int> open_fds;
  std::vector<std::thread> threads;
  std::thread accept_thread;

  void serve(tcp::socket sock) {
    try {
      ssl::stream<tcp::socket> stream(std::move(sock), ctx);
      stream.handshake(ssl::stream_base::server);
      boost::beast::flat_buffer buffer;
      for (;;) {
        bhttp::request<bhttp::string_body> req;
        boost::system::error_code ec;
        bhttp::read(stream, buffer, req, ec);
        if (ec) return;
        FakeRequest fr;
        fr.method = std::string(req.method_string());
        fr.target = std::string(req.target());
        fr.path = fr.target.substr(0, fr.target.find('?'));
        fr.query = decode_query(fr.target);
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          fr.headers[name] = std::string(f.value());
        }
        fr.body = req.body();
        fr.at = std::chrono::steady_clock::now();
        Handler h;
        {
          std::lock_guard lock(mutex);
          requests.push_back(fr);
          h = handler;
        }
        FakeResponse r = h(fr);
        if (r.hang || r.delay.count() > 0) {
          std::unique_lock lock(mutex);
          stop_cv.wait_for(lock, r.hang ? std::chrono::milliseconds(60000) : r.delay,
                           [this] { return stop.load(); });
          if (r.hang || stop) return;
        }
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), 11};
        res.set(bhttp::field::content_type, "application/json");
        for (const auto& [k, v] : r.headers) res.set(k, v);
        res.body() = r.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        bhttp::write(stream, res, ec);
        if (ec || !req.keep_alive()) return;
        if (r.close_after) {
          // Drop the connection without TLS close_notify, as a peer that went away would.
          boost::system::error_code ignored;
          stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
          return;
        }
      }
    } catch (const std::exception&) {
    }
  }
};

FakeHttpsServer::FakeHttpsServer(const std::string& cert_file, const std::string& key_file,
                                 Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->ctx.use_certificate_chain_file(cert_file);
  impl_->ctx.use_private_key_file(key_file, ssl::context::pem);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->acceptor.non_blocking(true);
  impl_->accept_thread = std::thread([impl = impl_.get()] {
    while (!impl->stop) {
      pollfd p{impl->acceptor.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      boost::system::error_code ec;
      tcp::socket sock(impl->io);
      impl->acceptor.accept(sock, ec);
      if (ec) continue;
      sock.non_blocking(false);
      impl->accepts.fetch_add(1);
      std::lock_guard lock(impl->mutex);
      impl->open_fds.push_back(sock.native_handle());
      impl->threads.emplace_back(
          [impl, s = std::move(sock)]() mutable { impl->serve(std::move(s)); });
    }
  });
}

FakeHttpsServer::~FakeHttpsServer() {
  impl_->stop = true;
  impl_->stop_cv.notify_all();
  impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);  // unblocks reads in serve()
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

std::uint16_t FakeHttpsServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<FakeRequest> FakeHttpsServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t FakeHttpsServer::accepts() const { return impl_->accepts.load(); }

void FakeHttpsServer::set_handler(Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

}  // namespace streamgate::test
