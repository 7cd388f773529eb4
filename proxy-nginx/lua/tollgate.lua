-- Tollgate's nginx data plane: the access decision of proxy/decide.ts, run
-- against state in lua_shared_dicts (shared by every worker), with each
-- worker's compiled route matcher rebuilt when the topology version changes.
-- The state is written only by the controller (proxy-nginx/controller.ts)
-- through the control listener (tollgate/control.lua).
--
-- The request path (generate.ts), and why. Plain nginx proxying a request costs
-- about 20,000 instructions (callgrind, one worker); the first version of this
-- plane cost 57,000 (0.64x of plain nginx's throughput): the coroutine of
-- access_by_lua, OpenSSL 3's one-shot SHA256() (a provider fetch per call,
-- 5,800), normalisation, the route walk and a dozen strings built per request,
-- ngx.var reads by name, two clear_header calls, ngx.ctx for the balancer.
--   1. set_by_lua (M.fast): no coroutine; $request and $http_authorization come
--      in by index. With the SHA-256 of the Authorization value it looks up this
--      worker's decision cache (below); a hit reads the state's change counter
--      "ver" (one lookup; when it moved, the generation, the topology version
--      and the credential's and grants' entries are read again: a revoke, even
--      the controller's early /remove that leaves the revision as it is,
--      denies on the next request on every worker), checks the earliest
--      expiry, counts usage and returns the upstream URI. Keys are stripped by
--      proxy_set_header lines, not from Lua.
--   2. A miss ("") is rewritten to /_tollgate/slow, where access_by_lua
--      (M.access) runs the full decision from $request_uri as before, refuses or
--      forwards, and caches an allowed decision for the next identical request.
--   3. balancer_by_lua (M.balance) sets the API's peer, found by the request's
--      address; the upstream block's keepalive pools connections per peer.
local ffi = require "ffi"
local cjson = require "cjson.safe"
local norm = require "tollgate.normalize"

local ngx = ngx
local byte, sub, find, lower = string.byte, string.sub, string.find, string.lower
local huge, min = math.huge, math.min
local var = ngx.var
local state = ngx.shared.tollgate
local usage = ngx.shared.tollgate_usage

local M = {}

-- OpenSSL's low-level SHA-256 (deprecated in 3.0, still exported): the one-shot
-- SHA256() of OpenSSL 3 fetches the algorithm from its provider and allocates a
-- context on every call, about 5,800 instructions for a short key (callgrind);
-- Init/Update/Final on one preallocated context cost a fraction of that.
ffi.cdef [[
typedef struct { unsigned int h[8]; unsigned int Nl, Nh; unsigned int data[16]; unsigned int num, md_len; } tollgate_sha256_ctx;
int SHA256_Init(tollgate_sha256_ctx *c);
int SHA256_Update(tollgate_sha256_ctx *c, const void *data, size_t len);
int SHA256_Final(unsigned char *md, tollgate_sha256_ctx *c);
]]
local ok, crypto = pcall(ffi.load, "crypto")
if not ok then crypto = ffi.load("libcrypto.so.3") end
local digest_buf = ffi.new("unsigned char[32]")
local sha_ctx = ffi.new("tollgate_sha256_ctx")

