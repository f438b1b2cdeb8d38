#!/usr/bin/env python3
"""Run the libFuzzer targets (built by `make fuzz-build`).

    tests/fuzz/run.py --bin build/fuzz/fuzz --seconds 60 [target...]

For each target: first every saved regression input (tests/fuzz/regressions/
<target>/) is run once, then the fuzzer runs for --seconds with a working
corpus in build/fuzz/corpus/<target>, seeded from the project's fixtures.
A crash leaves its input in build/fuzz/artifacts/<target>/ and fails the run;
once fixed, the input belongs in tests/fuzz/regressions/<target>/.
Prints one line per target (executions, corpus size) and a final
"N passed, N failed" line.
"""
import argparse
import glob
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")

# Seed directories (project fixtures only) per target.
SEEDS = {
    "record_json": [],          # written from tests/fixtures/records/*.jsonl below
    "record_msgpack": [],       # likewise, encoded to msgpack
    "conf": [os.path.join(FIX, "conf"), os.path.join(FIX, "conf", "include"),
             os.path.join(ROOT, "deploy")],
    "form4": [os.path.join(FIX, "form4"), os.path.join(FIX, "sources", "edgar")],
    "sgml": [os.path.join(FIX, "sgml"), os.path.join(FIX, "sources", "edgar")],
    "atom": [os.path.join(FIX, "atom"), os.path.join(FIX, "sources", "edgar")],
    "openinsider": [os.path.join(FIX, "openinsider")],
    "finviz": [os.path.join(FIX, "finviz")],
    "htmlsax": [os.path.join(FIX, "openinsider"), os.path.join(FIX, "finviz")],
    "openfigi": [os.path.join(FIX, "openfigi"), os.path.join(FIX, "sec")],
    "broker": [os.path.join(FIX, "executor")],
    "edgar_index": [os.path.join(FIX, "sources", "edgar", "Archives", "edgar", "data", "3333333",
                                 "000333333326000012")],
    "title": [os.path.join(FIX, "decider")],
    "http_headers": [],         # written by http_seeds below
}


def mp_pack(v):
    """A tiny msgpack encoder, enough for record seeds."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(v, list):
        return b"\xdd" + struct.pack(">I", len(v)) + b"".join(mp_pack(x) for x in v)
    if isinstance(v, dict):
        return b"\xdf" + struct.pack(">I", len(v)) + b"".join(mp_pack(k) + mp_pack(x) for k, x in v.items())
    raise TypeError(type(v))


def record_seeds(dest, kind):
    os.makedirs(dest, exist_ok=True)
    n = 0
    for path in sorted(glob.glob(os.path.join(FIX, "records", "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                data = line.encode() if kind == "json" else mp_pack(json.loads(line))
                with open(os.path.join(dest, "seed-%03d" % n), "wb") as out:
                    out.write(data)
                n += 1
    return dest


def http_seeds(dest):
    """Server answers as fuzz_http_headers reads them: a cap byte, a chunk
    seed, then header lines, a blank line and the body."""
    os.makedirs(dest, exist_ok=True)
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    seeds = {
        "plain": b"\x05\x01" + ok + b"Content-Length: 11\r\n\r\n{\"a\": [1]}\n",
        "redirects": b"\x04\x02HTTP/1.1 301 Moved\r\nLocation: /b\r\nX-A: 1\r\n\r\n"
                     b"HTTP/1.1 302 Found\r\nLocation: /c\r\n\r\n"
                     b"HTTP/1.1 100 Continue\r\n\r\n" + ok + b"ETag: \"v1\"\r\n\r\nbody",
        "retry_after_delta": b"\x03\x03HTTP/1.1 429 Too Many\r\nRetry-After:  120 \r\n\r\n",
        "retry_after_date": b"\x03\x04HTTP/1.1 503 Busy\r\n"
                            b"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
        "retry_after_future": b"\x03\x05HTTP/2 503 \r\nretry-after: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n",
        "folded": b"\x03\x06" + ok + b"X-Long: a\r\n b\r\n\tc\r\nLast-Modified: Mon, 01 Jan 2024 "
                  b"00:00:00 GMT\r\n\r\nx",
        "many_headers": b"\x03\x07" + ok + b"".join(b"X-%d: %d\r\n" % (i, i) for i in range(510))
                        + b"\r\n",
        "gzip": b"\x03\x08" + ok + b"Content-Encoding: gzip\r\n\r\n"
                + gzip.compress(b"[" + b"1," * 3000 + b"1]"),
        "gzip_bomb": b"\x06\x09" + ok + b"Content-Encoding: gzip\r\n\r\n"
                     + gzip.compress(b"\0" * (4 << 20)),
        "deflate": b"\x02\x0a" + ok + b"Content-Encoding: deflate\r\n\r\n"
                   + zlib.compress(b"hello, " * 40),
        "over_cap": b"\x02\x0b" + ok + b"\r\n" + b"y" * 300,
    }
    for name, data in seeds.items():
        with open(os.path.join(dest, name), "wb") as out:
            out.write(data)
    return dest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "fuzz", "fuzz"))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--json", help="write per-target figures to this file")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()

    work = os.path.join(ROOT, "build", "fuzz")
    os.environ["LSAN_OPTIONS"] = "suppressions=%s" % os.path.join(ROOT, "tests", "fuzz", "lsan.supp")
    targets = args.targets or sorted(
        os.path.basename(p)[len("fuzz_"):] for p in glob.glob(os.path.join(args.bin, "fuzz_*")))
    passed = failed = 0
    figures = {}
    for t in targets:
        exe = os.path.join(args.bin, "fuzz_" + t)
        corpus = os.path.join(work, "corpus", t)
        artifacts = os.path.join(work, "artifacts", t) + "/"
        os.makedirs(corpus, exist_ok=True)
        os.makedirs(artifacts, exist_ok=True)
        seeds = [d for d in SEEDS.get(t, []) if os.path.isdir(d)]
        if t == "record_json":
            seeds.append(record_seeds(os.path.join(work, "seeds", t), "json"))
        if t == "record_msgpack":
            seeds.append(record_seeds(os.path.join(work, "seeds", t), "msgpack"))
        if t == "http_headers":
            seeds.append(http_seeds(os.path.join(work, "seeds", t)))
        ok = True
        regress = sorted(glob.glob(os.path.join(ROOT, "tests", "fuzz", "regressions", t, "*")))
        if regress:
            r = subprocess.run([exe, "-rss_limit_mb=2048", "-timeout=20"] + regress,
                               capture_output=True, text=True, errors="replace")
            if r.returncode != 0:
                ok = False
                print(r.stdout[-3000:] + r.stderr[-6000:])
        r = subprocess.run([exe, "-max_total_time=%d" % args.seconds, "-rss_limit_mb=2048",
                            "-timeout=20", "-max_len=1048576", "-print_final_stats=1",
                            "-artifact_prefix=" + artifacts, corpus] + seeds,
                           capture_output=True, text=True, errors="replace")
        out = r.stdout + r.stderr
        if r.returncode != 0:
            ok = False
            print(out[-8000:])
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        execs = int(m.group(1)) if m else 0
        ncorp = len(os.listdir(corpus))
        figures[t] = {"executions": execs, "corpus": ncorp, "regressions": len(regress),
                      "seconds": args.seconds, "ok": ok}
        print("fuzz %-16s %10d executions  %5d corpus  %3d regressions  %s"
              % (t, execs, ncorp, len(regress), "ok" if ok else "CRASH"), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
