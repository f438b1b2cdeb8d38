#!/usr/bin/env python3
"""coattail's test runner: every unit test binary, then every scenario test.

Unit tests are cmocka programs; their own summaries are read.  Scenario
tests are Python scripts (tests/scenario/test_*.py) that start the real
binaries and print one line per test: "PASS name", "FAIL name: why" or
"SKIP name: why".  The last line printed is the total:
"N passed, N failed, N skipped".
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(path, env, timeout):
    """Run one cmocka binary; returns (passed, failed, skipped, output)."""
    try:
        p = subprocess.run([path], cwd=ROOT, env=env, capture_output=True,
                           text=True, errors="replace", timeout=timeout)
        out = p.stdout + p.stderr
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 0, 1, 0, out + "\nTIMEOUT after %ds\n" % timeout
    passed = sum(int(n) for n in re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M))
    failed = sum(int(n) for n in re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M))
    skipped = sum(int(n) for n in re.findall(r"^\[  SKIPPED \] (\d+) test", out, re.M))
    if rc != 0 and failed == 0:
        failed = 1  # crashed, sanitizer report, or exit without a summary
    return passed, failed, skipped, out


def run_scenario(path, env, timeout):
    try:
        p = subprocess.run([sys.executable, path], cwd=ROOT, env=env,
                           capture_output=True, text=True, errors="replace",
                           timeout=timeout)
        out, rc = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 0, 1, 0, out + "\nTIMEOUT after %ds\n" % timeout
    passed = len(re.findall(r"^PASS ", out, re.M))
    failed = len(re.findall(r"^FAIL ", out, re.M))
    skipped = len(re.findall(r"^SKIP ", out, re.M))
    if rc != 0 and failed == 0:
        failed = 1
    if passed + failed + skipped == 0:
        failed = 1
    return passed, failed, skipped, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="bin")
    ap.add_argument("--unit", default="build/rel/tests")
    ap.add_argument("--san", action="store_true")
    ap.add_argument("-k", default="", help="only tests whose file name contains this")
    ap.add_argument("-v", action="store_true", help="print every test's output")
    args = ap.parse_args()

    env = dict(os.environ)
    env["COATTAIL_BIN"] = os.path.abspath(os.path.join(ROOT, args.bin))
    env.setdefault("COATTAIL_SHARED_FIXTURES", os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
    if args.san:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:halt_on_error=1"
        env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
        env["COATTAIL_SAN"] = "1"
    # Scenario tests and units may not depend on the caller's config or dirs.
    for k in list(env):
        if k.startswith("COATTAIL_") and k not in ("COATTAIL_BIN", "COATTAIL_SAN",
                                                   "COATTAIL_SHARED_FIXTURES"):
            del env[k]

    total = [0, 0, 0]
    failures = []
    unit_dir = os.path.join(ROOT, args.unit)
    units = sorted(f for f in os.listdir(unit_dir) if f.startswith("test_")) if os.path.isdir(unit_dir) else []
    scen_dir = os.path.join(ROOT, "tests", "scenario")
    scens = sorted(f for f in os.listdir(scen_dir) if f.startswith("test_") and f.endswith(".py"))
    timeout_scale = 3 if args.san else 1

    for kind, names in (("unit", units), ("scenario", scens)):
        for name in names:
            if args.k and args.k not in name:
                continue
            t0 = time.monotonic()
            if kind == "unit":
                p, f, s, out = run_unit(os.path.join(unit_dir, name), env, 300 * timeout_scale)
            else:
                p, f, s, out = run_scenario(os.path.join(scen_dir, name), env, 600 * timeout_scale)
            dt = time.monotonic() - t0
            total[0] += p
            total[1] += f
            total[2] += s
            status = "ok" if f == 0 else "FAILED"
            print("%-9s %-36s %4d passed %3d failed %3d skipped  %6.1fs  %s"
                  % (kind, name, p, f, s, dt, status), flush=True)
            for line in out.splitlines():
                if line.startswith("SKIP") or "SKIP:" in line:
                    print("          " + line)
            if f or args.v:
                failures.append((name, out))
    for name, out in failures:
        # The failing assertions first (a long log's tail may not reach
        # back to them), then the tail of everything.
        lines = out.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("FAIL ") or line.startswith("[  ERROR   ]"):
                print("\n===== %s: %s" % (name, "\n".join(lines[i:i + 12])[:3000]))
        print("\n===== output of %s =====\n%s" % (name, out[-20000:]))
    print("%d passed, %d failed, %d skipped" % tuple(total))
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
