-- wrk script for bench/reactions: PUT /api/v1/posts/{id}/reaction, rotating over every
-- (follower token, post) pair and over five emoji, so nearly every request changes a
-- reaction. Counts answers by status. Files: tokens.txt and posts.txt in $BENCH_DIR.
local dir = os.getenv("BENCH_DIR")
local emoji = { "👍", "❤️", "😮", "🙏", "👏" }
local tokens, posts = {}, {}
for l in io.lines(dir .. "/tokens.txt") do tokens[#tokens + 1] = l end
for l in io.lines(dir .. "/posts.txt") do posts[#posts + 1] = l end

local threads = {}
local nthreads = 0
function setup(thread)
    thread:set("tid", nthreads)
    nthreads = nthreads + 1
    table.insert(threads, thread)
end

counter = 0 -- globals: done() reads them with thread:get
statuses = {}
function init(args)
    nthreads_all = tonumber(os.getenv("WRK_THREADS") or "2")
end

function request()
    -- Thread t takes pairs t, t + T, t + 2T, ...: threads never send the same pair at once.
    local idx = tid + nthreads_all * counter
    local round = math.floor(idx / (#tokens * #posts))
    local pair = idx % (#tokens * #posts)
    counter = counter + 1
    local tok = tokens[pair % #tokens + 1]
    local post = posts[math.floor(pair / #tokens) + 1]
    local e = emoji[(round + pair) % #emoji + 1]
    return wrk.format("PUT", "/api/v1/posts/" .. post .. "/reaction",
        { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" },
        '{"emoji":"' .. e .. '"}')
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    local sent = 0
    for _, t in ipairs(threads) do
        local s = t:get("statuses")
        for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
        sent = sent + t:get("counter")
    end
    local parts = {}
    local ok, r429, other = 0, 0, 0
    for k, v in pairs(total) do
        parts[#parts + 1] = string.format('"%d":%d', k, v)
        if k >= 200 and k < 300 then ok = ok + v elseif k == 429 then r429 = r429 + v else other = other + v end
    end
    other = other + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format('RESULT {"statuses":{%s},"ok":%d,"r429":%d,"other":%d,"sent":%d,' ..
        '"p50_us":%d,"p99_us":%d,"max_us":%d,"duration_us":%d}\n',
        table.concat(parts, ","), ok, r429, other, sent, latency:percentile(50),
        latency:percentile(99), latency.max, summary.duration))
    io.write(string.format("SUMMARY %d %d %d %.3f %.3f %.3f\n", ok, r429, other,
        summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
