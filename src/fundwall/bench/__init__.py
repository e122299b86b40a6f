"""The risk engine's performance benchmark (`fundwall bench`, `make bench`).

    from fundwall.bench.run import BenchOptions, run_benchmark
    result = run_benchmark(Path("var/demo/region-small-seed7"), BenchOptions(size="small"))
    result["replay_tx_per_s"], result["goals"], result["goals_met"]

Modules: `run` (the whole benchmark), `goals` (targets and verdicts), `replay` (throughput
and peak memory in a child process, `child`), `baseline` (pandas), `online` (one decision
in process), `rules` (the default pack alone), `console` (what the console adds to an API
call), `ingest` (validating a file), `http` with `servers` and `loadgen` (against `fundwall
serve`, loopback only), `report` (the rich table). See docs/benchmarks.md.

This package imports nothing itself: the load generator and the servers run in processes of
their own and should not pay for the engine's imports.
"""
