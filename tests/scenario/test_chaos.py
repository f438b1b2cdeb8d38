"""The chaos test's short form (tests/chaos/chaos.py; `make chaos` runs the
long one): a generated day through the four real processes, a random stage
SIGKILLed every second or two and restarted, against a calm run of the same
day.  The broker must end with exactly the calm run's client order ids:
none missing, none duplicated, and no create ever sent for an order it
already held; every SQLite file passes integrity_check.

Sizes: 1,000 trades and 8 kills (two per stage); under COATTAIL_SAN=1
(sanitizer builds, 3-4x slower) 250 trades and 4 kills (one per stage), so
the test stays well inside its budget there too.
"""
import os
import sys

from harness import run_tests, test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "chaos"))
import chaos  # noqa: E402


@test
def test_random_sigkills_of_every_stage_lose_and_duplicate_no_order(env):
    n, kills, gap, release_s, timeout = chaos.sizes(long_form=False)
    calm, _ = chaos.calm_run(n, release_s, timeout)
    run = chaos.chaos_run(n, release_s, kills, gap, seed=20260422, timeout=timeout)
    figures, problems = chaos.compare(calm, run, n)
    assert len(calm) == n
    assert all(k >= 1 for k in run["kills"].values()), run["kills"]
    print("chaos: %s" % figures, flush=True)
    assert not problems, "; ".join(problems) + " " + repr(figures)


run_tests()
