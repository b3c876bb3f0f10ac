-- wrk script: POST the 4 KB chat body (bench/gateway/chat_4k.json) with the model from $MODEL.
local f = assert(io.open(os.getenv("BODY"), "r"))
local body = f:read("*a"):gsub('"model":"MODEL"', '"model":"' .. os.getenv("MODEL") .. '"')
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
