--[[ confd_membership: live upstream membership for nginx + lua-nginx-module.

confd-rs renders nginx.conf with one `upstream` per service whose servers are
picked here, so instances can change without a reload:

  init{file=...}       init_by_lua (master). If the dict `membership` holds no
                       snapshot yet, load the snapshot file confd-rs writes
                       (first start; a HUP reload keeps the newer dict).
                       Missing file: warn; invalid file: error log. Never error()s.
  init_worker()        init_worker_by_lua. Load the dict into worker-local tables,
                       ack, then every 0.2 s: refresh if the version changed, ack.
  balance(svc, opts)   balancer_by_lua. Smooth weighted round robin over svc's
                       instances, skipping those already tried by this request and
                       those ejected. opts = {tries=3, max_fails=1, fail_timeout=10}.
  guard(svc)           access_by_lua. 503 when svc is unknown or empty (an exit in
                       the balancer would turn into a 500).
  endpoint()           content_by_lua of the control socket: GET = status,
                       POST/PUT = push a new membership, anything else 405.

Snapshot file: {"services":{"web":[{"host":"127.0.0.1","port":8080,"weight":1}]}}
Push body:     {"version":V,"revision":R,"services":{...same...}}  (revision optional)
  version 1..2^53, revision 0..2^53; service names 1..128 bytes of [A-Za-z0-9._-]
  (not "." or ".."), at most 10000; at most 1024 instances each; host = IPv4 dotted
  quad or bracketed IPv6 ("[::1]"); port 1..65535; weight 1..100 (default 1); no
  other fields anywhere; no duplicate host:port. Any violation rejects the whole
  document (400 {"error":reason}) and the previous membership stays.
  Accepted when V > current, or V == current with identical services (retry): 200
  + status. Otherwise 409 {"error":"stale version","version":current}. 409 also
  while another push holds the lock; 413 body not in memory or > 1/4 of the dict;
  507 when the dict cannot store it (set failed or evicted entries).
Status: {"version":V,"revision":R,"workers":[{"id":0,"pid":P,"version":V0}|null,...],
         "all_current":bool}   (one entry per worker id, null = never acked)

Dict `membership`: snap (canonical JSON: version, revision, services sorted by name,
instances sorted), version, revision. Dict `membership_state`: ack:<worker id> =
"<version> <pid>", fail:<svc>/<host>:<port> = failure count (TTL), lock.
A snapshot loaded from the file has version 0 and revision 0.
]]

local balancer = require("ngx.balancer")
local json = require("cjson.safe").new()
json.decode_invalid_numbers(false)   -- no NaN, Infinity or hex numbers
json.decode_max_depth(6)

local ngx, fmt, concat, floor = ngx, string.format, table.concat, math.floor
local log, ERR, WARN, NOTICE = ngx.log, ngx.ERR, ngx.WARN, ngx.NOTICE
local dict, state = ngx.shared.membership, ngx.shared.membership_state

local M = {}
local MAX_INT, MAX_SERVICES, MAX_INSTANCES = 2 ^ 53, 10000, 1024
local services = {}   -- worker-local: name -> array of peers {host, port, weight, cw, key, fkey}
local version         -- worker-local version (nil = never loaded)

-- A field name for an error message, only if it is harmless to echo.
local function field(k)
  return type(k) == "string" and k:find("^[A-Za-z0-9._-]+$") and #k <= 64 and '"' .. k .. '"' or "(unprintable)"
end

local function is_int(v, lo, hi)
  return type(v) == "number" and v == floor(v) and v >= lo and v <= hi
end

