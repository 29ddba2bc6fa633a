#pragma once
// The operator's commands that look at a configuration without serving it:
//   streamgate check-config   validates it and reaches what it names (as `nginx -t` does)
//   streamgate healthcheck    asks a running instance's /readyz (the image's HEALTHCHECK)
#include <map>
#include <ostream>
#include <string>

#include "server/app/config.hpp"

namespace streamgate::server {

// Loads the configuration from `env`, then opens the store (as the server would: the schema is
// created or migrated), makes one authenticated Stream call (GET of a call that does not exist:
// 404 means the key and secret were accepted), fetches the JWKS when AUTH_JWKS_URL is set and
// asks Redis when REDIS_URL is set. Writes one line per problem (or one "ok" line) to `out`.
// Returns 0 when all is well, 1 when something could not be reached, 2 for a configuration error.
int check_config(const std::map<std::string, std::string>& env, std::ostream& out);

// GET /readyz on this configuration's listener (LISTEN_ADDRESS, or 127.0.0.1 when it listens on
// every address; PORT; https when TLS_CERT_FILE is set, without checking the certificate, which
// names the public host). Returns 0 for a 200 answer, 1 otherwise, with one line on `out`.
int healthcheck(const Config& config, std::ostream& out);

// The base URL of this configuration's own listener, as seen from this host.
std::string local_base_url(const Config& config);

}  // namespace streamgate::server
