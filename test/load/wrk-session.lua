-- wrk cross-check for the Go load tool: GET /api/auth/session with the cookie
-- of a random seeded session. TOKENS names a file of cookie values, one a
-- line (go run ./test/load tokens -n 100000 > tokens.txt). JAR, when set, is
-- appended to every Cookie header: the CSRF and callback-URL cookies the
-- first answer sets, which a browser sends back (without them every request
-- also mints a CSRF token; compare with `run -jar=false`):
--
--   JAR="; $(curl -s -D - -o /dev/null -H "Cookie: authjs.session-token=$(head -1 tokens.txt)" \
--     http://127.0.0.1:PORT/api/auth/session | sed -n 's/^[Ss]et-[Cc]ookie: \(authjs\.c[^;]*\);.*/\1/p' | paste -sd';')"
--   TOKENS=tokens.txt JAR="$JAR" wrk -t2 -c64 -d30s --latency -s test/load/wrk-session.lua \
--     http://127.0.0.1:PORT/api/auth/session
--
-- wrk costs the shared 2-core machine far less CPU per request than the Go
-- load tool, so the servers get more of it and the ratios spread out; the
-- README gives both.
local tokens = {}
for line in io.lines(os.getenv("TOKENS") or "tokens.txt") do
  tokens[#tokens + 1] = line
end

local jar = os.getenv("JAR") or ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  bad = 0
end

function request()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", nil, { Cookie = "authjs.session-token=" .. t .. jar })
end

function response(status, headers, body)
  if status ~= 200 or body == "null" then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("bad")
  end
  io.write(string.format("non-200 or null bodies: %d\n", n))
end
