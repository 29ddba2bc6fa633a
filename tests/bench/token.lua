-- wrk script: POST the token endpoint with the app JWT from the environment.
wrk.method = "POST"
wrk.body = '{"validitySeconds":3600}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_JWT")
