#!/usr/bin/env bash
# Fuzzes every hand-written reader of outside input with libFuzzer via cargo-fuzz, each seeded
# from the project's own test data.
#
# Usage: scripts/fuzz.sh [TARGET|all] [SECONDS]     (default: all, 600 s each)
# Targets: parse_exec (templates), yaml_flatten (-file data), confd_toml, resource_toml
# (conf.d/*.toml), docker_answer (Docker Engine HTTP, chunks, events), dns_reply (SRV lookups),
# tzif (time zones), json (json/jsonArray functions), membership (push resources' documents),
# etcdv2_answer (etcd v2 API answers, key paths and watch scoping).
# Needs: cargo install cargo-fuzz. cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. A crash leaves its input in fuzz/artifacts/TARGET/ and makes
# this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
seconds=${2:-600}
TARGETS=(parse_exec yaml_flatten confd_toml resource_toml docker_answer dns_reply tzif json membership
  etcdv2_answer)

# Seeds: one file per input, named by its hash.
seed() {
  python3 - "$@" <<'PY'
import glob, hashlib, os, sys
target, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
def put(data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
def cases(pattern, sep, body_marker=None):
    for path in glob.glob(pattern):
        text = open(path, encoding="utf-8", newline="").read()
        for block in text.split(sep)[1:]:
            if body_marker:
                yield block.partition(body_marker)[2]
            else:
                yield block.partition("\n")[2]
if target == "parse_exec":
    for t in cases("crates/gotmpl/tests/corpus/*.cases", "### case: ", "### template\n"):
        put(t)
elif target == "yaml_flatten":
    for t in cases("crates/confd-backend/tests/data/*.cases", "\n### "):
        put(t)
    put(open("examples/seed/services.yaml", "rb").read())
elif target == "resource_toml":
    for p in glob.glob("examples/seed/*/conf.d/*.toml"):
        put(open(p, "rb").read())
elif target == "confd_toml":
    put('backend = "etcdv3"\nconfdir = "/etc/confd"\nnodes = ["http://127.0.0.1:2379"]\n'
        'interval = 600\nlog-level = "debug"\nprefix = "/production"\nwatch = true\n'
        'wait = "200ms:1s"\nrender_timeout = "5s"\n[unknown]\nx = 1\n')
    put('backend = "file"\nfile = ["/etc/confd/a.yaml", "/etc/confd/b.yaml"]\nnoop = true\n')
    put('srv_domain = "example.com"\nscheme = "https"\nclient_cakeys = "/ca.pem"\n'
        'basic_auth = true\nusername = "u"\npassword = "p"\n')
elif target == "docker_answer":
    head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    body = '{"Id":"abc","State":{"Status":"running","Health":{"Status":"healthy"}}}'
    put(f"{head}Content-Length: {len(body)}\r\n\r\n{body}")
    ev = ('{"Type":"container","Action":"health_status: healthy","Actor":'
          '{"ID":"abc","Attributes":{"confd.service":"web","name":"w"}}}\n')
    put(f"{head}Transfer-Encoding: chunked\r\n\r\n{len(ev):x}\r\n{ev}\r\n{len(ev):x};x=y\r\n{ev}\r\n0\r\n\r\n")
    put(f"{head}\r\n{ev}{ev}")
    put('HTTP/1.1 404 Not Found\r\nContent-Length: 29\r\n\r\n{"message":"no such container"}')
elif target == "dns_reply":
    # A reply to "_etcd-client._tcp.example.com" SRV with one record (id 0x1234).
    name = b"".join(bytes([len(l)]) + l.encode() for l in "_etcd-client._tcp.example.com".split(".")) + b"\0"
    target_name = b"\x05etcd1\x07example\x03com\x00"
    rdata = b"\x00\x0a\x00\x05\x09\x4b" + target_name
    answer = b"\xc0\x0c\x00\x21\x00\x01\x00\x00\x00\x3c" + len(rdata).to_bytes(2, "big") + rdata
    put(b"\x12\x34\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + name + b"\x00\x21\x00\x01" + answer)
    put(b"\x12\x34\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00" + name + b"\x00\x21\x00\x01")
elif target == "tzif":
    for z in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"]:
        p = "/usr/share/zoneinfo/" + z
        if os.path.exists(p):
            put(open(p, "rb").read())
    put("CET-1CEST,M3.5.0,M10.5.0/3")
    put("<+0330>-3:30")
elif target == "json":
    put('{"host":"10.0.0.1","port":8080,"tags":["a","b"],"nested":{"x":[1,2.5,null,true]}}')
    put('[{"name":"web","addr":"10.0.0.5:80"},{"name":"api","addr":"[::1]:81"}]')
    put('"\\u00e9\\ud83d\\ude00"')
elif target == "membership":
    put("# comment\n\nweb\nweb 10.0.0.5:8080\nweb 10.0.0.6:8080 weight=3\napi\ndb [::1]:5432\n")
    put("web 1.2.3.4:80\nweb 1.2.3.4:80\n")
    put("web evil.example:80 weight=101 x\n")
elif target == "etcdv2_answer":
    put('{"action":"get","node":{"key":"/db","dir":true,"nodes":[{"key":"/db/host","value":"127.0.0.1",'
        '"modifiedIndex":5,"createdIndex":5},{"key":"/db/sub","dir":true,"nodes":[{"key":"/db/sub/x","value":"1"}]}]}}')
    put('{"action":"set","node":{"key":"/a/c","value":"2","modifiedIndex":5,"createdIndex":5},'
        '"prevNode":{"key":"/a/c","value":"1","modifiedIndex":4,"createdIndex":4}}')
    put('{"errorCode":401,"message":"The event in requested index is outdated and cleared",'
        '"cause":"the requested history has been cleared [1008/7]","index":2007}')
    put('/service_sgin/upstream\n/service_sgin/subdomain\n/a b/c?d\n//x//y/\n')
PY
}

run() {
  local target=$1 corpus=fuzz/corpus/$1 max_len=65536
  [ "$target" = parse_exec ] && max_len=4096 # templates: small ones reach every construct
  seed "$target" "$corpus"
  echo "== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- \
    -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
}

if [ "$what" = all ]; then
  # Every target runs even when one finds something; the script fails at the end.
  failed=()
  for t in "${TARGETS[@]}"; do run "$t" || failed+=("$t"); done
  if ((${#failed[@]})); then
    echo "== found something: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
  fi
else
  run "$what"
fi
