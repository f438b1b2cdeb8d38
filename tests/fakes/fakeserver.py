"""Start the project's fake servers (tests/fakes/*_fake.py) from scenario
tests and talk to their control endpoints.

    from fakeserver import FakeServer
    figi = FakeServer(env, "openfigi_fake.py", "--key", "K")
    env.write_conf('mapper: { openfigi_url = "%s"; };' % figi.url)
    ... figi.stats()["requests"] ... figi.control(mode="503") ...

A server is stopped by env.close() with the stages (it is in env.procs), or
by stop(); restart() brings it back on the same port (an outage that
refuses connections in between).
"""
import json
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class _Proc:
    """Looks like harness.Proc, so Env.close() kills it with the stages."""

    def __init__(self, name, p, log_path):
        self.name, self.p, self.log_path = name, p, log_path

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def wait(self, timeout):
        return self.p.wait(timeout=timeout)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class FakeServer:
    def __init__(self, env, script, *args, port=0):
        self.env, self.script, self.args = env, script, list(args)
        self.port = port
        self.proc = None
        self.start()

    def start(self):
        log_path = self.env.path("%s.%d.log" % (self.script, len(self.env.procs)))
        p = subprocess.Popen([sys.executable, os.path.join(HERE, self.script),
                              "--port", str(self.port)] + self.args,
                             stdout=subprocess.PIPE, stderr=open(log_path, "w"), text=True)
        line = p.stdout.readline()
        if not line.startswith("PORT "):
            p.kill()
            raise AssertionError("%s did not start: %r" % (self.script, line))
        self.port = int(line.split()[1])
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = _Proc(self.script, p, log_path)
        self.env.procs.append(self.proc)

    def stop(self):
        if self.proc is not None and self.proc.alive():
            self.proc.p.kill()
            self.proc.p.wait(10)

    def restart(self):
        self.stop()
        self.start()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            return json.loads(r.read())

    def stats(self):
        return self._call("GET", "/_stats")

    def control(self, **settings):
        return self._call("POST", "/_control", settings)
