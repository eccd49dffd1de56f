--[[ confd_membership: live upstream membership for nginx + lua-nginx-module.

confd-rs renders one `upstream` per service (whose only server is the placeholder
`server 127.0.0.1:1 down;`) and this module picks the real peers, so instances
change without a reload. The rendered nginx.conf only calls:

  init{file=PATH}     init_by_lua (master). If the dict `membership` has no snapshot
                      (first start; a HUP reload keeps the dict, which is newer), load
                      the snapshot file. Missing: warn; invalid: error log. Both start
                      empty. Never error()s: that would silently keep the old workers.
  init_worker()       init_worker_by_lua: load the dict, ack, then every 0.05 s
                      refresh (only if the version changed) and ack. A request that
                      finds a new version acks at once too, so a busy worker confirms a
                      push as soon as it serves with it.
  balance(svc, opts)  balancer_by_lua: smooth weighted round robin over svc's peers,
                      skipping peers this request already tried and ejected ones (fail
                      open if nothing is left). opts {tries=3, max_fails=1, fail_timeout=10}.
  guard(svc)          access_by_lua: 503 when svc is unknown or empty (an exit inside
                      the balancer would become a 500).
  endpoint()          content_by_lua on the control socket: GET status, POST/PUT push.

Snapshot file: {"services":{"web":[{"host":"127.0.0.1","port":8080,"weight":1}],"api":[]}}
Push body:     {"version":V,"revision":R,"services":{...}}   (revision optional)
Rules (a violation rejects the whole document: 400 {"error":reason}, nothing changes):
no unknown fields at any level; version 1..2^53, revision 0..2^53 (integers); service
names 1..128 bytes of [A-Za-z0-9._-] except "." and "..", at most 10000; at most 1024
instances each; host an IPv4 dotted quad or a bracketed IPv6 ("[::1]"); port 1..65535;
weight 1..100 (default 1); no duplicate host:port within a service.
A push is accepted (200 + status) when V > current, or V == current with the same
services (a retry). Otherwise 409 {"error":"stale version","version":current}; also
409 while another push holds the lock, 413 when the body is not in memory or over 1/4
of the dict, 507 when the dict could not store it cleanly (set failed or evicted).
Status: {"version":V,"revision":R,"workers":[{"id":0,"pid":P,"version":V0} or null
per worker id],"all_current":bool}.

Dict membership: snap (canonical JSON: names sorted, instances sorted, weights
explicit), version, revision; a snapshot from the file has version 0, revision 0.
Dict membership_state: ack:<id> = "<version> <pid>", fail:<svc>/<host>:<port> = count
(expires), lock. ]]

local balancer = require("ngx.balancer")
local json = require("cjson.safe").new()     -- own instance: settings stay local
json.decode_invalid_numbers(false)           -- no NaN, Infinity, hex
json.decode_max_depth(6)

local ngx, fmt, concat, floor = ngx, string.format, table.concat, math.floor
local log, ERR, WARN, NOTICE = ngx.log, ngx.ERR, ngx.WARN, ngx.NOTICE
local dict, state = ngx.shared.membership, ngx.shared.membership_state

local M = {}
local TICK = 0.05    -- seconds between a worker's checks for a new version (and its acks)
local MAX_INT = 2 ^ 53
local services = {}  -- this worker's peers: name -> {{host, port, weight, cw, key, fkey}, ...}
local version        -- this worker's version (nil until the first refresh)

local function is_int(v, lo, hi)
  return type(v) == "number" and v == floor(v) and v >= lo and v <= hi
end

-- A field name for an error message, only when it is harmless to echo back.
local function field(k)
  local ok = type(k) == "string" and #k <= 64 and k:find("^[A-Za-z0-9._-]+$")
  return ok and '"' .. k .. '"' or "(unprintable)"
end

