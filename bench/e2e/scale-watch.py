#!/usr/bin/env python3
"""`confd -watch` on etcd v3 at scale (issue 15): the seed's template over N services × 3 servers.

    bench/e2e/scale-watch.py CONFD_BINARY [--services 100000] [--changes 20] [--extra "-wait 0"] [--original]

Starts a one-member etcd on free loopback ports and loads the seed's key layout (N services:
/service_sgin/subdomain/<svc> and /service_sgin/upstream/<svc>/server1..3, so 4·N keys) in
transactions of 128 puts through etcd's JSON gateway. Then starts `CONFD -watch -backend etcdv3`
with the seed's template and a `reload_cmd` that appends a timestamp, and measures:

1. start → first reload command: the first full read and render of every key;
2. resident memory (VmRSS, and VmHWM, the peak) after the first render, and again after the changes;
3. isolated changes: one new server of an existing service at a time, 2.5 s apart (longer than
   `-min-reload-interval`'s 1 s default); time from the put's reply to the reload command, with
   the binary's default batching (`-wait 200ms:1s`) unless --extra says otherwise;
4. that the last change is in dest.

Prints Markdown rows. Stdlib only.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Etcd, b64, wait_for  # noqa: E402
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "watch_bench", os.path.join(os.path.dirname(os.path.abspath(__file__)), "watch-bench.py"))
watch_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(watch_bench)


def keys_of(i):
    s = f"svc{i:06d}"
    yield f"/service_sgin/subdomain/{s}", f"www.{s}.example.com  api.{s}.example.com"
    for j in range(1, 4):
        yield f"/service_sgin/upstream/{s}/server{j}", f"10.{j}.{i // 256 % 256}.{i % 256}:8080"


def load(etcd, services):
    batch = []
    for i in range(services):
        for k, v in keys_of(i):
            batch.append({"requestPut": {"key": b64(k), "value": b64(v)}})
            if len(batch) == 128:
                etcd.call("/v3/kv/txn", {"success": batch})
                batch = []
    if batch:
        etcd.call("/v3/kv/txn", {"success": batch})


def status(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--services", type=int, default=100_000)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--extra", default="")
    ap.add_argument("--original", action="store_true", help="the binary is kelseyhightower/confd")
    args = ap.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    work = tempfile.mkdtemp(prefix="scale-watch-")
    etcd = Etcd(work)
    confd = None
    try:
        t = time.time()
        load(etcd, args.services)
        print(f"loaded {args.services * 4} keys in {time.time() - t:.1f} s")
        started = time.time()
        confd = watch_bench.Confd(args.binary, etcd, work, args.extra.split())
        if not wait_for(lambda: len(confd.reload_times()) >= 1, 600, step=0.005):
            raise SystemExit(f"no first render; see {confd.log_path}")
        first = confd.reload_times()[0] - started
        time.sleep(2.0)
        rss_first, hwm_first = status(confd.proc.pid, "VmRSS"), status(confd.proc.pid, "VmHWM")
        latencies = []
        for k in range(args.changes):
            before = len(confd.reload_times())
            svc = f"svc{(k * 7919) % args.services:06d}"
            etcd.put(f"/service_sgin/upstream/{svc}/extra{k}", f"10.9.9.{k % 256}:80")
            t0 = time.time()
            if wait_for(lambda: len(confd.reload_times()) > before, 30, step=0.002):
                latencies.append((confd.reload_times()[before] - t0) * 1000)
            time.sleep(2.5)
        rss_end, hwm_end = status(confd.proc.pid, "VmRSS"), status(confd.proc.pid, "VmHWM")
        last = f"10.9.9.{(args.changes - 1) % 256}:80"
        in_dest = last in open(confd.dest).read()
        print(f"| services (keys) | start → first reload | RSS after first render (peak) "
              f"| isolated change → reload: median, min, max | RSS after {args.changes} changes (peak) | last change in dest |")
        print("|---|---|---|---|---|---|")
        lat = (f"{statistics.median(latencies):.0f} ms, {min(latencies):.0f}, {max(latencies):.0f} "
               f"({len(latencies)}/{args.changes})" if latencies else "none seen")
        print(f"| {args.services:,} ({args.services * 4:,}) | {first:.2f} s | {rss_first:.0f} MiB ({hwm_first:.0f}) "
              f"| {lat} | {rss_end:.0f} MiB ({hwm_end:.0f}) | {in_dest} |")
    finally:
        if confd:
            confd.stop()
        etcd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
