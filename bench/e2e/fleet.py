#!/usr/bin/env python3
"""Fleet benchmark (issue 15): many `confd -watch` processes against one 3-member etcd cluster.

    bench/e2e/fleet.py CONFD_BINARY [--confd 100] [--services 1000] [--registrations 20]
        [--mode direct|proxy|both] [--wait QUIET:MAX] [--original ORIGINAL_CONFD] [--keep]

Starts a real 3-member etcd cluster on free loopback ports (data under a temporary work
directory), loads the seed's key layout (--services services × 3 servers:
/service_sgin/subdomain/<svc> and /service_sgin/upstream/<svc>/server<j>), then starts --confd
`CONFD -watch -backend etcdv3` processes, each with its own confdir (the seed's template), its
own dest and a `reload_cmd` that appends `date +%s.%N` to its own marker file, and measures:

1. fleet start: from launching the first confd to every dest rendered and reloaded once;
2. registrations: --registrations new services, one at a time, each one etcd transaction of
   its 4 keys (one revision); latency per confd = its marker's timestamp − the wall time just
   before the request; all registrations × confd latencies give p50, p99 and max. The next
   registration waits 2 s after the previous one and 1.5 s after the fleet caught up, so
   `-min-reload-interval` (1 s by default in confd-rs) stays out of the latency. A confd that
   has not reloaded with the new service within 30 s counts as a laggard and fails the run;
3. etcd's side: CPU seconds (utime+stime) per member over the fleet start and over the
   registrations, resident memory at the end, watchers and watch streams from /metrics;
4. the fleet's total CPU and resident memory, and whether all dest files are byte-identical
   at the end (they must be, and contain every registered service).

--mode proxy runs the same fleet against Debian's `etcd grpc-proxy` (which coalesces identical
watches) in front of the cluster; --mode both (the default) runs both, each on a fresh cluster,
side by side. --original runs the same with kelseyhightower/confd as extra columns (it has no
-wait, so --wait applies to CONFD_BINARY only). Every process runs in its own session and is
killed on exit, failure or Ctrl-C; each confd's stderr is kept in the work directory and
grepped for ERROR before the directory is removed (--keep keeps it). Output: Markdown rows on
stdout, progress on stderr; the exit status is 1 when a run failed. Stdlib only; etcd 3.4's
`etcd` and `etcdctl` on PATH.
"""

import argparse
import hashlib
import http.client
import math
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Gateway as JsonGateway, b64, free_port, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(ROOT, "crates/confd/tests/data/seed")
CLK = os.sysconf("SC_CLK_TCK")
WAIT_DEFAULT = "200ms:1s"


class Failed(Exception):
    """A run that cannot go on; the next run still does."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def service_keys(i, servers=3):
    s = f"svc{i:05d}"
    keys = [(f"/service_sgin/subdomain/{s}", f"www.{s}.example.com  api.{s}.example.com")]
    for j in range(1, servers + 1):
        keys.append((f"/service_sgin/upstream/{s}/server{j}", f"10.{j}.{i // 256 % 256}.{i % 256}:8080"))
    return keys


def cpu_seconds(pid):
    """utime+stime of a live process, in seconds (None once it is gone)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def metrics(host_port, path="/metrics"):
    """Prometheus text from `host_port`, summed over label sets: {name: value}."""
    out = {}
    try:
        conn = http.client.HTTPConnection(*host_port, timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        conn.close()
        if resp.status != 200:
            return out
    except OSError:
        return out
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0]
        try:
            out[name] = out.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return out


def spawn(args, log_path):
    with open(log_path, "w") as f:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill(proc):
    if proc and proc.poll() is None:
        proc.kill()
    if proc:
        proc.wait()


class Gateway(JsonGateway):
    """benchlib's gateway, with the calls the fleet makes."""

    def __init__(self, port):
        super().__init__(port, timeout=10)

    def txn(self, pairs):
        """All `pairs` put in one transaction: one revision."""
        return self.call("/v3/kv/txn", {"success": [
            {"request_put": {"key": b64(k), "value": b64(v)}} for k, v in pairs]})

    def ok(self):
        try:
            self.call("/v3/kv/range", {"key": b64("/nothing")})
            return True
        except (OSError, RuntimeError, http.client.HTTPException):
            self.reconnect()
            return False


