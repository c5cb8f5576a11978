-- ---------------------------------------------------------------------------------------------
-- Instant Readout runtime (src/lua/adverts.lua, copied verbatim after the generated IR_* tables,
-- inside the same do-block). The rules are those of `vgatt adverts` (src/adverts/): manufacturer
-- data of company 0x02E1 as btcommon hands it to the dissector table
-- btcommon.eir_ad.manufacturer_company_id (the bytes after the company id), clear fields always,
-- the record decrypted (AES-128-CTR, the 16-bit IV as little-endian counter) and decoded by the
-- record layouts when the preference victron.keys has a key for the advertiser's address whose
-- first byte is the advert's check byte.
-- ---------------------------------------------------------------------------------------------

local bxor, band = bit32.bxor, bit32.band
local byte, sub, fmt, floor, concat = string.byte, string.sub, string.format, math.floor, table.concat

victron.prefs.keys = Pref.string("Instant Readout keys", "", "Advertisement keys of Victron devices: aa:bb:cc:dd:ee:ff=00112233445566778899aabbccddeeff, several separated by commas or spaces")

local ir = Proto("victron_ir", "Victron Instant Readout")

local F = {
  device = ProtoField.string("victron.ir.device", "Advertiser"),
  prefix = ProtoField.uint16("victron.ir.prefix", "Prefix", base.HEX),
  product_id = ProtoField.uint16("victron.ir.product_id", "Product id", base.HEX),
  product_name = ProtoField.string("victron.ir.product_name", "Product"),
  record_type = ProtoField.uint8("victron.ir.record_type", "Record type", base.HEX),
  record_name = ProtoField.string("victron.ir.record_name", "Record"),
  iv = ProtoField.uint16("victron.ir.iv", "IV (nonce)", base.HEX),
  key_check = ProtoField.uint8("victron.ir.key_check", "Key check (first key byte)", base.HEX),
  encrypted = ProtoField.bytes("victron.ir.encrypted", "Encrypted record"),
  decrypted = ProtoField.bytes("victron.ir.decrypted", "Decrypted record"),
  reason = ProtoField.string("victron.ir.reason", "Not decoded"),
  value_text = ProtoField.string("victron.ir.value_text", "Value"),
}
local FIELD_OF = {}
for id, d in pairs(IR_FIELDS) do
  local abbr = "victron.ir." .. d.abbr
  if d.kind == "number" then FIELD_OF[id] = ProtoField.double(abbr, d.name)
  elseif d.kind == "hex" then FIELD_OF[id] = ProtoField.uint32(abbr, d.name, base.HEX)
  else FIELD_OF[id] = ProtoField.string(abbr, d.name) end
