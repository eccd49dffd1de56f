"""What the end-to-end benchmarks share: free loopback ports, waiting, and a one-member etcd
on loopback ports, written through its JSON gateway on one keep-alive connection (about 1 ms a
put, so a benchmark's timing is not a client's start-up cost). Stdlib only."""

import base64
import http.client
import json
import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, step=0.01):
    """Whether `pred()` came true within `timeout` seconds, checked every `step`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Gateway:
    """etcd's JSON gateway at 127.0.0.1:`port`, on one keep-alive connection."""

    def __init__(self, port, timeout=5):
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, path, body):
        self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path}: {resp.status} {data!r}")
        return json.loads(data)

    def reconnect(self):
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)


class Etcd:
    """etcd with its data and log under `work`; `stop()` kills it."""

    def __init__(self, work):
        self.client, peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.client}"
        self.log = open(os.path.join(work, "etcd.log"), "w")
        self.proc = subprocess.Popen(
            ["etcd", "--name", "b1", "--data-dir", os.path.join(work, "etcd"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"b1=http://127.0.0.1:{peer}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.conn = None
        if not wait_for(self._connect, 20):
            self.stop()
            raise SystemExit("etcd did not start")

    def _connect(self):
        try:
            self.conn = Gateway(self.client)
            self.range("/nothing")
            return True
        except OSError:
            self.conn = None
            return False

    def call(self, path, body):
        return self.conn.call(path, body)

    def put(self, key, value):
        self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def delete(self, key):
        self.call("/v3/kv/deleterange", {"key": b64(key)})

    def range(self, key):
        return self.call("/v3/kv/range", {"key": b64(key)})

    def stop(self):
        self.proc.kill()
        self.proc.wait()
