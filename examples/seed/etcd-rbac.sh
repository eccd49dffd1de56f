#!/usr/bin/env bash
# Least privilege for the seed's system in etcd v3 (the seed's problem 5).
#
# Usage: etcd-rbac.sh [--endpoints URLS] [--secrets DIR] [--tls] [NAME=]PREFIX...
#
# For every data centre, given by its key prefix (NAME defaults to the prefix's last "_" part:
# /service_sgin_bx -> bx), it creates
#   role confd-NAME      read      PREFIX/            (confd renders from it)
#   role registrar-NAME  readwrite PREFIX/upstream/   (confd-register writes an instance's
#                        readwrite PREFIX/subdomain/   address and its service's domains)
# and a user of the same name with that role only. The root user is for this set-up only;
# the script creates it and enables authentication if that has not been done yet.
#
# Password mode (default): every user's password is generated from /dev/urandom into
# DIR/<user>.password (mode 600). The root password is taken from $ETCD_ROOT_PASSWORD, else
# from the file $ETCD_ROOT_PASSWORD_FILE, else from DIR/root.password, else generated there.
#
# TLS mode (--tls; etcd runs with --client-cert-auth --trusted-ca-file DIR/ca.pem): DIR holds
# ca.pem and ca-key.pem, the CA that etcd trusts. The script issues every user, root included, a
# client certificate whose common name is the user name (DIR/<user>.pem, DIR/<user>-key.pem)
# and creates the users without a password: etcd takes the user from the certificate.
# Endpoints are https:// and the servers' certificates must be signed by the same CA (or give
# $ETCD_SERVER_CA).
#
# Running it again is safe: existing roles, users and files are kept (a user without its
# password file gets a new password), grants are re-applied.
#
# Options and their environment variables:
#   --endpoints URLS   comma-separated etcd client URLs  ($ETCD_ENDPOINTS, default http://127.0.0.1:2379)
#   --secrets DIR      where passwords and certificates go  ($RBAC_SECRETS_DIR, required)
#   --tls              TLS client certificate mode  ($RBAC_TLS=1)
#   PREFIX...          data-centre prefixes  ($RBAC_PREFIXES, space-separated)
# Needs: etcdctl (Debian package etcd-client, v3 API); openssl for --tls.
set -euo pipefail

usage() { sed -n '4s/^# //p' "$0" >&2; exit 2; }
die() { printf 'etcd-rbac.sh: %s\n' "$*" >&2; exit 1; }