end
do
  -- Victron's fields live in the victron protocol (filters victron.ir.*), shown under its tree.
  local t = victron.fields
  for _, k in ipairs({ "device", "prefix", "product_id", "product_name", "record_type", "record_name", "iv", "key_check", "encrypted", "decrypted", "reason", "value_text" }) do t[#t + 1] = F[k] end
  local ids = {}
  for id in pairs(FIELD_OF) do ids[#ids + 1] = id end
  table.sort(ids)
  for _, id in ipairs(ids) do t[#t + 1] = FIELD_OF[id] end
end
local E_no_key = ProtoExpert.new("victron.ir.expert.no_key", "Instant Readout record not decoded (no key, or the key does not match)", expert.group.UNDECODED, expert.severity.NOTE)
do
  local t = victron.experts
  t[#t + 1] = E_no_key
end

local f_bd_addr = Field.new("bthci_evt.bd_addr")

-- ---------------- AES-128 (FIPS-197), encryption only: CTR needs the forward cipher alone.
local SBOX = {
  0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
  0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
  0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
  0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
  0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
  0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
  0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
  0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
  0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
  0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
  0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
  0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
  0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
  0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
  0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
  0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
}
local function S(x) return SBOX[x + 1] end
local function xtime(x) x = x * 2; if x > 255 then x = bxor(x, 0x11b) end return x end

-- Round keys: 176 bytes (1-based) from a 16-byte key string.
local function expand_key(key)
  local w = {}
  for i = 1, 16 do w[i] = byte(key, i) end
  local rcon = 1
  for i = 17, 176, 4 do
    local a, b, c, d = w[i - 4], w[i - 3], w[i - 2], w[i - 1]
    if (i - 1) % 16 == 0 then
      a, b, c, d = bxor(S(b), rcon), S(c), S(d), S(a)
      rcon = xtime(rcon)
    end
    w[i], w[i + 1], w[i + 2], w[i + 3] = bxor(w[i - 16], a), bxor(w[i - 15], b), bxor(w[i - 14], c), bxor(w[i - 13], d)
  end
  return w
end

-- One 16-byte block (a table of bytes, 1-based, column-major as in FIPS-197) encrypted in place.
local function encrypt_block(w, s)
  for i = 1, 16 do s[i] = bxor(s[i], w[i]) end
  for round = 1, 10 do
    for i = 1, 16 do s[i] = S(s[i]) end
    -- ShiftRows: row r (bytes r+1, r+5, r+9, r+13) rotates left by r.
    s[2], s[6], s[10], s[14] = s[6], s[10], s[14], s[2]
    s[3], s[7], s[11], s[15] = s[11], s[15], s[3], s[7]
    s[4], s[8], s[12], s[16] = s[16], s[4], s[8], s[12]
    if round < 10 then
      for c = 0, 12, 4 do
        local a0, a1, a2, a3 = s[c + 1], s[c + 2], s[c + 3], s[c + 4]
        local t = bxor(a0, a1, a2, a3)
        s[c + 1] = bxor(a0, t, xtime(bxor(a0, a1)))
        s[c + 2] = bxor(a1, t, xtime(bxor(a1, a2)))
        s[c + 3] = bxor(a2, t, xtime(bxor(a2, a3)))
        s[c + 4] = bxor(a3, t, xtime(bxor(a3, a0)))
      end
    end
    local k = round * 16
    for i = 1, 16 do s[i] = bxor(s[i], w[k + i]) end
  end
end

local key_cache = {}
-- AES-CTR with the IV as a little-endian 128-bit counter (victron-ble: Counter.new(128, initial_value=iv, little_endian=True)).
local function decrypt(key, iv, data)
  local w = key_cache[key]
  if not w then w = expand_key(key); key_cache[key] = w end
  local out = {}
  local blocks = floor((#data + 15) / 16)
  for b = 0, blocks - 1 do
    local ctr = iv + b
    local s = {}
    for i = 1, 16 do s[i] = 0 end
    for i = 1, 4 do s[i] = ctr % 256; ctr = floor(ctr / 256) end
    encrypt_block(w, s)
    for i = 1, 16 do
      local p = b * 16 + i
      if p > #data then break end
      out[p] = string.char(bxor(byte(data, p), s[i]))
    end
  end
  return concat(out)
end

-- ---------------- keys from the preference, parsed again only when it changes
local keys_text, keys = nil, {}
local function key_for(address)
  local pref = victron.prefs.keys or ""
  if pref ~= keys_text then
    keys_text, keys = pref, {}
    for item in pref:gmatch("[^,;%s]+") do
      local a, k = item:match("^([%x:%-]+)=(%x+)$")
      if a and #k == 32 then
        a = a:lower():gsub("[:%-]", "")
        if #a == 12 then
          local addr = a:sub(1, 2) .. ":" .. a:sub(3, 4) .. ":" .. a:sub(5, 6) .. ":" .. a:sub(7, 8) .. ":" .. a:sub(9, 10) .. ":" .. a:sub(11, 12)
          keys[addr] = (k:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
        end
      end
    end
  end
  return keys[address]
end

-- The advertiser: the last BD_ADDR btcommon's caller put in the tree before these bytes.
local function advertiser(offset)
  local best, at = nil, -1
  for _, fi in ipairs({ f_bd_addr() }) do
    if fi.offset < offset and fi.offset > at then best, at = fi, fi.offset end
  end
  if not best then return nil end
  local raw = best.range:bytes():raw()
  local parts = {}
  for i = 6, 1, -1 do parts[#parts + 1] = fmt("%02x", byte(raw, i)) end
  return concat(parts, ":")
end

-- ---------------- record fields, least significant bit first (src/adverts/records.ts readBits)
local function read_bits(s, start, n)
  if start + n > #s * 8 then return nil end
  local v = 0
  for i = 0, n - 1 do
    local b = start + i
    local by = byte(s, floor(b / 8) + 1)
    if floor(by / 2 ^ (b % 8)) % 2 == 1 then v = v + 2 ^ i end
  end
  return v
end

local function signed(v, bits) if v >= 2 ^ (bits - 1) then return v - 2 ^ bits end return v end

-- { value (number, string or nil), text } of a scalar definition.
local function scalar(def, raw, bits)
  if def.na ~= nil and raw == def.na then return nil, "not available" end
  if def.sp and def.sp[raw] then return nil, def.sp[raw] end
  local n = def.signed and signed(raw, bits) or raw
  local text = fmt("%." .. (def.d or 0) .. "f", n * (def.k or 1) + (def.o or 0))
  local v = tonumber(text)
  if def.u then text = text .. " " .. def.u end
  return v, text
end

local function show_record(rec, plain, ptvb, root)
  local raws = {}
  for _, fd in ipairs(rec.fields) do raws[fd.id] = read_bits(plain, fd.start, fd.bits) end
  local shown, missing = {}, {}
  for _, fd in ipairs(rec.fields) do
    local raw = raws[fd.id]
    local range = ptvb(floor(fd.start / 8), floor((fd.start + fd.bits - 1) / 8) - floor(fd.start / 8) + 1)
    if raw == nil then
      missing[#missing + 1] = fd.name
    else
      local def, id, name = fd, fd.id, fd.name
      if fd.sw then
        def = fd.cases[raws[fd.sw] or -1]
        if def then id, name = def.id, def.name end
      end
      if def then
        local value, text
        if fd.na ~= nil and raw == fd.na and (fd.en or fd.fl or fd.hex) then
          text = "not available"
        elseif fd.en then
          local n = fd.signed and signed(raw, fd.bits) or raw
          text = IR_ENUMS[fd.en][n] or fmt("unknown (%d)", n)
          value = text
        elseif fd.fl then
          local fl, names = IR_FLAGS[fd.fl], {}
          for b = 0, fd.bits - 1 do
            if floor(raw / 2 ^ b) % 2 == 1 then names[#names + 1] = fl.bits[b] or fmt("bit %d", b) end
          end
          text = #names > 0 and concat(names, ", ") or fl.none
          value = text
        elseif fd.hex then
          text = fmt("0x%0" .. math.ceil(fd.bits / 4) .. "X", raw)
          value = raw
        else
          value, text = scalar(def, raw, fd.bits)
        end
        local pf = FIELD_OF[id]
        if value ~= nil then root:add(pf, range, value):set_text(name .. ": " .. text)
        else root:add(F.value_text, range, text):set_text(name .. ": " .. text) end
        if value ~= nil then shown[#shown + 1] = name .. " " .. text end
      end
    end
  end
  if #missing > 0 then root:add(F.value_text, ptvb(), "record too short"):set_text("Record too short for: " .. concat(missing, ", ")) end
  return shown
end

function ir.dissector(tvb, pinfo, tree)
  local n = tvb:len()
  local root = tree:add(victron, tvb(), "Victron Instant Readout")
  local address = advertiser(tvb:offset())
  if address then root:add(F.device, tvb(0, 0), address) end
  local function why(text)
    root:add(F.reason, tvb(), text)
    root:add_proto_expert_info(E_no_key, text)
    root:append_text(": " .. text)
    return n
  end
  if n < 2 then return why("too short") end
  root:add_le(F.prefix, tvb(0, 2), tvb(0, 1):uint() * 256 + tvb(1, 1):uint())
  if tvb(0, 1):uint() ~= 0x10 then return why("not a product advertisement") end
  if n < 4 then return why("too short") end
  local pid = tvb(2, 2):le_uint()
  root:add_le(F.product_id, tvb(2, 2))
  if IR_PRODUCTS[pid] then root:add(F.product_name, tvb(2, 2), IR_PRODUCTS[pid]) end
  if n >= 5 then
    local rt = tvb(4, 1):uint()
    root:add(F.record_type, tvb(4, 1))
    if IR_RECORDS[rt] then root:add(F.record_name, tvb(4, 1), IR_RECORDS[rt].name) end
  end
  if n >= 7 then root:add_le(F.iv, tvb(5, 2)) end
  if n < 9 then return why("too short") end
  local check = tvb(7, 1):uint()
  root:add(F.key_check, tvb(7, 1))
  root:add(F.encrypted, tvb(8))
  local rec = IR_RECORDS[tvb(4, 1):uint()]
  local key = address and key_for(address)
  if not key or byte(key, 1) ~= check then
    if not rec then return why("unknown record type") end
    return why(key and "key does not match" or "no key")
  end
  local plain = decrypt(key, tvb(5, 2):le_uint(), tvb(8):raw())
  local ptvb = ByteArray.new(plain, true):tvb("Decrypted Instant Readout")
  root:add(F.decrypted, ptvb())
  if not rec then return why("unknown record type") end
  root:append_text(": " .. rec.name)
  local shown = show_record(rec, plain, ptvb, root)
  pinfo.cols.info:append(" [Victron " .. rec.name .. ": " .. concat(shown, ", ", 1, math.min(#shown, 3)) .. "]")
  return n
end

DissectorTable.get("btcommon.eir_ad.manufacturer_company_id"):add(0x02e1, ir)
