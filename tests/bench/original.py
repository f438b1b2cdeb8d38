#!/usr/bin/python3
"""The original method, for comparison: each page parsed by BeautifulSoup's
html.parser and its rows put into a pandas DataFrame, as the Python system
coattail replaces did.  Run with Debian's python3 (python3-bs4,
python3-pandas).

    original.py openinsider|finviz|form4 FILE...

Prints "docs N rows N seconds S" (the parse loop only, after the imports)
on stdout.  The whole-run figure of the benchmark is this process's wall
time on one document, imports and interpreter start included.
"""
import sys
import time
import warnings

from bs4 import BeautifulSoup
import pandas as pd


def text(el):
    return el.get_text(" ", strip=True) if el is not None else None


def openinsider(html):
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table", class_="tinytable")
    if table is None:
        return pd.DataFrame()
    head = [text(th) for th in table.find("thead").find_all("th")]
    rows = []
    for tr in table.find("tbody").find_all("tr"):
        cells = [text(td) for td in tr.find_all("td")]
        if len(cells) == len(head):
            rows.append(cells)
    df = pd.DataFrame(rows, columns=head)
    for col in ("Price", "Qty", "Owned", "Value"):
        key = [c for c in df.columns if c.startswith(col)]
        if key:
            df[key[0]] = pd.to_numeric(df[key[0]].str.replace(r"[$,+]", "", regex=True),
                                       errors="coerce")
    return df


def finviz(html):
    soup = BeautifulSoup(html, "html.parser")
    table = soup.find("table", id="insider-table")
    if table is None:
        return pd.DataFrame()
    head = [text(th) for th in table.find("thead").find_all("th")]
    rows = []
    for tr in table.find_all("tr", class_="fv-insider-row"):
        cells = [text(td) for td in tr.find_all("td")]
        if len(cells) == len(head):
            rows.append(cells)
    df = pd.DataFrame(rows, columns=head)
    for col in ("Cost", "#Shares", "Value ($)", "#Shares Total"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col].str.replace(",", "", regex=False), errors="coerce")
    return df


def form4(xml):
    soup = BeautifulSoup(xml, "html.parser")
    issuer = soup.find("issuer")
    ticker = text(issuer.find("issuertradingsymbol")) if issuer else None
    owner = text(soup.find("rptownername"))
    rows = []
    for t in soup.find_all("nonderivativetransaction"):
        def v(tag):
            el = t.find(tag)
            return text(el.find("value")) if el is not None and el.find("value") else None
        rows.append({"ticker": ticker, "owner": owner, "date": v("transactiondate"),
                     "code": text(t.find("transactioncode")),
                     "shares": v("transactionshares"), "price": v("transactionpricepershare"),
                     "after": v("sharesownedfollowingtransaction")})
    df = pd.DataFrame(rows)
    for col in ("shares", "price", "after"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


# Form 4 is XML; the original read it with html.parser too.
warnings.filterwarnings("ignore", module="bs4")

PARSERS = {"openinsider": openinsider, "finviz": finviz, "form4": form4}


def main():
    parse = PARSERS[sys.argv[1]]
    docs = rows = 0
    t0 = time.monotonic()
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8", errors="replace") as f:
            df = parse(f.read())
        docs += 1
        rows += len(df)
    print("docs %d rows %d seconds %.6f" % (docs, rows, time.monotonic() - t0))


if __name__ == "__main__":
    main()
