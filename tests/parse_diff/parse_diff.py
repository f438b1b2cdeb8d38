#!/usr/bin/env python3
"""Differential check of two scraper builds on OpenInsider and FinViz pages:
thousands of generated and mutated pages, each parsed by both builds with
--source openinsider and again with --source finviz (so each parser also
meets the other site's pages), must give byte-identical trades on stdout
and the same log lines (the per-page summary with its skip reasons, or
the error) on stderr.

    python3 tests/parse_diff/parse_diff.py --base OLD_BIN [--new bin/coattail-scraper]
            [--pages 3000] [--seed 1] [--keep DIR]

OLD_BIN is a coattail-scraper built from the commit to compare with
(git worktree add /tmp/base main && make -C /tmp/base -j2; OLD_BIN is then
/tmp/base/bin/coattail-scraper).  Not part of `make test`: it needs that
second build.  Standard library only.  Exit 0 when every page agrees;
otherwise the differing pages are listed (and kept in --keep DIR).

Pages come from the project's fixtures and, when present, the shared real
captures (../shared/fixtures beside the checkout), grown to 100-row pages the way
tests/bench/bench.py grows them, then mutated: truncated anywhere, tags
dropped or doubled, tables nested in cells, entity soup, huge cells and
attributes, cells and columns removed, the page re-encoded (Latin-1,
UTF-16, stray invalid UTF-8, NUL bytes), comments, processing
instructions, DOCTYPEs and </html> in odd places, script and style in
cells, deep nesting around the 256-level limit, class and id games that
move which table is read.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
SHARED = os.environ.get("COATTAIL_SHARED_FIXTURES",
                        os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
NOW = "2026-07-01T12:00:00Z"
BATCH = 150  # pages per scraper process


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sources():
    """(name, bytes) of every OpenInsider and FinViz page to start from."""
    out = []
    for sub in ("openinsider", "finviz"):
        for d in (os.path.join(FIX, sub), os.path.join(SHARED, sub)):
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    if n.endswith(".html"):
                        out.append(("%s/%s" % (sub, n), read(os.path.join(d, n))))
    return out


def grow_rows(page, rows_wanted, R):
    """A page with its table rows cycled to rows_wanted (bench.py's way)."""
    rows = re.findall(rb"<tr[ >].*?</tr>", page, re.S)
    data = [r for r in rows if b"<td" in r]
    if len(data) < 2:
        return page
    first = page.index(data[0])
    last = page.rindex(data[-1]) + len(data[-1])
    out = []
    for k in range(rows_wanted):
        r = data[k % len(data)]
        r = re.sub(rb"(\d{18})/", lambda m: b"%018d/" % (int(m.group(1)) + k), r, count=1)
        out.append(r)
    return page[:first] + b"\n".join(out) + page[last:]


ENTITIES = [b"&amp;", b"&nbsp;", b"&lt;", b"&gt;", b"&quot;", b"&#39;", b"&#x263A;", b"&#128512;",
            b"&bogus;", b"&", b"&amp", b"&#0;", b"&#xD800;", b"&#x110000;", b"&nbsp", b"&#65;",
            b"&Delta;", b"&eacute;", b"&#x7f;", b"&#150;", b"&;", b"&#;", b"&#x;"]
JUNK = [b"<!-- c -->", b"<!--", b"-->", b"<?pi x?>", b"<!DOCTYPE html>",
        b"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">", b"</html>", b"</body>",
        b"<html>", b"<body>", b"<head>", b"</table>", b"<table>", b"</tr>", b"<tr>", b"</td>",
        b"<td>", b"<th>", b"</th>", b"<tbody>", b"</tbody>", b"<thead>", b"<tfoot>", b"<br>",
        b"<p>", b"</p>", b"<div>", b"</div>", b"<b>", b"</b>", b"<a>", b"</a>",
        b"<a href=\"/insider/X/123\">", b"<a href=\"http://www.sec.gov/Archives/edgar/data/1/"
        b"000111111126000001/x.xml\">", b"<script>var x='</td>';</script>",
        b"<style>td{}</style>", b"<script>", b"</script>", b"<title>T</title>", b"<h1>A - B - C</h1>",
        b"<select><option>x</select>", b"<textarea>a<b>c</textarea>", b"<img src=x>",
        b"<frameset>", b"<noscript>n</noscript>", b"<form>", b"<input value=1>", b"<center>",
        b"<font>", b"<li>", b"<ul>", b"<dl><dt>t<dd>d</dl>", b"<caption>c</caption>",
        b"<colgroup><col></colgroup>", b"<iframe>i</iframe>", b"<object>o</object>",
        b"<h1>", b"</h1>", b"<title>", b"</title>", b"\x00", b"\r", b"\t", b"\xc2\xa0",
        b"\xe2\x80\x8b", b"\xef\xbb\xbf", b"<meta charset=\"iso-8859-1\">",
        b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">"]
CLASSES = [b"tinytable", b"fv-insider-row", b"insider-row", b"insider-buy-row-1",
           b"insider-sale-row-2", b"insider-option-row", b"ic-banner", b"table-top",
           b"insider-trading-table", b"fullview-title", b"dummy", b"tinytable x",
           b"x\tinsider-row", b"insider-rowx", b"is-buy-1"]


def huge_text(R):
    parts = [b"word ", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"  ", b"\n",
             b"&amp;", b"\xc2\xa0", b"x" * 50, b"<b>b</b>", b"<br>"]
    n = R.choice([100, 500, 520, 600, 1100, 3000])
    out = b""
    while len(out) < n:
        out += R.choice(parts)
    return out


def mutate(page, R):
    """One random mutation of page (bytes)."""
    op = R.randrange(22)
    n = len(page)
    if n == 0:
        return page + R.choice(JUNK)
    at = R.randrange(n)
    tags = [m.start() for m in re.finditer(rb"<", page)]
    if op == 0:  # truncate
        return page[:at]
    if op == 1 and tags:  # drop a tag
        s = R.choice(tags)
        e = page.find(b">", s)
        return page[:s] + page[e + 1:] if e > 0 else page[:s]
    if op == 2 and tags:  # double a tag
        s = R.choice(tags)
        e = page.find(b">", s)
        return page[:e + 1] + page[s:e + 1] + page[e + 1:] if e > 0 else page
    if op == 3:  # junk anywhere
        return page[:at] + R.choice(JUNK) + page[at:]
    if op == 4:  # junk just inside a cell
        cells = [m.end() for m in re.finditer(rb"<t[dh][^>]*>", page)]
        if cells:
            c = R.choice(cells)
            return page[:c] + R.choice(JUNK) + page[c:]
        return page
    if op == 5:  # entity soup in text
        cells = [m.end() for m in re.finditer(rb"<td[^>]*>", page)] or [at]
        c = R.choice(cells)
        return page[:c] + b"".join(R.choice(ENTITIES) for _ in range(R.randrange(1, 6))) + page[c:]
    if op == 6:  # a huge cell
        cells = [m.end() for m in re.finditer(rb"<td[^>]*>", page)] or [at]
        c = R.choice(cells)
        return page[:c] + huge_text(R) + page[c:]
    if op == 7:  # a huge href or title
        m = list(re.finditer(rb"(href|title)=\"", page))
        if m:
            s = R.choice(m).end()
            return page[:s] + b"/insider/A/" + b"9" * R.choice([500, 1019, 1023, 1024, 1030, 4000]) + page[s:]
        return page
    if op == 8:  # remove a cell
        m = list(re.finditer(rb"<t[dh][^>]*>.*?</t[dh]>", page, re.S))
        if m:
            x = R.choice(m)
            return page[:x.start()] + page[x.end():]
        return page
    if op == 9:  # nest a table in a cell
        cells = [m.end() for m in re.finditer(rb"<td[^>]*>", page)]
        if cells:
            c = R.choice(cells)
            cls = R.choice(CLASSES)
            inner = (b"<table class=\"" + cls + b"\"><tr class=\"" + R.choice(CLASSES) +
                     b"\"><th>Ticker</th><td><a href=\"/Z\">Z</a></td></tr></table>")
            return page[:c] + inner + page[c:]
        return page
    if op == 10:  # class games
        m = list(re.finditer(rb"class=\"[^\"]*\"", page))
        if m:
            x = R.choice(m)
            return page[:x.start()] + b"class=\"" + R.choice(CLASSES) + b"\"" + page[x.end():]
        return page
    if op == 11:  # id games
        m = list(re.finditer(rb"<table", page))
        if m:
            x = R.choice(m).end()
            return page[:x] + R.choice([b" id=\"insider-table\"", b" id=insider-table",
                                        b" id=\"ticker\"", b" id"]) + page[x:]
        return page
    if op == 12:  # re-encode
        kind = R.randrange(4)
        if kind == 0:
            return page.decode("utf-8", "replace").encode("latin-1", "replace")
        if kind == 1:
            return b"\xff\xfe" + page.decode("utf-8", "replace").encode("utf-16-le")
        if kind == 2:
            return page[:at] + bytes(R.randrange(128, 256) for _ in range(R.randrange(1, 4))) + page[at:]
        return page[:at] + b"\x00" + page[at:]
    if op == 13:  # deep nesting
        depth = R.choice([250, 253, 254, 255, 256, 257, 260, 300])
        s = page.find(b"<body>")
        s = s + 6 if s >= 0 else 0
        return page[:s] + b"<div>" * depth + page[s:]
    if op == 14:  # deep nesting inside a cell
        cells = [m.end() for m in re.finditer(rb"<td[^>]*>", page)]
        if cells:
            c = R.choice(cells)
            return page[:c] + b"<span>" * R.choice([200, 240, 250, 260]) + b"x" + page[c:]
        return page
    if op == 15:  # content after </html>, with or without a DOCTYPE first
        s = page.find(b"</html>")
        if s < 0:
            return page + b"</html>" + page[-2000:]
        tail = page[s:] + (b"<table class=\"tinytable\"><tr><th>Ticker</th></tr><tr><td>x</td></tr></table>"
                           if R.random() < 0.5 else page[max(0, s - 3000):s])
        head = page[:s]
        if R.random() < 0.5:
            head = re.sub(rb"(?i)<!doctype[^>]*>", b"", head)
        if R.random() < 0.3:
            head = b"<!-- first -->" + head
        return head + tail
    if op == 16:  # swap two rows
        m = list(re.finditer(rb"<tr[ >].*?</tr>", page, re.S))
        if len(m) >= 2:
            a, b = sorted(R.sample(m, 2), key=lambda x: x.start())
            return (page[:a.start()] + page[b.start():b.end()] + page[a.end():b.start()] +
                    page[a.start():a.end()] + page[b.end():])
        return page
    if op == 17:  # a row duplicated many times
        m = list(re.finditer(rb"<tr[ >].*?</tr>", page, re.S))
        if m:
            x = R.choice(m)
            return page[:x.end()] + page[x.start():x.end()] * R.randrange(1, 40) + page[x.end():]
        return page
    if op == 18:  # whitespace and comments between and inside tags
        return re.sub(rb"></", lambda _: R.choice([b"> </", b"><!--x--></", b">\n\t</", b"></"]), page)
    if op == 19:  # cut a piece out
        e = min(n, at + R.randrange(1, 5000))
        return page[:at] + page[e:]
    if op == 20:  # header games
        return page.replace(R.choice([b"Insider&nbsp;Name", b"Trade&nbsp;Type", b"Ticker", b"Owner",
                                      b"SEC Form 4", b"Date", b"Qty", b"Value"]),
                            R.choice([b"", b"Ins", b"Industry", b"X", b"Insider Trading",
                                      b"<b>Qty</b>", b"Value ($)"]), 1)
    # 21: split a multi-byte character with a tag or entity
    m = list(re.finditer(rb"[\xc2-\xf4][\x80-\xbf]+", page))
    if m:
        x = R.choice(m)
        k = x.start() + 1
        return page[:k] + R.choice([b"<b>", b"<!--c-->", b"&amp;", b""]) + page[k:]
    return page


def corpus(n, seed, outdir):
    R = random.Random(seed)
    base = sources()
    if not base:
        sys.exit("parse_diff: no fixtures found")
    grown = []
    for name, page in base:
        grown.append((name, page))
        grown.append((name + "+100", grow_rows(page, 100, R)))
    paths = []
    # Past the 10,000-row cap (rows counted, not read), with the header
    # first or last.
    for name, page in base:
        if name in ("openinsider/listing17.html", "finviz/insider2026.html"):
            big = grow_rows(page, 10004, R)
            for k, p in enumerate((big, re.sub(rb"(?s)(<thead>.*?</thead>)(.*)(</table>)",
                                               lambda m: m.group(2) + m.group(1) + m.group(3),
                                               big, count=1))):
                path = os.path.join(outdir, "big%d-%s" % (k, os.path.basename(name)))
                with open(path, "wb") as f:
                    f.write(p)
                paths.append(path)
    for i in range(n):
        name, page = grown[i % len(grown)]
        k = 0 if i < len(grown) else R.choice([1, 1, 1, 2, 3, 5, 8])
        for _ in range(k):
            page = mutate(page, R)
        p = os.path.join(outdir, "p%05d.html" % i)
        with open(p, "wb") as f:
            f.write(page)
        paths.append(p)
    return paths


def run(binary, conf, source, files):
    r = subprocess.run([binary, "-c", conf, "--out", "-", "--tap", "", "--now", NOW,
                        "--source", source, "--file"] + files,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    err = [l for l in r.stderr.split(b"\n") if b" starting: " not in l]
    return r.returncode, r.stdout, b"\n".join(err)


def per_file(binary, conf, source, f):
    return run(binary, conf, source, [f])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the old coattail-scraper")
    ap.add_argument("--new", default=os.path.join(ROOT, "bin", "coattail-scraper"))
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="copy differing pages here")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="parse_diff.")
    try:
        conf = os.path.join(work, "conf")
        with open(conf, "w") as f:
            f.write('log_level = "info";\n')
        os.makedirs(os.path.join(work, "pages"))
        pages = corpus(a.pages, a.seed, os.path.join(work, "pages"))
        nbytes = sum(os.path.getsize(p) for p in pages)
        bad = []
        trades = errors = 0
        for source in ("openinsider", "finviz"):
            for i in range(0, len(pages), BATCH):
                chunk = pages[i:i + BATCH]
                old = run(a.base, conf, source, chunk)
                new = run(a.new, conf, source, chunk)
                trades += new[1].count(b"\n")
                errors += new[2].count(b": warning: ")
                if old == new:
                    continue
                for f in chunk:  # which page
                    if per_file(a.base, conf, source, f) != per_file(a.new, conf, source, f):
                        bad.append((source, f))
        print("parse_diff: %d pages (%.1f MB) x 2 parsers: %d trades, %d runs refused with an "
              "error, %d differences" % (len(pages), nbytes / 1e6, trades, errors, len(bad)))
        for source, f in bad[:50]:
            o = per_file(a.base, conf, source, f)
            n = per_file(a.new, conf, source, f)
            print("DIFF %s %s\n  old rc=%d %r\n  new rc=%d %r" % (
                source, os.path.basename(f), o[0], (o[1] + o[2])[-600:], n[0], (n[1] + n[2])[-600:]))
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                shutil.copy(f, os.path.join(a.keep, "%s-%s" % (source, os.path.basename(f))))
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
