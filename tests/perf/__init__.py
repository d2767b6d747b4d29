"""`make bench`: the inbound hot path, the inbox list and the realtime fanout, each measured
next to a floor taken in the same run (issue 6).

    make bench                                   # the issue's sizes; bench-results.json
    make bench BENCH_ARGS="--smoke"              # tiny sizes (what tests/test_bench_smoke.py runs)
    .venv/bin/python -m tests.perf --help        # sizes, rates, durations, --only PART

DATABASE_URL / REDIS_URL name the servers (the local ones by default); a database is created
for the run and dropped after it, and Redis database 13 is used. To see where the time goes:

    .venv/bin/pip install py-spy
    .venv/bin/py-spy record -r 250 -f raw -o inbound.folded -- \\
        .venv/bin/python -m tests.perf --only inbound

Modules: run (the command), environment (database, in-process app, server process, company
setup), drivers (the pipeline and the asyncpg floor), loads (closed and open loop), inbound,
inbox (COPY generator, HTTP timings, replayed SQL, EXPLAIN), fanout (websockets of one
company on 1 and 2 workers, next to a bare pub/sub-to-websocket process), statements (SQL
counted at the client), results (figures, table, JSON), stats. No module is named test_*:
pytest does not collect the harness itself."""
