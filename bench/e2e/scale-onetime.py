#!/usr/bin/env python3
"""Whole-process `confd -onetime -backend file` on the seed's template at growing sizes (issue 15).

    bench/e2e/scale-onetime.py CONFD_BINARY [RUNS] [SERVICES...]

For each size (default 250, 2,500, 10,000, 25,000, 100,000 and 250,000 services × 3 servers,
that is 1k to 1M keys) it writes the seed's key layout as YAML into a temporary directory, runs
confd RUNS times (default 5; 3 above 100,000 services) and prints one Markdown row: keys, YAML
size, median and minimum wall time, and the largest resident set measured by GNU time when it
is installed (`/usr/bin/time`, Debian package `time`; the resident set a Python parent reports
for its child includes the parent's own). Stdlib only.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(ROOT, "crates/confd/tests/data/seed")


def write_yaml(path, services):
    with open(path, "w") as f:
        f.write("service_sgin:\n  subdomain:\n")
        for i in range(services):
            f.write(f'    svc{i:06d}: "www.svc{i:06d}.example.com  api.svc{i:06d}.example.com"\n')
        f.write("  upstream:\n")
        for i in range(services):
            f.write(f"    svc{i:06d}:\n")
            for j in range(1, 4):
                f.write(f'      server{j}: "10.{j}.{i // 256 % 256}.{i % 256}:8080"\n')


def main():
    confd = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    sizes = [int(s) for s in sys.argv[3:]] or [250, 2500, 10000, 25000, 100000, 250000]
    gnu_time = shutil.which("time") and os.path.exists("/usr/bin/time")
    work = tempfile.mkdtemp(prefix="confd-scale-")
    try:
        confdir = os.path.join(work, "confdir")
        os.makedirs(os.path.join(confdir, "conf.d"))
        os.makedirs(os.path.join(confdir, "templates"))
        os.makedirs(os.path.join(work, "out"))
        shutil.copy(os.path.join(SEED, "seed-nginx.conf.tmpl"), os.path.join(confdir, "templates"))
        toml = open(os.path.join(SEED, "seed-nginx.toml")).read()
        toml = toml.replace("OUT/", os.path.join(work, "out") + "/")
        open(os.path.join(confdir, "conf.d", "seed-nginx.toml"), "w").write(toml)
        dest = os.path.join(work, "out", "nginx.conf")
        print("| services | keys | YAML | median | min | max RSS |")
        print("|---|---|---|---|---|---|")
        for services in sizes:
            data = os.path.join(work, f"services-{services}.yaml")
            write_yaml(data, services)
            args = [confd, "-onetime", "-backend", "file", "-file", data, "-confdir", confdir,
                    "-config-file", "/nonexistent", "-log-level", "error"]
            walls, rss = [], None
            for _ in range(runs if services <= 100000 else min(runs, 3)):
                if os.path.exists(dest):
                    os.remove(dest)
                cmd = ["/usr/bin/time", "-f", "%M"] + args if gnu_time else args
                t = time.perf_counter()
                done = subprocess.run(cmd, stderr=subprocess.PIPE, text=True)
                walls.append((time.perf_counter() - t) * 1e3)
                if done.returncode != 0:
                    sys.exit(f"confd failed on {services} services:\n{done.stderr}")
                if gnu_time:
                    kb = int(done.stderr.strip().splitlines()[-1])
                    rss = max(rss or 0, kb)
            size = os.path.getsize(data)
            rss_text = f"{rss / 1024:.1f} MiB" if rss else "–"
            print(f"| {services:,} | {services * 4:,} | {size / 1e6:.1f} MB | "
                  f"{statistics.median(walls):.1f} ms | {min(walls):.1f} ms | {rss_text} |")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
