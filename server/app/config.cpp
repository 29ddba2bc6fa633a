#include "server/app/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/app_events.hpp"

extern char** environ;

namespace streamgate::server {

const std::vector<SettingInfo> kSettings = {
    {"STREAM_API_KEY", "", "Stream API key (required)", false},
    {"STREAM_API_SECRET", "", "Stream API secret: signs user tokens, verifies webhooks (required)",
     true},
    {"STREAM_API_SECRET_PREVIOUS", "",
     "previous Stream secret, still accepted on webhooks during rotation", true},
    {"STREAM_BASE_URL", "https://video.stream-io-api.com", "Stream REST base URL", false},
    {"STREAM_SERVER_TOKEN_TTL_SECONDS", "3600",
     "lifetime of the server token sent to Stream (re-minted at half its life)", false},
    {"STREAM_CA_FILE", "", "CA bundle for Stream's TLS certificate (default: system store)", false},
    {"STREAM_TIMEOUT_MS", "3000",
     "deadline of one Stream REST attempt (DNS, connect, TLS, write, read)", false},
    {"STREAM_MAX_ATTEMPTS", "3", "attempts per Stream call (retries on 429, 5xx, transport errors)",
     false},
    {"STREAM_RETRY_BUDGET_MS", "10000", "time all attempts and waits of one Stream call may take",
     false},
    {"CALL_CREATOR_ROLE", "host", "call role given to the user who creates a call", false},
    {"CALL_PARTICIPANT_ROLE", "participant", "call role of an added participant when none is given",
     false},
    {"RECONCILE_INTERVAL_SECONDS", "60",
     "how often stale meetings are pulled from Stream (0: never)", false},
    {"RECONCILE_ACTIVE_AFTER_SECONDS", "7200",
     "an active meeting unchanged this long is checked against Stream", false},
    {"RECONCILE_PROCESSING_AFTER_SECONDS", "600",
     "a processing meeting without recordings this long is checked", false},
    {"RECONCILE_MAX_AGE_SECONDS", "86400",
     "processing meetings older than this are no longer checked", false},
    {"RECONCILE_RETRY_SECONDS", "600", "a checked meeting is not checked again before this", false},
    {"AUTH_JWT_SECRET", "", "HS256 secret of the app's login JWTs", true},
    {"AUTH_JWT_PUBLIC_KEY_FILE", "",
     "PEM public key (RSA >= 2048 or EC P-256) of the app's login JWTs", false},
    {"AUTH_JWKS_URL", "", "HTTPS URL of the app's JWKS (RS256/ES256 keys by kid)", false},
    {"AUTH_JWKS_CA_FILE", "", "CA bundle for the JWKS host's certificate (default: system store)",
     false},
    {"AUTH_JWKS_REFRESH_SECONDS", "600", "how often the JWKS is fetched again", false},
    {"AUTH_JWKS_COOLDOWN_SECONDS", "30", "an unknown kid refreshes the JWKS at most this often",
     false},
    {"AUTH_JWT_ISSUER", "", "required iss of app JWTs (empty: not checked)", false},
    {"AUTH_JWT_AUDIENCE", "", "required aud of app JWTs (empty: not checked)", false},
    {"AUTH_USER_ID_CLAIM", "sub", "claim holding the user id", false},
    {"AUTH_ROLES_CLAIM", "roles", "claim holding the roles (string or array)", false},
    {"AUTH_LEEWAY_SECONDS", "30", "clock leeway for exp/nbf/iat of app JWTs", false},
    {"AUTH_REQUIRE_EXP", "true", "reject app JWTs without exp", false},
    {"AUTH_ADMIN_ROLE", "admin", "role that may manage any call", false},
    {"LISTEN_ADDRESS", "0.0.0.0", "address to listen on", false},
    {"PORT", "8000", "port to listen on (0: any free port)", false},
    {"HTTP_THREADS", "0", "I/O threads (0: one per core; on Kubernetes set it from the CPU limit)",
     false},
    {"METRICS_ADDRESS", "127.0.0.1",
     "address of the /metrics listener (off: no listener); never the public port", false},
    {"METRICS_PORT", "9464", "port of the /metrics listener (0: any free port)", false},
    {"HTTP_HEADER_LIMIT_BYTES", "16384", "largest request header (at most 57344)", false},
    {"HTTP_BODY_LIMIT_BYTES", "65536", "largest request body on JSON API routes", false},
    {"HTTP_HEADER_TIMEOUT_MS", "10000", "time allowed to receive a request header", false},
    {"HTTP_BODY_TIMEOUT_MS", "30000", "time allowed to receive a request body", false},
    {"HTTP_IDLE_TIMEOUT_MS", "60000", "keep-alive idle timeout", false},
    {"HTTP_MAX_CONNECTIONS", "10000", "open connections at most", false},
    {"TRUSTED_PROXY_HOPS", "0",
     "proxies in front that append to X-Forwarded-For (0: use the peer address)", false},
    {"SHUTDOWN_DELAY_SECONDS", "0",
     "after SIGTERM, answer /readyz 503 but keep serving this long before draining", false},
    {"SHUTDOWN_GRACE_SECONDS", "20", "time in-flight requests get to finish once draining starts",
     false},
    {"CORS_ALLOWED_ORIGINS", "",
     "comma-separated browser origins allowed to call the API (* for any)", false},
    {"TLS_CERT_FILE", "",
     "PEM certificate chain to terminate TLS here (TLS 1.2+; reloaded on SIGHUP)", false},
    {"TLS_KEY_FILE", "", "PEM private key for TLS_CERT_FILE", false},
    {"DATABASE_URL", "sqlite:./data/streamgate.db", "sqlite:PATH or postgres://...", true},
    {"DATABASE_POOL_SIZE", "4", "store connections (PostgreSQL) or reader connections (SQLite)",
     false},
    {"DATABASE_BUSY_TIMEOUT_MS", "2000",
     "how long a store call waits for a lock before answering 503", false},
    {"DATABASE_QUEUE_LIMIT", "1024",
     "store calls that may wait for a connection or the writer; beyond it, 503 at once", false},
    {"WEBHOOK_BODY_LIMIT_BYTES", "1048576",
     "largest webhook body, compressed and after gunzip (413 beyond)", false},
    {"REDIS_URL", "",
     "redis[s]://[[user]:password@]host[:port][/db] to share rate limits between replicas "
     "(rediss: TLS; a user: ACL AUTH)",
     true},
    {"REDIS_CA_FILE", "",
     "rediss: PEM file of the CA that signs Redis's certificate (else the system's)", false},
    {"REDIS_TIMEOUT_MS", "250", "deadline of one rate-limit call to Redis", false},
    {"RATE_LIMIT_REDIS_FAILURE", "open",
     "when Redis is unreachable: open (let requests through) or closed (503)", false},
    {"APP_WEBHOOK_URL", "",
     "comma-separated endpoints that receive app events (https, or http on loopback; empty: off)",
     true},
    {"APP_WEBHOOK_SECRET", "",
     "Standard Webhooks signing secret, whsec_<base64 of >= 24 bytes> (init-env writes one)", true},
    {"APP_WEBHOOK_SECRET_PREVIOUS", "",
     "previous app event secret: deliveries carry both signatures during a rotation", true},
    {"APP_WEBHOOK_EVENTS", "", "comma-separated app event types to send (empty: all)", false},
    {"APP_WEBHOOK_TIMEOUT_MS", "10000", "deadline of one app event delivery attempt", false},
    {"APP_WEBHOOK_CA_FILE", "", "CA bundle for the endpoints' certificates (default: system store)",
     false},
    {"APP_WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000",
     "seconds before each retry of a failed delivery (jittered); then the event is failed", false},
    {"APP_WEBHOOK_POLL_MS", "1000",
     "how often the outbox is read for due events (this replica's new events wake it at once)",
     false},
    {"APP_WEBHOOK_CONCURRENCY", "64", "app event deliveries in flight at most", false},
    {"TRANSCRIPTS", "on",
     "on: fetch, store and serve transcripts of new transcriptions; off: none of it", false},
    {"TRANSCRIPT_MAX_BYTES", "33554432", "largest transcript file fetched (failed beyond)", false},
    {"TRANSCRIPT_TIMEOUT_MS", "60000", "deadline of one transcript download", false},
    {"TRANSCRIPT_CA_FILE", "",
     "CA bundle for transcript hosts' certificates (default: system store)", false},
    {"TRANSCRIPT_ALLOW_PRIVATE_HOSTS", "false",
     "true: transcript URLs may reach loopback, private, link-local and metadata addresses", false},
    {"TRANSCRIPT_HOSTS", "",
     "comma-separated hosts transcripts may come from (exact, or *.domain); empty: any public host",
     false},
    {"TRANSCRIPT_RETRY_SCHEDULE", "10,60,300,1800,7200,21600,43200",
     "seconds before each retry of a failed transcript fetch (jittered); then it is failed", false},
    {"TRANSCRIPT_CONCURRENCY", "2", "transcript downloads in flight at most", false},
    {"TRANSCRIPT_POLL_MS", "1000", "how often due transcript fetches are looked for", false},
    {"TOKEN_TTL_SECONDS", "3600", "default Stream token validity", false},
    {"TOKEN_TTL_MIN_SECONDS", "60", "shortest validity a client may ask for", false},
    {"TOKEN_TTL_MAX_SECONDS", "86400", "longest validity a client may ask for", false},
    {"TOKEN_IAT_SKEW_SECONDS", "5", "how far iat is backdated", false},
    {"CALL_TOKEN_POLICY", "off",
     "call tokens (callCids/role): off, or members (caller must be creator/member)", false},
    {"RATE_LIMIT_USER_PER_MINUTE", "60",
     "requests per user per minute on authenticated routes (0: off)", false},
    {"RATE_LIMIT_IP_PER_MINUTE", "600",
     "requests per client IP per minute on authenticated routes (0: off)", false},
    {"LOG_LEVEL", "info", "trace, debug, info, warn, error, critical or off", false},
    {"LOG_FORMAT", "json", "json or text", false},
};

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

class Reader {
 public:
  explicit Reader(const std::map<std::string, std::string>& env) : env_(env) {}

