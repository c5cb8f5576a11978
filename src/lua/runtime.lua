-- ---------------------------------------------------------------------------------------------
-- Runtime (src/lua/runtime.lua, copied verbatim by the generator after the generated tables).
-- Lua 5.2 as in Wireshark 4.0: no Conversation class, no native bit operators; arithmetic only.
--
-- The rules are those of `vgatt decode` (src/victron/stream.ts, message.ts, decode.ts): a buffer
-- per connection and direction fed with the Data/LastData pieces, messages emitted as their last
-- byte arrives, 0xff padding, unknown runs up to where messages frame again, LastData ends the
-- transfer, a disconnection or the end of the capture flushes what is pending.
--
-- State, like bthci_acl's: changed only on the first in-order visit of a frame, read on every
-- later one (tshark -2, clicks in the GUI). A frame keeps no record: on every visit its piece is
-- parsed again from its own tvb. Kept per frame: the frame's context (connection, role, profile:
-- one shared table), and only for pieces that take part in a transfer spread over pieces, the
-- bytes carried in from earlier pieces and the frame that continues it. Records that only a later
-- event completes (disconnection, end of capture, a value the capture cut short) are kept with
-- their bytes and shown from the second pass on (tshark -2 with a filter, the GUI).
--
-- Roles per connection: a connection's Control/LastData/Data handles come from its own discovery
-- (characteristic declarations seen on that connection), else from its own traffic matched
-- against the profiles' default layouts; never from Wireshark's btatt.uuid128, which Wireshark
-- 4.0 associates with a handle across connections.
-- ---------------------------------------------------------------------------------------------

local victron = Proto("victron", "Victron VE.Smart (VictronConnect)")

local byte, sub, fmt, floor, concat = string.byte, string.sub, string.format, math.floor, table.concat

local TYPE_NAMES = {}
for op, d in pairs(OPCODES) do TYPE_NAMES[op] = d.name end

local f = {
  type = ProtoField.uint8("victron.type", "Type", base.HEX, TYPE_NAMES),
  instance = ProtoField.uint32("victron.instance", "Instance", base.DEC),
  register = ProtoField.uint16("victron.register", "Register", base.HEX),
  register_name = ProtoField.string("victron.register_name", "Register name"),
  raw = ProtoField.bytes("victron.raw", "Raw value"),
  value = ProtoField.double("victron.value", "Value"),
  value_text = ProtoField.string("victron.value_text", "Value text"),
  unit = ProtoField.string("victron.unit", "Unit"),
  response = ProtoField.int32("victron.response", "Response code"),
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
  answered = ProtoField.uint8("victron.answered_type", "Answered type", base.HEX, TYPE_NAMES),
  reason = ProtoField.string("victron.reason", "Why unknown"),
}
victron.fields = { f.type, f.instance, f.register, f.register_name, f.raw, f.value, f.value_text, f.unit, f.response, f.unknown, f.padding, f.control, f.message, f.from, f.continued, f.get_register, f.set_register, f.set_raw, f.response_register, f.answered, f.reason }

local e = {
  unknown_register = ProtoExpert.new("victron.expert.unknown_register", "Register not in any profile", expert.group.UNDECODED, expert.severity.NOTE),
  unknown_type = ProtoExpert.new("victron.expert.unknown_type", "Unknown message type", expert.group.UNDECODED, expert.severity.WARN),
  undecodable = ProtoExpert.new("victron.expert.undecodable", "Bytes that do not frame as a Victron message", expert.group.MALFORMED, expert.severity.WARN),
  bad_size = ProtoExpert.new("victron.expert.bad_size", "Value size does not match the register definition", expert.group.MALFORMED, expert.severity.WARN),
}
victron.experts = { e.unknown_register, e.unknown_type, e.undecodable, e.bad_size }

local f_chandle = Field.new("bthci_acl.chandle")
local f_opcode = Field.new("btatt.opcode")

-- ---------------- CBOR (RFC 8949), the limits of src/victron/cbor.ts
-- Positions are 1-based into a Lua string s of length n. Readers return the position just past
-- the item, NEED (the string ends inside the item) or BAD (malformed).
local NEED, BAD = -1, -2
local MAX_DEPTH, MAX_LENGTH, MAX_ITEMS = 32, 65536, 2048
local BIG = math.huge -- an integer JavaScript keeps as a bigint (above 2^53 - 1): fits no check

-- The argument of a head whose additional information is ai; q is just past the initial byte.
local function arg(s, q, ai, n)
  if ai < 24 then return ai, q end
  local k = (ai == 24 and 1) or (ai == 25 and 2) or (ai == 26 and 4) or (ai == 27 and 8)
  if not k then return nil, BAD end
  if q + k - 1 > n then return nil, NEED end
  local v = 0
  for i = q, q + k - 1 do v = v * 256 + byte(s, i) end
  if k == 8 and v > 9007199254740991 then v = BIG end
  return v, q + k
end

local item
item = function(s, p, depth, n)
  if depth > MAX_DEPTH then return BAD end
  if p > n then return NEED end
  local ib = byte(s, p)
  local major, ai = floor(ib / 32), ib % 32
  local q = p + 1
  if ai == 31 then
    if major == 2 or major == 3 then
      local total = 0
      while true do
        if q > n then return NEED end
        local cb = byte(s, q)
        if cb == 0xff then return q + 1 end
        if floor(cb / 32) ~= major or cb % 32 == 31 then return BAD end
        local len, r = arg(s, q + 1, cb % 32, n)
        if len == nil then return r end
        if len > MAX_LENGTH then return BAD end
        if r + len - 1 > n then return NEED end
        total = total + len
        if total > MAX_LENGTH then return BAD end
        q = r + len
      end
    elseif major == 4 or major == 5 then
      local count, limit = 0, (major == 5 and 2 * MAX_ITEMS or MAX_ITEMS)
      while true do
        if q > n then return NEED end
        if byte(s, q) == 0xff then
          if major == 5 and count % 2 ~= 0 then return BAD end
          return q + 1
        end
        if count >= limit then return BAD end
        local r = item(s, q, depth + 1, n)
        if r < 0 then return r end
        count = count + 1
        q = r
      end
    end
    return BAD -- a break outside an indefinite item, or indefinite integers/tags
  end
  if major == 7 then
    if ai == 25 or ai == 26 or ai == 27 then
      local k = (ai == 25 and 2) or (ai == 26 and 4) or 8
      if q + k - 1 > n then return NEED end
      return q + k
    end
    if ai >= 28 then return BAD end
    local v, r = arg(s, q, ai, n)
    if v == nil then return r end
    if ai == 24 and v < 32 then return BAD end
    return r
  end
  local v, r = arg(s, q, ai, n)
  if v == nil then return r end
  if major <= 1 then return r end
  if major == 2 or major == 3 then
    if v > MAX_LENGTH then return BAD end
    if r + v - 1 > n then return NEED end
    return r + v
  end
  if major == 4 or major == 5 then
    if v > MAX_ITEMS then return BAD end
    local count = major == 5 and 2 * v or v
    for _ = 1, count do
      r = item(s, r, depth + 1, n)
      if r < 0 then return r end
    end
    return r
  end
  return item(s, r, depth + 1, n) -- tag
