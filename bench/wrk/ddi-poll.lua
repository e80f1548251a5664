-- hawkBit DDI poll with nothing to do (SWUpdate suricatta's header set, ../shared/specs/device-protocols.md §6.6):
-- GET /default/controller/v1/<controllerId> with a GatewayToken, the controller id cycling over `devices` known
-- devices (the same ids as bench/lib/prefill.ts, which run the published version).
-- Usage: wrk -s ddi-poll.lua <base url> -- <gateway token> <devices>
local token = ""
local devices = 1000
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  token = args[1] or token
  devices = tonumber(args[2] or devices)
  counter = thread_offset or 0
end

-- Lowercase, as the registry holds the prefilled ids (the ESP adapter normalises MACs; DDI ids are verbatim).
local function mac(i)
  return string.format("02:00:%02x:%02x:%02x:%02x",
    math.floor(i / 16777216) % 256, math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
end

function request()
  counter = counter + 1
  local id = mac((counter * 2654435761) % devices)
  return wrk.format("GET", "/default/controller/v1/" .. id, {
    ["User-Agent"] = "libcurl-agent/1.0",
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["charsets"] = "utf-8",
    ["Authorization"] = "GatewayToken " .. token,
  })
end
