-- ---------------------------------------------------------------------------------------------
-- Runtime (src/lua/runtime.lua, copied verbatim by the generator). Lua 5.2 as in Wireshark 4.0:
-- no Conversation class, no native bit operators; arithmetic only.
-- State is built on the first pass, in order, and read on every pass (tshark -2, GUI redissection):
-- per connection (bthci_acl.chandle) and direction (pinfo.p2p_dir) a carry buffer; finished
-- records are stored by frame number; proto.init clears everything.
-- ---------------------------------------------------------------------------------------------

local victron = Proto("victron", "Victron VE.Smart (VictronConnect)")

local TYPE_NAMES = {
  [0x01] = "get devices", [0x02] = "device list", [0x03] = "subscribe", [0x04] = "unsubscribe",
  [0x05] = "get values", [0x06] = "set values", [0x07] = "response", [0x08] = "value",
  [0x09] = "value response", [0x0a] = "get path list", [0x0b] = "get path values", [0x0c] = "set path values",
  [0x0d] = "path list", [0x0e] = "new path", [0x0f] = "path value", [0x10] = "path value response",
}
-- CBOR major type each parameter must have (0 uint, 2 bytes, 3 text, 4 array, -1 any).
local PARAMS = {
  [0x01] = {}, [0x02] = {4}, [0x03] = {0}, [0x04] = {0}, [0x05] = {0, 4}, [0x06] = {0, 4}, [0x07] = {0, 0, 0},
  [0x08] = {0, 0, 2}, [0x09] = {0, 0, 0}, [0x0a] = {0}, [0x0b] = {0, 4}, [0x0c] = {0, 4}, [0x0d] = {0, 2},
  [0x0e] = {0, 0, 3}, [0x0f] = {0, 0, -1}, [0x10] = {0, 0, 0},
}

local f = {
  type = ProtoField.uint8("victron.type", "Type", base.HEX, TYPE_NAMES),
  instance = ProtoField.uint32("victron.instance", "Instance", base.DEC),
  register = ProtoField.uint16("victron.register", "Register", base.HEX),
  register_name = ProtoField.string("victron.register_name", "Register name"),
  raw = ProtoField.bytes("victron.raw", "Raw value"),
  value = ProtoField.double("victron.value", "Value"),
  value_text = ProtoField.string("victron.value_text", "Value text"),
  unit = ProtoField.string("victron.unit", "Unit"),
  response = ProtoField.uint32("victron.response", "Response code"),
  unknown = ProtoField.bytes("victron.unknown", "Unknown bytes"),
  padding = ProtoField.bytes("victron.padding", "Padding"),
  control = ProtoField.string("victron.control", "Control"),
  message = ProtoField.bytes("victron.message", "Message"),
  from = ProtoField.framenum("victron.from_frame", "Bytes from frame"),
  continued = ProtoField.framenum("victron.continued_in", "Continued in frame"),
  -- victron.register/raw/value are for values (0x08) only; requests and answers name theirs apart.
  get_register = ProtoField.uint16("victron.get_register", "Requested register", base.HEX),
  set_register = ProtoField.uint16("victron.set_register", "Register to set", base.HEX),
  set_raw = ProtoField.bytes("victron.set_raw", "Value to set"),
  response_register = ProtoField.uint16("victron.response_register", "Register answered", base.HEX),
}
victron.fields = { f.type, f.instance, f.register, f.register_name, f.raw, f.value, f.value_text, f.unit, f.response, f.unknown, f.padding, f.control, f.message, f.from, f.continued, f.get_register, f.set_register, f.set_raw, f.response_register }