  const SettingInfo& info(const std::string& name) const {
    for (const auto& s : kSettings)
      if (name == s.name) return s;
    throw std::logic_error("unknown setting " + name);
  }

  std::string str(const std::string& name) const {
    const auto it = env_.find(name);
    if (it != env_.end()) return it->second;
    return info(name).default_value;
  }

  std::int64_t integer(const std::string& name, std::int64_t lo, std::int64_t hi) const {
    const std::string v = trim(str(name));
    std::int64_t out = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi)
      throw ConfigError(name + " must be an integer from " + std::to_string(lo) + " to " +
                        std::to_string(hi) + (info(name).secret ? "" : " (got \"" + v + "\")"));
    return out;
  }

  bool boolean(const std::string& name) const {
    const std::string v = trim(str(name));
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    throw ConfigError(name + " must be true or false (got \"" + v + "\")");
  }

  std::string one_of(const std::string& name, std::initializer_list<const char*> allowed) const {
    const std::string v = trim(str(name));
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return v;
      list += list.empty() ? a : std::string(", ") + a;
    }
    throw ConfigError(name + " must be one of " + list + " (got \"" + v + "\")");
  }

 private:
  const std::map<std::string, std::string>& env_;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// True for localhost, 127.0.0.0/8 and [::1]: the hosts an http:// endpoint may name.
