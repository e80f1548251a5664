-- ESP8266httpUpdate check-in (esp8266/Arduino ESP8266httpUpdate.cpp handleUpdate; the header set of
-- test/devices/esp-httpupdate.test.ts). The device runs the published version, so the answer is 304; the STA MAC
-- changes on every request, cycling over `devices` known devices, so the registry is updated for all of them.
-- Usage: wrk -t2 -s esp8266-304.lua <url> -- <version> <devices> [first]
-- Device of request n: (n * 2654435761) mod devices, a bijection on the counters mod devices (the multiplier is
-- odd and not divisible by 5), so distinct counters are distinct devices. The first thread counts from `first`,
-- the second from `first` + devices / 2: with a `first` per run (bench/cases/esp8266-304.ts, checkInLoad), a
-- registry of 1,000,000 devices sees each device at most once over all runs, as a fleet would within a poll
-- interval, and no run re-checks the devices of the one before (whose rows it would find cached and
-- already checked in this hour). Written for wrk's -t2, which bench/lib/wrk.ts always uses.
local version = "2.0.0"
local devices = 1000
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  version = args[1] or version
  devices = tonumber(args[2] or devices)
  -- thread_index is a global set by setup() in this thread's Lua state.
  counter = (thread_index or 0) * math.floor(devices / 2) + tonumber(args[3] or 0)
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
