#!/usr/bin/env python3
"""Instruction counts of one stage over ipc, as in the pipeline benchmark.

    python3 tests/bench/profile_stage.py STAGE [--trades N] [--bin DIR ...]
                                         [--keep DIR] [--no-valgrind]

STAGE is mapper, decider or executor.  The stage runs alone under
`valgrind --tool=callgrind` with the pipeline benchmark's configuration
(bench.py: warm cache, every rule on, the paper broker in dry run) and is
fed over its real ipc input by `bench_relay source` the messages the stage
before it really sends for the bench's trades (one in a hundred a CEO's):
the scraper's for the mapper, the real mapper's output for the decider,
the real decider's intents for the executor.  A `bench_relay sink` bound
where the stage's output connects takes what it sends.  Prints, for each
--bin directory (default: bin/), the stage's instructions in all and per
trade, and the callgrind file, which `callgrind_annotate` reads.  Several
--bin directories (a build of another commit, say) are measured on the
same input in turn: an A/B in instructions, which another process on the
machine does not disturb.  --no-valgrind runs the stage bare and prints its
CPU seconds instead (user and kernel, its ZeroMQ threads included).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the benchmark's fakes, trades and settings)

NEXT = {"mapper": "decider", "decider": "executor", "executor": None}


def run_filter(work, stage, jsonl_in, jsonl_out):
    """One stage on stdin/stdout: the records it would send on."""
    with open(jsonl_in, "rb") as fi, open(jsonl_out, "wb") as fo:
        r = subprocess.run([bench.binary(stage), "-c", work.conf, "--in", "-", "--out", "-",
                            "--tap", "", "--now", bench.NOW] if stage != "mapper" else
                           [bench.binary(stage), "-c", work.conf, "--in", "-", "--out", "-", "--tap", ""],
                           stdin=fi, stdout=fo, stderr=subprocess.PIPE,
                           env=work.env({"COATTAIL_OPENFIGI_KEY": bench.FIGI_KEY}), timeout=600)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (stage, r.stderr[-2000:].decode(errors="replace")))


def inputs(work, stage, n):
    """The .bin of messages the stage receives in the pipeline."""
    tp = work.path("trades.jsonl")
    bench.write_trades(tp, n)
    cur = tp
    for prev in ("mapper", "decider"):
        if prev == stage:
            break
        out = work.path("after_%s.jsonl" % prev)
        run_filter(work, prev, cur, out)
        cur = out
    binp = work.path("%s.in.bin" % stage)
    subprocess.run([bench.helper("bench_relay"), "encode", cur, binp], check=True)
    with open(cur, "rb") as f:
        count = sum(1 for _ in f)
    return binp, count


def measure(work, stage, bindir, binp, n, count, valgrind, tag):
    state = work.path("state_%s" % tag)
    if os.path.exists(state):
        subprocess.run(["rm", "-rf", state], check=True)
    subprocess.run(["cp", "-a", work.path("state_warm"), state], check=True)
    conf = work.path("profile_%s.conf" % tag)
    with open(work.conf) as f:
        text = f.read().replace('state_dir = "%s"' % work.state_dir, 'state_dir = "%s"' % state)
    with open(conf, "w") as f:
        f.write(text)
    os.chmod(conf, 0o600)
    out_ep = None
    sink = None
    nxt = NEXT[stage]
    if nxt is not None:
        out_ep = "ipc://" + work.path("run", nxt + ".in")
    else:
        out_ep = "ipc://" + work.path("run", "profile.sink")
    # the sink ends at the last message the stage sends for this input:
    # the decider's, the intent of the last trade (a qualifying sale)
    until = ["0", bench.intent_id("bench:%08d" % (n - 1))] if stage == "decider" else [str(count)]
    sink = subprocess.Popen([bench.helper("bench_relay"), "sink", out_ep] + until, stdout=subprocess.PIPE,
                            text=True)
    sink.stdout.readline()
    cg = work.path("callgrind.%s.%s.out" % (stage, tag))
    argv = [os.path.join(bindir, "coattail-" + stage), "-c", conf]
    if stage != "mapper":
        argv += ["--now", bench.NOW]
    if stage == "executor":
        argv += ["--out", out_ep]
    if valgrind:
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg] + argv
    logp = work.path("%s.%s.log" % (stage, tag))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(logp, "w"),
                         env=work.env({"COATTAIL_OPENFIGI_KEY": bench.FIGI_KEY}))
    in_path = work.path("run", stage + ".in")
    deadline = time.monotonic() + 60
    while not os.path.exists(in_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    subprocess.run([bench.helper("bench_relay"), "source", "ipc://" + in_path, binp], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        sink.communicate(timeout=3600)
    except subprocess.TimeoutExpired:
        sink.kill()
    # stop: the stage flushes and writes its totals
    with open("/proc/%d/stat" % p.pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    res_cpu = (int(st[11]) + int(st[12])) / bench.CLK
    res_sys = int(st[12]) / bench.CLK
    p.send_signal(signal.SIGTERM)
    p.wait(600)
    sink.kill()
    sink.wait()
    text = open(logp, errors="replace").read()
    tot = re.search(r"totals: in (\d+), out (\d+), dropped (\d+), errors (\d+)", text)
    res = {"bin": bindir, "totals": tot.group(0) if tot else "(no totals line)", "cpu_s": res_cpu, "sys_s": res_sys}
    if valgrind:
        with open(cg) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    res["instructions"] = int(line.split()[1])
        res["file"] = cg
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["mapper", "decider", "executor"])
    ap.add_argument("--trades", type=int, default=100000)
    ap.add_argument("--bin", action="append", help="a bin/ directory to measure (repeatable)")
    ap.add_argument("--keep", help="copy the callgrind files here")
    ap.add_argument("--no-valgrind", action="store_true", help="run bare: CPU seconds instead")
    a = ap.parse_args()
    bins = a.bin or [bench.BIN]
    work = bench.Work()
    figi = bench.FakeServer(work, "openfigi_fake.py", "--key", bench.FIGI_KEY)
    sec = bench.FakeServer(work, "sec_fake.py")
    try:
        bench.pipeline_conf(work, figi, sec)
        bench.warm_cache(work, figi)
        subprocess.run(["cp", "-a", work.state_dir, work.path("state_warm")], check=True)
        binp, count = inputs(work, a.stage, a.trades)
        print("profile: %s, %d trades -> %d messages in" % (a.stage, a.trades, count), flush=True)
        for i, b in enumerate(bins):
            r = measure(work, a.stage, os.path.abspath(b), binp, a.trades, count, not a.no_valgrind, "b%d" % i)
            ins = r.get("instructions")
            if a.no_valgrind:
                print("%s: %.2f CPU s (%.2f of it in the kernel), %.2f us per trade; %s" % (
                    b, r["cpu_s"], r["sys_s"], r["cpu_s"] * 1e6 / a.trades, r["totals"]), flush=True)
                continue
            print("%s: %s instructions, %s per trade; %s" % (
                b, "{:,}".format(ins) if ins else "?", "{:,.0f}".format(ins / a.trades) if ins else "?",
                r["totals"]), flush=True)
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                subprocess.run(["cp", r["file"], os.path.join(a.keep, os.path.basename(r["file"]))])
    finally:
        figi.stop() if hasattr(figi, "stop") else None
        sec.stop() if hasattr(sec, "stop") else None
        work.close()


if __name__ == "__main__":
    main()