local function valid_ipv4(s)
  local parts = { s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return false end
  for _, p in ipairs(parts) do
    if #p > 3 or (#p > 1 and p:sub(1, 1) == "0") or tonumber(p) > 255 then return false end
  end
  return true
end

-- 16-bit groups on one side of "::" (nil if malformed); only the last side may
-- end in a dotted quad, which counts as two groups.
local function v6_groups(part, last)
  if part == "" then return 0 end
  local fields, n = {}, 0
  for f in (part .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = f end
  for i, f in ipairs(fields) do
    if last and i == #fields and f:find(".", 1, true) then
      if not valid_ipv4(f) then return nil end
      n = n + 2
    elseif f:find("^%x%x?%x?%x?$") then n = n + 1
    else return nil end
  end
  return n
end

local function valid_ipv6(s)  -- bracketed, the form set_current_peer accepts
  if #s > 47 or not s:find("^%[[%x:.]+%]$") then return false end
  local inner = s:sub(2, -2)
  local a, b = inner:find("::", 1, true)
  if not a then return v6_groups(inner, true) == 8 end
  local l, r = v6_groups(inner:sub(1, a - 1), false), v6_groups(inner:sub(b + 1), true)
  return (l and r and l + r <= 7) or false
end

-- One service's instances -> sorted canonical instance strings and their count,
-- or nil and a reason.
local function check_instances(name, list)
  local n = 0
  if type(list) ~= "table" then return nil, "services." .. name .. ": must be an array" end
  for k in pairs(list) do  -- cjson gives arrays number keys, objects string keys
    if type(k) ~= "number" then return nil, "services." .. name .. ": must be an array" end
    n = n + 1
  end
  if n > 1024 then return nil, fmt("services.%s: %d instances, at most 1024", name, n) end
  local out, seen = {}, {}
  for i = 1, n do
    local inst, at = list[i], fmt("services.%s[%d]", name, i - 1)
    if type(inst) ~= "table" then return nil, at .. ": must be an object" end
    for k in pairs(inst) do
      if k ~= "host" and k ~= "port" and k ~= "weight" then
        return nil, at .. ": unknown field " .. field(k)
      end
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

-- Checks a decoded document (push: version required, revision allowed). Returns
-- the canonical services JSON, #services, #instances; or nil and a reason.
-- Reasons never echo unchecked input.
local function validate(doc, push)
  if type(doc) ~= "table" then return nil, "document must be a JSON object" end
  for k in pairs(doc) do
    if not (k == "services" or (push and (k == "version" or k == "revision"))) then
      return nil, "unknown top-level field " .. field(k)
    end
  end
  if push and not is_int(doc.version, 1, MAX_INT) then
    return nil, "version: must be an integer 1..2^53"
  end
  if push and doc.revision ~= nil and not is_int(doc.revision, 0, MAX_INT) then
    return nil, "revision: must be an integer 0..2^53"
  end
  local svcs, names = doc.services, {}
  if type(svcs) ~= "table" then return nil, "services: missing or not an object" end
  for name in pairs(svcs) do
    if type(name) ~= "string" then return nil, "services: must be an object" end
    if #name > 128 or not name:find("^[A-Za-z0-9._-]+$") or name == "." or name == ".." then
      return nil, "services: invalid service name (1..128 bytes of [A-Za-z0-9._-], not . or ..)"
    end
    names[#names + 1] = name
    if #names > 10000 then return nil, "services: more than 10000 services" end
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

local function make_snap(v, r, canon)  -- %d: cjson would print 2^53 as 9.007e+15
  return fmt('{"version":%d,"revision":%d,"services":%s}', v, r, canon)
end

local function ack()
  local id = ngx.worker.id()
  if state and id and version then
    state:set("ack:" .. id, fmt("%d %d", version, ngx.worker.pid()))
  end
end

-- Rebuilds this worker's peers when the dict's version changed. The version kept
-- is the one inside snap (the two keys are not read atomically). Round-robin
-- state (cw) carries over for peers that stay.
local function refresh()
  local v = dict and (dict:get("version") or 0)
  if not v or v == version then return end
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
  ack()
end

local function tick(premature)
  if premature or ngx.worker.exiting() then return end  -- retiring workers stay silent
  local ok, err = pcall(refresh)
  if not ok then log(ERR, "membership refresh failed: ", err) end
  ack()
end

function M.init(opts)
  if not (dict and state) then
    return log(ERR, "membership: lua_shared_dict membership and membership_state are missing")
  end
  if dict:get("snap") then
    local v = dict:get("version") or 0
    return log(NOTICE, fmt("membership: keeping version %d from the dict", v))
  end
  local path = opts and opts.file or ""
  local f, err = io.open(path, "rb")
  if not f then
    local missing = err and err:find("No such file", 1, true)
    return log(missing and WARN or ERR, "membership: no snapshot file, starting empty: ", err)
  end
  local body, reason, canon, n, m = f:read("*a") or "", nil, nil, nil, nil
  f:close()
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
  if not ok then return log(ERR, "membership: cannot store the snapshot file: ", serr) end
  log(NOTICE, "membership from file ", path, ": ", n, " services, ", m, " instances")
end

function M.init_worker()
  tick(false)
  local ok, err = ngx.timer.every(TICK, tick)
  if not ok then log(ERR, "membership: cannot start the refresh timer: ", err) end
end

-- Smooth weighted round robin (nginx's): each eligible peer gains its weight, the
-- highest current weight wins and gives back the eligible total. max_fails = nil
-- ignores ejection (the fail-open pass).
local function pick(peers, tried, max_fails)
  local best, total = nil, 0
  for _, p in ipairs(peers) do
    local ejected = max_fails and max_fails > 0 and (state:get(p.fkey) or 0) >= max_fails
    if not tried[p.key] and not ejected then
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
  local st = ngx.ctx.confd_membership
  if not st then  -- first try of this request
    st = { tried = {} }
    ngx.ctx.confd_membership = st
    -- The `down` placeholder counts as no try, so the upstream starts with 0 tries
    -- and this sets the total (nginx caps it at proxy_next_upstream_tries).
    local total = math.min(#peers, opts.tries or 3)
    if total > 0 then balancer.set_more_tries(total) end
  elseif st.last and max_fails > 0 then  -- a retry: the previous peer failed
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
    if not p then return log(ERR, "membership: no instance left for service ", service) end
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
    workers[id + 1] = av and fmt('{"id":%d,"pid":%s,"version":%s}', id, pid, av) or "null"
    all = all and av ~= nil and tonumber(av) == v
  end
  return fmt('{"version":%d,"revision":%d,"workers":[%s],"all_current":%s}',
             v, r, concat(workers, ","), tostring(all))
end

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.print(body, "\n")
end

local function reject(status, reason, body)
  log(ERR, "membership push rejected (", status, "): ", reason)
  return reply(status, body or fmt('{"error":%s}', json.encode(reason)))
end

-- Compare and store, under the lock. Returns the status, and for errors the
-- reason and optionally a response body.
local function store(doc, canon, n, m)
  local cur, v, r = dict:get("version") or 0, doc.version, doc.revision or 0
  local old = dict:get("snap")
  if v <= cur then
    local i = old and old:find('"services":', 1, true)
    if v == cur and i and old:sub(i + 11, -2) == canon then return 200 end  -- a retry
    return 409, fmt("stale version %d (current %d)", v, cur),
           fmt('{"error":"stale version","version":%d}', cur)
  end
  local snap = make_snap(v, r, canon)
  if #snap > dict:capacity() / 4 then return 413, "larger than 1/4 of the membership dict" end
  local ok, err, forcible = dict:set("snap", snap)
  if not ok then
    if old then dict:set("snap", old) end  -- set may have dropped the old value
    return 507, "cannot store the snapshot: " .. tostring(err)
  end
  local ok2, err2, f2 = dict:set("revision", r)
  local ok3, err3, f3 = dict:set("version", v)
  if not (ok2 and ok3) or forcible or f2 or f3 then
    return 507, "membership dict full: " .. tostring(err2 or err3 or "entries evicted")
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
  if #body > dict:capacity() / 4 then
    return reject(413, "larger than 1/4 of the membership dict")
  end
  local doc, err = json.decode(body)
  if not doc then return reject(400, "invalid JSON: " .. tostring(err)) end
  local canon, n, m = validate(doc, true)
  if not canon then return reject(400, n) end
  if not state:add("lock", true, 5) then return reject(409, "another push is in progress") end
  local ok, status, reason, resp = pcall(store, doc, canon, n, m)
  state:delete("lock")
  if not ok then return reject(500, "internal error: " .. tostring(status)) end
  if status ~= 200 then return reject(status, reason, resp) end
  return reply(200, status_json())
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