local e = {
  unknown_register = ProtoExpert.new("victron.expert.unknown_register", "Register not in any profile", expert.group.UNDECODED, expert.severity.NOTE),
  unknown_type = ProtoExpert.new("victron.expert.unknown_type", "Unknown message type", expert.group.UNDECODED, expert.severity.WARN),
  undecodable = ProtoExpert.new("victron.expert.undecodable", "Bytes that do not frame as a Victron message", expert.group.MALFORMED, expert.severity.WARN),
  bad_size = ProtoExpert.new("victron.expert.bad_size", "Value size does not match the register definition", expert.group.MALFORMED, expert.severity.WARN),
}
victron.experts = { e.unknown_register, e.unknown_type, e.undecodable, e.bad_size }

local f_chandle = Field.new("bthci_acl.chandle")
local f_opcode = Field.new("btatt.opcode")
local f_handle = Field.new("btatt.handle")
local f_uuid128 = Field.new("btatt.uuid128")

-- ---------------- CBOR (RFC 8949): returns the end position, -1 for "need more bytes", or nil, error
local function head(s, p)
  local ib = s:byte(p)
  if ib == nil then return -1 end
  local major = math.floor(ib / 32)
  local ai = ib % 32
  local n = 0
  if ai < 24 then return major, ai, p + 1, ai end
  if ai == 24 then n = 1 elseif ai == 25 then n = 2 elseif ai == 26 then n = 4 elseif ai == 27 then n = 8
  elseif ai == 31 then return major, nil, p + 1, ai
  else return nil, "reserved additional information" end
  if p + n > #s then return -1 end
  local v = 0
  for i = 1, n do v = v * 256 + s:byte(p + i) end
  return major, v, p + 1 + n, ai
end

local item
item = function(s, p, depth)
  if depth > 16 then return nil, "nesting too deep" end
  local major, v, q, ai = head(s, p)
  if major == -1 then return -1 end
  if major == nil then return nil, v end
  if v == nil then -- indefinite length
    if major == 2 or major == 3 or major == 4 or major == 5 then
      while true do
        local b = s:byte(q)
        if b == nil then return -1 end
        if b == 0xff then return q + 1 end
        local r, err = item(s, q, depth + 1)
        if r == nil then return nil, err end
        if r == -1 then return -1 end
        if major == 5 then
          local r2, err2 = item(s, r, depth + 1)
          if r2 == nil then return nil, err2 end
          if r2 == -1 then return -1 end
          r = r2
        end
        q = r
      end
    end
    if major == 7 then return nil, "unexpected break" end
    return nil, "indefinite length not allowed"
  end
  if major == 0 or major == 1 then return q end
  if major == 2 or major == 3 then
    if v > 65536 then return nil, "string longer than any message" end
    if q + v - 1 > #s then return -1 end
    return q + v
  end
  if major == 4 or major == 5 then
    if v > 65536 then return nil, "array longer than any message" end
    local count = v
    if major == 5 then count = v * 2 end
    for _ = 1, count do
      local r, err = item(s, q, depth + 1)
      if r == nil then return nil, err end
      if r == -1 then return -1 end
      q = r
    end
    return q
  end
  if major == 6 then return item(s, q, depth + 1) end
  if major == 7 then
    if ai == 25 or ai == 26 or ai == 27 then return q end
    return q
  end
  return q
end

local function uint_at(s, p)
  local major, v, q = head(s, p)
  if major == 0 and v ~= nil then return v, q end
  return nil
end

