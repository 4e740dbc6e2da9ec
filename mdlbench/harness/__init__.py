"""The benchmark harness: how cells are planned (grid, suite), run and timed (runner, measure),
spread over processes or a cluster (executors), fingerprinted (env) and shown while they run
(progress). Everything above it (api, cli) only asks it for records."""
