"""The benchmark still runs: `tests/bench/bench.py --smoke` over a few
documents and a few thousand trades, through the real binaries and the
bench helpers, and every part reports what it measured.  No figure is a
pass/fail threshold here (speed lives in BENCHMARKS.md); only counts are
checked: every document parsed, every trade through, every intent decided,
every latency probe answered.
"""
import json
import os
import subprocess
import sys

from harness import BIN, ROOT, SAN, SLOW, Skip, run_tests, test

HELPERS = os.path.join(ROOT, "build", "san" if SAN else "rel", "bench")


@test
def test_bench_smoke_runs_every_part_and_counts_add_up(env):
    for h in ("bench_parse", "bench_relay"):
        if not os.access(os.path.join(HELPERS, h), os.X_OK):
            raise Skip("%s not built (make bench-bins)" % os.path.join(HELPERS, h))
    out = env.path("bench.json")
    envv = dict(os.environ, COATTAIL_BIN=BIN, COATTAIL_BENCH_BIN=HELPERS)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "bench.py"), "--smoke",
                        "--json", out], capture_output=True, text=True, errors="replace",
                       timeout=180 * SLOW, env=envv, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.load(open(out))
    parse = res["parse"]
    assert {p["kind"] for p in parse} >= {"form4", "openinsider", "finviz"}, parse
    for p in parse:
        assert p["rows"] > 0 and p["docs"] > 0 and p["floor_seconds"] > 0, p
        assert (p["tokenizer_ms_per_doc"] is not None) == (p["kind"] != "form4"), p
    pipe = res["pipeline"]
    totals = {k: v["totals"] for k, v in pipe["stages"].items() if v.get("totals")}
    assert totals["mapper"][0] == pipe["trades"], totals  # every trade into the mapper
    assert totals["executor"][0] == totals["decider"][1] > 0, totals  # every intent decided
    assert res["relay_floor"]["msgs"] == pipe["trades"], res["relay_floor"]
    for x in res["latency"] + res["latency_floor"]:
        assert x["matched"] == x["expected"] and x["unmatched"] == 0, x
    f = res["figi"]
    assert f["cold_requests"] == f["expected_cold"] and f["warm_requests"] == 0, f


run_tests()