class Cluster:
    """A 3-member etcd cluster on loopback ports, data and logs under `work`."""

    def __init__(self, work, size=3):
        self.members = []
        ports = [(free_port(), free_port()) for _ in range(size)]
        initial = ",".join(f"m{n + 1}=http://127.0.0.1:{peer}" for n, (_, peer) in enumerate(ports))
        for n, (client, peer) in enumerate(ports):
            name, url = f"m{n + 1}", f"http://127.0.0.1:{client}"
            proc = spawn(["etcd", "--name", name, "--data-dir", os.path.join(work, f"etcd-{name}"),
                          "--listen-client-urls", url, "--advertise-client-urls", url,
                          "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-cluster", initial, "--initial-cluster-token", "fleet",
                          "--initial-cluster-state", "new"],
                         os.path.join(work, f"etcd-{name}.log"))
            self.members.append({"name": name, "port": client, "url": url, "proc": proc})
        self.urls = [m["url"] for m in self.members]
        gws = [Gateway(m["port"]) for m in self.members]
        try:
            if not wait_for(lambda: all(g.ok() for g in gws), 30, 0.1):
                raise Failed("the etcd cluster did not come up; see etcd-m*.log in the work dir")
        except BaseException:
            self.stop()
            raise
        self.gw = gws[0]

    def pids(self):
        return [m["proc"].pid for m in self.members]

    def stop(self):
        for m in self.members:
            kill(m["proc"])


class Proxy:
    """`etcd grpc-proxy start` in front of the cluster, its own metrics on --metrics-addr."""

    def __init__(self, work, cluster):
        self.port, self.mport = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = spawn(["etcd", "grpc-proxy", "start", "--endpoints=" + ",".join(cluster.urls),
                           f"--listen-addr=127.0.0.1:{self.port}",
                           # what its MemberList answers (the default is 127.0.0.1:23790)
                           f"--advertise-client-url=127.0.0.1:{self.port}",
                           f"--metrics-addr=http://127.0.0.1:{self.mport}",
                           "--data-dir=" + os.path.join(work, "proxy")],
                          os.path.join(work, "proxy.log"))
        try:
            if not wait_for(lambda: "etcd_grpc_proxy_cache_keys_total" in self.metrics()
                            or self.proc.poll() is not None, 30, 0.1) or self.proc.poll() is not None:
                raise Failed("etcd grpc-proxy did not start; see proxy.log in the work dir")
        except BaseException:
            self.stop()
            raise

    def metrics(self):
        return metrics(("127.0.0.1", self.mport))

    def stop(self):
        kill(self.proc)


class Confd:
    def __init__(self, binary, nodes, work, n, extra):
        self.dir = os.path.join(work, f"confd-{n:03d}")
        confdir = os.path.join(self.dir, "confdir")
        os.makedirs(os.path.join(confdir, "conf.d"))
        os.makedirs(os.path.join(confdir, "templates"))
        shutil.copy(os.path.join(SEED, "seed-nginx.conf.tmpl"), os.path.join(confdir, "templates"))
        self.dest = os.path.join(self.dir, "nginx.conf")
        self.marker = os.path.join(self.dir, "marker")
        toml = open(os.path.join(SEED, "seed-nginx.toml")).read()
        toml = toml.replace('dest = "OUT/nginx.conf"', f'dest = "{self.dest}"')
        toml = re.sub(r"(?m)^check_cmd = .*\n", "", toml)
        toml = toml.replace('reload_cmd = "true"', f'reload_cmd = "date +%s.%N >> {self.marker}"')
        assert self.dest in toml and self.marker in toml and not re.search(r"(?m)^check_cmd", toml)
        open(os.path.join(confdir, "conf.d", "seed-nginx.toml"), "w").write(toml)
        self.log_path = os.path.join(self.dir, "stderr.log")
        args = [binary, "-backend", "etcdv3"]
        for node in nodes:
            args += ["-node", node]
        args += ["-confdir", confdir, "-config-file", os.path.join(self.dir, "none.toml"),
                 "-watch", "-log-level", "warning"] + extra
        self.proc = spawn(args, self.log_path)
        self.first = None  # timestamp of the first reload

    def marker_size(self):
        try:
            return os.stat(self.marker).st_size
        except FileNotFoundError:
            return 0

    def reload_times(self):
        try:
            text = open(self.marker).read()
        except FileNotFoundError:
            return []
        return [float(x) for x in text[:text.rfind("\n") + 1].split()]

    def rendered(self):
        if self.first is None and self.marker_size() and os.path.exists(self.dest):
            times = self.reload_times()
            if times:
                self.first = times[0]
        return self.first is not None

    def dest_bytes(self):
        try:
            return open(self.dest, "rb").read()
        except FileNotFoundError:
            return b""

    def log_lines(self, level):
        return [line for line in open(self.log_path, errors="replace") if level in line]


