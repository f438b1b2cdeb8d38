"""Two hosts over tcp:// with CURVE: a decider on host A sends intents to an
executor on host B, each in its own network namespace (ip netns) joined by
a veth pair, so the records really cross an interface between two network
stacks.  Keys come from coattail-keygen; the executor admits the decider's
key (wire.curve_allow) and the decider knows the executor's
(wire.curve_servers).  A coattail-tap on host A watches host B's tap over
CURVE too.  A decider with a key the executor does not list is refused and
the refusal is logged with its key and address; a plain (CURVE-less)
decider gets nothing through either.

Needs root to create namespaces; skipped with the reason otherwise."""
import json
import os
import shutil
import signal
import stat
import subprocess
import time

from harness import SLOW, Proc, Skip, binary, dumps, run_tests, test, trade

OPEN_NOW = "2026-04-22T15:00:00Z"  # NYSE open (Wednesday 11:00 ET): paper fills
NET = "10.231.%d" % (os.getpid() % 200 + 20)
ADDR_A, ADDR_B = NET + ".1", NET + ".2"
EP_IN = "tcp://%s:5701" % ADDR_B
EP_TAP = "tcp://%s:5702" % ADDR_B


class Hosts:
    """Namespaces A and B with 10.231.N.1 and .2 on a veth pair."""

    def __init__(self):
        if os.geteuid() != 0:
            raise Skip("creating network namespaces needs root")
        if shutil.which("ip") is None:
            raise Skip("iproute2 (ip) is not installed")
        tag = os.getpid()
        self.a, self.b = "coattail-a-%d" % tag, "coattail-b-%d" % tag
        va, vb = "cta%d" % tag, "ctb%d" % tag
        cmds = [
            ["ip", "netns", "add", self.a],
            ["ip", "netns", "add", self.b],
            ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
            ["ip", "link", "set", va, "netns", self.a],
            ["ip", "link", "set", vb, "netns", self.b],
            ["ip", "-n", self.a, "addr", "add", ADDR_A + "/24", "dev", va],
            ["ip", "-n", self.b, "addr", "add", ADDR_B + "/24", "dev", vb],
            ["ip", "-n", self.a, "link", "set", va, "up"],
            ["ip", "-n", self.b, "link", "set", vb, "up"],
            ["ip", "-n", self.a, "link", "set", "lo", "up"],
            ["ip", "-n", self.b, "link", "set", "lo", "up"],
        ]
        for c in cmds:
            r = subprocess.run(c, capture_output=True, text=True)
            if r.returncode != 0:
                self.close()
                raise Skip("cannot build the two hosts (%s): %s" % (" ".join(c), r.stderr.strip()))
        # The link is up once A reaches B.
        deadline = time.monotonic() + 10
        while subprocess.run(["ip", "netns", "exec", self.a, "ping", "-c1", "-W1", ADDR_B],
                             capture_output=True).returncode != 0:
            if shutil.which("ping") is None or time.monotonic() > deadline:
                break
            time.sleep(0.1)

    def close(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def start_in(env, ns, conf, name, *args, stdin=None, stdout=None):
    """Start coattail-NAME inside namespace ns (ip netns exec replaces itself
    with the binary, so the pid is the stage's)."""
    log_path = env.path("%s.%s.%d.log" % (ns, name, len(env.procs)))
    p = subprocess.Popen(["ip", "netns", "exec", ns, binary(name), "-c", conf] + list(args),
                         stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=stdout if stdout is not None else subprocess.DEVNULL,
                         stderr=open(log_path, "w"), env=env.env())
    proc = Proc("%s@%s" % (name, ns), p, log_path)
    env.procs.append(proc)
    return proc


def keygen(env, name):
    """A key pair from coattail-keygen: (secret file, public key)."""
    path = env.path(name + ".key")
    r = subprocess.run([binary("keygen"), path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pub = r.stdout.strip()
    assert len(pub) == 40, pub
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert pub not in f.read()  # the file holds the secret, not the public key
    return path, pub


def host_conf(env, name, wire):
    """A config of its own per process: state, run dir and wire settings."""
    d = env.path(name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "coattail.conf")
    with open(path, "w") as f:
        f.write('state_dir = "%s/state";\nrun_dir = "%s/run";\nwire: { drain_ms = 2000; %s };\n'
                % (d, d, wire))
    os.chmod(path, 0o600)
    return path


def trades(first, n):
    """n qualifying CEO purchases (a sale would be blocked: no position)."""
    return "".join(dumps(trade(i, code="P", filed_at="2026-04-22T13:00:00Z",
                               trade_date="2026-04-20")) + "\n"
                   for i in range(first, first + n))


def orders(path):
    out = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "order":
                out.append(rec)
    return out


def run_decider(env, ns, conf, first, n):
    """A decider on host ns: trades on stdin, intents to the executor."""
    p = start_in(env, ns, conf, "decider", "--in", "-", "--out", EP_IN, "--tap", "",
                 "--now", OPEN_NOW, stdin=subprocess.PIPE)
    p.p.stdin.write(trades(first, n).encode())
    p.p.stdin.close()
    return p


@test
def test_two_hosts_over_curve_allowed_key_passes_strangers_are_refused(env):
    hosts = Hosts()
    try:
        ex_key, ex_pub = keygen(env, "executor")
        de_key, de_pub = keygen(env, "decider")
        st_key, st_pub = keygen(env, "stranger")
        servers = 'curve_servers = [ "%s %s", "%s %s" ];' % (EP_IN, ex_pub, EP_TAP, ex_pub)
        ex_conf = host_conf(env, "b", 'curve_secret_key_file = "%s"; curve_allow = [ "%s decider-a" ];'
                            % (ex_key, de_pub))
        de_conf = host_conf(env, "a", 'curve_secret_key_file = "%s"; %s' % (de_key, servers))
        st_conf = host_conf(env, "stranger", 'curve_secret_key_file = "%s"; %s' % (st_key, servers))
        plain_conf = host_conf(env, "plain", "")

        out_path = env.path("orders.jsonl")
        ex = start_in(env, hosts.b, ex_conf, "executor", "--in", EP_IN, "--out", "-",
                      "--tap", EP_TAP, "--now", OPEN_NOW, stdout=open(out_path, "w"))
        env.wait_for(lambda: "bound" in ex.log() or "CURVE on" in ex.log(), 10,
                     "the executor to bind")
        tap_path = env.path("tap.jsonl")
        start_in(env, hosts.a, de_conf, "tap", "--json", "--type", "order", EP_TAP,
                 stdout=open(tap_path, "w"))
        time.sleep(0.5 * SLOW)  # the tap's subscription crosses before orders do

        # The allowed decider: every intent crosses and is filled on paper.
        de = run_decider(env, hosts.a, de_conf, 1, 5)
        env.wait_for(lambda: len(orders(out_path)) == 5, 20, "5 orders from the allowed decider")
        assert de.wait(20 * SLOW) == 0, de.log()
        assert all(o["status"] == "filled" for o in orders(out_path)), orders(out_path)
        assert "CURVE client %s (decider-a) connected from %s" % (de_pub, ADDR_A) in ex.log(), \
            ex.log()
        env.wait_for(lambda: os.path.getsize(tap_path) > 0 and len(orders(tap_path)) == 5, 10,
                     "host B's tap to reach host A over CURVE")

        # A key the executor does not list: refused, logged with key and address.
        st = run_decider(env, hosts.a, st_conf, 100, 3)
        env.wait_for(lambda: "refused a connection from %s: client key %s" % (ADDR_A, st_pub)
                     in ex.log(), 10, "the executor to log the stranger's key")
        # A decider without CURVE: its handshake cannot even start.
        pl = run_decider(env, hosts.a, plain_conf, 200, 3)
        time.sleep(1.0 * SLOW)
        # Refused deciders keep their intents queued (a PUSH without a peer
        # waits); SIGTERM gives up after drain_ms.
        for p in (st, pl):
            p.signal(signal.SIGTERM)
            p.wait(20 * SLOW)
        assert "plain tcp" in pl.log(), pl.log()
        assert len(orders(out_path)) == 5, "a refused decider got an intent through: %s" % (
            orders(out_path)[5:],)
        for p in (ex,):
            assert p.alive(), p.log()
        # Secrets stay secret: no log line carries a secret key.
        for path in (ex_key, de_key, st_key):
            with open(path) as f:
                secret = f.read().strip()
            for p in env.procs:
                assert secret not in p.log(), "%s logged a secret key" % p.name
    finally:
        hosts.close()


@test
def test_curve_on_but_no_server_key_for_an_endpoint_refuses_to_start(env):
    key, _ = keygen(env, "lonely")
    conf = host_conf(env, "lonely", 'curve_secret_key_file = "%s";' % key)
    r = env.run("decider", "-c", conf, "--in", "-", "--out", "tcp://127.0.0.1:5799",
                "--tap", "", input="")
    assert r.returncode != 0
    assert "no server key" in r.stderr and "wire.curve_servers" in r.stderr, r.stderr
    # -n checks keys too: a malformed allow-list entry is a config error.
    bad = host_conf(env, "bad", 'curve_secret_key_file = "%s"; curve_allow = [ "%s" ];'
                    % (key, "~" * 40))  # '~' is not Z85
    r = env.run("executor", "-c", bad, "-n")
    assert r.returncode == 2 and "wire.curve_allow: entry 1" in r.stderr, r.stderr


@test
def test_keygen_never_overwrites_a_key_without_force(env):
    path, pub = keygen(env, "once")
    r = subprocess.run([binary("keygen"), path], capture_output=True, text=True)
    assert r.returncode == 1 and "--force" in r.stderr, r.stderr
    r = subprocess.run([binary("keygen"), "--force", path], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() != pub


run_tests()
