#!/bin/sh
# Regenerate every crates/gotmpl/tests/corpus/*.golden.json with Go's text/template.
# Needs Go 1.19.x (Debian's golang-go); uses no network and no external modules.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
want=go1.19.8
have=$(go env GOVERSION)
if [ "$have" != "$want" ]; then
	echo "regen.sh: warning: goldens are pinned to $want but go is $have" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$here" && GOFLAGS=-mod=mod GOPROXY=off GOWORK=off go build -o "$tmp/go-oracle" .)
cd "$root"
"$tmp/go-oracle" corpus crates/gotmpl/tests/corpus/*.cases