bool loopback_host(std::string_view url) {
  const auto start = url.find("://");
  if (start == std::string_view::npos) return false;
  auto rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host = rest;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
    return host == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // An IPv4 literal in 127.0.0.0/8 (not a name that merely starts with "127.").
  if (host.rfind("127.", 0) != 0 || std::count(host.begin(), host.end(), '.') != 3) return false;
  return host.find_first_not_of("0123456789.") == std::string_view::npos &&
         host.find("..") == std::string_view::npos && host.back() != '.';
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else {
      const auto hash = value.find(" #");
      if (hash != std::string::npos) value = trim(value.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

std::map<std::string, std::string> gather_environment(const std::string& dotenv_path) {
  std::map<std::string, std::string> env;
  std::ifstream in(dotenv_path);
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    env = parse_dotenv(buf.str());
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

namespace {

// Reads every setting from `env` over the defaults of kSettings. `required` checks what has no
// default (the Stream key and secret, one app-JWT mode); without it they may stay empty, which
// is how a default Config is made.
void read_settings(Config& c, const std::map<std::string, std::string>& env, bool required) {
  Reader r(env);
  c.stream_api_key = trim(r.str("STREAM_API_KEY"));
  if (required && c.stream_api_key.empty()) throw ConfigError("STREAM_API_KEY is required");
  c.stream_api_secret = r.str("STREAM_API_SECRET");
  if (required && c.stream_api_secret.empty()) throw ConfigError("STREAM_API_SECRET is required");
  c.stream_api_secret_previous = r.str("STREAM_API_SECRET_PREVIOUS");
  c.stream_base_url = trim(r.str("STREAM_BASE_URL"));
  if (c.stream_base_url.rfind("https://", 0) != 0 && c.stream_base_url.rfind("http://", 0) != 0)
    throw ConfigError("STREAM_BASE_URL must be an http(s):// URL");
  c.stream_ca_file = trim(r.str("STREAM_CA_FILE"));
  c.stream_server_token_ttl_seconds = r.integer("STREAM_SERVER_TOKEN_TTL_SECONDS", 2, 86400);
  c.stream_timeout_ms = r.integer("STREAM_TIMEOUT_MS", 100, 120'000);
  c.stream_max_attempts = r.integer("STREAM_MAX_ATTEMPTS", 1, 10);
  c.stream_retry_budget_ms = r.integer("STREAM_RETRY_BUDGET_MS", 100, 600'000);
  c.call_creator_role = r.str("CALL_CREATOR_ROLE");
  c.call_participant_role = r.str("CALL_PARTICIPANT_ROLE");
  for (const auto* role : {&c.call_creator_role, &c.call_participant_role})
    if (role->empty() || role->size() > 64 ||
        role->find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
            std::string::npos)
      throw ConfigError(std::string(role == &c.call_creator_role ? "CALL_CREATOR_ROLE"
                                                                 : "CALL_PARTICIPANT_ROLE") +
                        " must be a role name of [A-Za-z0-9_-]");
  c.reconcile_interval_seconds = r.integer("RECONCILE_INTERVAL_SECONDS", 0, 86400);
  c.reconcile_active_after_seconds = r.integer("RECONCILE_ACTIVE_AFTER_SECONDS", 0, 30 * 86400);
  c.reconcile_processing_after_seconds =
      r.integer("RECONCILE_PROCESSING_AFTER_SECONDS", 0, 30 * 86400);
  c.reconcile_max_age_seconds = r.integer("RECONCILE_MAX_AGE_SECONDS", 0, 365 * 86400);
  c.reconcile_retry_seconds = r.integer("RECONCILE_RETRY_SECONDS", 0, 30 * 86400);

  c.auth_jwt_secret = r.str("AUTH_JWT_SECRET");
  c.auth_jwt_public_key_file = trim(r.str("AUTH_JWT_PUBLIC_KEY_FILE"));
  c.auth_jwks_url = trim(r.str("AUTH_JWKS_URL"));
  if (required && c.auth_jwt_secret.empty() && c.auth_jwt_public_key_file.empty() &&
      c.auth_jwks_url.empty())
    throw ConfigError(
        "one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY_FILE or AUTH_JWKS_URL is required");
  if (!c.auth_jwks_url.empty() && c.auth_jwks_url.rfind("https://", 0) != 0)
    throw ConfigError("AUTH_JWKS_URL must be an https:// URL");
  c.auth_jwks_ca_file = trim(r.str("AUTH_JWKS_CA_FILE"));
  c.auth_jwks_refresh_seconds = r.integer("AUTH_JWKS_REFRESH_SECONDS", 10, 86400);
  c.auth_jwks_cooldown_seconds = r.integer("AUTH_JWKS_COOLDOWN_SECONDS", 0, 3600);
  c.auth_jwt_issuer = trim(r.str("AUTH_JWT_ISSUER"));
  c.auth_jwt_audience = trim(r.str("AUTH_JWT_AUDIENCE"));
  c.auth_user_id_claim = trim(r.str("AUTH_USER_ID_CLAIM"));
  if (c.auth_user_id_claim.empty()) throw ConfigError("AUTH_USER_ID_CLAIM must not be empty");
  c.auth_roles_claim = trim(r.str("AUTH_ROLES_CLAIM"));
  if (c.auth_roles_claim.empty()) throw ConfigError("AUTH_ROLES_CLAIM must not be empty");
  c.auth_leeway_seconds = r.integer("AUTH_LEEWAY_SECONDS", 0, 600);
  c.auth_require_exp = r.boolean("AUTH_REQUIRE_EXP");
  c.admin_role = trim(r.str("AUTH_ADMIN_ROLE"));
  if (c.admin_role.empty()) throw ConfigError("AUTH_ADMIN_ROLE must not be empty");

  c.listen_address = trim(r.str("LISTEN_ADDRESS"));
  c.port = static_cast<std::uint16_t>(r.integer("PORT", 0, 65535));
  c.http_threads = r.integer("HTTP_THREADS", 0, 256);
  c.metrics_address = trim(r.str("METRICS_ADDRESS"));
  if (c.metrics_address.empty())
    throw ConfigError("METRICS_ADDRESS must be an address, or off for no metrics listener");
  c.metrics_port = static_cast<std::uint16_t>(r.integer("METRICS_PORT", 0, 65535));
  if (c.metrics_address != "off" && c.metrics_port != 0 && c.metrics_port == c.port && c.port != 0)
    throw ConfigError("METRICS_PORT must differ from PORT: /metrics is not served publicly");
  c.header_limit_bytes = r.integer("HTTP_HEADER_LIMIT_BYTES", 1024, 56 * 1024);
  c.body_limit_bytes = r.integer("HTTP_BODY_LIMIT_BYTES", 1024, 64 << 20);
  c.header_timeout_ms = r.integer("HTTP_HEADER_TIMEOUT_MS", 100, 600'000);
  c.body_timeout_ms = r.integer("HTTP_BODY_TIMEOUT_MS", 100, 600'000);
  c.idle_timeout_ms = r.integer("HTTP_IDLE_TIMEOUT_MS", 100, 3'600'000);
  c.max_connections = r.integer("HTTP_MAX_CONNECTIONS", 1, 1'000'000);
  c.trusted_proxy_hops = r.integer("TRUSTED_PROXY_HOPS", 0, 10);
  c.shutdown_grace_seconds = r.integer("SHUTDOWN_GRACE_SECONDS", 0, 3600);
  c.shutdown_delay_seconds = r.integer("SHUTDOWN_DELAY_SECONDS", 0, 600);
  c.cors_allowed_origins = split_list(r.str("CORS_ALLOWED_ORIGINS"));
  for (const auto& o : c.cors_allowed_origins)
    if (o != "*" && o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      throw ConfigError(
          "CORS_ALLOWED_ORIGINS entries must be http(s)://host[:port] origins or * (got \"" + o +
          "\")");
  c.tls_cert_file = trim(r.str("TLS_CERT_FILE"));
  c.tls_key_file = trim(r.str("TLS_KEY_FILE"));
  if (c.tls_cert_file.empty() != c.tls_key_file.empty())
    throw ConfigError(c.tls_cert_file.empty() ? "TLS_CERT_FILE is required with TLS_KEY_FILE"
                                              : "TLS_KEY_FILE is required with TLS_CERT_FILE");

  c.database_url = trim(r.str("DATABASE_URL"));
  if (c.database_url.rfind("sqlite:", 0) != 0 && c.database_url.rfind("postgres://", 0) != 0 &&
      c.database_url.rfind("postgresql://", 0) != 0)
    throw ConfigError("DATABASE_URL must be sqlite:PATH or postgres://...");
  if (c.database_url == "sqlite:" || c.database_url == "sqlite://")
    throw ConfigError("DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/streamgate.db");
  c.database_pool_size = r.integer("DATABASE_POOL_SIZE", 1, 256);
  c.database_busy_timeout_ms = r.integer("DATABASE_BUSY_TIMEOUT_MS", 10, 600'000);
  c.database_queue_limit = r.integer("DATABASE_QUEUE_LIMIT", 1, 1'000'000);
  c.webhook_body_limit_bytes = r.integer("WEBHOOK_BODY_LIMIT_BYTES", 1024, 64 << 20);
  c.redis_url = trim(r.str("REDIS_URL"));
  if (!c.redis_url.empty() && c.redis_url.rfind("redis://", 0) != 0 &&
      c.redis_url.rfind("rediss://", 0) != 0)
    throw ConfigError("REDIS_URL must be redis[s]://[[user]:password@]host[:port][/db]");
  c.redis_ca_file = trim(r.str("REDIS_CA_FILE"));
  if (!c.redis_ca_file.empty() && c.redis_url.rfind("rediss://", 0) != 0)
    throw ConfigError("REDIS_CA_FILE needs a rediss:// REDIS_URL");
  c.redis_timeout_ms = r.integer("REDIS_TIMEOUT_MS", 10, 60'000);
  c.rate_limit_fail_open = r.one_of("RATE_LIMIT_REDIS_FAILURE", {"open", "closed"}) == "open";

  c.token_ttl_min_seconds = r.integer("TOKEN_TTL_MIN_SECONDS", 1, 30 * 86400);
  c.token_ttl_max_seconds = r.integer("TOKEN_TTL_MAX_SECONDS", 1, 30 * 86400);
  if (c.token_ttl_max_seconds < c.token_ttl_min_seconds)
    throw ConfigError("TOKEN_TTL_MAX_SECONDS must not be below TOKEN_TTL_MIN_SECONDS");
  c.token_ttl_seconds =
      r.integer("TOKEN_TTL_SECONDS", c.token_ttl_min_seconds, c.token_ttl_max_seconds);
  c.token_iat_skew_seconds = r.integer("TOKEN_IAT_SKEW_SECONDS", 0, 300);
  c.call_token_policy = r.one_of("CALL_TOKEN_POLICY", {"off", "members"});

  c.app_webhook_urls = split_list(r.str("APP_WEBHOOK_URL"));
  if (c.app_webhook_urls.size() > 10) throw ConfigError("APP_WEBHOOK_URL lists at most 10 URLs");
  for (const auto& url : c.app_webhook_urls) {
    const bool https = url.rfind("https://", 0) == 0;
    const bool http = url.rfind("http://", 0) == 0;
    if (!(https || (http && loopback_host(url))) || url.size() > 2048)
      throw ConfigError(
          "APP_WEBHOOK_URL entries must be https:// URLs (http:// only for localhost)");
  }
  c.app_webhook_secret = trim(r.str("APP_WEBHOOK_SECRET"));
  c.app_webhook_secret_previous = trim(r.str("APP_WEBHOOK_SECRET_PREVIOUS"));
  if (!c.app_webhook_urls.empty() && c.app_webhook_secret.empty())
    throw ConfigError("APP_WEBHOOK_SECRET is required with APP_WEBHOOK_URL");
  for (const auto* name : {"APP_WEBHOOK_SECRET", "APP_WEBHOOK_SECRET_PREVIOUS"}) {
    const auto& v = std::string(name) == "APP_WEBHOOK_SECRET" ? c.app_webhook_secret
                                                              : c.app_webhook_secret_previous;
    if (!v.empty() && !core::parse_webhook_secret(v))
      throw ConfigError(std::string(name) + " must be whsec_ and the base64 of at least " +
                        std::to_string(core::kMinWebhookKeyBytes) + " bytes");
  }
  c.app_webhook_events = split_list(r.str("APP_WEBHOOK_EVENTS"));
  for (const auto& type : c.app_webhook_events)
    if (!core::is_app_event_type(type))
      throw ConfigError("APP_WEBHOOK_EVENTS: unknown event type \"" + type.substr(0, 64) +
                        "\" (known: meeting.created, meeting.started, meeting.ended, "
                        "meeting.recording_ready, meeting.transcription_ready, "
                        "meeting.call_ended, meeting.transcript_ready)");
  c.app_webhook_timeout_ms = r.integer("APP_WEBHOOK_TIMEOUT_MS", 100, 120'000);
  c.app_webhook_ca_file = trim(r.str("APP_WEBHOOK_CA_FILE"));
  {
    const auto schedule = core::parse_retry_schedule(trim(r.str("APP_WEBHOOK_RETRY_SCHEDULE")));
    if (!schedule)
      throw ConfigError(
          "APP_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds (each 0 to 604800, at most "
          "20)");
    c.app_webhook_retry_schedule = *schedule;
  }
  c.app_webhook_poll_ms = r.integer("APP_WEBHOOK_POLL_MS", 10, 600'000);
  c.app_webhook_concurrency = r.integer("APP_WEBHOOK_CONCURRENCY", 1, 1024);

  c.transcripts = r.one_of("TRANSCRIPTS", {"on", "off"}) == "on";
  c.transcript_max_bytes = r.integer("TRANSCRIPT_MAX_BYTES", 1024, std::int64_t{1} << 30);
  c.transcript_timeout_ms = r.integer("TRANSCRIPT_TIMEOUT_MS", 100, 600'000);
  c.transcript_ca_file = trim(r.str("TRANSCRIPT_CA_FILE"));
  c.transcript_allow_private_hosts = r.boolean("TRANSCRIPT_ALLOW_PRIVATE_HOSTS");
  c.transcript_hosts = split_list(r.str("TRANSCRIPT_HOSTS"));
  if (c.transcript_hosts.size() > 64) throw ConfigError("TRANSCRIPT_HOSTS lists at most 64 hosts");
  for (const auto& h : c.transcript_hosts) {
    const auto name = h.rfind("*.", 0) == 0 ? h.substr(2) : h;
    const bool ok = !name.empty() && name.size() <= 253 &&
                    name.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789.-") == std::string::npos;
    if (!ok)
      throw ConfigError("TRANSCRIPT_HOSTS entries must be host names (or *.domain), not \"" +
                        h.substr(0, 64) + "\"");
  }
  {
    const auto schedule = core::parse_retry_schedule(trim(r.str("TRANSCRIPT_RETRY_SCHEDULE")));
    if (!schedule)
      throw ConfigError(
          "TRANSCRIPT_RETRY_SCHEDULE must be comma-separated seconds (each 0 to 604800, at most "
          "20)");
    c.transcript_retry_schedule = *schedule;
  }
  c.transcript_concurrency = r.integer("TRANSCRIPT_CONCURRENCY", 1, 64);
  c.transcript_poll_ms = r.integer("TRANSCRIPT_POLL_MS", 10, 600'000);

  c.rate_limit_user_per_minute = r.integer("RATE_LIMIT_USER_PER_MINUTE", 0, 100'000'000);
  c.rate_limit_ip_per_minute = r.integer("RATE_LIMIT_IP_PER_MINUTE", 0, 100'000'000);
  c.log_level =
      r.one_of("LOG_LEVEL", {"trace", "debug", "info", "warn", "error", "critical", "off"});
  c.log_format = r.one_of("LOG_FORMAT", {"json", "text"});
}

// NAME_FILE for every secret setting NAME: the file's content (one trailing newline, or CRLF,
// removed) becomes NAME. Both set at once is an error, as is a file that cannot be read.
std::map<std::string, std::string> resolve_secret_files(std::map<std::string, std::string> env) {
  constexpr std::size_t kMaxSecretFile = 64 * 1024;
  for (const auto& s : kSettings) {
    if (!s.secret) continue;
    const std::string name = s.name;
    const auto file = env.find(name + "_FILE");
    if (file == env.end()) continue;
    const std::string path = trim(file->second);
    if (env.count(name))
      throw ConfigError(name + " and " + name + "_FILE are both set; set one of them");
    if (path.empty()) throw ConfigError(name + "_FILE is empty; set a file path");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(name + "_FILE: cannot read " + path);
    std::string value(kMaxSecretFile + 1, '\0');
    in.read(value.data(), static_cast<std::streamsize>(value.size()));
    if (in.bad()) throw ConfigError(name + "_FILE: cannot read " + path);
    value.resize(static_cast<std::size_t>(in.gcount()));
    if (value.size() > kMaxSecretFile)
      throw ConfigError(name + "_FILE: " + path + " is larger than 64 KiB");
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    if (value.find_first_of("\r\n") != std::string::npos)
      throw ConfigError(name + "_FILE: " + path + " holds more than one line");
    env.erase(file);
    env[name] = std::move(value);
  }
  return env;
}

}  // namespace

Config::Config() { read_settings(*this, {}, false); }

Config load_config(const std::map<std::string, std::string>& env) {
  Config c;
  read_settings(c, resolve_secret_files(env), true);
  return c;
}

std::string settings_help() {
  std::string out;
  for (const auto& s : kSettings) {
    out += "  ";
    out += s.name;
    out += std::string(
        s.name ? std::max<int>(1, 28 - static_cast<int>(std::string(s.name).size())) : 1, ' ');
    out += s.description;
    if (*s.default_value != '\0') {
      out += " [default: ";
      out += s.default_value;
      out += "]";
    }
    if (s.secret) out += " (secret; or " + std::string(s.name) + "_FILE)";
    out += '\n';
  }
  return out;
}

}  // namespace streamgate::server