end

-- A small unsigned integer head at p (value below 2^32, all its bytes here): value, next; else nil.
local function small(s, p, n)
  local h = byte(s, p)
  if h == nil or h > 0x1a then return nil end
  if h < 0x18 then return h, p + 1 end
  if h == 0x18 then if p + 1 > n then return nil end return byte(s, p + 1), p + 2 end
  if h == 0x19 then if p + 2 > n then return nil end local x, y = byte(s, p + 1, p + 2); return x * 256 + y, p + 3 end
  if p + 4 > n then return nil end
  local w, x, y, z = byte(s, p + 1, p + 4)
  return ((w * 256 + x) * 256 + y) * 256 + z, p + 5
end

-- The unsigned integer at p (major 0 with a number value), else nil.
local function uint_at(s, p, n)
  local v, r = small(s, p, n)
  if v then return v, r end
  local b = byte(s, p)
  if b == nil or b >= 0x1c then return nil end
  local v, r = arg(s, p + 1, b, n)
  if v == nil or v == BIG then return nil end
  return v, r
end

-- An integer of either sign at p (the value CBOR gives), else nil.
local function int_at(s, p, n)
  local b = byte(s, p)
  if b == nil then return nil end
  if b < 0x1c then return uint_at(s, p, n) end
  if b >= 0x20 and b < 0x3c then
    local v, r = arg(s, p + 1, b - 0x20, n)
    if v == nil or v == BIG then return nil end
    return -1 - v, r
  end
  return nil
end

-- The children of the array at p: returns the position of the first child and the count (nil
-- for an indefinite array, which ends at a 0xff break). The next child starts at item(s, q, 1, n).
local function array_at(s, p, n)
  local b = byte(s, p)
  if b == 0x9f then return p + 1, nil end
  local cnt, q = arg(s, p + 1, b % 32, n)
  return q, cnt
end

local function more(s, q, i, cnt)
  if cnt == nil then return byte(s, q) ~= 0xff end
  return i <= cnt
end

local function is_u16(s, q, n)
  local v = uint_at(s, q, n)
  return v ~= nil and v <= 0xffff
end

local function is_int(s, q, n)
  return int_at(s, q, n) ~= nil
end

-- Pairs of a set list (0x06) or path value list (0x0c): flat [a, b, a, b] or nested [[a, b], ...].
-- Calls check(s, keypos, valuepos or nil, n, arg) per pair; false as soon as a check fails.
local function pairs_ok(s, p, n, check, x)
  local q, cnt = array_at(s, p, n)
  local nested, i, r = false, 1, q
  while more(s, r, i, cnt) do
    if floor(byte(s, r) / 32) == 4 then nested = true end
    r = item(s, r, 1, n)
    i = i + 1
  end
  i = 1
  if not nested then
    while more(s, q, i, cnt) do
      local k = q
      q = item(s, q, 1, n)
      i = i + 1
      local v = nil
      if more(s, q, i, cnt) then v = q; q = item(s, q, 1, n); i = i + 1 end
      if not check(s, k, v, n, x) then return false end
    end
    return true
  end
  while more(s, q, i, cnt) do
    if floor(byte(s, q) / 32) ~= 4 then
      if not check(s, q, nil, n, x) then return false end
    else
      local c, ccnt = array_at(s, q, n)
      local k, v
      if more(s, c, 1, ccnt) then k = c; c = item(s, c, 1, n); if more(s, c, 2, ccnt) then v = c end end
      if k == nil or not check(s, k, v, n, x) then return false end
    end
    q = item(s, q, 1, n)
    i = i + 1
  end
  return true
end

local function set_entry_ok(s, k, v, n) return is_u16(s, k, n) and v ~= nil and floor(byte(s, v) / 32) == 2 end
local function path_entry_ok(s, k, v, n) return is_int(s, k, n) and v ~= nil end

-- Every child of the array at p passes test(s, q, n).
local function all_children(s, p, n, test)
  local q, cnt = array_at(s, p, n)
  local i = 1
  while more(s, q, i, cnt) do
    if not test(s, q, n) then return false end
    q = item(s, q, 1, n)
    i = i + 1
  end
  return true
end

local function is_uint(s, q, n) return uint_at(s, q, n) ~= nil end

-- The range and type checks of message.ts interpret() for a message whose parameters a, b, c
-- have the right CBOR types.
local function shape(s, t, a, b, c, n)
  if t ~= 0x01 and t ~= 0x02 and not is_u16(s, a, n) then return false end
  if t == 0x08 then return is_u16(s, b, n) end
  if t == 0x05 then return all_children(s, b, n, is_u16) end
  if t == 0x02 then return all_children(s, a, n, is_uint) end
  if t == 0x06 then return pairs_ok(s, b, n, set_entry_ok) end
  if t == 0x07 then return is_uint(s, b, n) and is_int(s, c, n) end
  if t == 0x09 then return is_u16(s, b, n) and is_int(s, c, n) end
  if t == 0x0b then return all_children(s, b, n, is_int) end
  if t == 0x0c then return pairs_ok(s, b, n, path_entry_ok) end
  if t >= 0x0e then return is_int(s, b, n) and (t ~= 0x10 or is_int(s, c, n)) end
  return true
end

-- One message at p (src/victron/message.ts parseMessage): returns stop, shape_ok, a, b, c (starts
-- of the parameters) or NEED, or BAD for bytes that are no message here. shape_ok is false when a
-- parameter has another CBOR type or range than the opcode takes.
-- The bulk of a capture: clean 0x08 values and 0x05 gets with small heads, read without the
-- general item reader (as message.ts fastValue). Returns nil when the general path must decide.
local function fast(s, t, p, n)
  local inst, b = small(s, p + 1, n)
  if inst == nil or inst > 0xffff then return nil end
  if t == 0x08 then
    local reg, c = small(s, b, n)
    if reg == nil or reg > 0xffff then return nil end
    local h = byte(s, c)
    if h == nil or h < 0x40 or h > 0x58 then return nil end
    local len, q = h - 0x40, c + 1
    if h == 0x58 then
      if q > n then return nil end
      len, q = byte(s, q), q + 1
    end
    if q + len - 1 > n then return nil end
    return q + len, p + 1, b, c
  end
  local h = byte(s, b)
  if h == nil or h < 0x80 or h > 0x97 then return nil end
  local q = b + 1
  for _ = 1, h - 0x80 do
    local reg, r = small(s, q, n)
    if reg == nil or reg > 0xffff then return nil end
    q = r
  end
  return q, p + 1, b
