-- wrk script: POST pre-signed webhook bodies, each request with a new X-Webhook-Id, so every
-- one is a new delivery the server must commit before answering.
local bodies = {}
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("id", tostring(math.random(1, 1e9)))
end

function init(args)
  prefix = "wrk-" .. id .. "-"
  for line in io.lines(os.getenv("BENCH_WEBHOOKS")) do
    local tab = line:find("\t", 1, true)
    bodies[#bodies + 1] = { sig = line:sub(1, tab - 1), body = line:sub(tab + 1) }
  end
end

function request()
  counter = counter + 1
  local b = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Signature"] = b.sig,
    ["X-Webhook-Id"] = prefix .. counter,
    ["X-Webhook-Attempt"] = "1",
  }, b.body)
end
