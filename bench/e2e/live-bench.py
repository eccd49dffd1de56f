#!/usr/bin/env python3
"""Load through nginx while instances change: live membership vs the reload path (issue 12).

    bench/e2e/live-bench.py CONFD_BINARY [--mode dynamic|production|both] [--seconds 20]
                            [--every 0.2] [--connections 50]

For each mode, starts on loopback ports: a one-member etcd; a backend nginx answering on 12
ports; the front nginx and `confd -watch` on the shipped confdir (examples/seed/dynamic or
examples/seed/production, data centre bx). One service (www.example.com) starts with 4
instances. Then `wrk --latency` loads the front for --seconds while a churn thread adds or
removes one instance every --every seconds (etcd's JSON gateway), keeping 2 to 8 instances.
The same run without churn gives the baseline. Prints requests/s, p50/p99/max latency,
non-2xx and socket errors from wrk, the reloads confd ran, and the most nginx processes seen
(a reload starts new workers while the old ones drain).

Needs etcd, nginx (+ libnginx-mod-http-lua for dynamic), wrk. Stdlib only.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Etcd, free_port, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = "/service_sgin_bx"
POOL = 12


TEMP_PATHS = """
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;"""


class Nginx:
    def __init__(self, prefix, conf="conf/nginx.conf"):
        self.prefix = prefix
        self.proc = subprocess.Popen(
            ["nginx", "-p", prefix + "/", "-e", "logs/error.log", "-c", conf, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def processes(self):
        pid = self.proc.pid
        try:
            return len(open(f"/proc/{pid}/task/{pid}/children").read().split())
        except OSError:
            return 0

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def backends(work, ports):
    d = os.path.join(work, "backends")
    os.makedirs(os.path.join(d, "conf"))
    os.makedirs(os.path.join(d, "logs"))
    servers = "\n".join(
        f"    server {{ listen 127.0.0.1:{p}; location / {{ return 200 \"{p}\\n\"; }} }}"
        for p in ports)
    conf = f"""worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;{TEMP_PATHS}
    keepalive_requests 100000;
{servers}
}}
"""
    open(os.path.join(d, "conf/nginx.conf"), "w").write(conf)
    n = Nginx(d)
    if not wait_for(lambda: probe(ports[-1]), 10):
        raise SystemExit("backend nginx did not start")
    return n


def probe(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Front:
    def __init__(self, binary, mode, etcd, work):
        self.work = work
        self.prefix = os.path.join(work, "nginx")
        for sub in ["conf", "logs", "state"]:
            os.makedirs(os.path.join(self.prefix, sub))
        os.chmod(work, 0o755)
        os.mkdir(os.path.join(self.prefix, "run"), 0o700)
        shipped = os.path.join(ROOT, "examples/seed", mode)
        confdir = os.path.join(work, "confdir")
        shutil.copytree(os.path.join(shipped, "templates"), os.path.join(confdir, "templates"))
        if mode == "dynamic":
            shutil.copytree(os.path.join(shipped, "lua"), os.path.join(self.prefix, "lua"))
        self.reloads = os.path.join(work, "reloads")
        os.makedirs(os.path.join(confdir, "conf.d"))
        for name in os.listdir(os.path.join(shipped, "conf.d")):
            text = open(os.path.join(shipped, "conf.d", name)).read()
            text = adapt(text, self.prefix, self.reloads)
            open(os.path.join(confdir, "conf.d", name), "w").write(text)
        self.port = free_port()
        env = dict(os.environ, NGINX_PREFIX=self.prefix + "/", NGINX_PORT=str(self.port),
                   NGINX_ADDR="127.0.0.1")
        cmd = [binary, "-backend", "etcdv3", "-node", etcd.url, "-confdir", confdir,
               "-config-file", "/nonexistent"]
        subprocess.run(cmd + ["-onetime", "-sync-only"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.nginx = Nginx(self.prefix)
        if not wait_for(lambda: probe(self.port), 10):
            raise SystemExit("front nginx did not start")
        self.confd = subprocess.Popen(cmd + ["-watch"], env=env,
                                      stdout=open(os.path.join(work, "confd.log"), "w"),
                                      stderr=subprocess.STDOUT)

    def reload_count(self):
        try:
            return len(open(self.reloads).read().splitlines())
        except OSError:
            return 0

    def stop(self):
        self.confd.kill()
        self.confd.wait()
        self.nginx.stop()


def adapt(toml, prefix, reloads):
    out = []
    for line in toml.splitlines():
        if line.startswith("prefix = "):
            line = f'prefix = "{PREFIX}"'
        elif line.startswith("dest = ") and "membership" in line:
            line = f'dest = "{prefix}/state/membership.json"'
        elif line.startswith("dest = "):
            line = f'dest = "{prefix}/conf/nginx.conf"'
        elif line.startswith("push = "):
            line = f'push = "unix:{prefix}/run/push.sock"'
        elif line.startswith('reload_cmd = "'):
            line = f'reload_cmd = "echo r >> {reloads} && ' + line[len('reload_cmd = "'):]
        out.append(line)
    return "\n".join(out) + "\n"


def routed(port, want):
    """Whether requests to the front reach every backend port in `want`."""
    seen = set()
    for _ in range(4 * len(want)):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/", headers={"Host": "www.example.com"})
            seen.add(c.getresponse().read().decode().strip())
        except OSError:
            pass
    return seen >= {str(p) for p in want}


def churn(etcd, ports, every, stop, counter):
    """Adds or removes one instance every `every` seconds, keeping 2 to 8 of them."""
    active = list(ports[:4])
    spare = list(ports[4:])
    add = True
    while not stop.is_set():
        if add and spare:
            p = spare.pop(0)
            etcd.put(f"{PREFIX}/upstream/web/i{p}", f"127.0.0.1:{p}")
            active.append(p)
        elif len(active) > 2:
            p = active.pop(0)
            etcd.delete(f"{PREFIX}/upstream/web/i{p}")
            spare.append(p)
        if len(active) >= 8:
            add = False
        elif len(active) <= 2:
            add = True
        counter[0] += 1
        stop.wait(every)


def wrk(port, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H",
         "Host: www.example.com", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True).stdout
    def find(pattern):
        m = re.search(pattern, out)
        return m.group(1) if m else "0"
    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")),
        "p50": find(r"\s50%\s+(\S+)"),
        "p99": find(r"\s99%\s+(\S+)"),
        "max": find(r"Latency\s+\S+\s+\S+\s+(\S+)"),
        "non2xx": int(find(r"Non-2xx or 3xx responses:\s+(\d+)")),
        "errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    }


def run(binary, mode, args):
    work = tempfile.mkdtemp(prefix=f"live-bench-{mode}-")
    etcd = backend = front = None
    results = []
    try:
        etcd = Etcd(work)
        ports = [free_port() for _ in range(POOL)]
        backend = backends(work, ports)
        etcd.put(f"{PREFIX}/subdomain/web", "www.example.com")
        for p in ports[:4]:
            etcd.put(f"{PREFIX}/upstream/web/i{p}", f"127.0.0.1:{p}")
        front = Front(binary, mode, etcd, work)
        if not wait_for(lambda: routed(front.port, ports[:4]), 20):
            raise SystemExit(f"{mode}: the 4 instances are not routed; see {work}")
        for label, with_churn in [("steady", False), ("churn", True)]:
            stop, counter = threading.Event(), [0]
            reloads = front.reload_count()
            most = [front.nginx.processes()]
            watcher_stop = threading.Event()
            def watch():
                while not watcher_stop.wait(0.05):
                    most[0] = max(most[0], front.nginx.processes())
            watcher = threading.Thread(target=watch)
            watcher.start()
            churner = None
            if with_churn:
                churner = threading.Thread(target=churn, args=(etcd, ports, args.every, stop, counter))
                churner.start()
            r = wrk(front.port, args.seconds, args.connections)
            stop.set()
            if churner:
                churner.join()
            time.sleep(1.5)  # reloads still paced
            watcher_stop.set()
            watcher.join()
            r.update(label=label, changes=counter[0], reloads=front.reload_count() - reloads,
                     processes=most[0])
            results.append(r)
            # Back to the 4 starting instances for the next run.
            for p in ports:
                etcd.delete(f"{PREFIX}/upstream/web/i{p}")
            for p in ports[:4]:
                etcd.put(f"{PREFIX}/upstream/web/i{p}", f"127.0.0.1:{p}")
            wait_for(lambda: routed(front.port, ports[:4]), 20)
            time.sleep(2)
    finally:
        for x in [front, backend, etcd]:
            if x:
                x.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--mode", default="both", choices=["dynamic", "production", "both"])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--every", type=float, default=0.2)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    modes = ["dynamic", "production"] if args.mode == "both" else [args.mode]
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s; churn: one instance change every "
          f"{args.every}s")
    print("| mode | load | changes | reloads | requests/s | p50 | p99 | max | non-2xx | socket errors | nginx processes (most) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        for r in run(args.binary, mode, args):
            print(f"| {mode} | {r['label']} | {r['changes']} | {r['reloads']} | {r['rps']:.0f} | "
                  f"{r['p50']} | {r['p99']} | {r['max']} | {r['non2xx']} | {r['errors']} | "
                  f"{r['processes']} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
