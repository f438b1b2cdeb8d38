#!/usr/bin/env python3
"""A fake Alpaca Trading API v2 (paper), to APIS.md section 3, with fault
injection (broker_fake_base.py), for coattail's executor tests.

    python3 tests/fakes/alpaca_fake.py [--port 0] [--key-id K --secret S]
        [--faults 500_after=0.05,...] [--timeout-sleep 2.0] [--seed 1]

Fault kinds: broker_fake_base.py (500_before, 500_after, drop_after,
timeout_after, 429, dup422, slow_create; 500 and drop on lookups).
A slow_create whose create finds the client id taken by then (the client
sent it again meanwhile) is answered 422 and counted in dup_posts.

Prints "PORT <n>" first.  Trading endpoints:
POST /v2/orders, GET /v2/orders:by_client_order_id, GET /v2/orders/{id},
GET /v2/account, /v2/clock, /v2/positions, /v2/assets/{symbol}.  Decimals
are strings, ids UUIDs, errors {"code", "message"}.  client_order_id is
unique for ever (a reuse is 422 "client_order_id must be unique", even when
the first order is dead) and at most 48 characters.

POST /_set takes {"clock_open": bool, "next_open": "RFC3339",
"positions": {"SYM": "qty"}, "assets": {"SYM": {"tradable": bool,
"status": "active"|"inactive"}}, "fill_price": "12.50" (orders fill at once
at that price; absent: they stay "accepted"), "buying_power": "1000",
"trading_blocked": bool}.
"""
import os
import sys
import uuid
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_fake_base import GET_KINDS, POST_KINDS, FakeHandler, FakeServer, common_args, serve  # noqa: E402


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def err(code, message):
    return {"code": code, "message": message}


def positive_decimal(v):
    if not isinstance(v, str):
        return None
    try:
        x = float(v)
    except ValueError:
        return None
    return x if x > 0 else None


