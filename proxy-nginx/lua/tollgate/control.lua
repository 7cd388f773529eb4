-- The control listener (a unix socket only the controller can reach): the
-- controller writes the state it has validated and persisted into the shared
-- dicts here, and drains usage counts. Not the admin API: that is the
-- controller's /admin/v1, the same code as the Node proxy's.
--
-- Layout of ngx.shared.tollgate:
--   gen      generation the data plane reads (absent: not ready, every request 503)
--   rev      the controller's revision this state is at
--   topo/tv  APIs and routes as JSON, and its version (workers recompile on change)
--   <gen>:c<sha256 raw>          "expMs\tprincipalId\tcredentialId" ("" expMs: never)
--   <gen>:C<credentialId>        sha256 raw (to unindex it)
--   <gen>:p<principal>\t<scope>  "expMs\tgrantId" (the latest grant for the pair is enforced, as in state.ts)
--   <gen>:g<grantId>             "principal\tscope"
local cjson = require "cjson.safe"
local state = ngx.shared.tollgate
local usage = ngx.shared.tollgate_usage
local find, sub = string.find, string.sub

local M = {}

local function reply(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.print(cjson.encode(body))
  -- No ngx.exit: the handler runs under the control lock, and must return to release it.
end

local function unhex(h)
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local function exp_of(iso_ms)
  if iso_ms == nil or iso_ms == cjson.null then return "" end
  return tostring(iso_ms)
end

-- safe_set: a full dict refuses the write rather than evicting other entries
-- (an evicted index entry could make a later delete miss its target).
local function put(k, v)
  local ok, err = state:safe_set(k, v)
  if not ok then error("shared dict: " .. tostring(err)) end
end

local function remove_credential(G, id)
  local hash = state:get(G .. "C" .. id)
  if not hash then return end
  local c = state:get(G .. "c" .. hash)
  if c and sub(c, -#id) == id then state:delete(G .. "c" .. hash) end
  state:delete(G .. "C" .. id)
end

local function remove_grant(G, id)
  local ps = state:get(G .. "g" .. id)
  if not ps then return end
  local v = state:get(G .. "p" .. ps)
  if v and sub(v, -#id) == id then state:delete(G .. "p" .. ps) end
  state:delete(G .. "g" .. id)
end

local function upsert_credential(G, v)
  remove_credential(G, v.id)
  local hash = unhex(v.hash)
  put(G .. "c" .. hash, exp_of(v.expiresAt) .. "\t" .. v.principalId .. "\t" .. v.id)
  put(G .. "C" .. v.id, hash)
end

local function upsert_grant(G, v)
  remove_grant(G, v.id)
  local ps = v.principalId .. "\t" .. v.scopeId
  -- A full load marks the grant state.ts enforces for its pair; ops arrive in order (the last one wins).
  if v.enforced ~= false then put(G .. "p" .. ps, exp_of(v.expiresAt) .. "\t" .. v.id) end
  put(G .. "g" .. v.id, ps)
end

local function apply(G, op)
  if op.op == "delete" then
    if op.kind == "credential" then remove_credential(G, op.id) elseif op.kind == "grant" then remove_grant(G, op.id) end
  elseif op.kind == "credential" then upsert_credential(G, op.value)
  elseif op.kind == "grant" then upsert_grant(G, op.value)
  end
  -- api and route ops arrive as a whole new topology beside the ops.
end

local function set_topology(json)
  put("topo", json)
  state:incr("tv", 1, 0)
end

local function body_json()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local f = ngx.req.get_body_file()
    if f then
      local h = io.open(f, "rb")
      data = h:read("*a")
      h:close()
    end
  end
  return cjson.decode(data or "")
end

-- Deletes the keys of a retired generation in the background.
local function sweep(premature, old)
  if premature then return end
  local prefix = old .. ":"
  for _, k in ipairs(state:get_keys(0)) do
    if sub(k, 1, #prefix) == prefix then state:delete(k) end
  end
end

-- Control requests may land on different workers at once: every change to the
-- dicts runs under one lock (an atomic add with an expiry, so a worker killed
-- while holding it cannot wedge the others for more than a few seconds).
local function locked(fn)
  for _ = 1, 5000 do
    if state:add("control_lock", true, 5) then
      local ok, err = pcall(fn)
      state:delete("control_lock")
      if not ok then error(err) end
      return
    end
    ngx.sleep(0.001)
  end
  error("control lock not acquired")
end

function M.handle()
  if ngx.var.uri == "/status" or ngx.req.get_method() ~= "POST" then return M.dispatch() end
  local ok, err = pcall(locked, M.dispatch)
  if not ok then return reply(503, { error = tostring(err) }) end
end

function M.dispatch()
  local uri, method, args = ngx.var.uri, ngx.req.get_method(), ngx.req.get_uri_args()
  if uri == "/status" then
    return reply(200, {
      ready = state:get("gen") ~= nil, revision = state:get("rev") or cjson.null, generation = state:get("gen") or cjson.null, pid = ngx.worker.pid(),
      -- The shared dicts' size and what is left of it (bench/proxy-nginx.ts reports the state's memory from these).
      dict = { capacity = state:capacity(), free = state:free_space(), usageCapacity = usage:capacity(), usageFree = usage:free_space() },
    })
  end
  if method ~= "POST" then return reply(404, { error = "no such control path" }) end
  if uri == "/usage" then
    -- Drained by subtracting what was read, so a concurrent increment is never lost.
    local out = {}
    for _, k in ipairs(usage:get_keys(0)) do
      local v = usage:get(k)
      if v and v > 0 then
        out[k] = v
        usage:incr(k, -v)
      elseif v == 0 then
        usage:delete(k)
      end
    end
    return reply(200, { counts = out })
  end
  local body = body_json()
  if uri == "/ops" then
    -- Mutations since `from`, in order; refused unless the dicts are exactly at `from`.
    local gen = state:get("gen")
    if not gen or state:get("rev") ~= tonumber(args.from) then return reply(409, { revision = state:get("rev") or cjson.null }) end
    if not body then return reply(400, { error = "body is not JSON" }) end
    local G = gen .. ":"
    local ok, err = pcall(function()
      for _, op in ipairs(body.ops) do apply(G, op) end
      if body.topology then set_topology(body.topology) end
    end)
    if not ok then return reply(507, { error = err }) end
    state:set("rev", tonumber(args.to))
    return reply(200, { revision = tonumber(args.to) })
  end
  if uri == "/remove" then
    -- A batch's grant/credential deletes before the controller's fsync: they only restrict, and the
    -- ordered /ops push that follows the fsync applies them again. Nothing else is accepted here.
    -- Only while the dicts are still before the batch's revision: once /ops has passed it, a later
    -- batch may have re-added what this one removed.
    local gen = state:get("gen")
    if not gen or not body then return reply(409, { error = "no state" }) end
    if (state:get("rev") or 0) >= tonumber(args.revision or 0) then return reply(409, { revision = state:get("rev") }) end
    for _, op in ipairs(body.ops) do
      if op.op == "delete" then apply(gen .. ":", op) end
    end
    return reply(200, {})
  end
  if uri == "/load/begin" then
    return reply(200, { generation = state:incr("genseq", 1, 0) })
  end
  local gen = tonumber(args.generation)
  if not gen or not body then return reply(400, { error = "generation and a JSON body are required" }) end
  local G = gen .. ":"
  if uri == "/load/chunk" then
    local ok, err = pcall(function()
      for _, v in ipairs(body.credentials or {}) do upsert_credential(G, v) end
      for _, v in ipairs(body.grants or {}) do upsert_grant(G, v) end
    end)
    if not ok then return reply(507, { error = err }) end
    return reply(200, { generation = gen })
  end
  if uri == "/load/commit" then
    local ok, err = pcall(set_topology, body.topology)
    if not ok then return reply(507, { error = err }) end
    local old = state:get("gen")
    state:set("rev", tonumber(args.revision))
    state:set("gen", gen)
    if old and old ~= gen then ngx.timer.at(0, sweep, old) end
    return reply(200, { revision = tonumber(args.revision), generation = gen })
  end
  return reply(404, { error = "no such control path" })
end

return M
