#!/usr/bin/env bash
# Whole-process benchmark of `confd -onetime -backend file` on the seed's nginx template with
# N services × 3 servers (issue 3). Usage: bench/e2e/seed-onetime.sh [CONFD_BINARY] [N...]
# Needs hyperfine (Debian package). Prints hyperfine's table per N.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
confd=${1:-$root/target/release/confd}
shift || true
sizes=("${@:-1000 4000 10000}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/confdir/conf.d" "$work/confdir/templates" "$work/out"
cp "$root/crates/confd/tests/data/seed/seed-nginx.conf.tmpl" "$work/confdir/templates/"
sed "s|OUT/|$work/out/|" "$root/crates/confd/tests/data/seed/seed-nginx.toml" > "$work/confdir/conf.d/seed-nginx.toml"
for n in ${sizes[*]}; do
  python3 - "$n" > "$work/services-$n.yaml" <<'PY'
import sys
n = int(sys.argv[1])
print("service_sgin:")
print("  subdomain:")
for i in range(n):
    print(f'    svc{i:05d}: "www.svc{i:05d}.example.com  api.svc{i:05d}.example.com"')
print("  upstream:")
for i in range(n):
    print(f"    svc{i:05d}:")
    for j in range(1, 4):
        print(f'      server{j}: "10.{j}.{i // 256}.{i % 256}:8080"')
PY
  echo "== $n services x 3 servers ($(wc -c < "$work/services-$n.yaml") bytes of YAML)"
  hyperfine --warmup 1 --runs "${RUNS:-10}" --prepare "rm -f $work/out/nginx.conf" \
    "$confd -onetime -backend file -file $work/services-$n.yaml -confdir $work/confdir -config-file /nonexistent -log-level error"
done
