#!/usr/bin/env python3
"""Watch-mode benchmark against real etcd (issue 4), for confd-rs or the original confd.

    bench/e2e/watch-bench.py CONFD_BINARY [--label NAME] [--extra "-wait 0"] [--rss-services 10000] [--original]

Starts a one-member etcd on free loopback ports, loads the seed's key layout (200 services,
/service_sgin/subdomain/<svc> and /service_sgin/upstream/<svc>/server<j>), runs
`CONFD -watch -backend etcdv3` with the seed's template, `check_cmd = test -s {{.src}}` and a
`reload_cmd` that appends a timestamp to a file, then measures:

1. burst: 100 new services register (two keys each: 200 puts spread over ~1.4 s); reloads and
   full re-reads counted until 5 s after the last put;
2. latency: 20 isolated puts 2 s apart; time from the put's reply to the reload command starting;
3. rss: with --rss-services N (40,000 keys for 10,000), resident memory after the first render.

Puts go through etcd's JSON gateway on one keep-alive HTTP connection (about 1 ms each), so
the burst's timing is the benchmark's, not a client's start-up cost. Stdlib only.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Etcd, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(ROOT, "crates/confd/tests/data/seed")


def service_keys(i):
    s = f"svc{i:05d}"
    return [(f"/service_sgin/subdomain/{s}", f"www.{s}.example.com"),
            (f"/service_sgin/upstream/{s}/server1", f"10.1.{i // 256}.{i % 256}:8080")]


def load(etcd, services, servers=1):
    for i in range(services):
        s = f"svc{i:05d}"
        etcd.put(f"/service_sgin/subdomain/{s}", f"www.{s}.example.com  api.{s}.example.com")
        for j in range(1, servers + 1):
            etcd.put(f"/service_sgin/upstream/{s}/server{j}", f"10.{j}.{i // 256}.{i % 256}:8080")


class Confd:
    def __init__(self, binary, etcd, work, extra):
        confdir = os.path.join(work, "confdir")
        os.makedirs(os.path.join(confdir, "conf.d"))
        os.makedirs(os.path.join(confdir, "templates"))
        shutil.copy(os.path.join(SEED, "seed-nginx.conf.tmpl"), os.path.join(confdir, "templates"))
        self.dest = os.path.join(work, "nginx.conf")
        self.reloads = os.path.join(work, "reloads")
        toml = open(os.path.join(SEED, "seed-nginx.toml")).read()
        toml = toml.replace('dest = "OUT/nginx.conf"', f'dest = "{self.dest}"')
        toml = toml.replace('reload_cmd = "true"', f'reload_cmd = "date +%s.%N >> {self.reloads}"')
        open(os.path.join(confdir, "conf.d", "seed.toml"), "w").write(toml)
        self.log_path = os.path.join(work, "confd.log")
        self.proc = subprocess.Popen(
            [binary, "-watch", "-backend", "etcdv3", "-node", etcd.url, "-confdir", confdir,
             "-config-file", os.path.join(work, "none.toml"), "-log-level", "debug"] + extra,
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))

    def reload_times(self):
        try:
            return [float(x) for x in open(self.reloads).read().split()]
        except FileNotFoundError:
            return []

    def log_count(self, text):
        return open(self.log_path, errors="replace").read().count(text)

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


ORIGINAL = False


def count_reads(confd, binary):
    # confd-rs logs each full read of etcd ("Read N keys from etcd at revision R"); the
    # original logs "Retrieving keys from store" each time a resource fetches its keys.
    text = open(confd.log_path, errors="replace").read().splitlines()
    if ORIGINAL:
        return sum(1 for line in text if "Retrieving keys from store" in line)
    return sum(1 for line in text if "Read " in line and "keys from etcd" in line)


def run_watch(binary, extra, label):
    work = tempfile.mkdtemp(prefix="watch-bench-")
    etcd = Etcd(work)
    confd = None
    try:
        load(etcd, 200)
        confd = Confd(binary, etcd, work, extra)
        if not wait_for(lambda: len(confd.reload_times()) >= 1, 30):
            raise SystemExit(f"{label}: no initial render; see {confd.log_path}")
        time.sleep(1.0)
        reads_before, reloads_before = count_reads(confd, binary), len(confd.reload_times())
        start = time.time()
        for n, i in enumerate(range(1000, 1100)):
            for key, value in service_keys(i):
                etcd.put(key, value)
                target = start + (n * 2 + 1) * 0.007
                time.sleep(max(0.0, target - time.time()))
        burst = time.time() - start
        time.sleep(5.0)
        burst_reloads = len(confd.reload_times()) - reloads_before
        burst_reads = count_reads(confd, binary) - reads_before
        rendered = open(confd.dest).read().count("www.svc01099.example.com")
        latencies = []
        for k in range(20):
            before = len(confd.reload_times())
            etcd.put(f"/service_sgin/upstream/svc00007/lat{k}", f"10.9.9.{k}:80")
            t0 = time.time()
            if wait_for(lambda: len(confd.reload_times()) > before, 10):
                latencies.append((confd.reload_times()[before] - t0) * 1000)
            time.sleep(2.0)
        print(f"{label}: burst of 200 puts in {burst:.2f} s -> {burst_reloads} reloads, "
              f"{burst_reads} full reads; last service rendered: {bool(rendered)}")
        if latencies:
            print(f"{label}: isolated put -> reload_cmd started: median {statistics.median(latencies):.1f} ms, "
                  f"min {min(latencies):.1f}, max {max(latencies):.1f} ({len(latencies)}/20 seen)")
    finally:
        if confd:
            confd.stop()
        etcd.stop()
        shutil.rmtree(work, ignore_errors=True)


def run_rss(binary, extra, label, services):
    work = tempfile.mkdtemp(prefix="watch-rss-")
    etcd = Etcd(work)
    confd = None
    try:
        load(etcd, services, servers=3)
        confd = Confd(binary, etcd, work, extra)
        if not wait_for(lambda: len(confd.reload_times()) >= 1, 120):
            raise SystemExit(f"{label}: no initial render; see {confd.log_path}")
        time.sleep(2.0)
        print(f"{label}: {services} services ({services * 4} keys): RSS after first render "
              f"{confd.rss_kib() / 1024:.1f} MiB")
    finally:
        if confd:
            confd.stop()
        etcd.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--label", default=None)
    ap.add_argument("--extra", default="")
    ap.add_argument("--rss-services", type=int, default=0)
    ap.add_argument("--original", action="store_true", help="the binary is kelseyhightower/confd")
    args = ap.parse_args()
    global ORIGINAL
    ORIGINAL = args.original
    label = args.label or os.path.basename(args.binary)
    extra = args.extra.split()
    if args.rss_services:
        run_rss(args.binary, extra, label, args.rss_services)
    else:
        run_watch(args.binary, extra, label)


if __name__ == "__main__":
    sys.exit(main())