-- A message at p: returns { type, stop, params = { {start, stop}... }, problem } or -1 (need more) or nil, error.
local function parse_message(s, p)
  local b0 = s:byte(p)
  if b0 == nil then return -1 end
  if math.floor(b0 / 32) ~= 0 then return nil, string.format("not a message start (byte 0x%02x)", b0) end
  if b0 >= 0x18 or TYPE_NAMES[b0] == nil then return nil, string.format("unknown message type 0x%02x", b0), "type" end
  local want = PARAMS[b0]
  local q = p + 1
  local params = {}
  for i = 1, #want do
    local b = s:byte(q)
    if b ~= nil and want[i] >= 0 and math.floor(b / 32) ~= want[i] then return nil, TYPE_NAMES[b0] .. ": parameter of the wrong type" end
    local r, err = item(s, q, 0)
    if r == nil then return nil, TYPE_NAMES[b0] .. ": " .. err end
    if r == -1 then return -1 end
    params[i] = { q, r }
    q = r
  end
  local m = { type = b0, start = p, stop = q, params = params }
  -- The shape checks of the TypeScript decoder (src/victron/message.ts).
  if b0 == 0x08 then
    local reg = uint_at(s, params[2][1])
    if reg == nil or reg > 0xffff then m.problem = "register is not a 16-bit unsigned integer" end
  elseif b0 == 0x05 or b0 == 0x02 then
    local _, n, r = head(s, params[#params][1])
    local count = 0
    if n ~= nil then
      for _ = 1, n do
        local v, r2 = uint_at(s, r)
        if v == nil then m.problem = "list holds non-integers"; break end
        if b0 == 0x05 and v > 0xffff then m.problem = "not a 16-bit register"; break end
        r = r2
        count = count + 1
      end
    else
      while s:byte(r) ~= 0xff do
        local v, r2 = uint_at(s, r)
        if v == nil then m.problem = "list holds non-integers"; break end
        r = r2
        count = count + 1
      end
    end
    if b0 == 0x02 and m.problem == nil and count % 2 == 1 then m.problem = "device list has an odd number of items" end
  end
  return m
end

local function plausible(s, p, lookahead)
  local b = s:byte(p)
  if b == nil or TYPE_NAMES[b] == nil then return false end
  local m = parse_message(s, p)
  if m == nil then return false end
  if m == -1 then return true end
  if m.problem then return false end
  if not lookahead or m.stop > #s or s:byte(m.stop) == 0xff then return true end
  return plausible(s, m.stop, false)
end

local function complete_at(s, p)
  if s:byte(p) == 0xff then return false end
  local m = parse_message(s, p)
  return type(m) == "table" and m.problem == nil and m.stop - p >= 3
end

local function tohex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- ---------------- register values
local function le_int(s, t)
  local n = #s
  local v = 0
  for i = n, 1, -1 do v = v * 256 + s:byte(i) end
  if t:sub(1, 2) == "sn" and v >= 2 ^ (8 * n - 1) then v = v - 2 ^ (8 * n) end
  return v
end

local function le_float(s)
  local b1, b2, b3, b4 = s:byte(1, 4)
  local sign = 1
  if b4 >= 128 then sign = -1 end
  local exp = (b4 % 128) * 2 + math.floor(b3 / 128)
  local mant = ((b3 % 128) * 256 + b2) * 256 + b1
  if exp == 0 then return sign * mant * 2 ^ -149 end
  if exp == 255 then return nil end
  return sign * (1 + mant / 2 ^ 23) * 2 ^ (exp - 127)
end

-- value (number or nil), text
local function decode_value(def, raw)
  if def == nil then return nil, tohex(raw) end
  if def.size ~= nil and #raw ~= def.size then return nil, tohex(raw), "expected " .. def.size .. " byte(s), got " .. #raw end
  local sc = def.scalar
  if sc == nil then return nil, def.text or tohex(raw) end
  local v
  if sc.t == "float" then v = le_float(raw) else v = le_int(raw, sc.t) end
  if v == nil then return nil, tohex(raw) end
  if sc.sp and sc.sp[v] then return nil, sc.sp[v] end
  if sc.en and sc.en[v] then return v, sc.en[v] end
  if sc.k then
    v = tonumber(string.format("%." .. sc.d .. "f", v * sc.k))
    local txt = string.format("%." .. sc.d .. "f", v)
    if sc.u then txt = txt .. " " .. sc.u end
    return v, txt
  end
  local txt = tostring(v)
  if sc.u then txt = txt .. " " .. sc.u end
  return v, txt
end

-- ---------------- state
local carry = {}     -- "chandle/dir" -> { buf = binary string, segs = { {frame, len} ... } }
local results = {}   -- frame -> list of records { kind, bytes, frames, reason }
local continued = {} -- frame -> frame that completed its bytes
local roles = {}     -- chandle -> { [handle] = role }, layout
local layouts = {}   -- chandle -> chosen layout
local processed = {} -- frame -> true once its bytes went into the state
local last_processed = 0

local IS_DEFAULT = {}
for _, h in ipairs(DEFAULT_HANDLES) do IS_DEFAULT[h] = true end

local function role_of(chandle, handle, uuid, value, opcode, dir)
  roles[chandle] = roles[chandle] or {}
  local r = roles[chandle]
  if uuid ~= nil then
    local role = UUID_ROLES[uuid]
    if role then
      r[handle] = role
      if layouts[chandle] == nil then
        -- all three known from discovery: the profile whose default layout this is names the registers
        local by = {}
        for h, x in pairs(r) do by[x] = h end
        if by.control and by.lastData and by.data then
          layouts[chandle] = { control = by.control, lastData = by.lastData, data = by.data }
          for _, l in ipairs(LAYOUTS) do
            if l.control == by.control and l.lastData == by.lastData and l.data == by.data then layouts[chandle] = l; break end
          end
        end
      end
    end
    return role
  end
  if r[handle] then return r[handle] end
  if not IS_DEFAULT[handle] then
    -- Neither discovery nor a default layout names this handle: the user bound it with Decode As.
    -- Its role is unknown, so treat it as Data (messages still complete as their bytes arrive).
    r[handle] = "data"
    return "data"
  end
  if layouts[chandle] then return nil end
  if value == nil or #value == 0 then return nil end
  if not (opcode == 0x52 or opcode == 0x12 or opcode == 0x1b or opcode == 0x1d) then return nil end
  local b = value:byte(1)
  local control = (b == 0xfa and #value == 3) or (b == 0xf9 and #value == 2) or (b == 0xf8 and #value == 1) or (b == 0xf7 and (#value == 2 or #value == 3))
  local fits = {}
  for _, l in ipairs(LAYOUTS) do
    if control then
      if l.control == handle then fits[#fits + 1] = l end
    elseif l.lastData == handle or l.data == handle then
      fits[#fits + 1] = l
    end
  end
  if not control then
    -- the whole value must read as clean messages (the last may continue in the next piece)
    local p = 1
    while p <= #value do
      local m = parse_message(value, p)
      if m == -1 then if p > 1 or #value >= 3 then break else return nil end end
      if m == nil or m.problem then return nil end
      p = m.stop
    end
  end
  if #fits == 0 then return nil end
  local function rolein(l) if l.control == handle then return "control" elseif l.lastData == handle then return "lastData" else return "data" end end
  for _, l in ipairs(fits) do if rolein(l) ~= rolein(fits[1]) then return nil end end
  local l = fits[1]
  layouts[chandle] = l
  r[l.control] = r[l.control] or "control"
  r[l.lastData] = r[l.lastData] or "lastData"
  r[l.data] = r[l.data] or "data"
  return rolein(l)
end

local function take(st, n)
  -- frames that contributed the first n bytes
  local frames = {}
  local left = n
  local i = 1
  while left > 0 and i <= #st.segs do
    local seg = st.segs[i]
    if frames[#frames] ~= seg[1] then frames[#frames + 1] = seg[1] end
    if seg[2] <= left then
      left = left - seg[2]
      table.remove(st.segs, i)
    else
      seg[2] = seg[2] - left
      left = 0
    end
  end
  local bytes = st.buf:sub(1, n)
  st.buf = st.buf:sub(n + 1)
  return bytes, frames
end

local function emit(frame, rec)
  results[frame] = results[frame] or {}
  table.insert(results[frame], rec)
  for _, fr in ipairs(rec.frames) do
    if fr ~= frame and continued[fr] == nil then continued[fr] = frame end
  end
end

local function drain(st, frame)
  while #st.buf > 0 do
    local s = st.buf
    if s:byte(1) == 0xff then
      local n = 1
      while n < #s and s:byte(n + 1) == 0xff do n = n + 1 end
      local b, fr = take(st, n)
      emit(frame, { kind = "padding", bytes = b, frames = fr })
    else
      local m, err = parse_message(s, 1)
      if type(m) == "table" and m.problem == nil then
        local b, fr = take(st, m.stop - 1)
        emit(frame, { kind = "message", bytes = b, frames = fr })
      elseif m == -1 then
        return
      else
        local reason = err or (TYPE_NAMES[m.type] .. ": " .. m.problem)
        local p = 2
        while p <= #s and not plausible(s, p, true) and not (s:byte(p) == 0xff and (p == #s or plausible(s, p + 1, true))) do p = p + 1 end
        local b, fr = take(st, p - 1)
        emit(frame, { kind = "unknown", bytes = b, frames = fr, reason = reason })
      end
    end
  end
end

local function push_piece(key, frame, value, last)
  local st = carry[key]
  if st == nil then st = { buf = "", segs = {} }; carry[key] = st end
  st.buf = st.buf .. value
  st.segs[#st.segs + 1] = { frame, #value }
  drain(st, frame)
  while last and #st.buf > 0 do
    local p = 2
    while p <= #st.buf and not complete_at(st.buf, p) do p = p + 1 end
    local b, fr = take(st, p - 1)
    emit(frame, { kind = "unknown", bytes = b, frames = fr, reason = "incomplete message when LastData ended the transfer" })
    drain(st, frame)
  end
end

function victron.init()
  carry = {}
  results = {}
  continued = {}
  roles = {}
  layouts = {}
  processed = {}
  last_processed = 0
end

-- ---------------- display
-- The register's definition in the connection's profile (chosen by its handle layout), else the common one.
local function register_def(chandle, reg)
  local l = layouts[chandle]
  if l and l.profile and DEVICE_REGISTERS[l.profile] and DEVICE_REGISTERS[l.profile][reg] then return DEVICE_REGISTERS[l.profile][reg] end
  return REGISTERS[reg]
end

local function profile_name(chandle, reg)
  local def = register_def(chandle, reg)
  return def and def.name
end

local function show_message(rec, tree, chandle, infos)
  local tvb = ByteArray.new(tohex(rec.bytes)):tvb("Victron message")
  local s = rec.bytes
  local m = parse_message(s, 1)
  local t = m.type
  local sub = tree:add(victron, tvb(), "Victron message: " .. TYPE_NAMES[t])
  sub:add(f.type, tvb(0, 1))
  for _, fr in ipairs(rec.frames) do sub:add(f.from, fr):set_generated() end
  local function range(i) return tvb(m.params[i][1] - 1, m.params[i][2] - m.params[i][1]) end
  if #m.params >= 1 and t ~= 0x02 then sub:add(f.instance, range(1), (uint_at(s, m.params[1][1]))) end
  if t == 0x08 then
    local reg = uint_at(s, m.params[2][1])
    local def = register_def(chandle, reg)
    local _, n, q = head(s, m.params[3][1])
    local raw = s:sub(q, q + n - 1)
    sub:add(f.register, range(2), reg)
    local name = profile_name(chandle, reg)
    if name then sub:add(f.register_name, range(2), name) else sub:add_proto_expert_info(e.unknown_register, string.format("Register 0x%04X is not in any profile", reg)) end
    local rawrange = tvb(q - 1, n)
    if n > 0 then sub:add(f.raw, rawrange) end
    local v, txt, problem = decode_value(def, raw)
    if v ~= nil then sub:add(f.value, rawrange, v) end
    if def and def.scalar and def.scalar.u then sub:add(f.unit, def.scalar.u) end
    sub:add(f.value_text, txt)
    if problem then sub:add_proto_expert_info(e.bad_size, problem) end
    sub:append_text(string.format(": 0x%04X %s = %s", reg, name or "(unknown register)", txt))
    infos[#infos + 1] = string.format("%s = %s", name or string.format("0x%04X", reg), txt)
  elseif t == 0x05 then
    local _, n, q = head(s, m.params[2][1])
    local regs = {}
    local i = 0
    while (n ~= nil and i < n) or (n == nil and s:byte(q) ~= 0xff) do
      local reg, q2 = uint_at(s, q)
      sub:add(f.get_register, tvb(q - 1, q2 - q), reg)
      local name = profile_name(chandle, reg)
      if name then sub:add(f.register_name, tvb(q - 1, q2 - q), name) end
      regs[#regs + 1] = string.format("0x%04X", reg)
      q = q2
      i = i + 1
    end
    infos[#infos + 1] = "get " .. table.concat(regs, ",")
  elseif t == 0x06 then
    -- set values: [register, bytes] pairs, flat or nested
    local _, n, q = head(s, m.params[2][1])
    local sets = {}
    local stop = m.params[2][2]
    while q < stop and s:byte(q) ~= 0xff do
      local major = math.floor(s:byte(q) / 32)
      if major == 4 then q = q + 1 end
      local reg, q2 = uint_at(s, q)
      if reg == nil then break end
      local _, len, q3 = head(s, q2)
      if len == nil then break end
      sub:add(f.set_register, tvb(q - 1, q2 - q), reg)
      sub:add(f.set_raw, tvb(q3 - 1, len))
      local name = profile_name(chandle, reg)
      if name then sub:add(f.register_name, tvb(q - 1, q2 - q), name) end
      sets[#sets + 1] = string.format("0x%04X", reg)
      q = q3 + len
    end
    infos[#infos + 1] = "set " .. table.concat(sets, ",")
  elseif t == 0x02 then
    sub:add(f.value_text, range(1), "device list")
    infos[#infos + 1] = "device list"
  elseif t == 0x07 or t == 0x09 then
    if t == 0x09 then
      local reg = uint_at(s, m.params[2][1])
      sub:add(f.response_register, range(2), reg)
    end
    sub:add(f.response, range(3), (uint_at(s, m.params[3][1])))
    infos[#infos + 1] = TYPE_NAMES[t] .. " " .. tostring(uint_at(s, m.params[3][1]))
  else
    infos[#infos + 1] = TYPE_NAMES[t]
  end
  sub:add(f.message, tvb())
end

local CONTROL = { [0xfa] = "chunk size negotiation", [0xf9] = "ready to receive", [0xf8] = "clear receive buffer", [0xf7] = "error" }

function victron.dissector(tvb, pinfo, tree)
  -- btatt can reach us twice for one value (handle table and UUID table): act once per dissection.
  if pinfo.private["victron"] == "done" then return 0 end
  pinfo.private["victron"] = "done"
  local chandle_fi = f_chandle()
  local chandle = chandle_fi and chandle_fi.value or 0
  local handles = { f_handle() }
  local handle = handles[#handles] and handles[#handles].value
  local op = f_opcode()
  local opcode = op and op.value
  local uuids = { f_uuid128() }
  local uuid = nil
  if #uuids > 0 then uuid = tostring(uuids[#uuids].value):lower() end
  if uuid and not uuid:find("-") and #uuid == 32 then uuid = uuid:sub(1, 8) .. "-" .. uuid:sub(9, 12) .. "-" .. uuid:sub(13, 16) .. "-" .. uuid:sub(17, 20) .. "-" .. uuid:sub(21) end
  local value = tvb:bytes():raw()
  local dir = nil
  local frame = pinfo.number
  local role
  -- State is built once per frame, in frame order. Not on `not pinfo.visited` alone: tshark -2 may run
  -- its first pass without a protocol tree, so without the btatt fields this needs; the second pass,
  -- in order, then builds it. Frames dissected out of order (a click in the GUI) only read it.
  if handle ~= nil and opcode ~= nil and processed[frame] == nil and frame > last_processed then
    processed[frame] = true
    last_processed = frame
    role = role_of(chandle, handle, uuid, value, opcode, dir)
    local carries = (opcode == 0x52 or opcode == 0x12 or opcode == 0x1b or opcode == 0x1d)
    if role and role ~= "control" and carries then
      -- Direction from the opcode (writes go to the device, notifications come from it): pinfo.p2p_dir
      -- is unknown in captures without a direction header (link type 187).
      local way = "d2h"
      if opcode == 0x52 or opcode == 0x12 then way = "h2d" end
      push_piece(chandle .. "/" .. way, frame, value, role == "lastData")
    end
  else
    role = roles[chandle] and roles[chandle][handle]
  end
  if role == nil then
    -- Not Victron traffic (another device on a default handle): let btatt show the value itself.
    pinfo.private["victron"] = nil
    return 0
  end
  pinfo.cols.protocol = "Victron"
  local root = tree:add(victron, tvb(), "Victron VE.Smart")
  if role == "control" then
    local b = value:byte(1)
    local what = (opcode == 0x0b and "negotiation data") or CONTROL[b] or "unknown control bytes"
    -- parameters, as src/victron/control.ts shows them
    if opcode ~= 0x0b then
      if b == 0xfa and #value == 3 then what = string.format("%s: 0x%02x 0x%02x", what, value:byte(2), value:byte(3))
      elseif b == 0xf9 and #value == 2 then what = string.format("%s: %d free chunk(s)", what, value:byte(2))
      elseif b == 0xf7 and #value >= 2 then
        local code = value:byte(2)
        if #value == 3 then code = code + 256 * value:byte(3) end
        what = string.format("%s code %d", what, code)
      end
    end
    root:add(f.control, tvb(), what)
    pinfo.cols.info:append(" Control: " .. what)
    return
  end
  local infos = {}
  for _, rec in ipairs(results[frame] or {}) do
    if rec.kind == "message" then
      show_message(rec, root, chandle, infos)
    elseif rec.kind == "padding" then
      local t2 = ByteArray.new(tohex(rec.bytes)):tvb("Victron padding")
      root:add(f.padding, t2())
    else
      local t2 = ByteArray.new(tohex(rec.bytes)):tvb("Victron unknown bytes")
      local it = root:add(f.unknown, t2())
      for _, fr in ipairs(rec.frames) do it:add(f.from, fr):set_generated() end
      if rec.reason:find("unknown message type") then it:add_proto_expert_info(e.unknown_type, rec.reason) else it:add_proto_expert_info(e.undecodable, rec.reason) end
      infos[#infos + 1] = "unknown bytes"
    end
  end
  if continued[frame] and #(results[frame] or {}) == 0 then
    root:add(f.continued, continued[frame]):set_generated()
    infos[#infos + 1] = "continued in frame " .. continued[frame]
  end
  if #infos > 0 then pinfo.cols.info:append(" " .. table.concat(infos, "; ")) end
end

-- ---------------- registration
-- The Field extractors above need the protocol tree, which tshark -2 (and the GUI without colouring
-- rules) does not build on its first pass when no filter asks for fields. A do-nothing postdissector
-- registered with allfields=true makes Wireshark build it, so the first pass sees handles and UUIDs.
local victron_fields = Proto("victron_fields", "Victron field priming (internal)")
function victron_fields.dissector(tvb, pinfo, tree) end
register_postdissector(victron_fields, true)

local handle_table = DissectorTable.get("btatt.handle")
for _, h in ipairs(DEFAULT_HANDLES) do handle_table:add(h, victron) end
handle_table:add_for_decode_as(victron)
local uuid_table = DissectorTable.get("bluetooth.uuid")
for uuid, _ in pairs(UUID_ROLES) do uuid_table:add(uuid, victron) end