--- SHA-256 as 32 raw bytes: the credential index key (hex is only for the wire).
function M.sha256(s)
  crypto.SHA256_Init(sha_ctx)
  crypto.SHA256_Update(sha_ctx, s, #s)
  crypto.SHA256_Final(digest_buf, sha_ctx)
  return ffi.string(digest_buf, 32)
end

function M.hex(raw)
  return (raw:gsub(".", function(c) return string.format("%02x", byte(c)) end))
end

-- ------------------------------------------------------------------ matcher

local function new_node() return { s = nil, p = nil, m = nil, r = nil } end

local function template_segments(t)
  if #t > 1 and byte(t, #t) == 47 then t = sub(t, 1, -2) end
  if t == "/" or t == "" then return {} end
  return norm.segments(t)
end

local function is_param(s) return #s >= 2 and byte(s, 1) == 123 and byte(s, #s) == 125 end
local function is_rest(s) return #s >= 3 and byte(s, 1) == 123 and sub(s, -2) == "*}" end

local function add_route(root, route)
  local node = root
  local segs = template_segments(route.pathTemplate)
  local tail = #segs > 0 and is_rest(segs[#segs])
  local last = tail and #segs - 1 or #segs
  for i = 1, last do
    local seg = segs[i]
    if is_param(seg) then
      node.p = node.p or new_node()
      node = node.p
    else
      node.s = node.s or {}
      local nxt = node.s[seg]
      if not nxt then nxt = new_node(); node.s[seg] = nxt end
      node = nxt
    end
  end
  if tail then node.r = node.r or {}; node.r[route.method] = route
  else node.m = node.m or {}; node.m[route.method] = route end
end

local function walk(node, segs, i, method)
  if i > #segs then
    return (node.m and node.m[method]) or (node.r and node.r[method]) or nil
  end
  local s = node.s and node.s[segs[i]]
  if s then
    local r = walk(s, segs, i + 1, method)
    if r then return r end
  end
  if node.p then
    local r = walk(node.p, segs, i + 1, method)
    if r then return r end
  end
  return node.r and node.r[method] or nil
end

local function match(api, method, segs, from)
  local r = walk(api.tree, segs, from, method)
  if r or method ~= "HEAD" then return r end
  return walk(api.tree, segs, from, "GET")
end

-- This worker's compiled topology (APIs by prefix, their route trees).
local topo = { version = nil, by_prefix = {}, max_depth = 0 }

local function compile(json)
  local t = cjson.decode(json)
  if not t then return nil end
  local by_id, by_prefix, max_depth = {}, {}, 0
  for _, a in ipairs(t.apis) do
    a.tree = new_node()
    if a.keyLocation == cjson.null then a.keyLocation = nil end
    by_id[a.id] = a
    by_prefix[a.prefix] = a
    local depth = #norm.segments(a.prefix)
    if depth > max_depth then max_depth = depth end
  end
  for _, r in ipairs(t.routes) do
    local a = by_id[r.apiId]
    if a then add_route(a.tree, r) end
  end
  return { by_prefix = by_prefix, max_depth = max_depth }
end

local function current_topology()
  local v = state:get("tv")
  if v ~= topo.version then
    local c = compile(state:get("topo") or "")
    if not c then return nil end
    c.version = v
    topo = c
  end
  return topo
end

local function api_for(t, path, segs)
  local depth = math.min(t.max_depth, #segs)
  if depth == 0 then return nil end
  local e = 0
  for i = 1, depth do e = e + 1 + #segs[i] end
  while depth >= 1 do
    local api = t.by_prefix[sub(path, 1, e)]
    if api then return api, depth, sub(path, e + 1) end
    e = e - 1 - #segs[depth]
    depth = depth - 1
  end
  return nil
end

-- ------------------------------------------------------------------- keys

--- "Bearer <token>" as proxy/decide.ts bearerToken reads it. Node trims spaces and tabs around a header value;
--- nginx only spaces, so tabs are trimmed here.
local function bearer(auth)
  if find(auth, "\t", 1, true) then auth = auth:match("^[ \t]*(.-)[ \t]*$") end
  local n = #auth
  if n < 8 or byte(auth, 7) ~= 32 or lower(sub(auth, 1, 6)) ~= "bearer" then return nil end
  local s = 8
  while s <= n and byte(auth, s) == 32 do s = s + 1 end
  local e = s
  while e <= n do
    local c = byte(auth, e)
    if c < 0x21 or c > 0x7e then break end
    e = e + 1
  end
  local len = e - s
  if len < 1 or len > 512 then return nil end
  for i = e, n do if byte(auth, i) ~= 32 then return nil end end
  return sub(auth, s, e - 1)
end

--- Every header line of the request. get_headers' default limit (100), or any limit, would hide the lines past
--- it: a repeated key or a gateway's X-Forwarded-* line sent after enough filler would go unseen, and a
--- decision would be made on what came before it. 0 is no limit; large_client_header_buffers bounds the block.
local function request_headers()
  return ngx.req.get_headers(0)
end

local function presented_key()
  local auth = ngx.var.http_authorization
  if auth then return bearer(auth) end
  local k = request_headers()["x-api-key"]
  if type(k) == "table" then return nil end -- Node joins repeats with ", ": refused below
  if type(k) == "string" and #k > 0 and #k <= 512 and not find(k, ",", 1, true) then
    return (k:gsub("^%s+", ""):gsub("%s+$", ""))
  end
  return nil
end

local function query_decode(s)
  return ngx.unescape_uri((s:gsub("%+", " ")))
end

--- Kong key-auth's key_names (proxy/key-location.ts keyAtLocation).
local function key_at_location(loc, query)
  local headers = loc.header and request_headers() or nil
  for _, name in ipairs(loc.names) do
    local v
    if headers then
      local h = headers[lower((name:gsub("_", "-")))]
      if type(h) == "table" then return nil end
      v = h
    end
    if v == nil and loc.query and #query >= 2 then
      local found, many = nil, false
      for part in sub(query, 2):gmatch("[^&]+") do
        local eq = find(part, "=", 1, true)
        if query_decode(eq and sub(part, 1, eq - 1) or part) == name then
          if found ~= nil then many = true; break end
          found = eq and query_decode(sub(part, eq + 1)) or false
        end
      end
      if many then return nil end
      if found then v = found end
    end
    if v ~= nil then
      if #v > 0 and #v <= 512 then return v end
      return nil
    end
  end
  return nil
end

--- The query without parameters named like a key name (key-location.ts queryWithoutKeys).
local function query_without_keys(loc, query)
  if #query < 2 then return query end
  local names = {}
  for _, n in ipairs(loc.names) do names[n] = true end
  local kept = {}
  for part in (sub(query, 2) .. "&"):gmatch("([^&]*)&") do
    local eq = find(part, "=", 1, true)
    if not names[query_decode(eq and sub(part, 1, eq - 1) or part)] then kept[#kept + 1] = part end
  end
  if #kept == 0 or (#kept == 1 and kept[1] == "") then return "" end
  return "?" .. table.concat(kept, "&")
end

-- -------------------------------------------------------------- decisions

local ERRORS = {
  [400] = '{"error":{"code":"bad_request","message":"The request path is not acceptable"}}',
  [401] = '{"error":{"code":"unauthorized","message":"A valid API key is required"}}',
  [403] = '{"error":{"code":"forbidden","message":"This API key may not call this endpoint"}}',
  [404] = '{"error":{"code":"not_found","message":"No such endpoint"}}',
  [405] = '{"error":{"code":"method_not_allowed","message":"CONNECT is not supported"}}',
  [503] = '{"error":{"code":"not_ready","message":"The proxy has no enforcement state yet"}}',
}

local function refuse(status)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  if status == 401 then ngx.header["WWW-Authenticate"] = 'Bearer realm="tollgate"' end
  if status == 400 then ngx.header["Connection"] = "close" end
  if M.expose_worker then ngx.header["X-Tollgate-Worker"] = ngx.worker.id() end
  ngx.print(ERRORS[status])
  return ngx.exit(status)
end

--- The live grant id of (principal, scope), or nil: "exp\tgrantId" ("" exp: never);
--- then its dict key, its entry and its expiry (math.huge: never), for the decision cache.
local function live_grant(G, principal, scope, now)
  local k = G .. "p" .. principal .. "\t" .. scope
  local v = state:get(k)
  if not v then return nil end
  local tab = find(v, "\t", 1, true)
  local exp = huge
  if tab > 1 then
    exp = tonumber(sub(v, 1, tab - 1))
    if exp <= now then return nil end
  end
  return sub(v, tab + 1), k, v, exp
end

-- Usage is counted in a per-worker table and moved into the shared dict by a
-- timer (M.start_usage_timer), so a request takes no shared-memory lock for it;
-- a worker that dies loses at most one interval's counts.
local pending, pending_n = {}, 0

local function count(key)
  pending[key] = (pending[key] or 0) + 1
  pending_n = pending_n + 1
  if pending_n > 10000 then M.flush_usage() end
end

function M.flush_usage()
  local batch = pending
  pending, pending_n = {}, 0
  for k, n in pairs(batch) do usage:incr(k, n, 0) end
end

function M.start_usage_timer()
  ngx.timer.every(0.2, function(premature)
    M.flush_usage()
    if premature then return end
  end)
end

M.refuse_encoded_specials = true

--- The decision of proxy/decide.ts for method + raw target: a refusal status
--- (400/401/403/404), or nil plus what forwarding needs.
local function decide(G, method, target, now)
  if M.refuse_encoded_specials and norm.has_encoded_special(target) then return 400 end
  local path, query = norm.normalize(target)
  if not path then return 400 end
  local t = current_topology()
  if not t then return 503 end
  local segs = norm.segments(path)
  local api, depth, rest = api_for(t, path, segs)
  local route = api and match(api, method, segs, depth + 1) or nil
  local d = { api = api, route = route, rest = rest, query = query, tv = t.version }
  if route and route.public then return nil, d end

  local key
  if api and api.keyLocation then key = key_at_location(api.keyLocation, query) else key = presented_key() end
  if not key then return 401 end
  local digest = M.sha256(key)
  local ck = G .. "c" .. digest
  local c = state:get(ck)
  if not c then return 401 end
  local t1 = find(c, "\t", 1, true)
  local t2 = find(c, "\t", t1 + 1, true)
  local exp = huge
  if t1 > 1 then
    exp = tonumber(sub(c, 1, t1 - 1))
    if exp <= now then return 401 end
  end
  d.principal = sub(c, t1 + 1, t2 - 1)
  d.cred_id = sub(c, t2 + 1)
  if not route then
    count("s\t" .. (api and api.id or "") .. "\t" .. method .. "\t" .. norm.shadow_path(segs) .. "\t" .. M.hex(digest))
    return 404
  end
  for i, set in ipairs(route.requirements) do
    local first
    -- What the decision read, for the decision cache (M.access): only a decision by the
    -- first alternative is cached, so no other entry of the state took part in it.
    local pk, pv = i == 1 and {} or nil, i == 1 and {} or nil
    for j, scope in ipairs(set) do
      local g, k, v, gexp = live_grant(G, d.principal, scope, now)
      if not g then first = nil; break end
      if j == 1 then first = g end
      if pk then pk[j], pv[j] = k, v end
      exp = min(exp, gexp)
    end
    if first then
      d.grant_id, d.alternative = first, set
      if pk then d.digest, d.ck, d.cv, d.pk, d.pv, d.exp = digest, ck, c, pk, pv, exp end
      return nil, d
    end
  end
  return 403
end

--- Usage of an allowed request, as proxy/decide.ts recordAllowedUsage reports it.
--- Returns the usage keys it counted (the decision cache counts them again on a hit).
local function record_allowed(G, d, now)
  local keys = { "r\t" .. (d.grant_id or "") .. "\t" .. (d.cred_id or "") .. "\t" .. d.route.id }
  count(keys[1])
  -- The first grant of the alternative is counted with the request; the others of an AND set here.
  local alt = d.alternative
  if alt then
    for j = 2, #alt do
      local g = live_grant(G, d.principal, alt[j], now)
      if g then keys[#keys + 1] = "a\t" .. g; count(keys[#keys]) end
    end
  end
  return keys
end

-- The per-worker decision cache: an allowed request's decision and everything
-- forwarding needs, keyed by the request line and the SHA-256 of the key (never
-- the key itself), so a repeated (request, key) pair skips normalisation, the
-- route walk and every string the slow path builds. An entry is used only while
-- the state it was decided on is still there: the same generation and topology
-- version, and the credential's and each grant's dict entry unchanged (a revoke,
-- including the controller's early /remove, deletes or rewrites one of them, so
-- it takes effect on the next request on every worker), and only until the
-- earliest expiry of the credential and the grants (expiry per request, as the
-- Node proxy). Only decisions by a route's first alternative, for an API without
-- its own key location, are cached: no other entry of the state took part in them.
local lrucache = require "resty.lrucache"
M.decision_cache_size = 10000
local decisions

-- The API a request goes to, for balancer_by_lua, by the request's address (the
-- ngx_http_request_t pointer): ngx.ctx would cost a table, a registry reference
-- and a cleanup handler per request, and its code is too long for LuaJIT to
-- compile into the fast path. Set for every request before it can reach the
-- balancer (only allowed requests are proxied, and both paths set it); left in
-- place after (nginx retries a failed keep-alive connection through the balancer
-- again) and overwritten by the next request at the same address. Addresses are
-- reused, so the table stays small; past PEERS_MAX distinct ones it starts over,
-- keeping the previous table for lookups, so no request in flight loses its entry.
local get_request = require("resty.core.base").get_request
local uintptr_t = ffi.typeof("uintptr_t")
-- The request's address as a number: get_request() gives a new cdata on each call.
local function request_id() return tonumber(ffi.cast(uintptr_t, get_request())) end
local PEERS_MAX = 65536
local peers, old_peers, peers_n = {}, {}, 0
local function set_peer(api)
  local r = request_id()
  if peers[r] == nil then
    peers_n = peers_n + 1
    if peers_n > PEERS_MAX then old_peers, peers, peers_n = peers, {}, 1 end
  end
  peers[r] = api
end

--- What forwarding sets (both paths): the upstream URI, the principal, Host, the
--- scheme (only when not the default), the peer. Authorization and X-API-Key are
--- not forwarded: their proxy_set_header lines send $tg_authorization and
--- $tg_x_api_key, empty unless set (generate.ts).
local function forward(uri, principal, api)
  var.tg_uri = uri
  var.tg_principal = principal
  var.tg_host = api.hostHeader
  if api.scheme ~= "http" then var.tg_scheme = api.scheme end
  set_peer(api)
end

-- set_by_lua's arguments, read as resty.core's ngx.arg does but without its
-- phase check and metatable (which LuaJIT does not compile from here).
require "resty.core.param"
local setby_data, setby_len = ffi.new("unsigned char*[1]"), ffi.new("size_t[1]")
local function setby_param(r, idx)
  ffi.C.ngx_http_lua_ffi_get_setby_param(r, idx, setby_data, setby_len)
  if setby_len[0] == 0 then return nil end
  return ffi.string(setby_data[0], setby_len[0])
end

--- set_by_lua (generate.ts): the request line ($request) and $http_authorization
--- in, the upstream URI out when this worker has the (line, key) pair's allowed
--- decision cached and it still holds; "" otherwise, and M.access decides in full.
--- set_by_lua runs without a coroutine, and nginx hands both variables in by index
--- (an ngx.var read looks the name up in a hash on every call).
function M.fast()
  local r = get_request()
  local auth = setby_param(r, 2)
  if not auth then return "" end
  local line = setby_param(r, 1)
  decisions = decisions or lrucache.new(M.decision_cache_size)
  -- The digest of the whole header value: the same value always yields the same
  -- key, and no parsing (a loop here would keep LuaJIT from compiling this function).
  local ckey = line .. M.sha256(auth)
  local e = decisions:get(ckey)
  if not e then return "" end
  -- "ver" is bumped after every change to the served state (control.lua): while it is the value this entry was
  -- last checked at, nothing it depends on changed, and one read stands for all. Otherwise (or with no counter)
  -- the entry's own dict entries are read again: "ver" first, then the entries, so a change made after these
  -- reads moves "ver" past the value stored.
  local ver = state:get("ver")
  local ok = ver ~= nil and ver == e.ver
  if not ok then
    ok = state:get("gen") == e.gen and state:get("tv") == e.tv and state:get(e.ck) == e.cv
    if ok then
      local pk, pv = e.pk, e.pv
      for i = 1, #pk do
        if state:get(pk[i]) ~= pv[i] then ok = false; break end
      end
    end
    if ok then e.ver = ver end
  end
  local now = ngx.now() * 1000
  if not ok or now >= e.exp then
    decisions:delete(ckey)
    return ""
  end
  local usage_keys = e.usage
  for i = 1, #usage_keys do count(usage_keys[i]) end
  local api = e.api
  var.tg_principal = e.principal
  var.tg_host = api.hostHeader
  if api.scheme ~= "http" then var.tg_scheme = api.scheme end
  set_peer(api)
  return e.uri
end

--- access_by_lua: decide, then either refuse or set what proxy_pass forwards.
function M.access()
  -- Read before anything the decision reads: a cached decision stores it (M.fast).
  local ver = state:get("ver")
  local gen = state:get("gen")
  local line = var.request
  local target = var.request_uri
  local method = ngx.req.get_method()
  if method == "CONNECT" then return refuse(405) end
  -- nginx accepts absolute-form targets ("GET http://host/p") and hands on only
  -- their path; the Node proxy refuses them, and so do we: origin-form only,
  -- checked before the forward-auth path is recognised in that path (503 first while not ready, as decide.ts).
  if byte(line, #method + 2) ~= 47 then return refuse(gen and 400 or 503) end
  if target == "/_tollgate/auth" or sub(target, 1, 16) == "/_tollgate/auth?" then return M.forward_auth(gen) end
  if not gen then return refuse(503) end
  local G = gen .. ":"
  local now = ngx.now() * 1000
  local status, d = decide(G, method, target, now)
  if status then return refuse(status) end
  local usage_keys = record_allowed(G, d, now)
  local api, rest = d.api, d.rest
  local query = d.query
  -- Keys are never forwarded: Authorization / X-API-Key, or an API's own key
  -- names (headers in both spellings, query parameters), as proxy/dataplane.ts.
  local loc = api.keyLocation
  if loc then
    local own = {}
    for _, name in ipairs(loc.names) do
      if loc.header then
        ngx.req.clear_header(name)
        ngx.req.clear_header((name:gsub("_", "-")))
        own[lower(name)], own[lower((name:gsub("_", "-")))] = true, true
      end
    end
    if loc.query then query = query_without_keys(loc, query) end
    -- Authorization and X-API-Key are ordinary headers for such an API, forwarded
    -- as the Node proxy forwards them (Node keeps the first Authorization and joins
    -- repeated X-API-Key values with ", "), unless they are among its key names.
    local h = request_headers()
    local a, x = h["authorization"], h["x-api-key"]
    if type(a) == "table" then a = a[1] end
    if type(x) == "table" then x = table.concat(x, ", ") end
    if a and not own["authorization"] then var.tg_authorization = a end
    if x and not own["x-api-key"] then var.tg_x_api_key = x end
  end
  local base = api.base
  local uri = base .. (rest ~= "" and rest or (base ~= "" and "" or "/")) .. query
  if byte(uri, 1) ~= 47 then uri = "/" .. uri end
  local principal = d.principal or ""
  if loc then
    var.tg_uri = uri
    var.tg_principal = principal
    var.tg_host = api.hostHeader
    var.tg_scheme = api.scheme
    set_peer(api)
    return
  end
  -- Cacheable when the key came from the Authorization header (the only one M.fast
  -- reads): with no key location of its own, an API takes the key from there when present.
  local auth = var.http_authorization
  if d.pk and auth then
    decisions = decisions or lrucache.new(M.decision_cache_size)
    decisions:set(line .. M.sha256(auth), { ver = ver, gen = gen, tv = d.tv, exp = d.exp, ck = d.ck, cv = d.cv, pk = d.pk, pv = d.pv, usage = usage_keys, uri = uri, principal = principal, api = api })
  end
  return forward(uri, principal, api)
end

local function one_header(h, name)
  local v = h[name]
  if type(v) == "table" then return table.concat(v, ", ") end
  return v
end

--- The request a gateway asks about (proxy/dataplane.ts describedRequest): both
--- header dialects must agree, the method comes from the URI's dialect.
local function described_request()
  local h = request_headers()
  local o_uri, f_uri = one_header(h, "x-original-uri"), one_header(h, "x-forwarded-uri")
  local o_method, f_method = one_header(h, "x-original-method"), one_header(h, "x-forwarded-method")
  if o_method then o_method = string.upper(o_method) end
  if f_method then f_method = string.upper(f_method) end
  if o_uri and f_uri and o_uri ~= f_uri then return nil end
  if o_method and f_method and o_method ~= f_method then return nil end
  local uri = o_uri or f_uri
  local method
  if o_uri then method = o_method or (f_uri and f_method or nil) else method = f_method end
  if not uri or uri == "" or not method or not find(method, "^[A-Z]+$") or #method > 16 then return nil end
  return method, uri
end

--- /_tollgate/auth: forward-auth for gateways; answers only 200, 401 or 403.
function M.forward_auth(gen)
  local method, uri = described_request()
  local now = ngx.now() * 1000
  local G = gen and (gen .. ":")
  local status, d
  if not gen then status = 503
  elseif method then status, d = decide(G, method, uri, now)
  else status = 400 end
  ngx.header["Content-Type"] = "application/json"
  if not status then
    record_allowed(G, d, now)
    ngx.status = 200
    ngx.header["Content-Type"] = nil
    ngx.header["X-Tollgate-Principal"] = d.principal or ""
    return ngx.exit(200)
  end
  if status == 401 then
    ngx.status = 401
    ngx.header["WWW-Authenticate"] = 'Bearer realm="tollgate"'
    ngx.print('{"error":{"code":"unauthorized"}}')
    return ngx.exit(401)
  end
  ngx.status = 403
  ngx.print(status == 503 and '{"error":{"code":"not_ready"}}' or '{"error":{"code":"forbidden"}}')
  return ngx.exit(403)
end

--- balancer_by_lua: the chosen API's upstream address (keep-alive pooled per peer).
local balancer
function M.balance()
  balancer = balancer or require "ngx.balancer"
  local r = request_id()
  local api = peers[r] or old_peers[r]
  if not api then
    ngx.log(ngx.ERR, "tollgate: no upstream chosen for this request")
    return ngx.exit(502)
  end
  local ok, err = balancer.set_current_peer(api.addr, api.port)
  if not ok then
    ngx.log(ngx.ERR, "tollgate: no upstream peer: ", err)
    return ngx.exit(502)
  end
end

return M