local function valid_ipv4(s)
  local parts = { s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return false end
  for _, p in ipairs(parts) do
    if #p > 3 or (#p > 1 and p:sub(1, 1) == "0") or tonumber(p) > 255 then return false end
  end
  return true
end

-- Number of 16-bit groups in one side of "::" (nil if malformed); only the
-- last side may end in a dotted quad, which counts as two groups.
local function v6_groups(part, last)
  if part == "" then return 0 end
  local fields = {}
  for f in (part .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = f end
  local n = 0
  for i, f in ipairs(fields) do
    if last and i == #fields and f:find(".", 1, true) then
      if not valid_ipv4(f) then return nil end
      n = n + 2
    elseif f:find("^%x%x?%x?%x?$") then
      n = n + 1
    else
      return nil
    end
  end
  return n
end

local function valid_ipv6(s)  -- bracketed, as set_current_peer wants it
  if #s > 47 or not s:find("^%[[%x:.]+%]$") then return false end
  local inner = s:sub(2, -2)
  local a, b = inner:find("::", 1, true)
  if not a then return v6_groups(inner, true) == 8 end
  local left, right = v6_groups(inner:sub(1, a - 1), false), v6_groups(inner:sub(b + 1), true)
  return (left and right and left + right <= 7) or false
end

-- Checks the instances of one service; returns a sorted array of canonical
-- instance strings and their count, or nil and a reason.
local function check_instances(name, list)
  if type(list) ~= "table" then return nil, fmt("services.%s: must be an array", name) end
  local n = 0
  for k in pairs(list) do  -- cjson: arrays have number keys only, objects string keys
    if type(k) ~= "number" then return nil, fmt("services.%s: must be an array", name) end
    n = n + 1
  end
  if n > MAX_INSTANCES then
    return nil, fmt("services.%s: %d instances, at most %d", name, n, MAX_INSTANCES)
  end
  local out, seen = {}, {}
  for i = 1, n do
    local inst, at = list[i], fmt("services.%s[%d]", name, i - 1)
    if type(inst) ~= "table" then return nil, at .. ": must be an object" end
    for k in pairs(inst) do
      if k ~= "host" and k ~= "port" and k ~= "weight" then return nil, at .. ": unknown field " .. field(k) end
    end
    local host, port, weight = inst.host, inst.port, inst.weight
    if weight == nil then weight = 1 end
    if type(host) ~= "string" or not (valid_ipv4(host) or valid_ipv6(host)) then
      return nil, at .. ".host: must be an IPv4 address or a bracketed IPv6 address"
    end
    if not is_int(port, 1, 65535) then return nil, at .. ".port: must be an integer 1..65535" end
    if not is_int(weight, 1, 100) then return nil, at .. ".weight: must be an integer 1..100" end
    local key = host .. ":" .. port
    if seen[key] then return nil, at .. ": duplicate " .. key end
    seen[key] = true
    out[i] = fmt('{"host":"%s","port":%d,"weight":%d}', host, port, weight)
  end
  table.sort(out)
  return out, n
end

-- Validates a decoded document (push = true: version/revision allowed and
-- version required). Returns the canonical services JSON, #services,
-- #instances; or nil and a reason. Reasons never echo unchecked input.
local function validate(doc, push)
  if type(doc) ~= "table" then return nil, "document must be a JSON object" end
  for k in pairs(doc) do
    if not (k == "services" or (push and (k == "version" or k == "revision"))) then
      return nil, "unknown top-level field " .. field(k)
    end
  end
  if push then
    if not is_int(doc.version, 1, MAX_INT) then return nil, "version: must be an integer 1..2^53" end
    if doc.revision ~= nil and not is_int(doc.revision, 0, MAX_INT) then
      return nil, "revision: must be an integer 0..2^53"
    end
  end
  local svcs = doc.services
  if type(svcs) ~= "table" then return nil, "services: missing or not an object" end
  local names = {}
  for name in pairs(svcs) do
    if type(name) ~= "string" then return nil, "services: must be an object" end
    if #name > 128 or not name:find("^[A-Za-z0-9._-]+$") or name == "." or name == ".." then
      return nil, "services: invalid service name (1..128 bytes of [A-Za-z0-9._-], not . or ..)"
    end
    names[#names + 1] = name
    if #names > MAX_SERVICES then return nil, fmt("services: more than %d services", MAX_SERVICES) end
  end
  table.sort(names)
  local out, total = {}, 0
  for i, name in ipairs(names) do
    local items, n = check_instances(name, svcs[name])
    if not items then return nil, n end
    out[i], total = fmt('"%s":[%s]', name, concat(items, ",")), total + n
  end
  return "{" .. concat(out, ",") .. "}", #names, total
end

local function make_snap(v, r, canon)
  return fmt('{"version":%d,"revision":%d,"services":%s}', v, r, canon)
end

-- Rebuilds the worker-local peers when the dict's version changed. The version
-- kept is the one inside `snap` (the two keys are not read atomically).
-- Round-robin state (cw) survives for instances that stay.
local function refresh()
  if not dict then return end
  local v = dict:get("version") or 0
  if v == version then return end
  local snap = dict:get("snap")
  local doc = snap and json.decode(snap)
  if type(doc) ~= "table" or type(doc.services) ~= "table" then
    services, version = {}, v
    return
  end
  local new = {}
  for name, list in pairs(doc.services) do
    local prev, peers = {}, {}
    for _, p in ipairs(services[name] or {}) do prev[p.key] = p.cw end
    for i, inst in ipairs(list) do
      local key = inst.host .. ":" .. inst.port
      peers[i] = { host = inst.host, port = inst.port, weight = inst.weight,
                   cw = prev[key] or 0, key = key, fkey = "fail:" .. name .. "/" .. key }
    end
    new[name] = peers
  end
  services, version = new, doc.version
end

local function ack()
  local id = ngx.worker.id()
  if state and id and version then
    state:set("ack:" .. id, fmt("%d %d", version, ngx.worker.pid()))
  end
end

local function tick(premature)
  if premature or ngx.worker.exiting() then return end
  local ok, err = pcall(refresh)
  if not ok then log(ERR, "membership refresh failed: ", err) end
  ack()
end

function M.init(opts)
  if not (dict and state) then
    return log(ERR, "membership: lua_shared_dict membership and membership_state are required")
  end
  if dict:get("snap") then return end  -- reload: the dict is at least as new as the file
  local path = opts and opts.file
  local f, err = io.open(path or "", "rb")
  if not f then
    return log(err and err:find("No such file") and WARN or ERR,
               "membership: no snapshot file, starting empty: ", err)
  end
  local body = f:read("*a") or ""
  f:close()
  local reason, canon, n, m
  if #body > dict:capacity() / 4 then
    reason = "larger than 1/4 of the membership dict"
  else
    local doc
    doc, reason = json.decode(body)
    if doc then canon, n, m = validate(doc, false); reason = n end
  end
  if not canon then
    return log(ERR, "membership: ignoring bad snapshot file ", path, ": ", reason)
  end
  local ok, serr = dict:set("snap", make_snap(0, 0, canon))
  if ok then ok, serr = dict:set("revision", 0) end
  if ok then ok, serr = dict:set("version", 0) end
  if not ok then return log(ERR, "membership: cannot store snapshot file: ", serr) end
  log(NOTICE, "membership from file ", path, ": ", n, " services, ", m, " instances")
end

function M.init_worker()
  local ok, err = pcall(refresh)
  if not ok then log(ERR, "membership refresh failed: ", err) end
  ack()
  local tok, terr = ngx.timer.every(0.2, tick)
  if not tok then log(ERR, "membership: cannot start timer: ", terr) end
end

-- Smooth weighted round robin (as nginx's): every eligible peer gains its
-- weight, the largest current weight wins and loses the eligible total.
-- max_fails = nil ignores ejection (the fail-open pass).
local function pick(peers, tried, max_fails)
  local best, total = nil, 0
  for i = 1, #peers do
    local p = peers[i]
    if not tried[p.key] and not (max_fails and max_fails > 0
                                 and (state:get(p.fkey) or 0) >= max_fails) then
      p.cw, total = p.cw + p.weight, total + p.weight
      if not best or p.cw > best.cw then best = p end
    end
  end
  if best then best.cw = best.cw - total end
  return best
end

local function do_balance(service, opts)
  refresh()
  local peers = services[service] or {}
  local max_fails, fail_timeout = opts.max_fails or 1, opts.fail_timeout or 10
  local ctx = ngx.ctx
  local st = ctx.confd_membership
  if not st then
    st = { tried = {} }
    ctx.confd_membership = st
    -- nginx counts no try for the `down` placeholder server, so the upstream
    -- starts with 0 tries and this sets the total (capped by proxy_next_upstream_tries).
    local total = math.min(#peers, opts.tries or 3)
    if total > 0 then balancer.set_more_tries(total) end
  elseif st.last and max_fails > 0 then
    local failure = balancer.get_last_failure()
    if failure == "failed" or failure == "next" then
      local p = st.last
      local n = state:incr(p.fkey, 1, 0, fail_timeout)
      if n and n >= max_fails then
        state:set(p.fkey, n, fail_timeout)  -- the ejection lasts a whole fail_timeout
        if n == max_fails then
          log(WARN, "ejecting ", service, "/", p.key, " after ", n, " failures")
        end
      end
    end
  end
  while true do
    local p = pick(peers, st.tried, max_fails) or pick(peers, st.tried, nil)
    if not p then
      return log(ERR, "membership: no instance left for service ", service)
    end
    st.tried[p.key], st.last = true, p
    local ok, err = balancer.set_current_peer(p.host, p.port)
    if ok then return end
    log(ERR, "membership: cannot use ", service, "/", p.key, ": ", err)
  end
end

function M.balance(service, opts)
  local ok, err = pcall(do_balance, service, opts or {})
  if not ok then log(ERR, "membership balancer error: ", err) end
end

function M.guard(service)
  pcall(refresh)
  local peers = services[service]
  if not peers or #peers == 0 then return ngx.exit(503) end
end

local function status_json()
  local v, r = dict:get("version") or 0, dict:get("revision") or 0
  local workers, all = {}, true
  for id = 0, ngx.worker.count() - 1 do
    local av, pid = (state:get("ack:" .. id) or ""):match("^(%d+) (%d+)$")
    av = tonumber(av)
    workers[#workers + 1] = av and fmt('{"id":%d,"pid":%s,"version":%d}', id, pid, av) or "null"
    all = all and av == v
  end
  return fmt('{"version":%d,"revision":%d,"workers":[%s],"all_current":%s}',
             v, r, concat(workers, ","), tostring(all))
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.print(body, "\n")
end

local function reject(status, reason)
  log(ERR, "membership push rejected (", status, "): ", reason)
  return reply(status, fmt('{"error":%s}', json.encode(reason)))
end

-- Compares and stores under the lock. Returns status, body, reason-to-log.
local function store(doc, canon, n, m)
  local cur, v, r = dict:get("version") or 0, doc.version, doc.revision or 0
  local old = dict:get("snap")
  if v <= cur then
    local i = old and old:find('"services":', 1, true)
    if v == cur and i and old:sub(i + 11, -2) == canon then return 200 end  -- idempotent retry
    return 409, fmt('{"error":"stale version","version":%d}', cur), "stale version " .. v
  end
  local snap = make_snap(v, r, canon)
  if #snap > dict:capacity() / 4 then return 413, nil, "larger than 1/4 of the membership dict" end
  local ok, err, forcible = dict:set("snap", snap)
  if not ok then
    if old then dict:set("snap", old) end
    return 507, nil, "cannot store snapshot: " .. tostring(err)
  end
  local ok2, err2, f2 = dict:set("revision", r)
  local ok3, err3, f3 = dict:set("version", v)
  if not (ok2 and ok3) or forcible or f2 or f3 then
    return 507, nil, "membership dict full: " .. tostring(err2 or err3 or "entries evicted")
  end
  log(NOTICE, fmt("membership version %d (revision %d): %d services, %d instances", v, r, n, m))
  refresh()
  ack()
  return 200
end

local function push()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    if ngx.req.get_body_file() then return reject(413, "body too large (not kept in memory)") end
    return reject(400, "empty body")
  end
  if #body > dict:capacity() / 4 then return reject(413, "larger than 1/4 of the membership dict") end
  local doc, err = json.decode(body)
  if not doc then return reject(400, "invalid JSON: " .. tostring(err)) end
  local canon, n, m = validate(doc, true)
  if not canon then return reject(400, n) end
  if not state:add("lock", true, 5) then return reject(409, "another push is in progress") end
  local ok, status, resp, reason = pcall(store, doc, canon, n, m)
  state:delete("lock")
  if not ok then return reject(500, "internal error: " .. tostring(status)) end
  if status == 200 then return reply(200, status_json()) end
  log(ERR, "membership push rejected (", status, "): ", reason)
  return reply(status, resp or fmt('{"error":%s}', json.encode(reason)))
end

function M.endpoint()
  if not (dict and state) then return reject(500, "membership dicts missing") end
  local method = ngx.req.get_method()
  if method == "GET" then return reply(200, status_json()) end
  if method == "POST" or method == "PUT" then return push() end
  ngx.header["Allow"] = "GET, POST, PUT"
  return reject(405, "method not allowed")
end

return M
