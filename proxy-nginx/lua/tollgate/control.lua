-- The control listener (a unix socket only the controller can reach): the
-- controller writes the state it has validated and persisted into the shared
-- dicts here, and drains usage counts. Not the admin API: that is the
-- controller's /admin/v1, the same code as the Node proxy's.
--
-- Layout of ngx.shared.tollgate:
--   gen      generation the data plane reads (absent: not ready, every request 503)
--   rev      the controller's revision this state is at
--   topo/tv  APIs and routes as JSON, and its version (workers recompile on change)
--   genseq   the last generation handed out; loading: the generation a full load is writing (until its commit)
--   ver      bumped after every change to what is served (ops, removals, topology, a generation switch): a
--            worker's cached decision whose "ver" is still current needs no other read (tollgate.lua, M.fast)
--   <gen>:c<sha256 raw>          "expMs\tprincipalId\tcredentialId" ("" expMs: never)
--   <gen>:p<principal>\t<scope>  "expMs\tgrantId" (the latest grant for the pair is enforced, as in state.ts)
-- and the reverse indexes by id, read only here (to unindex on a delete or an update):
--   <gen>:U<credentialId, 16 raw bytes>       sha256 raw                   id a lower-case uuid
--   <gen>:C<credentialId as text>             sha256 raw                   any other id
--   <gen>:u<grantId, 16 raw bytes>            principal .. scope, 16 raw bytes each  all three lower-case uuids
--   <gen>:g<grantId as text>                  "principal\tscope"           otherwise
-- The raw forms keep the reverse entries in the 128-byte class of nginx's slab allocator: an entry takes
-- 68 bytes (rbtree node up to color, 32, + ngx_http_lua_shdict_node_t up to data, 36) + key + value, rounded
-- up to a power of two; "<gen>:U" + 16 + 32 = 50 + digits of gen <= 60 up to a 10-digit generation, where the
-- text forms (36-char uuids) take 256. Only lower-case uuids are packed, since unpacking must give back the
-- exact text of the hot-path keys; each letter is its own namespace, so the two forms never collide, and an
-- unindex looks in both (a uuid grant whose principal or scope is not one is indexed under g).
local cjson = require "cjson.safe"
local ffi = require "ffi"
local state = ngx.shared.tollgate
local usage = ngx.shared.tollgate_usage
local find, sub, byte = string.find, string.sub, string.byte

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