class AlpacaHandler(FakeHandler):
    def authorized(self):
        s = self.server
        if s.key_id is None:
            return True
        ok = (self.headers.get("APCA-API-KEY-ID") == s.key_id and
              self.headers.get("APCA-API-SECRET-KEY") == s.secret)
        if not ok:
            self.count("unauthorized")
            self.send_json(401, err(40110000, "request is not authorized"))
        return ok

    def do_GET(self):
        path, q = self.split()
        if self.control("GET", path):
            return
        if not self.authorized():
            return
        s = self.server
        if path == "/v2/orders:by_client_order_id":
            self.count("lookups")
            fault = s.faults.pick("get", GET_KINDS)
            if fault == "drop":
                return self.drop()
            if fault == "500":
                return self.send_json(500, err(50010000, "internal server error"))
            cid = (q.get("client_order_id") or [""])[0]
            with s.lock:
                o = s.by_client.get(cid)
                o = dict(o) if o else None
            if o is None:
                return self.send_json(404, err(40410000, "order not found for %s" % cid))
            return self.send_json(200, o)
        if path.startswith("/v2/orders/"):
            oid = path[len("/v2/orders/"):]
            with s.lock:
                o = next((dict(x) for x in s.orders if x["id"] == oid), None)
            if o is None:
                return self.send_json(404, err(40410000, "order not found"))
            return self.send_json(200, o)
        if path == "/v2/clock":
            with s.lock:
                is_open = s.settings.get("clock_open", True)
                nxt = s.settings.get("next_open", "2030-01-02T09:30:00-05:00")
            return self.send_json(200, {"timestamp": now_rfc3339(), "is_open": is_open,
                                        "next_open": nxt,
                                        "next_close": "2030-01-02T16:00:00-05:00"})
        if path == "/v2/account":
            with s.lock:
                bp = s.settings.get("buying_power", "1000000")
                blocked = s.settings.get("trading_blocked", False)
            return self.send_json(200, {
                "id": "e6fe16f3-64a4-4921-8928-cadf02f92f98", "account_number": "PA0000FAKE",
                "status": "ACTIVE", "currency": "USD", "cash": bp, "buying_power": bp,
                "non_marginable_buying_power": bp, "equity": bp, "last_equity": bp,
                "portfolio_value": bp, "multiplier": "1", "pattern_day_trader": False,
                "trading_blocked": blocked, "transfers_blocked": False,
                "account_blocked": False, "trade_suspended_by_user": False,
                "shorting_enabled": False, "daytrade_count": 0})
        if path == "/v2/positions":
            with s.lock:
                pos = dict(s.settings.get("positions", {}))
            return self.send_json(200, [
                {"asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)), "symbol": sym,
                 "exchange": "NASDAQ", "asset_class": "us_equity", "avg_entry_price": "10.0",
                 "qty": qty, "qty_available": qty, "side": "long", "market_value": "0",
                 "cost_basis": "0", "unrealized_pl": "0", "unrealized_plpc": "0",
                 "current_price": "10.0", "lastday_price": "10.0", "change_today": "0"}
                for sym, qty in sorted(pos.items())])
        if path.startswith("/v2/assets/"):
            sym = path[len("/v2/assets/"):]
            with s.lock:
                a = dict(s.settings.get("assets", {}).get(sym, {}))
            if a.get("missing"):
                return self.send_json(404, err(40410000, "asset not found for %s" % sym))
            return self.send_json(200, {
                "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)), "class": "us_equity",
                "exchange": "NASDAQ", "symbol": sym, "name": sym + " Inc.",
                "status": a.get("status", "active"), "tradable": a.get("tradable", True),
                "marginable": True, "shortable": True, "easy_to_borrow": True,
                "fractionable": True})
        self.send_json(404, err(40400000, "endpoint not found"))

    def do_POST(self):
        path, _ = self.split()
        if self.control("POST", path):
            return
        body = self.body_json()
        if not self.authorized():
            return
        if path != "/v2/orders":
            return self.send_json(404, err(40400000, "endpoint not found"))
        s = self.server
        self.count("posts")
        if not isinstance(body, dict):
            return self.send_json(400, err(40010000, "request body format is invalid"))
        cid = body.get("client_order_id")
        sym = body.get("symbol")
        side = body.get("side")
        qty, notional = body.get("qty"), body.get("notional")
        if not isinstance(sym, str) or not sym or side not in ("buy", "sell"):
            return self.send_json(422, err(40010001, "invalid symbol or side"))
        if body.get("type") != "market" or body.get("time_in_force") not in (
                "day", "gtc", "opg", "cls", "ioc", "fok"):
            return self.send_json(422, err(40010001, "invalid type or time_in_force"))
        if (qty is None) == (notional is None):
            return self.send_json(422, err(40010001, "qty or notional is required, not both"))
        if positive_decimal(qty if qty is not None else notional) is None:
            return self.send_json(422, err(40010001, "qty and notional must be decimal strings"))
        if not isinstance(cid, str) or not cid or len(cid) > 48:
            return self.send_json(422, err(40010001,
                                           "client_order_id must be no more than 48 characters"))
        with s.lock:
            exists = cid in s.by_client
        if exists:
            self.count("dup_posts")
            return self.send_json(422, err(40010001, "client_order_id must be unique"))
        with s.lock:
            a = s.settings.get("assets", {}).get(sym, {})
        if a.get("missing") or a.get("tradable") is False:
            return self.send_json(422, err(40010001, "asset %s is not tradable" % sym))
        fault = s.faults.pick("post", POST_KINDS)
        if fault == "500_before":
            return self.send_json(500, err(50010000, "internal server error"))
        if fault == "429":
            return self.send_json(429, err(42910000, "rate limit exceeded"),
                                  {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0"})
        if fault == "slow_create":
            self.late()  # the client times out and looks the order up meanwhile
        o = self.create(cid, sym, side, qty, notional, body.get("time_in_force"))
        if fault == "slow_create":
            self.count("late_creates")  # done (created, or found the id taken)
        if o is None:  # lost a race with a concurrent create of the same id
            self.count("dup_posts")
            return self.send_json(422, err(40010001, "client_order_id must be unique"))
        if fault == "500_after":
            return self.send_json(500, err(50010000, "internal server error"))
        if fault == "drop_after":
            return self.drop()
        if fault == "dup422":
            return self.send_json(422, err(40010001, "client_order_id must be unique"))
        if fault == "timeout_after":
            self.late()
        self.send_json(200, o)

    def create(self, cid, sym, side, qty, notional, tif):
        s = self.server
        t = now_rfc3339()
        o = {
            "id": str(uuid.uuid4()), "client_order_id": cid, "created_at": t,
            "updated_at": t, "submitted_at": t, "filled_at": None, "expired_at": None,
            "canceled_at": None, "failed_at": None, "replaced_at": None, "replaced_by": None,
            "replaces": None, "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, sym)),
            "symbol": sym, "asset_class": "us_equity", "notional": notional, "qty": qty,
            "filled_qty": "0", "filled_avg_price": None, "order_class": "simple",
            "order_type": "market", "type": "market", "side": side, "time_in_force": tif,
            "limit_price": None, "stop_price": None, "status": "accepted",
            "extended_hours": False, "legs": None, "trail_percent": None, "trail_price": None,
            "hwm": None,
        }
        with s.lock:
            if cid in s.by_client:
                return None
            price = s.settings.get("fill_price")
            if price is not None:
                o["status"] = "filled"
                o["filled_at"] = t
                o["filled_avg_price"] = price
                o["filled_qty"] = qty if qty is not None else "%.6f" % (
                    float(notional) / float(price))
            s.orders.append(o)
            s.by_client[cid] = o
            return dict(o)


def main():
    ap = common_args("fake Alpaca Trading API v2")
    ap.add_argument("--key-id")
    ap.add_argument("--secret")
    args = ap.parse_args()
    srv = FakeServer("alpaca", AlpacaHandler, args)
    srv.key_id, srv.secret = args.key_id, args.secret
    srv.by_client = {}
    serve(srv)


if __name__ == "__main__":
    main()
