#!/usr/bin/env bash
# Renders the seed's nginx example with confd on the file backend (no servers needed) and
# prints where the file went and what is in it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$(mktemp -d /tmp/confd-quickstart.XXXXXX)}
mkdir -p "$out/confdir/conf.d"
cp -r "$here/confdir/templates" "$out/confdir/"
sed "s|DEST_DIR|$out|" "$here/confdir/conf.d/nginx.toml" > "$out/confdir/conf.d/nginx.toml"
cargo run -q --manifest-path "$here/../../Cargo.toml" -p confd -- \
  -onetime -backend file -file "$here/services.yaml" \
  -confdir "$out/confdir" -config-file /nonexistent
echo "== rendered $out/nginx.conf:"
cat "$out/nginx.conf"