end

local function parse(s, p, n)
  local t = byte(s, p)
  if t == nil then return NEED end
  if t == 0x08 or t == 0x05 then
    local stop, a, b, c = fast(s, t, p, n)
    if stop then return stop, true, a, b, c end
  end
  local want = PARAMS[t]
  if want == nil then return BAD end
  local pos = p + 1
  local ok = true
  local a, b, c
  for i = 1, #want do
    if pos > n then return NEED end
    local w = want[i]
    local major = floor(byte(s, pos) / 32)
    local fits = w == major or w == -1 or (w == -2 and major <= 1)
    local r = item(s, pos, 0, n)
    if r == NEED then if fits then return NEED end return BAD end
    if r == BAD then return BAD end
    if not fits then ok = false end
    if i == 1 then a = pos elseif i == 2 then b = pos else c = pos end
    pos = r
  end
  if ok then ok = shape(s, t, a, b, c, n) end
  return pos, ok, a, b, c
end

-- A well-framed message whose content the decoder still flags (isVictronPiece counts it as not
-- Victron): a device list with an odd number of items. (A 0x0d path list that does not inflate
-- is flagged by the decoder too; Lua has no zlib: not checked here.)
local function flagged(s, p, stop, a, n)
  if byte(s, p) ~= 0x02 then return false end
  local q, cnt = array_at(s, a, n)
  local i = 1
  while more(s, q, i, cnt) do q = item(s, q, 1, n); i = i + 1 end
  return (i - 1) % 2 == 1
end

-- ---------------- transfers (src/victron/stream.ts)
-- The resynchronisation rules of stream.ts: after bytes that do not frame, the unknown run ends at
-- the first candidate from which messages chain cleanly (8 in a row, or to the end of the buffer
-- after one of 3 bytes or more), or, when what follows is a damage of its own, at a 'weak' one
-- (6 bytes of clean messages before that damage) unless a clean one starts before the damage.
-- A run that nothing ends yet waits for the next piece, which continues it: never parsed from its
-- first byte. Only the end of the transfer (LastData, flush) ends a run.
-- The resync state of a stream (rs): on (resynchronising), scan (next candidate: every earlier one
-- was rejected), wp/we (the first weak candidate and where its damage starts), why (the reason
-- when it is not the run's own bytes'), positions in the buffer being parsed.
local CLEAN, PENDING, WEAK, BADCHAIN = 1, 2, 3, 4
local RESYNC_CHAIN = 8
local RESYNC_BEFORE_DAMAGE = 6
local MAX_PENDING = 64 * 1024

-- Messages (and padding) from p on: CLEAN, PENDING, WEAK (and where its damage starts) or BADCHAIN,
-- as stream.ts chainFrom.
local function chain_from(s, p, n, final, strong_at_end)
  local q, cnt, bytes, strong = p, 0, 0, false
  while q <= n do
    local b = byte(s, q)
    if b == 0xff then q = q + 1 else
      local stop, ok = BAD, false
      if b >= 0x01 and b <= 0x10 then stop, ok = parse(s, q, n) end
      if stop == NEED then
        if strong_at_end and not strong then return BADCHAIN end
        return PENDING
      end
      if stop < 0 or not ok then
        if not strong or bytes < RESYNC_BEFORE_DAMAGE then return BADCHAIN end
        return WEAK, q
      end
      if stop - q >= 3 then strong = true end
      bytes = bytes + stop - q
      q = stop
      cnt = cnt + 1
      if cnt >= RESYNC_CHAIN then return CLEAN end
    end
  end
  if strong or (final and not strong_at_end) then return CLEAN end
  if final then return BADCHAIN end
  return PENDING
end

-- Where the run being resynchronised over ends (stream.ts resyncPoint): a position, NEED (the next
-- piece decides) or n + 1 (nothing frames).
local function resync_point(s, n, final, rs)
  for p = rs.scan, n do
    if rs.wp and p > rs.we then return rs.wp end
    rs.scan = p
    local c, we = chain_from(s, p, n, final, false)
    if c == CLEAN then return p end
    if c == PENDING then if final then return p end return NEED end
    if c == WEAK and rs.wp == nil then rs.wp, rs.we = p, we end
  end
  if rs.wp then return rs.wp end
  rs.scan = n + 1
  return n + 1
end

-- Inside a message the end of its transfer left incomplete: a message of 3 bytes or more frames at p.
local function complete_at(s, p, n)
  local b = byte(s, p)
  if b < 0x01 or b > 0x10 then return false end
  return chain_from(s, p, n, true, true) ~= BADCHAIN
end

local K_MESSAGE, K_PADDING, K_UNKNOWN = 1, 2, 3

-- Why the bytes at p are unknown (the first failure, as stream.ts words it).
local function unknown_reason(s, p, n)
  local b = byte(s, p)
  if b == nil then return "no bytes" end
  if floor(b / 32) ~= 0 then return fmt("a message starts with an unsigned integer opcode, found byte 0x%02x", b) end
  if OPCODES[b] == nil then
    if b < 0x18 then return fmt("unknown message type 0x%02x", b) end
    return fmt("opcode in a multi-byte head (0x%02x): not a message type", b)
  end
  local stop = parse(s, p, n)
  if stop < 0 then return OPCODES[b].name .. ": malformed" end
  return OPCODES[b].name .. ": parameters of the wrong type or range"
end


-- Emits the records that frame from p on: out(kind, start, stop, reason). Returns the first
-- position not consumed (bytes that wait for the next piece); rs says where a resync stands.
local function drain(s, p, n, final, out, rs)
  while p <= n do
    local r -- where an unknown run ends, once one is being resynchronised over
    if not rs.on then
      if byte(s, p) == 0xff then
        local q = p + 1
        while q <= n and byte(s, q) == 0xff do q = q + 1 end
        out(K_PADDING, p, q)
        p = q
      else
        local stop, ok, a, b, c = parse(s, p, n)
        if stop > 0 and ok then
          out(K_MESSAGE, p, stop, nil, a, b, c)
          p = stop
        elseif stop == NEED then
          return p
        else
          -- Not a message here: the bytes are unknown up to where messages (or padding) frame again.
          rs.on, rs.scan, rs.wp, rs.we, rs.why = true, p + 1, nil, nil, nil
        end
      end
    end
    if rs.on then
      r = resync_point(s, n, final, rs)
      if r == NEED then return p end
      -- Nothing frames yet: the run goes on into the next piece (never parsed from its first byte).
      if r > n and not final then return p end
      if r > p then out(K_UNKNOWN, p, r, rs.why) end
      p = r
      rs.on, rs.wp, rs.we, rs.why = false, nil, nil, nil
    end
  end
  return p
end