endpoints=${ETCD_ENDPOINTS:-http://127.0.0.1:2379}
secrets=${RBAC_SECRETS_DIR:-}
tls=${RBAC_TLS:-0}
prefixes=()
while (($#)); do
  case $1 in
    --endpoints) (($# >= 2)) || usage; endpoints=$2; shift 2 ;;
    --endpoints=*) endpoints=${1#*=}; shift ;;
    --secrets) (($# >= 2)) || usage; secrets=$2; shift 2 ;;
    --secrets=*) secrets=${1#*=}; shift ;;
    --tls) tls=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) printf 'etcd-rbac.sh: unknown option %s\n' "$1" >&2; usage ;;
    *) prefixes+=("$1"); shift ;;
  esac
done
if ((${#prefixes[@]} == 0)) && [[ -n ${RBAC_PREFIXES:-} ]]; then
  read -r -a prefixes <<<"$RBAC_PREFIXES"
fi
((${#prefixes[@]})) || { echo 'etcd-rbac.sh: no data-centre prefix given' >&2; usage; }
[[ -n $secrets ]] || { echo 'etcd-rbac.sh: --secrets DIR is required' >&2; usage; }
command -v etcdctl >/dev/null || die 'etcdctl not found: apt-get install etcd-client'
if ((tls)); then
  command -v openssl >/dev/null || die 'openssl not found: apt-get install openssl'
  [[ -r $secrets/ca.pem && -r $secrets/ca-key.pem ]] ||
    die "--tls needs the CA that etcd trusts in $secrets/ca.pem and $secrets/ca-key.pem"
fi

umask 077
mkdir -p "$secrets"
chmod 700 "$secrets"

# The environment must not add credentials or endpoints of its own.
unset ETCDCTL_USER ETCDCTL_PASSWORD ETCDCTL_ENDPOINTS ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY
export ETCDCTL_API=3

# etcdctl, quiet: on failure only its "Error: ..." line (not the client library's JSON log).
# Under a time limit: etcdctl 3.4's user and role commands wait forever for an unreachable etcd.
ctl() {
  local out rc=0
  out=$(timeout 20 etcdctl --endpoints="$endpoints" "$@" 2>&1) || rc=$?
  if ((rc == 124)); then
    echo "Error: no answer from etcd at $endpoints within 20s" >&2
  elif ((rc)); then
    grep -m1 '^Error' <<<"$out" >&2 || printf '%s\n' "$out" >&2
  else
    printf '%s\n' "$out"
  fi
  return "$rc"
}

# etcdctl as root: the password through the environment (not visible in ps), or root's certificate.
root_pw=
rootctl() {
  if ((tls)); then
    ctl --cacert="$server_ca" --cert="$secrets/root.pem" --key="$secrets/root-key.pem" "$@"
  else
    ETCDCTL_USER="root:$root_pw" ctl "$@"
  fi
}

new_password() { od -An -tx1 -N18 /dev/urandom | tr -d ' \n'; }

# A client certificate whose common name is the etcd user name.
issue_cert() {
  local user=$1
  [[ -s $secrets/$user.pem && -s $secrets/$user-key.pem ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$user" \
    -keyout "$secrets/$user-key.pem" -out "$secrets/$user.csr" 2>/dev/null
  printf 'extendedKeyUsage = clientAuth\n' >"$secrets/$user.ext"
  openssl x509 -req -in "$secrets/$user.csr" -CA "$secrets/ca.pem" -CAkey "$secrets/ca-key.pem" \
    -CAcreateserial -days 365 -sha256 -extfile "$secrets/$user.ext" \
    -out "$secrets/$user.pem" 2>/dev/null
  rm -f "$secrets/$user.csr" "$secrets/$user.ext"
  echo "    certificate $secrets/$user.pem (CN=$user)"
}

# Creates USER if missing; in password mode makes sure DIR/USER.password is its password.
ensure_user() {
  local user=$1 file=$secrets/$1.password
  if ((tls)); then
    issue_cert "$user"
    if ! rootctl user get "$user" >/dev/null 2>&1; then
      rootctl user add "$user" --no-password >/dev/null
      echo "    user $user (no password: authenticated by its certificate)"
    fi
    return 0
  fi
  if rootctl user get "$user" >/dev/null 2>&1; then
    if [[ ! -s $file ]]; then
      new_password >"$file"
      rootctl user passwd "$user" --interactive=false <"$file" >/dev/null
      echo "    user $user existed: new password in $file"
    fi
  else
    [[ -s $file ]] || new_password >"$file"
    rootctl user add "$user" --interactive=false <"$file" >/dev/null
    echo "    user $user, password in $file"
  fi
  chmod 600 "$file"
}

ensure_role() {
  local role=$1
  rootctl role get "$role" >/dev/null 2>&1 || rootctl role add "$role" >/dev/null
}

echo "==> etcd at $endpoints: users and roles for ${prefixes[*]}"
if ((tls)); then
  server_ca=${ETCD_SERVER_CA:-$secrets/ca.pem}
  issue_cert root
fi

# 1. Root, and authentication.
if ((tls)); then
  # With --client-cert-auth, root's certificate is root's identity whether authentication is
  # on (CN=root) or still off (anything goes); enabling it twice is harmless.
  if ! rootctl user get root >/dev/null 2>&1; then
    rootctl user add root --no-password >/dev/null
    echo "    user root (no password: authenticated by its certificate)"
  fi
  rootctl role get root >/dev/null 2>&1 || rootctl role add root >/dev/null
  rootctl user grant-role root root >/dev/null
  rootctl auth enable >/dev/null
  echo "    authentication enabled"
else
  # Without credentials, listing users works only while authentication is off.
  if probe=$(ctl user list 2>&1); then
    auth_enabled=0
  elif [[ $probe == *"user name is empty"* ]]; then
    auth_enabled=1
  else
    die "$probe"
  fi
  if [[ -n ${ETCD_ROOT_PASSWORD:-} ]]; then
    root_pw=$ETCD_ROOT_PASSWORD
  elif [[ -n ${ETCD_ROOT_PASSWORD_FILE:-} ]]; then
    root_pw=$(<"$ETCD_ROOT_PASSWORD_FILE")
  elif [[ -s $secrets/root.password ]]; then
    root_pw=$(<"$secrets/root.password")
  elif ((auth_enabled)); then
    die "authentication is already enabled: give root's password in ETCD_ROOT_PASSWORD or ETCD_ROOT_PASSWORD_FILE"
  else
    new_password >"$secrets/root.password"
    root_pw=$(<"$secrets/root.password")
  fi
  if ((auth_enabled)); then
    rootctl user get root >/dev/null || die "authentication is enabled and root's password is refused"
    echo "    authentication was already enabled"
  else
    if ! ctl user get root >/dev/null 2>&1; then
      printf '%s\n' "$root_pw" | ctl user add root --interactive=false >/dev/null
      if [[ -n ${ETCD_ROOT_PASSWORD:-}${ETCD_ROOT_PASSWORD_FILE:-} ]]; then
        echo "    user root, password as given"
      else
        echo "    user root, password in $secrets/root.password"
      fi
    fi
    ctl role get root >/dev/null 2>&1 || ctl role add root >/dev/null
    ctl user grant-role root root >/dev/null
    ctl auth enable >/dev/null
    echo "    authentication enabled"
  fi
fi

# 2. Per data centre: a read-only role for confd, a registrar role, a user each.
for arg in "${prefixes[@]}"; do
  if [[ $arg == *=* ]]; then
    name=${arg%%=*} prefix=${arg#*=}
  else
    prefix=$arg name=${arg##*/} name=${name##*_}
  fi
  prefix=/${prefix#/} prefix=${prefix%/}
  [[ $name =~ ^[A-Za-z0-9._-]+$ && $prefix =~ ^/[A-Za-z0-9._/-]+$ ]] ||
    die "invalid data centre $arg: expected [NAME=]/PREFIX"
  confd=confd-$name registrar=registrar-$name
  ensure_role "$confd"
  rootctl role grant-permission --prefix=true "$confd" read "$prefix/" >/dev/null
  ensure_role "$registrar"
  rootctl role grant-permission --prefix=true "$registrar" readwrite "$prefix/upstream/" >/dev/null
  rootctl role grant-permission --prefix=true "$registrar" readwrite "$prefix/subdomain/" >/dev/null
  echo "    role $confd: read $prefix/"
  echo "    role $registrar: readwrite $prefix/upstream/ and $prefix/subdomain/"
  ensure_user "$confd"
  ensure_user "$registrar"
  rootctl user grant-role "$confd" "$confd" >/dev/null
  rootctl user grant-role "$registrar" "$registrar" >/dev/null
done
