#!/usr/bin/env bash
# Builds the Debian package of confd-rs into target/debian/: both binaries, their man pages and
# bash/zsh completions (generated from the flag tables the parsers use), the systemd units,
# /etc/confd (confd.toml, conf.d/, templates/) and the seed's example confdirs.
#
#   scripts/package-deb.sh                      release build, then the package
#   scripts/package-deb.sh --bin-dir DIR --docs DIR --out DIR
#                                               package prebuilt binaries and generated docs
#                                               (the test does this with what it built)
#
# Needs: dpkg-deb (Debian's dpkg), gzip. No cargo-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

bin_dir="" docs_dir="" out="$repo/target/debian"
while (($#)); do
  case $1 in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --docs) docs_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--bin-dir DIR] [--docs DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

if [[ -z $bin_dir ]]; then
  cargo build --release --locked -p confd -p confd-register
  bin_dir=${CARGO_TARGET_DIR:-$repo/target}/release
fi
if [[ -z $docs_dir ]]; then
  docs_dir=$tmp/docs
  mkdir "$docs_dir"
  for crate in confd confd-register; do
    for kind in man bash zsh; do
      cargo run -q --locked -p "$crate" --example gen-docs -- "$kind" >"$docs_dir/$crate.$kind"
    done
  done
fi

install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/man/man1" \
  "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
  "$stage/lib/systemd/system" "$stage/etc/confd/conf.d" "$stage/etc/confd/templates" \
  "$stage/etc/default" "$stage/usr/share/doc/confd-rs/examples"
install -m 0755 "$bin_dir/confd" "$bin_dir/confd-register" "$stage/usr/bin/"
for crate in confd confd-register; do
  gzip -9n <"$docs_dir/$crate.man" >"$stage/usr/share/man/man1/$crate.1.gz"
  install -m 0644 "$docs_dir/$crate.bash" "$stage/usr/share/bash-completion/completions/$crate"
  install -m 0644 "$docs_dir/$crate.zsh" "$stage/usr/share/zsh/vendor-completions/_$crate"
done
install -m 0644 packaging/systemd/*.service "$stage/lib/systemd/system/"
install -m 0644 packaging/etc/confd.toml "$stage/etc/confd/confd.toml"
install -m 0644 packaging/etc/default/confd-register packaging/etc/default/confd-register-docker \
  "$stage/etc/default/"
for example in production dynamic; do
  cp -r "examples/seed/$example" "$stage/usr/share/doc/confd-rs/examples/"
done
install -m 0644 README.md COMPATIBILITY.md docs/metrics.md docs/live-membership.md \
  "$stage/usr/share/doc/confd-rs/"

cat >"$stage/DEBIAN/control" <<CONTROL
Package: confd-rs
Version: $version
Architecture: $arch
Maintainer: confd-rs developers <confd-rs@example.invalid>
Section: admin
Priority: optional
Depends: libc6
Suggests: nginx, etcd-server, libnginx-mod-http-lua, lua-cjson
Provides: confd
Conflicts: confd
Replaces: confd
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: configuration from etcd, rendered, checked and reloaded
 confd, a drop-in replacement for kelseyhightower/confd (same flags, confd.toml,
 template resources and Go template functions), which never installs a config that
 failed its check, batches reloads and fails over between etcd members; and
 confd-register, which registers healthy service instances (or Docker's healthy
 labelled containers) in etcd under a lease.
CONTROL
printf '%s\n' /etc/confd/confd.toml /etc/default/confd-register /etc/default/confd-register-docker \
  >"$stage/DEBIAN/conffiles"

mkdir -p "$out"
deb="$out/confd-rs_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