-- The end of a transfer: what frames is emitted, the rest is unknown with `reason`.
local function finish(s, p, n, out, reason, rs)
  p = drain(s, p, n, true, out, rs)
  while p <= n do
    local q = p + 1
    while q <= n and not complete_at(s, q, n) do q = q + 1 end
    out(K_UNKNOWN, p, q, reason)
    p = drain(s, q, n, true, out, rs)
  end
  rs.on, rs.wp, rs.we, rs.why = false, nil, nil, nil
  return p
end

local INCOMPLETE_AT_LASTDATA = "incomplete transfer at LastData"
local TOO_LONG = "more than " .. MAX_PENDING .. " bytes without a complete message"
local TOO_LONG_RUN = "; more than " .. MAX_PENDING .. " bytes without a resynchronisation point"
local DROPPED = "continues bytes dropped as unknown"

-- One piece through the stream rules: returns the first position left for the next piece; rs is
-- the stream's resync state at the start of s, updated for what is left.
local function run_piece(s, n, last, out, rs)
  local p
  if last then p = finish(s, 1, n, out, INCOMPLETE_AT_LASTDATA, rs) else p = drain(s, 1, n, false, out, rs) end
  if n - p + 1 > MAX_PENDING then
    local why = TOO_LONG
    if rs.on then why = (rs.why or unknown_reason(s, p, n)) .. TOO_LONG_RUN end
    out(K_UNKNOWN, p, n + 1, why)
    p = n + 1
    -- What follows continues the dropped bytes: it must resynchronise, not be parsed from its first byte.
    rs.on, rs.scan, rs.wp, rs.we, rs.why = true, p, nil, nil, DROPPED
  end
  return p
end

-- True when a whole ATT value reads as clean Victron messages (decode.ts isVictronPiece).
local function victron_piece(v)
  local n, p = #v, 1
  while p <= n do
    local stop, ok, a = parse(v, p, n)
    if stop == NEED then return p > 1 or n >= 3 end
    if stop < 0 or not ok or flagged(v, p, stop, a, n) then return false end
    p = stop
  end
  return true
end

-- ---------------- Control (src/victron/control.ts)
local function hex(s)
  local t = {}
  for i = 1, #s do t[i] = fmt("%02x", byte(s, i)) end
  return concat(t)
end

-- Known, and its meaning as decodeControl gives it.
local function control_meaning(v, read)
  if read then return true, "Control read after connecting (negotiation data): " .. hex(v) end
  local op, len = byte(v, 1), #v
  local c = CONTROL[op]
  if c and c.lengths[len] then
    if op == 0xfa then return true, fmt("%s: 0x%02x 0x%02x", c.name, byte(v, 2), byte(v, 3)) end
    if op == 0xf9 then return true, fmt("%s: %d free chunk(s)", c.name, byte(v, 2)) end
    if op == 0xf8 then return true, "clear the receive buffer" end
    if op == 0xf7 then
      local code = byte(v, 2)
      if len == 3 then code = code + 256 * byte(v, 3) end
      return true, fmt("%s code %d", c.name, code)
    end
    return true, c.name
  end
  return false, "unknown Control bytes " .. hex(v)
end

-- ---------------- register values
local function le_int(s, t)
  local n = #s
  local v = 0
  for i = n, 1, -1 do v = v * 256 + byte(s, i) end
  if sub(t, 1, 2) == "sn" and v >= 2 ^ (8 * n - 1) then v = v - 2 ^ (8 * n) end
  return v
end

local function le_float(s)
  local b1, b2, b3, b4 = byte(s, 1, 4)
  local sign = 1
  if b4 >= 128 then sign = -1 end
  local ex = (b4 % 128) * 2 + floor(b3 / 128)
  local mant = ((b3 % 128) * 256 + b2) * 256 + b1
  if ex == 0 then return sign * mant * 2 ^ -149 end
  if ex == 255 then return nil end
  return sign * (1 + mant / 2 ^ 23) * 2 ^ (ex - 127)
end

-- value (number or nil), text, problem
local function decode_value(def, raw)
  if def == nil then return nil, hex(raw) end
  if def.size ~= nil and #raw ~= def.size then return nil, hex(raw), "expected " .. def.size .. " byte(s), got " .. #raw end
  local sc = def.scalar
  if sc == nil then return nil, def.text or hex(raw) end
  local v
  if sc.t == "float" then v = le_float(raw) else v = le_int(raw, sc.t) end
  if v == nil then return nil, hex(raw) end
  if sc.sp and sc.sp[v] then return nil, sc.sp[v] end
  if sc.en and sc.en[v] then return v, sc.en[v] end
  if sc.k then
    local ff = sc.f
    if ff == nil then ff = "%." .. sc.d .. "f"; sc.f = ff end
    local txt = fmt(ff, v * sc.k)
    v = tonumber(txt)
    if sc.u then txt = txt .. " " .. sc.u end
    return v, txt
  end
  local txt = tostring(v)
  if sc.u then txt = txt .. " " .. sc.u end
  return v, txt
end

-- The register's definition in a profile, else the common one.
local function register_def(profile, reg)
  local d = profile and DEVICE_REGISTERS[profile]
  return (d and d[reg]) or REGISTERS[reg]
end

-- ---------------- state
-- conns[chandle]: the connection now on that handle { device, roles, disc, layout, profile,
--   product, streams = { h2d = { buf, segs }, d2h = ... }, ctx = { [role/profile] = context } }
-- frames[number]: the frame's context { conn, role, profile } (one table shared by many frames)
local conns, all_conns, frames = {}, {}, {}
-- Only for frames in a transfer spread over pieces, by frame number: the bytes carried in and their
-- frames, the frame that continues this one, records a later event completed, a value cut short.
local pre_of, segs_of, cont_of, late_of, trunc_of = {}, {}, {}, {}, {}
-- Only for frames that continue a run of unknown bytes: where its resynchronisation stood.
local rs_of = {}
local NOSEGS = {}
local value_cache, value_cached = {}, 0
local get_cache, get_cached = {}, 0
local last_frame = 0   -- highest frame whose bytes went into the state
local finalized = false
local by_device = {}   -- device address -> the discovery (disc table) of its latest connection with one
local dynamic = {}     -- handles added to btatt.handle because some connection's discovery named them

local IS_DEFAULT = {}
for _, h in ipairs(DEFAULT_HANDLES) do IS_DEFAULT[h] = true end

function victron.init()
  conns, all_conns, frames, by_device = {}, {}, {}, {}
  pre_of, segs_of, cont_of, late_of, trunc_of = {}, {}, {}, {}, {}
  rs_of = {}
  value_cache, value_cached = {}, 0
  get_cache, get_cached = {}, 0
  last_frame = 0
  finalized = false
end

