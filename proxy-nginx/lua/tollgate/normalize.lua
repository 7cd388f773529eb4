-- The Node proxy's path normalisation (proxy/normalize.ts), byte for byte: the
-- conformance suite (test/conformance) runs the same cases against both.
local byte, sub, find, char, upper = string.byte, string.sub, string.find, string.char, string.upper
local bor = require("bit").bor

local M = {}

local function set_of(chars)
  local t = {}
  for i = 1, #chars do t[byte(chars, i)] = true end
  return t
end
local ALLOWED = set_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@/")
local UNRESERVED = set_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

local function hexval(c)
  if not c then return -1 end
  if c >= 48 and c <= 57 then return c - 48 end
  if c >= 65 and c <= 70 then return c - 55 end
  if c >= 97 and c <= 102 then return c - 87 end
  return -1
end

-- decodeURIComponent's check: the escaped bytes must spell strict UTF-8 (no
-- overlongs, surrogates, lone continuation bytes, nothing above U+10FFFF).
local function valid_utf8_escapes(p)
  local i, n = 1, #p
  while i <= n do
    if byte(p, i) == 37 then
      local b = hexval(byte(p, i + 1)) * 16 + hexval(byte(p, i + 2))
      i = i + 3
      if b >= 0x80 then
        local need, lo, hi
        if b >= 0xC2 and b <= 0xDF then need, lo, hi = 1, 0x80, 0xBF
        elseif b == 0xE0 then need, lo, hi = 2, 0xA0, 0xBF
        elseif b == 0xED then need, lo, hi = 2, 0x80, 0x9F
        elseif b >= 0xE1 and b <= 0xEF then need, lo, hi = 2, 0x80, 0xBF
        elseif b == 0xF0 then need, lo, hi = 3, 0x90, 0xBF
        elseif b >= 0xF1 and b <= 0xF3 then need, lo, hi = 3, 0x80, 0xBF
        elseif b == 0xF4 then need, lo, hi = 3, 0x80, 0x8F
        else return false end
        for k = 1, need do
          if byte(p, i) ~= 37 then return false end
          local h, l = hexval(byte(p, i + 1)), hexval(byte(p, i + 2))
          if h < 0 or l < 0 then return false end
          local c = h * 16 + l
          if k == 1 then
            if c < lo or c > hi then return false end
          elseif c < 0x80 or c > 0xBF then return false end
          i = i + 3
        end
      end
    else
      i = i + 1
    end
  end
  return true
end

--- Returns path, query for a canonical target, or nil, reason.
function M.normalize(target)
  local n = #target
  if n == 0 or n > 8192 or byte(target, 1) ~= 47 then return nil, "bad_target" end
  local q = find(target, "?", 1, true)
  local raw = q and sub(target, 1, q - 1) or target
  local query = q and sub(target, q) or ""
  for i = 1, #query do
    local c = byte(query, i)
    if c < 0x21 or c > 0x7e or c == 35 then return nil, "bad_query" end
  end
  local out
  if not find(raw, "%", 1, true) then
    for i = 1, #raw do
      if not ALLOWED[byte(raw, i)] then return nil, "bad_character" end
    end
    out = raw
  else
    local buf, k, i = {}, 0, 1
    local len = #raw
    while i <= len do
      local c = byte(raw, i)
      if c == 37 then
        local h, l = hexval(byte(raw, i + 1)), hexval(byte(raw, i + 2))
        if h < 0 or l < 0 then return nil, "bad_escape" end
        local b = h * 16 + l
        if b < 0x20 or b == 0x7f or b == 0x2f or b == 0x5c then return nil, "forbidden_escape" end
        k = k + 1
        if b < 128 and UNRESERVED[b] then buf[k] = char(b) else buf[k] = "%" .. upper(sub(raw, i + 1, i + 2)) end
        i = i + 3
      else
        if not ALLOWED[c] then return nil, "bad_character" end
        k = k + 1
        buf[k] = char(c)
        i = i + 1
      end
    end
    out = table.concat(buf)
    if not valid_utf8_escapes(out) then return nil, "bad_utf8" end
  end
  local olen = #out
  if olen > 1 and byte(out, olen) == 47 then
    out = sub(out, 1, olen - 1)
    olen = olen - 1
  end
  if out ~= "/" then
    local start = 2
    while start <= olen + 1 do
      local e = find(out, "/", start, true) or (olen + 1)
      local l = e - start
      if l == 0 then return nil, "empty_segment" end
      if (l == 1 and byte(out, start) == 46) or (l == 2 and byte(out, start) == 46 and byte(out, start + 1) == 46) then
        return nil, "dot_segment"
      end
      start = e + 1
    end
  end
  return out, query
end

--- An encoded "%", "/", "\" or "." in the path part (proxy/normalize.ts hasEncodedSpecial).
function M.has_encoded_special(target)
  local first = find(target, "%", 1, true)
  if not first then return false end
  local q = find(target, "?", 1, true)
  local stop = q or (#target + 1)
  local i = first
  while i and i < stop do
    local h = byte(target, i + 1)
    local l = byte(target, i + 2)
    if l then l = bor(l, 0x20) end
    if (h == 50 and (l == 53 or l == 102 or l == 101)) or (h == 53 and l == 99) then return true end
    i = find(target, "%", i + 1, true)
  end
  return false
end

--- "/a/b" -> {"a","b"}; "/" -> {}.
function M.segments(path)
  local out, k = {}, 0
  if path == "/" then return out end
  local start = 2
  while true do
    local e = find(path, "/", start, true)
    k = k + 1
    if not e then
      out[k] = sub(path, start)
      return out
    end
    out[k] = sub(path, start, e - 1)
    start = e + 1
  end
end

local function is_number(s) return find(s, "^%d+$") ~= nil end
local function is_uuid(s)
  return #s == 36 and find(s, "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end
local function is_hexid(s) return #s >= 16 and find(s, "^%x+$") ~= nil end
local function is_opaque(s) return #s >= 12 and find(s, "^[%w_%-]+$") ~= nil and find(s, "%d") ~= nil end

--- The shadow-endpoint form of a path (proxy/normalize.ts shadowPath).
function M.shadow_path(segs)
  local out = {}
  for i = 1, math.min(#segs, 32) do
    local s = segs[i]
    if is_number(s) or is_uuid(s) or is_hexid(s) or is_opaque(s) then out[i] = "{param}" else out[i] = sub(s, 1, 64) end
  end
  return sub("/" .. table.concat(out, "/"), 1, 512)
end

return M