def pct(values, p):
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def cpu_sum(pids):
    return sum(cpu_seconds(p) or 0.0 for p in pids)


def run(label, binary, original, mode, a):
    """One fleet on a fresh cluster; returns {row: cell}."""
    work = tempfile.mkdtemp(prefix="confd-fleet-")
    log(f"== {label}: work dir {work}")
    cluster = proxy = None
    fleet = []
    res = {"failures": []}
    fail = res["failures"].append
    try:
        cluster = Cluster(work)
        t = time.time()
        per_txn = 32  # 4 puts a service, etcd's default --max-txn-ops is 128
        for first in range(0, a.services, per_txn):
            cluster.gw.txn([kv for i in range(first, min(first + per_txn, a.services))
                            for kv in service_keys(i)])
        log(f"{label}: loaded {a.services * 4} keys in {time.time() - t:.1f} s")
        if mode == "proxy":
            proxy = Proxy(work, cluster)
        nodes = [proxy.url] if proxy else cluster.urls
        extra = [] if original or a.wait is None else ["-wait", a.wait]
        etcd_pids = cluster.pids()
        proxy_pid = [proxy.proc.pid] if proxy else []

        def watches():
            out = []
            for m in cluster.members:
                mm = metrics(("127.0.0.1", m["port"]))
                out.append(f"{mm.get('etcd_debugging_mvcc_watcher_total', 0):.0f}/"
                           f"{mm.get('etcd_debugging_mvcc_watch_stream_total', 0):.0f}")
            return " · ".join(out)
        res["watches_before"] = watches()

        # 1. fleet start
        e0, p0 = [cpu_seconds(p) or 0.0 for p in etcd_pids], cpu_sum(proxy_pid)
        t_launch = time.time()
        for n in range(a.confd):
            fleet.append(Confd(binary, nodes, work, n, extra))
        pids = [c.proc.pid for c in fleet]

        def all_rendered():
            dead = [c for c in fleet if c.proc.poll() is not None]
            if dead:
                raise Failed(f"{label}: confd exited ({dead[0].proc.returncode}); "
                             f"see {dead[0].log_path}:\n" + open(dead[0].log_path).read()[-2000:])
            return all(c.rendered() for c in fleet)
        start_timeout = 60 + a.confd
        wait_for(all_rendered, start_timeout, 0.05)
        firsts = [c.first - t_launch for c in fleet if c.rendered()]
        e1, p1, f1 = [cpu_seconds(p) or 0.0 for p in etcd_pids], cpu_sum(proxy_pid), cpu_sum(pids)
        if len(firsts) == a.confd:
            res["start"] = f"{max(firsts):.2f} s (median {statistics.median(firsts):.2f} s)"
        else:  # measured all the same: a registration may bring them up
            missing = a.confd - len(firsts)
            res["start"] = f"{missing} never rendered in {start_timeout} s"
            fail(f"{missing} confd never rendered")
            log(f"{label}: {missing} of {a.confd} confd did not render within {start_timeout} s; going on")
            firsts = firsts or [float("nan")]
        res["etcd_cpu_start"] = f"{sum(e1) - sum(e0):.2f} s"
        res["fleet_cpu_start"] = f"{f1:.2f} s"
        res["proxy_cpu_start"] = f"{p1 - p0:.2f} s" if proxy else "–"
        log(f"{label}: {sum(c.rendered() for c in fleet)} confd rendered; "
            f"last {max(firsts):.2f} s after launch")
        time.sleep(3.0)

        # 2. registrations
        e2, p2, f2 = [cpu_seconds(p) or 0.0 for p in etcd_pids], cpu_sum(proxy_pid), cpu_sum(pids)
        t_reg = time.time()
        lat, slowest, laggards = [], [], 0
        prev_t0, ready_at = 0.0, time.time()
        for k in range(a.registrations):
            i = a.services + k
            time.sleep(max(0.0, max(prev_t0 + a.spacing, ready_at + 1.5) - time.time()))
            name = f"www.svc{i:05d}.example.com".encode()
            before = [len(c.reload_times()) for c in fleet]
            sizes = [c.marker_size() for c in fleet]
            t0 = time.time()
            cluster.gw.txn(service_keys(i))
            prev_t0 = t0
            pending, this = set(range(a.confd)), []
            while pending and time.time() < t0 + a.timeout:
                time.sleep(0.02)
                for j in list(pending):
                    c = fleet[j]
                    size = c.marker_size()
                    if size == sizes[j]:
                        continue
                    sizes[j] = size
                    times = c.reload_times()
                    if len(times) <= before[j]:
                        continue
                    if name in c.dest_bytes():
                        this.append((times[before[j]] - t0) * 1000)
                        pending.discard(j)
                    else:  # a reload without the new service: wait for the next one
                        before[j] = len(times)
            ready_at = time.time()
            lat += this
            if this:
                slowest.append(max(this))
            if pending:
                laggards += len(pending)
                log(f"{label}: registration {k + 1}: {len(pending)} confd not caught up within "
                    f"{a.timeout:.0f} s: {sorted(pending)[:10]}")
            log(f"{label}: registration {k + 1}/{a.registrations}: {len(this)}/{a.confd} reloaded, "
                f"slowest {max(this) if this else float('nan'):.0f} ms")
        e3, p3, f3 = [cpu_seconds(p) or 0.0 for p in etcd_pids], cpu_sum(proxy_pid), cpu_sum(pids)
        phase = time.time() - t_reg
        if lat:
            res["p50"], res["p99"], res["max"] = (f"{statistics.median(lat):.0f} ms",
                                                  f"{pct(lat, 99):.0f} ms", f"{max(lat):.0f} ms")
            res["last"] = f"{statistics.median(slowest):.0f} ms"
        res["laggards"] = str(laggards)
        if laggards:
            fail(f"{laggards} laggard reloads")
        res["phase"] = f"{phase:.1f} s"
        per = [b - a_ for a_, b in zip(e2, e3)]
        res["etcd_cpu"] = f"{sum(per):.2f} s (" + " / ".join(f"{x:.2f}" for x in per) + ")"
        res["etcd_rss"] = " / ".join(f"{rss_kib(p) / 1024:.0f}" for p in etcd_pids) + " MiB"
        res["watches"] = watches()
        res["leader"] = " · ".join(
            f"{metrics(('127.0.0.1', m['port'])).get('etcd_server_leader_changes_seen_total', 0):.0f}"
            for m in cluster.members)
        res["slow"] = " · ".join(
            f"{metrics(('127.0.0.1', m['port'])).get('etcd_debugging_mvcc_slow_watcher_total', 0):.0f}"
            for m in cluster.members)
        if proxy:
            pm = proxy.metrics()
            res["proxy_cpu"] = f"{p3 - p2:.2f} s"
            res["proxy_rss"] = f"{rss_kib(proxy.proc.pid) / 1024:.0f} MiB"
            nan = float("nan")
            res["coalescing"] = (
                f"{pm.get('etcd_grpc_proxy_watchers_coalescing_total', nan):.0f} watchers / "
                f"{pm.get('etcd_grpc_proxy_events_coalescing_total', nan):.0f} events")
        else:
            res["proxy_cpu"] = res["proxy_rss"] = res["coalescing"] = "–"
        rss = [rss_kib(p) for p in pids]
        res["fleet_rss"] = f"{sum(rss) / 1024:.0f} MiB ({statistics.median(rss) / 1024:.1f} MiB median)"
        res["fleet_cpu"] = f"{f3 - f2:.2f} s"

        # 3. the end state: every dest has every service, all byte-identical
        names = [f"www.svc{a.services + k:05d}.example.com".encode() for k in range(a.registrations)]

        def complete(c):
            d = c.dest_bytes()
            return all(n in d for n in names)
        wait_for(lambda: all(complete(c) for c in fleet), a.timeout, 0.2)
        behind = sum(1 for c in fleet if not complete(c))
        hashes = {hashlib.sha256(c.dest_bytes()).hexdigest() for c in fleet}
        res["behind"] = str(behind)
        if behind:
            fail(f"{behind} confd behind at the end")
        if len(hashes) == 1:
            res["identical"] = (f"yes ({a.confd}, sha256 {next(iter(hashes))[:12]}…, "
                                f"{len(fleet[0].dest_bytes()):,} B)")
        else:
            res["identical"] = f"NO: {len(hashes)} distinct"
            fail("dest files differ")
        dead = sum(1 for c in fleet if c.proc.poll() is not None)
        if dead:
            fail(f"{dead} confd exited")
        res["alive"] = f"{a.confd - dead}/{a.confd}"
        return res
    except Failed as e:
        fail(str(e))
        log(f"{label}: FAILED: {e}")
        return res
    finally:
        for c in fleet:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        for c in fleet:
            try:
                c.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill(c.proc)
        if proxy:
            proxy.stop()
        if cluster:
            cluster.stop()
        logs = [c for c in fleet if os.path.exists(c.log_path)]
        cells = []
        for level in ("ERROR", "WARN"):
            found = [c.log_lines(level) for c in logs]
            cells.append(f"{sum(map(len, found))} {level} lines in {sum(1 for f in found if f)} logs")
            # the distinct messages, without time stamps and pids, most frequent first
            counts = {}
            for lines in found:
                for line in lines:
                    msg = re.sub(r"\[\d+\]", "", line[line.find(level):].strip())
                    counts[msg] = counts.get(msg, 0) + 1
            for msg, n in sorted(counts.items(), key=lambda kv: -kv[1])[:5]:
                log(f"{label}: {n}× {msg[:200]}")
        res["errors"] = "; ".join(cells)
        if a.keep:
            log(f"{label}: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


ROWS = [
    ("confd count", "confd"), ("services (keys)", "services"), ("registrations", "registrations"),
    ("confd -wait", "wait"),
    ("fleet start → all rendered (last, median)", "start"),
    ("registration → every reload p50", "p50"), ("registration → every reload p99", "p99"),
    ("registration → every reload max", "max"),
    ("registration → last of the fleet (median over registrations)", "last"),
    ("laggards (no reload within timeout)", "laggards"), ("confd behind at the end", "behind"),
    ("registration phase (wall)", "phase"),
    ("etcd CPU, registrations (sum; m1 / m2 / m3)", "etcd_cpu"),
    ("etcd CPU, fleet start (sum)", "etcd_cpu_start"),
    ("etcd RSS per member at end", "etcd_rss"),
    ("etcd watchers/streams per member, before the fleet", "watches_before"),
    ("etcd watchers/streams per member, with the fleet", "watches"), ("slow watchers per member", "slow"),
    ("etcd leader changes seen per member", "leader"),
    ("proxy CPU, registrations", "proxy_cpu"), ("proxy CPU, fleet start", "proxy_cpu_start"),
    ("proxy RSS at end", "proxy_rss"),
    ("proxy *_coalescing_total (counts only late joiners)", "coalescing"),
    ("fleet CPU, registrations", "fleet_cpu"), ("fleet CPU, start", "fleet_cpu_start"),
    ("fleet RSS total at end", "fleet_rss"), ("confd alive at end", "alive"),
    ("confd stderr", "errors"), ("dests identical", "identical"), ("result", "result"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--confd", type=int, default=100)
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--registrations", type=int, default=20)
    ap.add_argument("--mode", choices=["direct", "proxy", "both"], default="both")
    ap.add_argument("--wait", default=None, help="passed as -wait to CONFD_BINARY (not the original)")
    ap.add_argument("--original", default=None, help="kelseyhightower/confd binary: extra columns")
    ap.add_argument("--spacing", type=float, default=2.0, help="seconds between registrations")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds before a confd is a laggard")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    a = ap.parse_args()

    def term(*_):
        raise SystemExit(143)
    signal.signal(signal.SIGTERM, term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    modes = ["direct", "proxy"] if a.mode == "both" else [a.mode]
    runs = [(f"{m}", os.path.abspath(a.binary), False, m) for m in modes]
    if a.original:
        runs += [(f"original {m}", os.path.abspath(a.original), True, m) for m in modes]
    print(f"`{shlex.join(sys.argv)}`")
    etcd_version = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"\n{etcd_version}, 3 members on 127.0.0.1; {os.cpu_count()} CPUs\n")
    cols = []
    for label, binary, original, mode in runs:
        res = run(label, binary, original, mode, a)
        res.update(confd=str(a.confd), services=f"{a.services:,} ({a.services * 4:,})",
                   registrations=str(a.registrations),
                   wait="none (original)" if original else (a.wait or f"{WAIT_DEFAULT} (default)"))
        res["result"] = "FAIL: " + "; ".join(res["failures"]) if res["failures"] else "pass"
        cols.append((label, res))
    print("| | " + " | ".join(label for label, _ in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for title, key in ROWS:
        print(f"| {title} | " + " | ".join(r.get(key, "–") for _, r in cols) + " |")
    return 1 if any(r["failures"] for _, r in cols) else 0


if __name__ == "__main__":
    sys.exit(main())
