-- wrk: record a signal about one child, as a teacher would.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"observedAt":"2026-11-20T08:30:00Z","category":"behaviour_change",'
  .. '"source":"own_observation","facts":"Blauwe plek op de bovenarm.","direction":"raises_concern"}'
