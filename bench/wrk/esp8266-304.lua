-- ESP8266httpUpdate check-in (esp8266/Arduino ESP8266httpUpdate.cpp handleUpdate; the header set of
-- test/devices/esp-httpupdate.test.ts). The device runs the published version, so the answer is 304; the STA MAC
-- changes on every request, cycling over `devices` known devices, so the registry is updated for all of them.
-- Usage: wrk -s esp8266-304.lua <url> -- <version> <devices>
local version = "2.0.0"
local devices = 1000
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  version = args[1] or version
  devices = tonumber(args[2] or devices)
  -- thread_offset is a global set by setup() in this thread's Lua state.
  counter = thread_offset or 0
end

-- Device i has MAC 02:00:xx:xx:xx:xx (locally administered), i in [0, devices); bench/lib/prefill.ts uses the same.
local function mac(i)
  return string.format("02:00:%02X:%02X:%02X:%02X",
    math.floor(i / 16777216) % 256, math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
end

function request()
  counter = counter + 1
  local m = mac((counter * 2654435761) % devices)
  return wrk.format("GET", nil, {
    ["User-Agent"] = "ESP8266-http-Update",
    ["x-ESP8266-Chip-ID"] = "15602487",
    ["x-ESP8266-STA-MAC"] = m,
    ["x-ESP8266-AP-MAC"] = m,
    ["x-ESP8266-free-space"] = "4194304",
    ["x-ESP8266-sketch-size"] = "400000",
    ["x-ESP8266-sketch-md5"] = "00112233445566778899aabbccddeeff",
    ["x-ESP8266-chip-size"] = "4194304",
    ["x-ESP8266-sdk-version"] = "2.5.0",
    ["x-ESP8266-mode"] = "sketch",
    ["x-ESP8266-version"] = version,
  })
end