-- Lower-case uuid text <-> 16 raw bytes (the reverse indexes' compact form).
local NIBBLE = {}
for i = 0, 9 do NIBBLE[48 + i] = i end
for i = 0, 5 do NIBBLE[97 + i] = 10 + i end
local HEX = {}
for i = 0, 255 do HEX[i] = string.format("%02x", i) end
local raw_buf = ffi.new("uint8_t[16]")

--- The 16 bytes of a lower-case 8-4-4-4-12 uuid, or nil for any other value (upper case included).
local function uuid_raw(id)
  if type(id) ~= "string" or #id ~= 36 then return nil end
  local i, j = 1, 0
  while i <= 36 do
    if i == 9 or i == 14 or i == 19 or i == 24 then
      if byte(id, i) ~= 45 then return nil end
      i = i + 1
    else
      local h, l = NIBBLE[byte(id, i)], NIBBLE[byte(id, i + 1)]
      if not h or not l then return nil end
      raw_buf[j] = h * 16 + l
      i, j = i + 2, j + 1
    end
  end
  return ffi.string(raw_buf, 16)
end

--- The uuid text of the 16 bytes of `raw` from `at`.
local function uuid_text(raw, at)
  local b = { byte(raw, at, at + 15) }
  return HEX[b[1]] .. HEX[b[2]] .. HEX[b[3]] .. HEX[b[4]] .. "-" .. HEX[b[5]] .. HEX[b[6]] .. "-" .. HEX[b[7]] .. HEX[b[8]] .. "-"
    .. HEX[b[9]] .. HEX[b[10]] .. "-" .. HEX[b[11]] .. HEX[b[12]] .. HEX[b[13]] .. HEX[b[14]] .. HEX[b[15]] .. HEX[b[16]]
end

-- A hot-path entry's value ends with "\t" .. the id of what it belongs to: deleted only by its owner.
local function owned(v, id)
  return v ~= nil and sub(v, -#id - 1) == "\t" .. id
end

-- Removes a credential's hot-path entry through the reverse entry `rk` (if present), and `rk`.
local function unindex_credential(G, rk, id)
  local hash = state:get(rk)
  if not hash then return end
  if owned(state:get(G .. "c" .. hash), id) then state:delete(G .. "c" .. hash) end
  state:delete(rk)
end

local function remove_credential(G, id)
  local raw = uuid_raw(id)
  if raw then unindex_credential(G, G .. "U" .. raw, id) end
  unindex_credential(G, G .. "C" .. id, id)
end

local function unindex_grant(G, rk, ps, id)
  if owned(state:get(G .. "p" .. ps), id) then state:delete(G .. "p" .. ps) end
  state:delete(rk)
end

local function remove_grant(G, id)
  local raw = uuid_raw(id)
  if raw then
    local v = state:get(G .. "u" .. raw)
    if v then unindex_grant(G, G .. "u" .. raw, uuid_text(v, 1) .. "\t" .. uuid_text(v, 17), id) end
  end
  local ps = state:get(G .. "g" .. id)
  if ps then unindex_grant(G, G .. "g" .. id, ps, id) end
end

local function upsert_credential(G, v)
  remove_credential(G, v.id)
  local hash = unhex(v.hash)
  put(G .. "c" .. hash, exp_of(v.expiresAt) .. "\t" .. v.principalId .. "\t" .. v.id)
  local raw = uuid_raw(v.id)
  if raw then put(G .. "U" .. raw, hash) else put(G .. "C" .. v.id, hash) end
end

local function upsert_grant(G, v)
  remove_grant(G, v.id)
  local ps = v.principalId .. "\t" .. v.scopeId
  -- A full load marks the grant state.ts enforces for its pair; ops arrive in order (the last one wins).
  if v.enforced ~= false then put(G .. "p" .. ps, exp_of(v.expiresAt) .. "\t" .. v.id) end
  local raw, pr, sr = uuid_raw(v.id), uuid_raw(v.principalId), uuid_raw(v.scopeId)
  if raw and pr and sr then put(G .. "u" .. raw, pr .. sr) else put(G .. "g" .. v.id, ps) end
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

-- After (never before) a change to the served state: a worker that reads the new "ver" re-reads the entries its
-- cached decision used, and one that still reads the old value started before the change was made.
-- Raises when the counter cannot be written (a full dict refusing its first creation): the change is then
-- reported as failed, never acknowledged with cached decisions left unchecked.
local function changed()
  local v, err = state:incr("ver", 1, 0)
  if not v then error("shared dict: " .. tostring(err)) end
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

-- Deletes the keys of a generation that is not served (retired, or a load that did not commit), a batch at a
-- time: get_keys(n) lists the n least recently used keys (from the LRU tail) and a get moves a key to the head,
-- so each batch's keys of other generations are moved out of the way, and the pass ends at a mark set at its start
-- (every key older than the mark has then been seen once). get_keys(0) would copy every key of the dict into this
-- worker's Lua heap instead (~490 MB at a million grants, kept by the worker after the sweep), and hold the dict's
-- lock for the whole listing. A request in flight across a switch may still touch an old key after the mark and be
-- left behind: never read again (generations are not reused), a few entries at most.
local SWEEP_BATCH = 2000

local function sweep_now(old)
  local prefix = old .. ":"
  local mark = "sweep-mark:" .. old .. ":" .. ngx.worker.pid() .. ":" .. ngx.now()
  local function full_listing(why)
    ngx.log(ngx.WARN, "tollgate: sweep of generation ", old, " falls back to a full key listing: ", why)
    for _, k in ipairs(state:get_keys(0)) do
      if sub(k, 1, #prefix) == prefix then state:delete(k) end
    end
  end
  -- safe_set: a plain set into a full dict would evict the least recently used entries, served ones included.
  if not state:safe_set(mark, true) then return full_listing("no room for the mark") end
  local last_first
  while true do
    local keys = state:get_keys(SWEEP_BATCH)
    if #keys == 0 then break end
    -- No key moved since the last batch: the dict does not behave as assumed.
    if keys[1] == last_first then
      full_listing("the LRU order did not move")
      break
    end
    last_first = keys[1]
    local done = false
    for i = 1, #keys do
      local k = keys[i]
      if k == mark then done = true; break end
      if sub(k, 1, #prefix) == prefix then state:delete(k) else state:get(k) end
    end
    if done then break end
    ngx.sleep(0) -- let this worker serve requests between batches
  end
  state:delete(mark)
end

local function sweep(premature, old)
  if premature then return end
  sweep_now(old)
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
  if not ok then reply(503, { error = tostring(err) }) end
  -- A chunk of a full load is a decoded JSON body of 20,000 entries: freed now, not at some later request's GC.
  if sub(ngx.var.uri, 1, 6) == "/load/" then collectgarbage("collect") end
end

function M.dispatch()
  local uri, method, args = ngx.var.uri, ngx.req.get_method(), ngx.req.get_uri_args()
  if uri == "/status" then
    return reply(200, {
      ready = state:get("gen") ~= nil, revision = state:get("rev") or cjson.null, generation = state:get("gen") or cjson.null, pid = ngx.worker.pid(),
      -- The shared dicts' size and what is left of it (bench/proxy-nginx.ts reports the state's memory from these).
      dict = { capacity = state:capacity(), free = state:free_space(), usageCapacity = usage:capacity(), usageFree = usage:free_space() },
      loading = state:get("loading") or cjson.null,
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
    local counted, cerr = pcall(changed) -- also after a failed batch: part of it may have been applied
    if not ok or not counted then return reply(507, { error = err or cerr }) end
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
    local counted, cerr = pcall(changed)
    if not counted then return reply(507, { error = cerr }) end
    return reply(200, {})
  end
  if uri == "/load/begin" then
    -- A load that never committed (refused for space, or its controller died) left a partial generation:
    -- swept before this one starts, so failed loads cannot pile up and fill the dict.
    local stale = state:get("loading")
    if stale and stale ~= state:get("gen") then sweep_now(stale) end
    local gen = state:incr("genseq", 1, 0)
    put("loading", gen)
    return reply(200, { generation = gen })
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
    local ok, err = pcall(function() set_topology(body.topology); changed() end)
    if not ok then return reply(507, { error = err }) end
    local old = state:get("gen")
    state:set("rev", tonumber(args.revision))
    state:set("gen", gen)
    changed() -- exists by now (created above), so this incr needs no room
    if state:get("loading") == gen then state:delete("loading") end
    if old and old ~= gen then ngx.timer.at(0, sweep, old) end
    return reply(200, { revision = tonumber(args.revision), generation = gen })
  end
  return reply(404, { error = "no such control path" })
end

return M
