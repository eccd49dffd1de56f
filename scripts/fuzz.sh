#!/usr/bin/env bash
# Fuzzes the template engine (parse + execute) with libFuzzer via cargo-fuzz, seeded from the
# conformance corpus. Usage: scripts/fuzz.sh [SECONDS]   (default 600)
# Needs: cargo install cargo-fuzz. cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
seeds=fuzz/corpus/parse_exec
mkdir -p "$seeds"
python3 - "$seeds" <<'PY'
import glob, hashlib, os, sys
out = sys.argv[1]
for path in glob.glob("crates/gotmpl/tests/corpus/*.cases"):
    text = open(path, encoding="utf-8", newline="").read()
    for block in text.split("### case: ")[1:]:
        _, _, tmpl = block.partition("### template\n")
        name = hashlib.sha1(tmpl.encode()).hexdigest()
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as f:
            f.write(tmpl)
PY
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_exec -- -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048