local function new_conn(chandle, device)
  local c = { chandle = chandle, device = device, roles = {}, disc = {}, streams = {}, ctx = {} }
  conns[chandle] = c
  all_conns[#all_conns + 1] = c
  return c
end

-- The peer's address as bthci_acl put it in the packet info (from the connection event), or nil.
local function peer(pinfo)
  local d = pinfo.p2p_dir
  local a
  if d == 0 then a = tostring(pinfo.dst) elseif d == 1 then a = tostring(pinfo.src) else return nil end
  -- "fd:d4:50:0f:6c:1b" or with the device's name after it; "remote", "controller" or "" when
  -- the capture has no connection event
  a = sub(a, 1, 17)
  if #a ~= 17 or byte(a, 3) ~= 58 then return nil end
  return a
end

-- The connection on a handle: a new one when another device now has the handle.
local function conn_for(chandle, device)
  local c = conns[chandle]
  if c == nil or (device ~= nil and c.device ~= nil and c.device ~= device) then return new_conn(chandle, device) end
  if c.device == nil then c.device = device end
  return c
end

local function context(c, role)
  local key = role .. "/" .. (c.profile or "")
  local x = c.ctx[key]
  if x == nil then
    x = { conn = c, role = role, profile = c.profile }
    c.ctx[key] = x
  end
  return x
end

-- The profile for a connection (load.ts chooseProfile): product id, then handle layout.
local function choose_profile(c)
  if c.product and PRODUCT_PROFILES[c.product] then c.profile = PRODUCT_PROFILES[c.product]; return end
  if c.layout and c.layout.profile then c.profile = c.layout.profile end
end

local function set_layout(c, l)
  c.layout = l
  if c.roles[l.control] == nil then c.roles[l.control] = "control" end
  if c.roles[l.lastData] == nil then c.roles[l.lastData] = "lastData" end
  if c.roles[l.data] == nil then c.roles[l.data] = "data" end
end

local CARRIES = { [0x52] = true, [0x12] = true, [0x1b] = true, [0x1d] = true }

-- The Victron role of a handle on connection c (decode.ts role()), learning as it goes.
local function role_of(c, handle, opcode, value)
  local d = c.disc[handle]
  if d == nil and c.device then
    -- a reconnection without discovery: the device's latest discovery (as vgatt's GATT map)
    local bd = by_device[c.device]
    if bd then d = bd[handle] end
  end
  if d ~= nil then
    if d and c.roles[handle] == nil then
      c.roles[handle] = d
      if c.layout == nil then
        local by = {}
        for h, r in pairs(c.roles) do if by[r] == nil then by[r] = h end end
        if by.control and by.lastData and by.data then
          c.layout = { control = by.control, lastData = by.lastData, data = by.data }
          for _, l in ipairs(LAYOUTS) do
            if l.control == by.control and l.lastData == by.lastData and l.data == by.data then c.layout = l; break end
          end
          choose_profile(c)
        end
      end
    end
    return d or nil
  end
  local known = c.roles[handle]
  if known then return known end
  if not IS_DEFAULT[handle] and not dynamic[handle] then
    -- Neither discovery nor a default layout names this handle: the user bound it with Decode As.
    -- Its role is unknown, so it is read as Data (messages still complete as their bytes arrive).
    c.roles[handle] = "data"
    return "data"
  end
  if c.layout then return nil end
  if value == nil or #value == 0 or not CARRIES[opcode] then return nil end
  local b = byte(value, 1)
  local control = (b == 0xfa or b == 0xf9 or b == 0xf8 or b == 0xf7) and (control_meaning(value))
  if not control and not victron_piece(value) then return nil end
  local first, role
  for _, l in ipairs(LAYOUTS) do
    local r
    if control then
      if l.control == handle then r = "control" end
    elseif l.lastData == handle then r = "lastData"
    elseif l.data == handle then r = "data"
    end
    if r then
      if role == nil then first, role = l, r elseif r ~= role then return nil end
    end
  end
  if first == nil then return nil end
  set_layout(c, first)
  choose_profile(c)
  return role
end

