#pragma once
// Configuration from the environment and an optional .env file (the environment wins).
// Names are fixed by docs/spec.md §4; `streamgate --help` prints them all from kSettings.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace streamgate::server {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every setting of kSettings, typed. A default-constructed Config holds the defaults of
// kSettings (the only place defaults are written), with the required settings empty.
struct Config {
  Config();
  bool operator==(const Config&) const = default;

  // Stream
  std::string stream_api_key;
  std::string stream_api_secret;
  std::string stream_api_secret_previous;
  std::string stream_base_url;
  std::string stream_ca_file;
  std::int64_t stream_server_token_ttl_seconds{};
  std::int64_t stream_timeout_ms{};
  std::int64_t stream_max_attempts{};
  std::int64_t stream_retry_budget_ms{};
  std::string call_creator_role;
  std::string call_participant_role;
  std::int64_t reconcile_interval_seconds{};
  std::int64_t reconcile_active_after_seconds{};
  std::int64_t reconcile_processing_after_seconds{};
  std::int64_t reconcile_max_age_seconds{};
  std::int64_t reconcile_retry_seconds{};
  // App JWT
  std::string auth_jwt_secret;
  std::string auth_jwt_public_key_file;
  std::string auth_jwks_url;
  std::string auth_jwks_ca_file;
  std::int64_t auth_jwks_refresh_seconds{};
  std::int64_t auth_jwks_cooldown_seconds{};
  std::string auth_jwt_issuer;
  std::string auth_jwt_audience;
  std::string auth_user_id_claim;
  std::string auth_roles_claim;
  std::int64_t auth_leeway_seconds{};
  bool auth_require_exp{};
  std::string admin_role;
  // HTTP
  std::string listen_address;
  std::uint16_t port{};
  std::int64_t http_threads{};
  std::string metrics_address;  // "off": no metrics listener
  std::uint16_t metrics_port{};
  std::int64_t header_limit_bytes{};
  std::int64_t body_limit_bytes{};
  std::int64_t header_timeout_ms{};
  std::int64_t body_timeout_ms{};
  std::int64_t idle_timeout_ms{};
  std::int64_t max_connections{};
  std::int64_t trusted_proxy_hops{};
  std::int64_t shutdown_grace_seconds{};
  std::int64_t shutdown_delay_seconds{};
  std::vector<std::string> cors_allowed_origins;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Storage
  std::string database_url;
  std::int64_t database_pool_size{};
  std::int64_t database_busy_timeout_ms{};
  std::int64_t database_queue_limit{};
  std::string redis_url;
  std::string redis_ca_file;
  std::int64_t redis_timeout_ms{};
  bool rate_limit_fail_open{};
  std::int64_t webhook_body_limit_bytes{};
  // Tokens
  std::int64_t token_ttl_seconds{};
  std::int64_t token_ttl_min_seconds{};
  std::int64_t token_ttl_max_seconds{};
  std::int64_t token_iat_skew_seconds{};
  std::string call_token_policy;  // "off" | "members"
  // App events (outbound, Standard Webhooks)
  std::vector<std::string> app_webhook_urls;
  std::string app_webhook_secret;
  std::string app_webhook_secret_previous;
  std::vector<std::string> app_webhook_events;  // empty: every type
  std::int64_t app_webhook_timeout_ms{};
  std::string app_webhook_ca_file;
  std::vector<std::int64_t> app_webhook_retry_schedule;  // seconds
  std::int64_t app_webhook_poll_ms{};
  std::int64_t app_webhook_concurrency{};
  // Transcripts (docs/transcripts.md)
  bool transcripts = true;
  std::int64_t transcript_max_bytes{};
  std::int64_t transcript_timeout_ms{};
  std::string transcript_ca_file;
  bool transcript_allow_private_hosts = false;
  std::vector<std::string> transcript_hosts;
  std::vector<std::int64_t> transcript_retry_schedule;  // seconds
  std::int64_t transcript_concurrency{};
  std::int64_t transcript_poll_ms{};
  // Limits and logs
  std::int64_t rate_limit_user_per_minute{};
  std::int64_t rate_limit_ip_per_minute{};
  std::string log_level;
  std::string log_format;
};

struct SettingInfo {
  const char* name;
  const char* default_value;  // "" = none
  const char* description;
  bool secret;
};
extern const std::vector<SettingInfo> kSettings;

// Parses KEY=VALUE lines (blank lines, '#' comments, `export ` and quotes allowed).
std::map<std::string, std::string> parse_dotenv(const std::string& text);

// Reads settings from `env` (the process environment merged over .env). A secret setting NAME
// may come from the file named by NAME_FILE instead (one trailing newline removed; both set is
// an error). Throws ConfigError with one line naming the offending setting; never includes a
// secret's value.
Config load_config(const std::map<std::string, std::string>& env);

// The process environment merged over `dotenv_path` when that file exists.
std::map<std::string, std::string> gather_environment(const std::string& dotenv_path);

// Text for --help.
std::string settings_help();

}  // namespace streamgate::server
