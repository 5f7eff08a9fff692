-- The wrk script of the benchmark (bench/src/load.rs runs it). Every request picks a random
-- tenant, i.e. a random admin's access token, and where the scenario needs one a random customer
-- of that tenant. Configured by environment variables:
--   BENCH_SCENARIO  list | retrieve | create | update | filter_order
--   BENCH_DATA      one line per tenant, tab-separated: token, then id and email of some customers
--   BENCH_OUT       where done() writes per-thread counts (and, for create, each 201's email)
--   BENCH_TAG       prefix of the emails that create makes (unique per run)
-- list and retrieve define no response() callback, so wrk does no per-response Lua work there;
-- their errors are wrk's own "Non-2xx or 3xx responses" count.

local scenario = os.getenv("BENCH_SCENARIO")
local tag = os.getenv("BENCH_TAG") or "bench"

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state). Globals are read by done().
sent, s2, s4, s5, other = 0, 0, 0, 0, 0
created = {}
local tenants = {}
local counter = 0

function init(args)
  local known = { list = true, retrieve = true, create = true, update = true, filter_order = true }
  if not known[scenario] then
    error("BENCH_SCENARIO must be list, retrieve, create, update or filter_order, not " .. tostring(scenario))
  end
  for line in io.lines(os.getenv("BENCH_DATA")) do
    local fields = {}
    for f in line:gmatch("[^\t]+") do
      fields[#fields + 1] = f
    end
    local t = { auth = "Bearer " .. fields[1], ids = {}, emails = {} }
    for i = 2, #fields - 1, 2 do
      t.ids[#t.ids + 1] = fields[i]
      t.emails[#t.emails + 1] = fields[i + 1]
    end
    tenants[#tenants + 1] = t
  end
  if #tenants == 0 then
    error("no tenants in BENCH_DATA")
  end
  math.randomseed(os.time() * 1000 + tid * 7919)
end

local function headers(t, json)
  local h = { ["Authorization"] = t.auth }
  if json then
    h["Content-Type"] = "application/json"
  end
  return h
end

function request()
  sent = sent + 1
  local t = tenants[math.random(#tenants)]
  if scenario == "list" then
    return wrk.format("GET", "/api/customers?page_size=20", headers(t))
  elseif scenario == "retrieve" then
    return wrk.format("GET", "/api/customers/" .. t.ids[math.random(#t.ids)], headers(t))
  elseif scenario == "create" then
    counter = counter + 1
    local email = string.format("%s-%d-%d-%d@load.bench.test", tag, tid, counter, math.random(1000000000))
    local body = string.format('{"name": "Load %d-%d", "email": "%s"}', tid, counter, email)
    return wrk.format("POST", "/api/customers", headers(t, true), body)
  elseif scenario == "update" then
    counter = counter + 1
    local body = string.format('{"name": "Renamed %d-%d"}', tid, counter)
    return wrk.format("PATCH", "/api/customers/" .. t.ids[math.random(#t.ids)], headers(t, true), body)
  else -- filter_order: alternately an exact email filter and a descending order by name
    counter = counter + 1
    if counter % 2 == 0 then
      return wrk.format("GET", "/api/customers?email=" .. t.emails[math.random(#t.emails)], headers(t))
    end
    return wrk.format("GET", "/api/customers?ordering=-name", headers(t))
  end
end

if scenario ~= "list" and scenario ~= "retrieve" then
  function response(status, headers, body)
    if status >= 200 and status < 300 then
      s2 = s2 + 1
    elseif status >= 500 then
      s5 = s5 + 1
    elseif status >= 400 then
      s4 = s4 + 1
    else
      other = other + 1
    end
    if status == 201 and scenario == "create" then
      created[#created + 1] = body:match('"email"%s*:%s*"([^"]*)"') or "?"
    end
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  for _, t in ipairs(threads) do
    out:write(string.format("thread %d sent %d s2 %d s4 %d s5 %d other %d\n",
      t:get("tid"), t:get("sent"), t:get("s2"), t:get("s4"), t:get("s5"), t:get("other")))
    for _, email in ipairs(t:get("created") or {}) do
      out:write("created ", email, "\n")
    end
  end
  out:close()
end
