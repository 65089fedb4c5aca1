-- wrk: record a signal about one child, as a teacher would (the body is bench/run's BODY).
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY")