-- ---------------- display
local function frames_of(segs, pre_len, a, b, frame)
  -- Frames whose bytes lie in [a, b): the carried segments, then this frame.
  local out, pos = {}, 1
  for i = 1, #segs, 2 do
    local len = segs[i + 1]
    if pos < b and pos + len > a and out[#out] ~= segs[i] then out[#out + 1] = segs[i] end
    pos = pos + len
  end
  if b - 1 > pre_len and out[#out] ~= frame then out[#out + 1] = frame end
  return out
end


-- Adds one message's tree. T is a tvb holding the message at offset pos - base.
-- What the tree shows for a clean value (0x08), by profile and message bytes: captures repeat the
-- same values, so the decoding and the label are done once (value_cache, bounded: emptied when full).

local function value_view(s, p, stop, n, profile, a, b, c)
  local bytes = sub(s, p, stop - 1)
  local pc = value_cache[profile or ""]
  if pc == nil then pc = {}; value_cache[profile or ""] = pc end
  local x = pc[bytes]
  if x then return x end
  local reg = uint_at(s, b, n)
  local def = register_def(profile, reg)
  local len, q = arg(s, c + 1, byte(s, c) % 32, n)
  local v, txt, problem = decode_value(def, sub(s, q, q + len - 1))
  local sc = def and def.scalar
  x = {
    bytes = bytes, inst = uint_at(s, a, n), ia = a - p, il = b - a, reg = reg, ra = b - p, rl = c - b, va = q - p, vl = len,
    name = def and def.name, v = v, txt = txt, problem = problem, unit = sc and sc.u,
    info = (def and def.name or fmt("0x%04X", reg)) .. " = " .. txt,
    noname = not def and fmt("Register 0x%04X is not in any profile", reg) or nil,
    label = fmt("Victron message: value: 0x%04X %s = %s", reg, def and def.name or "(unknown register)", txt),
  }
  if value_cached >= 4096 then
    value_cache, value_cached = {}, 0
    pc = {}
    value_cache[profile or ""] = pc
  end
  pc[bytes] = x
  value_cached = value_cached + 1
  return x
end

-- Whether the tree being built is shown (tree.visible: the GUI's details, tshark -V/-O/-T pdml).
-- When it is not (tshark -T fields, display filters, columns, statistics), only the fields'
-- values count: a field is added without a range (one Lua object less per field), except bytes
-- fields, whose value is their range.
local VIS = true

-- Adds field fl with value v to it, over l bytes at offset o of T when the tree is shown.
local function addv(it, fl, T, o, l, v)
  if VIS then return it:add(fl, T(o, l), v) end
  return it:add(fl, v)
end

local function show_value(root, s, p, stop, n, T, base, profile, infos, vis, a, b, c)
  local x = value_view(s, p, stop, n, profile, a, b, c)
  local o = p - base
  local it
  -- shown: the value and the label in one call (the bytes are those of the range)
  if vis then it = root:add(f.message, T(o, stop - p), x.bytes, x.label) else it = root:add(f.message, T(o, stop - p)) end
  if not vis then
    -- Nobody sees this tree (tshark -T fields, display filters, columns, statistics): only the
    -- fields' values count, so only bytes fields (whose value is their range) get a range.
    it:add(f.type, 8)
    it:add(f.instance, x.inst)
    it:add(f.register, x.reg)
    if x.name then it:add(f.register_name, x.name) else it:add_proto_expert_info(e.unknown_register, x.noname) end
    if x.vl > 0 then
      it:add(f.raw, T(o + x.va, x.vl))
      if x.v ~= nil then it:add(f.value, x.v) end
    end
    if x.unit then it:add(f.unit, x.unit) end
    it:add(f.value_text, x.txt)
    if x.problem then it:add_proto_expert_info(e.bad_size, x.problem) end
    if infos then infos[#infos + 1] = x.info end
    return it
  end
  it:add(f.type, T(o, 1))
  it:add(f.instance, T(o + x.ia, x.il), x.inst)
  local rr = T(o + x.ra, x.rl)
  it:add(f.register, rr, x.reg)
  if x.name then it:add(f.register_name, rr, x.name) else it:add_proto_expert_info(e.unknown_register, x.noname) end
  if x.vl > 0 then
    local vr = T(o + x.va, x.vl)
    it:add(f.raw, vr)
    if x.v ~= nil then it:add(f.value, vr, x.v) end
  end
  if x.unit then it:add(f.unit, x.unit) end
  it:add(f.value_text, x.txt)
  if x.problem then it:add_proto_expert_info(e.bad_size, x.problem) end
  if infos then infos[#infos + 1] = x.info end
  return it
end

-- What the tree shows for a get values (0x05, the app's half of a capture), cached like values.

local function get_view(s, p, stop, n, profile, a, b)
  local bytes = sub(s, p, stop - 1)
  local pc = get_cache[profile or ""]
  if pc == nil then pc = {}; get_cache[profile or ""] = pc end
  local x = pc[bytes]
  if x then return x end
  local regs, hex = {}, {}
  local q, cnt = array_at(s, b, n)
  local i = 1
  while more(s, q, i, cnt) do
    local reg, r = uint_at(s, q, n)
    local def = register_def(profile, reg)
    regs[#regs + 1] = { reg = reg, o = q - p, l = r - q, name = def and def.name }
    hex[#hex + 1] = fmt("0x%04X", reg)
    q = r
    i = i + 1
  end
  x = { bytes = bytes, inst = uint_at(s, a, n), ia = a - p, il = b - a, regs = regs, label = "Victron message: get values: " .. concat(hex, ",") }
  if get_cached >= 4096 then
    get_cache, get_cached = {}, 0
    pc = {}
    get_cache[profile or ""] = pc
  end
  pc[bytes] = x
  get_cached = get_cached + 1
  return x
end

local function show_get(root, s, p, stop, n, T, base, profile, infos, vis, a, b)
  local x = get_view(s, p, stop, n, profile, a, b)
  local o = p - base
  local it
  if vis then it = root:add(f.message, T(o, stop - p), x.bytes, x.label) else it = root:add(f.message, T(o, stop - p)) end
  addv(it, f.type, T, o, 1, 5)
  addv(it, f.instance, T, o + x.ia, x.il, x.inst)
  local regs = x.regs
  for i = 1, #regs do
    local r = regs[i]
    if vis then
      local rr = T(o + r.o, r.l)
      it:add(f.get_register, rr, r.reg)
      if r.name then it:add(f.register_name, rr, r.name) end
    else
      it:add(f.get_register, r.reg)
      if r.name then it:add(f.register_name, r.name) end
    end
  end
  if infos then infos[#infos + 1] = "get values" end
  return it
end

local function show_message(root, s, p, stop, n, T, base, profile, infos, vis, a, b, c)
  local t = byte(s, p)
  if t == 0x08 and a ~= nil then return show_value(root, s, p, stop, n, T, base, profile, infos, vis, a, b, c) end
  if t == 0x05 and a ~= nil then return show_get(root, s, p, stop, n, T, base, profile, infos, vis, a, b) end
  local name = OPCODES[t].name
  local it = root:add(f.message, T(p - base, stop - p))
  addv(it, f.type, T, p - base, 1, t)
  if a == nil then
    local stop2, ok2
    stop2, ok2, a, b, c = parse(s, p, n)
  end
  local label
  if t ~= 0x01 and t ~= 0x02 then
    addv(it, f.instance, T, a - base, (b or stop) - a, (uint_at(s, a, n)))
  end
  if t == 0x08 then
    local reg = uint_at(s, b, n)
    local def = register_def(profile, reg)
    addv(it, f.register, T, b - base, c - b, reg)
    local hb = byte(s, c)
    local len, q = arg(s, c + 1, hb % 32, n)
    local raw = sub(s, q, q + len - 1)
    if def then addv(it, f.register_name, T, b - base, c - b, def.name) else it:add_proto_expert_info(e.unknown_register, fmt("Register 0x%04X is not in any profile", reg)) end
    if len > 0 then it:add(f.raw, T(q - base, len)) end
    local v, txt, problem = decode_value(def, raw)
    if v ~= nil then addv(it, f.value, T, q - base, len, v) end
    local sc = def and def.scalar
    if sc and sc.u then it:add(f.unit, sc.u) end
    it:add(f.value_text, txt)
    if problem then it:add_proto_expert_info(e.bad_size, problem) end
    local rname = def and def.name or fmt("0x%04X", reg)
    if infos then infos[#infos + 1] = rname .. " = " .. txt end
    if vis then label = fmt("value: 0x%04X %s = %s", reg, def and def.name or "(unknown register)", txt) end
  elseif t == 0x05 then
    local regs = vis and {}
    local q, cnt = array_at(s, b, n)
    local i = 1
    while more(s, q, i, cnt) do
      local reg, r = uint_at(s, q, n)
      addv(it, f.get_register, T, q - base, r - q, reg)
      local def = register_def(profile, reg)
      if def then addv(it, f.register_name, T, q - base, r - q, def.name) end
      if regs then regs[#regs + 1] = fmt("0x%04X", reg) end
      q = r
      i = i + 1
    end
    if infos then infos[#infos + 1] = "get values" end
    if vis then label = "get values: " .. concat(regs, ",") end
  elseif t == 0x06 then
    local sets = vis and {}
    pairs_ok(s, b, n, function(_, k, v)
      local reg = uint_at(s, k, n)
      local kl = item(s, k, 0, n) - k
      addv(it, f.set_register, T, k - base, kl, reg)
      local len, q = arg(s, v + 1, byte(s, v) % 32, n)
      it:add(f.set_raw, T(q - base, len))
      local def = register_def(profile, reg)
      if def then addv(it, f.register_name, T, k - base, kl, def.name) end
      if sets then sets[#sets + 1] = fmt("0x%04X", reg) end
      return true
    end)
    if infos then infos[#infos + 1] = "set values" end
    if vis then label = "set values: " .. concat(sets, ",") end
  elseif t == 0x07 or t == 0x09 or t == 0x10 then
    if t == 0x07 then addv(it, f.answered, T, b - base, c - b, (uint_at(s, b, n))) end
    if t == 0x09 then addv(it, f.response_register, T, b - base, c - b, (uint_at(s, b, n))) end
    local code = int_at(s, c, n)
    addv(it, f.response, T, c - base, stop - c, code)
    if infos then infos[#infos + 1] = name .. " " .. code end
    if vis then label = name .. ": code " .. code end
  elseif infos then
    infos[#infos + 1] = name
  end
  if vis then it:set_text("Victron message: " .. (label or name)) end
  return it
end

-- A record that a later piece or event completed: kept, with its bytes, in the entry of the
-- frame of its last byte; the frames before that one are continued there.
local function keep_late(s, segs, pre_len, kind, a, b, reason)
  local frs = frames_of(segs, pre_len, a, b, nil)
  local last = frs[#frs]
  if frames[last] == nil then return end
  local l = late_of[last]
  if l == nil then l = {}; late_of[last] = l end
  l[#l + 1] = { kind = kind, bytes = sub(s, a, b - 1), frames = frs, reason = reason }
  for i = 1, #frs - 1 do
    if cont_of[frs[i]] == nil then cont_of[frs[i]] = last end
  end
end

-- Shows the records of one piece (and of its carried bytes): the same on every visit.
-- ctx: the frame's context; s: carried bytes .. piece; pre_len: how many are carried; segs: their
-- frames; rs: the stream's resync state at the start of s (updated); returns the first position
-- left for the next piece.
local function show_piece(root, tvb, frame, ctx, s, pre_len, segs, rs, infos, vis, first_visit)
  local n = #s
  local profile = ctx.profile
  local c = ctx.conn
  local whole
  local out = function(kind, a, b, reason, pa, pb, pc)
    if b - 1 <= pre_len then
      -- All its bytes came before this piece: the record belongs to the frame of its last byte
      -- (as in vgatt decode), shown there from the second pass on.
      if first_visit then keep_late(s, segs, pre_len, kind, a, b, reason or unknown_reason(s, a, n)) end
      return
    end
    local T, base
    if a > pre_len then T, base = tvb, pre_len + 1
    elseif VIS then T, base = ByteArray.new(sub(s, a, b - 1), true):tvb("Victron record"), a
    else
      -- not shown: one tvb of the carried bytes and the piece serves every record of the frame
      if whole == nil then whole = ByteArray.new(s, true):tvb("Victron record") end
      T, base = whole, 1
    end
    local it
    if kind == K_MESSAGE then
      it = show_message(root, s, a, b, n, T, base, profile, infos, vis, pa, pb, pc)
      if byte(s, a) == 0x08 then
        if uint_at(s, pb, n) == 0x0100 then
          -- The product id names the device's profile from the next record on (decode.ts).
          local hb = byte(s, pc)
          local len, q = arg(s, pc + 1, hb % 32, n)
          if len >= 3 then
            if first_visit and c.product == nil then
              c.product = byte(s, q + 1) + 256 * byte(s, q + 2)
              choose_profile(c)
            end
            if c.product == byte(s, q + 1) + 256 * byte(s, q + 2) then profile = c.profile end
          end
        end
      end
    elseif kind == K_PADDING then
      it = root:add(f.padding, T(a - base, b - a))
    else
      it = root:add(f.unknown, T(a - base, b - a))
      local why = reason or unknown_reason(s, a, n)
      it:add(f.reason, why)
      local bt = byte(s, a)
      if bt < 0x18 and OPCODES[bt] == nil then it:add_proto_expert_info(e.unknown_type, why) else it:add_proto_expert_info(e.undecodable, why) end
      if infos then infos[#infos + 1] = "unknown bytes" end
    end
    if a <= pre_len then
      for _, fr in ipairs(frames_of(segs, pre_len, a, b, frame)) do
        if VIS then it:add(f.from, fr):set_generated() else it:add(f.from, fr) end
        if first_visit and fr ~= frame then
          if cont_of[fr] == nil then cont_of[fr] = frame end
        end
      end
    end
  end
  return run_piece(s, n, ctx.role == "lastData", out, rs)
end

-- Records that a later event completed, kept with their bytes: { kind, bytes, frames, reason }.
local function show_late(root, recs, profile, infos, vis)
  for _, r in ipairs(recs) do
    local T = ByteArray.new(r.bytes, true):tvb("Victron record")
    local it
    if r.kind == K_MESSAGE then
      it = show_message(root, r.bytes, 1, #r.bytes + 1, #r.bytes, T, 1, profile, infos, vis)
    elseif r.kind == K_PADDING then
      it = root:add(f.padding, T())
    else
      it = root:add(f.unknown, T())
      it:add(f.reason, r.reason)
      it:add_proto_expert_info(e.undecodable, r.reason)
      if infos then infos[#infos + 1] = "unknown bytes" end
    end
    if #r.frames > 1 then for _, fr in ipairs(r.frames) do if VIS then it:add(f.from, fr):set_generated() else it:add(f.from, fr) end end end
  end
end

-- ---------------- later events: flush a stream; its records go to the frames of their last byte
local function flush(st, reason)
  if st == nil then return end
  local rs = st.rs
  st.rs = nil
  if st.buf == "" then return end
  local s, segs = st.buf, st.segs
  local n = #s
  finish(s, 1, n, function(kind, a, b, why) keep_late(s, segs, n, kind, a, b, why or unknown_reason(s, a, n)) end, reason, rs or {})
  st.buf, st.segs = "", NOSEGS
end

local function close_conn(c, reason)
  flush(c.streams.h2d, reason)
  flush(c.streams.d2h, reason)
end

local function finalize()
  finalized = true
  for _, c in ipairs(all_conns) do close_conn(c, "transfer cut short by the end of the capture") end
end

-- ---------------- the dissector of Victron characteristic values
function victron.dissector(tvb, pinfo, tree)
  local frame = pinfo.number
  local fresh = frame > last_frame
  local st -- the stream this piece goes into, on its first visit
  if fresh then
    -- The state is built in the first pass that has a protocol tree (the fields below need one).
    -- tshark -2 runs its first pass without a tree unless a filter asks for fields; the state is
    -- then built in the second pass, in frame order, as in one pass.
    local ch = f_chandle()
    local op = f_opcode()
    if ch == nil or op == nil then return 0 end
    local opcode = op.value
    -- values written, notified or read; not discovery responses that btatt hands over by handle
    if not (CARRIES[opcode] or opcode == 0x0b) then return 0 end
    local c = conn_for(ch.value, peer(pinfo))
    local value = tvb:raw()
    local role = role_of(c, pinfo.match_uint, opcode, value)
    if role == nil or (role ~= "control" and not CARRIES[opcode]) then return 0 end
    last_frame = frame
    if role == "control" and (opcode == 0x52 or opcode == 0x12) then
      if byte(value, 1) == 0xfa and #value == 3 then
        -- The app opens every session with the chunk size negotiation: what is still pending
        -- belongs to an earlier session on this handle whose disconnection ended it (this
        -- dissector does not see HCI events).
        close_conn(c, "transfer cut short by the disconnection")
      end
    end
    local ctx = context(c, role)
    frames[frame] = ctx
    if role ~= "control" then
      -- Direction from the opcode (writes go to the device, notifications come from it): pinfo.p2p_dir
      -- is unknown in captures without a direction header (link type 187).
      local dir = (opcode == 0x52 or opcode == 0x12) and "h2d" or "d2h"
      st = c.streams[dir]
      if st == nil then st = { buf = "", segs = {} }; c.streams[dir] = st end
      if tvb:len() < tvb:reported_len() then
        -- The capture kept only the start of this value: it cannot be framed, and whatever was
        -- pending in the transfer is cut too.
        flush(st, "transfer interrupted by a value the capture cut short")
        trunc_of[frame] = true
        st = nil
      else
        if st.buf ~= "" then
          local sg = st.segs
          -- one carried segment (the usual case) as one number: frame * 2^17 + length
          if #sg == 2 then sg = sg[1] * 131072 + sg[2] end
          pre_of[frame], segs_of[frame] = st.buf, sg
        end
        -- inside a run of unknown bytes: where its resynchronisation stands
        if st.rs then rs_of[frame] = st.rs end
      end
    end
  elseif not finalized and frame < last_frame then
    finalize()
  end
  local ctx = frames[frame]
  if ctx == nil then return 0 end
  pinfo.cols.protocol = "Victron"
  local vis = tree.visible
  VIS = vis
  -- Info text only when columns are built (a Column prints its name when there are none).
  local infos = tostring(pinfo.cols.info) ~= "(info)" and {} or nil
  local root = tree:add(victron, tvb())
  if ctx.role == "control" then
    local op = f_opcode()
    local known, meaning = control_meaning(tvb:raw(), op ~= nil and op.value == 0x0b)
    if known then root:add(f.control, tvb(), meaning) else
      local it = root:add(f.unknown, tvb())
      it:add(f.reason, "unknown Control bytes")
      it:add_proto_expert_info(e.undecodable, meaning)
    end
    if infos then pinfo.cols.info:append(" Control: " .. meaning) end
    return
  end
  if trunc_of[frame] then
    local it = root:add(f.unknown, tvb())
    it:add(f.reason, "ATT value cut short by the capture (snap length or Android filtered log)")
    it:add_proto_expert_info(e.undecodable, "ATT value cut short by the capture")
  else
    local pre = pre_of[frame] or ""
    local piece = tvb:raw()
    local s = pre == "" and piece or pre .. piece
    local segs = segs_of[frame] or NOSEGS
    if type(segs) == "number" then segs = { floor(segs / 131072), segs % 131072 } end
    local r0 = rs_of[frame]
    local rs = r0 and { on = true, scan = r0.scan, wp = r0.wp, we = r0.we, why = r0.why } or {}
    local p = show_piece(root, tvb, frame, ctx, s, #pre, segs, rs, infos, vis, fresh)
    if st then
      -- what waits for the next piece: the rest of the carried segments, then this piece's tail
      local n = #s
      if p > n then st.buf, st.segs = "", NOSEGS else
        local ns, pos = {}, 1
        for i = 1, #segs, 2 do
          local len = segs[i + 1]
          local from = math.max(pos, p)
          if pos + len > from then ns[#ns + 1] = segs[i]; ns[#ns + 1] = pos + len - from end
          pos = pos + len
        end
        local mine = n - math.max(p, #pre + 1) + 1
        if mine > 0 then ns[#ns + 1] = frame; ns[#ns + 1] = mine end
        st.buf, st.segs = sub(s, p), ns
      end
      -- the resync state, in positions of what is left
      if rs.on then
        local d = p - 1
        st.rs = { scan = rs.scan - d, wp = rs.wp and rs.wp - d, we = rs.we and rs.we - d, why = rs.why }
      else
        st.rs = nil
      end
    end
  end
  local late, cont = late_of[frame], cont_of[frame]
  if late then show_late(root, late, ctx.profile, infos, vis) end
  if cont then
    if VIS then root:add(f.continued, cont):set_generated() else root:add(f.continued, cont) end
    if infos then infos[#infos + 1] = "continued in frame " .. cont end
  end
  if infos and #infos > 0 then pinfo.cols.info:append(" " .. concat(infos, "; ")) end
end

-- ---------------- discovery: characteristic declarations (value handle + UUID), per connection
local victron_gatt = Proto("victron_gatt", "Victron characteristic discovery (internal)")

local function uuid_string(v, i)
  -- 16 bytes little-endian -> 8-4-4-4-12
  local b = {}
  for k = 15, 0, -1 do b[#b + 1] = fmt("%02x", byte(v, i + k)) end
  local h = concat(b)
  return sub(h, 1, 8) .. "-" .. sub(h, 9, 12) .. "-" .. sub(h, 13, 16) .. "-" .. sub(h, 17, 20) .. "-" .. sub(h, 21)
end

function victron_gatt.dissector(tvb, pinfo, tree)
  if pinfo.number >= last_frame then
    local v = tvb:raw()
    local ch = f_chandle()
    if ch and (#v == 5 or #v == 19) then
      last_frame = pinfo.number
      local vh = byte(v, 2) + 256 * byte(v, 3)
      local uuid = #v == 19 and uuid_string(v, 4) or fmt("%04x", byte(v, 4) + 256 * byte(v, 5))
      local role = UUID_ROLES[uuid]
      local c = conn_for(ch.value, peer(pinfo))
      if c.disc[vh] == nil then c.disc[vh] = role or false end
      if c.device then by_device[c.device] = c.disc end
      if role and not IS_DEFAULT[vh] and not dynamic[vh] then
        -- btatt hands us a handle's values by number, whatever Wireshark thinks its UUID is
        dynamic[vh] = true
        DissectorTable.get("btatt.handle"):add(vh, victron)
      end
    end
  end
  return 0 -- btatt shows the declaration as usual
end

-- ---------------- registration
local handle_table = DissectorTable.get("btatt.handle")
for _, h in ipairs(DEFAULT_HANDLES) do handle_table:add(h, victron) end
handle_table:add_for_decode_as(victron)
local uuid_table = DissectorTable.get("bluetooth.uuid")
uuid_table:add("2803", victron_gatt)
