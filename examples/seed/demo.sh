#!/usr/bin/env bash
# The seed's system end to end, on this machine's loopback, in about 20 seconds.
#
#   examples/seed/demo.sh [--tls] [--dynamic]
#
# A 3-member etcd cluster with authentication (etcd-rbac.sh), then per data centre (bx, yz) an
# nginx fed by its own confd -watch (read-only etcd user, templates from production/), and
# backends registered by confd-register agents (registrar users). It shows services reached
# by Host, the default redirect, a backend leaving and one arriving under traffic, a service's
# last instance leaving, an etcd member killed, and two data centres side by side.
#
# Everything runs as child processes on 127.0.0.1 ports picked at run time, in a temporary
# directory; nothing outside it is touched (not the system's nginx, not /etc). On exit, Ctrl-C
# included, every process it started is stopped and the directory removed.
#
# Needs: etcd, etcdctl (apt-get install etcd-server etcd-client), nginx, curl; the backends are
# tiny nginx servers too, so nothing else. Builds confd and confd-register with cargo unless
# CONFD_BIN and REGISTER_BIN name the binaries. KEEP_TMP=1 keeps the directory (logs, configs).
#
# --tls: etcd serves https:// only and authenticates clients by certificate
# (--client-cert-auth --trusted-ca-file): the demo makes a CA and a server certificate with
# openssl, etcd-rbac.sh --tls gives every user a certificate whose common name is the user
# name, and confd and the agents present theirs instead of a password. Needs openssl.
#
# --dynamic: data centre bx runs the live-membership mode (examples/seed/dynamic) instead:
# instances join and leave nginx without a reload (pushed to its Lua balancer), shown under
# traffic and during a slow download, with nginx's worker processes unchanged; then a new
# service, which is one reload. Needs nginx's Lua module: apt-get install libnginx-mod-http-lua
# lua-cjson.
set -euo pipefail

tls=0 dynamic=0
for arg; do
  case $arg in
    --tls) tls=1 ;;
    --dynamic) dynamic=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--tls] [--dynamic]" >&2; exit 2 ;;
  esac
done
scheme=http
((tls)) && scheme=https

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
t0=$(date +%s%N)

elapsed() { local now; now=$(date +%s%N); printf '%d.%d' $(((now - t0) / 1000000000)) $(((now - t0) / 100000000 % 10)); }
say() { printf '\n==> [%5ss] %s\n' "$(elapsed)" "$*"; }
info() { printf '    %s\n' "$*"; }

tmp=
declare -a proc_names=() proc_pids=()
declare -A pid_of=()

die() {
  printf '\ndemo.sh: FAILED: %s\n' "$*" >&2
  if [[ -n $tmp && -d $tmp/logs ]]; then
    local f
    for f in "$tmp"/logs/*.log; do
      [[ $f == */traffic-* ]] && continue
      printf -- '--- %s (last lines)\n' "${f##*/}" >&2
      tail -n 4 "$f" >&2 || true
    done
    [[ ${KEEP_TMP:-0} == 1 ]] || printf 'demo.sh: run with KEEP_TMP=1 to keep %s\n' "$tmp" >&2
  fi
  exit 1
}

# --- processes -------------------------------------------------------------------------------
# Every process runs in a session of its own (setsid): its pid is its session and group id, so
# stopping it reaches its children too (nginx workers, a curl in a loop).

start() { # NAME COMMAND... (output in $tmp/logs/NAME.log)
  local name=$1
  shift
  setsid "$@" </dev/null >"$tmp/logs/$name.log" 2>&1 &
  proc_names+=("$name")
  proc_pids+=("$!")
  pid_of[$name]=$!
  disown "$!" # bash still reaps it, without a "Killed" notice when the demo kills it
}

# The live (not zombie) processes of the given sessions, read from /proc (no procps needed).
live_in_sessions() {
  local f s state session want=" $* "
  for f in /proc/[0-9]*/stat; do
    { s=$(<"$f"); } 2>/dev/null || continue
    s=${s##*) }
    read -r state _ _ session _ <<<"$s"
    [[ $want == *" $session "* && $state != Z ]] && echo "${f//[^0-9]/}"
  done
  return 0
}

signal_sessions() { # SIGNAL SID...
  local sig=$1 sid p
  shift
  for sid; do
    kill "-$sig" -- "-$sid" 2>/dev/null || true
  done
  # Members that moved to a process group of their own are still in the session.
  if [[ $sig == KILL ]]; then
    for p in $(live_in_sessions "$@"); do kill -KILL "$p" 2>/dev/null || true; done
  fi
}

# Whether PID is alive and still our child (not a process that reused the pid of one that ended).
ours() {
  local s ppid
  { s=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  s=${s##*) }
  read -r _ ppid _ <<<"$s"
  [[ $ppid == "$$" ]]
}

stop_sessions() { # SIGNAL SID...: signal, wait up to 8 s, then SIGKILL what is left
  local sig=$1 deadline=$((SECONDS + 8)) sid sids=()
  shift
  for sid; do ours "$sid" && sids+=("$sid"); done
  ((${#sids[@]})) || return 0
  signal_sessions "$sig" "${sids[@]}"
  while [[ -n $(live_in_sessions "${sids[@]}") ]]; do
    if ((SECONDS >= deadline)); then
      signal_sessions KILL "${sids[@]}"
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  return 0
}

stop() { # NAME [SIGNAL]
  stop_sessions "${2:-TERM}" "${pid_of[$1]}"
}

cleanup() {
  local rc=$? i others=() etcds=()
  trap - EXIT INT TERM HUP
  trap '' PIPE
  set +e
  for ((i = ${#proc_pids[@]} - 1; i >= 0; i--)); do
    if [[ ${proc_names[i]} == etcd-* ]]; then etcds+=("${proc_pids[i]}"); else others+=("${proc_pids[i]}"); fi
  done
  # Agents deregister while etcd is still there; then etcd, one member at a time (members
  # stopped together wait for each other).
  stop_sessions TERM "${others[@]}"
  for i in "${etcds[@]}"; do stop_sessions TERM "$i"; done
  if [[ -n $tmp && -d $tmp ]]; then
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
      echo "demo.sh: kept $tmp"
    else
      rm -rf "$tmp"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "demo.sh: interrupted: stopping everything" >&2; exit 130' INT
trap 'echo "demo.sh: terminated: stopping everything" >&2; exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE # output cut short (demo.sh | head): still clean up

# --- helpers ---------------------------------------------------------------------------------

wait_until() { # TIMEOUT_S DESCRIPTION COMMAND...: poll every 0.1 s
  local timeout=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "not done within ${timeout}s: $what"
    sleep 0.1
  done
}

declare -A ports=()
used_ports=" "
free_port() { # VAR: a port nobody listens on (below the ephemeral range), not handed out before
  local p
  for _ in {1..500}; do
    p=$((20000 + RANDOM % 12000))
    [[ $used_ports == *" $p "* ]] && continue
    if ! (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      used_ports+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "no free port found"
}

http() { curl --noproxy '*' -s -m 3 "$@"; }

# The backends that answer Host $1 on nginx port $2 over $3 requests: "bx-web-1×4 bx-web-2×4".
sample() {
  local host=$1 port=$2 n=${3:-8} i count name
  for ((i = 0; i < n; i++)); do
    http -H "Host: $host" "http://127.0.0.1:$port/" || echo "(failed)"
  done | sort | uniq -c | while read -r count name; do printf '%s×%s ' "$name" "$count"; done
}
serves() { [[ " $(sample "$2" "$3" 8)" == *" $1×"* ]]; }  # BACKEND HOST PORT
avoids() { [[ " $(sample "$2" "$3" 8)" != *" $1×"* ]]; }  # BACKEND HOST PORT

status_is() { [[ $(http -o /dev/null -w '%{http_code}' -H "Host: $2" "http://127.0.0.1:$3/") == "$1" ]]; } # CODE HOST PORT
has_leader() { # ENDPOINTS: one of them says it is the leader
  local endpoints=$1 out
  out=$(ctl_as confd-bx endpoint status 2>/dev/null) || true
  grep -q ', true, ' <<<"$out"
}
redirect_of() { http -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $1" "http://127.0.0.1:$2/"; }

# etcdctl as USER: its password from its file, through the environment (not in ps), or its
# certificate. (etcdctl adds a repeated --endpoints to the first: set $endpoints instead.)
ctl_as() {
  local user=$1
  shift
  if ((tls)); then
    etcdctl --endpoints="$endpoints" --cacert="$secrets/ca.pem" \
      --cert="$secrets/$user.pem" --key="$secrets/$user-key.pem" "$@"
  else
    ETCDCTL_USER="$user:$(<"$secrets/$user.password")" etcdctl --endpoints="$endpoints" "$@"
  fi
}
# etcdctl as nobody. With TLS there is no such client: the server's certificate serves until
# the users exist (only to see that the cluster is up).
ctl_anon() {
  if ((tls)); then
    etcdctl --endpoints="$endpoints" --cacert="$secrets/ca.pem" \
      --cert="$secrets/server.pem" --key="$secrets/server-key.pem" "$@"
  else
    etcdctl --endpoints="$endpoints" "$@"
  fi
}
# confd's and the agents' credentials: -basic-auth and a password file, or a certificate.
confd_creds() { # DC
  if ((tls)); then
    printf '%s\n' -client-ca-keys "$secrets/ca.pem" -client-cert "$secrets/confd-$1.pem" -client-key "$secrets/confd-$1-key.pem"
  else
    printf '%s\n' -basic-auth -username "confd-$1" -password-file "$secrets/confd-$1.password"
  fi
}
agent_creds() { # USER
  if ((tls)); then
    printf '%s\n' --client-ca-keys "$secrets/ca.pem" --client-cert "$secrets/$1.pem" --client-key "$secrets/$1-key.pem"
  else
    printf '%s\n' --username "$1" --password-file "$secrets/$1.password"
  fi
}

refused() { # DESCRIPTION COMMAND...: must fail; shows etcd's answer
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then die "$what was accepted"; fi
  info "$(printf '%-50s refused: %s' "$what" "$(grep -m1 -E '^Error|^curl|FATAL' <<<"$out" | sed 's/.*FATAL //; s/ (etcd at .*//')")"
}

# Lines "NAME 200" written by a traffic loop: total, failed.
traffic_loop() { # HOST PORT
  local r
  while :; do
    r=$(curl --noproxy '*' -s -m 3 -H "Host: $1" -w ' %{http_code}' "http://127.0.0.1:$2/") || true
    printf '%s\n' "${r//$'\n'/}"
    sleep 0.02
  done
}
start_traffic() { # NAME HOST PORT
  start "traffic-$1" bash -c "$(declare -f traffic_loop); traffic_loop \"\$@\"" traffic "$2" "$3"
  wait_until 5 "traffic flows" test -s "$tmp/logs/traffic-$1.log"
}
stop_traffic() { # NAME: prints "N requests, F failed; answered by: ..."
  local f=$tmp/logs/traffic-$1.log total failed by
  stop "traffic-$1"
  total=$(grep -c ' [0-9][0-9][0-9]$' "$f" || true)
  failed=$(grep ' [0-9][0-9][0-9]$' "$f" | grep -vc ' 200$' || true)
  by=$(grep ' 200$' "$f" | cut -d' ' -f1 | sort | uniq -c | while read -r c n; do printf '%s×%s ' "$n" "$c"; done)
  info "traffic meanwhile: $total requests, $failed failed; answered by: $by"
  ((failed == 0)) || die "$failed requests failed during the change"
  total_requests=$((total_requests + total))
}

# --- the pieces ------------------------------------------------------------------------------

start_etcd() { # N (1..3)
  local n=$1
  start "etcd-m$n" etcd --name "m$n" --data-dir "$tmp/etcd/m$n" \
    --listen-client-urls "$scheme://127.0.0.1:${cport[n]}" --advertise-client-urls "$scheme://127.0.0.1:${cport[n]}" \
    --listen-peer-urls "http://127.0.0.1:${pport[n]}" --initial-advertise-peer-urls "http://127.0.0.1:${pport[n]}" \
    --initial-cluster "$initial_cluster" --initial-cluster-state new --initial-cluster-token "confd-demo-$$" \
    --logger zap --log-outputs stderr "${etcd_tls[@]}"
}

start_backend() { # NAME PORT: a tiny nginx that answers its name, and "ok" on /health
  local name=$1 port=$2 d=$tmp/backend-$1
  mkdir -p "$d/logs"
  cat >"$d/nginx.conf" <<EOF
daemon off;
master_process off;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path client_body_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    scgi_temp_path scgi_temp;
    default_type text/plain;
    server {
        listen 127.0.0.1:$port;
        location = /health { return 200 "ok\n"; }
        # A slow download (about 10 s), as a long-lived response.
        location = /download { alias $tmp/download.bin; limit_rate 20k; }
        location / { return 200 "$name\n"; }
    }
}
EOF
  start "backend-$name" nginx -p "$d/" -e logs/error.log -c nginx.conf
  wait_until 10 "backend $name answers on :$port" http -f "http://127.0.0.1:$port/health"
}

start_agent() { # DC NAME SERVICE PORT DOMAIN...
  local dc=$1 name=$2 service=$3 port=$4 domains=() d creds
  shift 4
  for d; do domains+=(--domain "$d"); done
  mapfile -t creds < <(agent_creds "registrar-$dc")
  start "agent-$name" "$REGISTER_BIN" "${register_nodes[@]}" \
    --prefix "/service_sgin_$dc" --service "$service" "${domains[@]}" \
    --addr "127.0.0.1:$port" --instance "$name" \
    --check "http://127.0.0.1:$port/health" --interval 1s --rise 2 --fall 2 --ttl 5 \
    "${creds[@]}"
}

start_front() { # DC PORT [MODE]: the data centre's nginx and its confd (production or dynamic)
  local dc=$1 port=$2 mode=${3:-production} pre=$tmp/nginx-$1 confdir=$tmp/confd-$1 creds
  mapfile -t creds < <(confd_creds "$dc")
  mkdir -p "$pre/conf" "$pre/logs" "$confdir/conf.d"
  cp -r "$here/$mode/templates" "$confdir/"
  sed -e "s|^prefix = .*|prefix = \"/service_sgin_$dc\"|" -e "s|^dest = .*|dest = \"$pre/conf/nginx.conf\"|" \
    "$here/$mode/conf.d/nginx.toml" >"$confdir/conf.d/nginx.toml"
  if [[ $mode == dynamic ]]; then
    # The Lua balancer and endpoint, the snapshot's directory, and the push socket's
    # directory, which only its owner may enter.
    cp -r "$here/dynamic/lua" "$pre/"
    mkdir -p "$pre/state"
    mkdir -m 700 "$pre/run"
    sed -e "s|^prefix = .*|prefix = \"/service_sgin_$dc\"|" \
      -e "s|^dest = .*|dest = \"$pre/state/membership.json\"|" \
      -e "s|^push = .*|push = \"unix:$pre/run/push.sock\"|" \
      "$here/dynamic/conf.d/membership.toml" >"$confdir/conf.d/membership.toml"
  fi
  local run=(env NGINX_PREFIX="$pre/" NGINX_PORT="$port" NGINX_ADDR=127.0.0.1
    "$CONFD_BIN" -backend etcdv3 "${confd_nodes[@]}"
    "${creds[@]}"
    -confdir "$confdir" -config-file /nonexistent)
  # First config: rendered once from etcd without check or reload (nginx is not running yet),
  # then checked by nginx itself.
  "${run[@]}" -onetime -sync-only >"$tmp/logs/confd-$dc-first.log" 2>&1 ||
    die "confd -onetime for $dc failed: $(tail -n 2 "$tmp/logs/confd-$dc-first.log")"
  nginx -t -q -p "$pre/" -e logs/error.log -c conf/nginx.conf || die "nginx -t refused the first config of $dc"
  start "nginx-$dc" nginx -p "$pre/" -e logs/error.log -c conf/nginx.conf -g 'daemon off;'
  wait_until 10 "nginx of $dc answers on :$port" http -o /dev/null "http://127.0.0.1:$port/"
  start "confd-$dc" "${run[@]}" -watch
  info "nginx -p $pre/ -c conf/nginx.conf on 127.0.0.1:$port; confd -watch as confd-$dc"
}

conf_of() { printf '%s/nginx-%s/conf/nginx.conf' "$tmp" "$1"; }
config_has() { grep -qF -- "$2" "$(conf_of "$1")"; }     # DC TEXT
config_lacks() { ! grep -qF -- "$2" "$(conf_of "$1")"; } # DC TEXT
nginx_t() { # DC: nginx -t on what confd rendered
  local pre=$tmp/nginx-$1
  nginx -t -q -p "$pre/" -e logs/error.log -c conf/nginx.conf || die "nginx -t refused $(conf_of "$1")"
  info "nginx -t on the config confd rendered for $1: ok"
}
upstreams_of() { # DC: "web: 127.0.0.1:1 127.0.0.1:2; api: ..." from the rendered config
  local line out="" name=""
  while read -r line; do
    case $line in
      upstream*) name=${line#upstream } name=${name% \{} out+="${out:+; }$name:" ;;
      server\ *\;) [[ -n $name ]] && out+=" ${line#server }" && out=${out%;} ;;
      \}) name="" ;;
    esac
  done <"$(conf_of "$1")"
  printf '%s' "${out:-(none)}"
}
keys_of() { ctl_as "confd-$1" get --keys-only --prefix "/service_sgin_$1/" | sed '/^$/d' | tr '\n' ' '; }
key_absent() { [[ -z $(ctl_as "confd-$1" get --keys-only "$2") ]]; } # DC KEY
reloads_of() { grep -c 'has been updated' "$tmp/logs/confd-$1.log" || true; }
nginx_reloads_of() { grep -c 'conf/nginx.conf has been updated' "$tmp/logs/confd-$1.log" || true; }
pushes_of() { grep -c 'pushed to unix:' "$tmp/logs/confd-$1.log" || true; }
workers_of() { # DC: the pids of nginx's worker processes
  local pid=${pid_of[nginx-$1]}
  tr ' ' '\n' <"/proc/$pid/task/$pid/children" | sed '/^$/d' | sort -n | paste -sd ' '
}
membership_lacks() { ! grep -qF -- "\"port\":$2," "$tmp/nginx-$1/state/membership.json"; } # DC PORT
membership_of() { # DC: "web: 127.0.0.1:1 127.0.0.1:2; api: ..." as nginx has it now
  curl --noproxy '*' -s -m 3 --unix-socket "$tmp/nginx-$1/run/push.sock" http://localhost/membership >/dev/null &&
    sed -e 's/{"services":{//; s/}}$//; s/"host":"\([^"]*\)","port":\([0-9]*\),"weight":[0-9]*/\1:\2/g' \
      -e 's/\[\]/[-]/g; s/[{}"]//g; s/:\[/: /g; s/\],/; /g; s/\]//g; s/,/ /g' "$tmp/nginx-$1/state/membership.json"
}
finished() { [[ -z $(live_in_sessions "${pid_of[$1]}") ]]; } # NAME: its processes have all exited
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- 0. requirements and binaries --------------------------------------------------------------

missing=()
needs=(etcd:etcd-server etcdctl:etcd-client nginx:nginx curl:curl setsid:util-linux)
((tls)) && needs+=(openssl:openssl)
if ((dynamic)) && [[ ! -e /usr/lib/nginx/modules/ngx_http_lua_module.so ]]; then
  echo "demo.sh: --dynamic needs nginx's Lua module; install it with:" >&2
  echo "    sudo apt-get install libnginx-mod-http-lua lua-cjson" >&2
  exit 1
fi
for need in "${needs[@]}"; do
  command -v "${need%%:*}" >/dev/null || missing+=("${need#*:}")
done
if ((${#missing[@]})); then
  echo "demo.sh: missing commands; install them with:" >&2
  echo "    sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
# Nothing from the caller's environment may redirect etcdctl or confd.
unset ETCDCTL_USER ETCDCTL_PASSWORD ETCDCTL_ENDPOINTS ETCDCTL_PEERS ETCDCTL_CACERT ETCDCTL_CERT \
  ETCDCTL_KEY CONFD_CLIENT_CAKEYS CONFD_CLIENT_CERT CONFD_CLIENT_KEY
export ETCDCTL_API=3

if [[ -z ${CONFD_BIN:-} || -z ${REGISTER_BIN:-} ]]; then
  command -v cargo >/dev/null ||
    die "cargo not found: install Rust (https://rustup.rs), or set CONFD_BIN and REGISTER_BIN"
  say "building confd and confd-register (cargo build -q -p confd -p confd-register)"
  cargo build -q --manifest-path "$repo/Cargo.toml" -p confd -p confd-register
  CONFD_BIN=${CONFD_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/confd}
  REGISTER_BIN=${REGISTER_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/confd-register}
fi
[[ -x $CONFD_BIN && -x $REGISTER_BIN ]] || die "not executable: $CONFD_BIN or $REGISTER_BIN"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/confd-seed-demo.XXXXXX")
# nginx workers run as nobody when nginx is started by root: they must reach their prefix.
chmod 755 "$tmp"
mkdir -p "$tmp/logs" "$tmp/etcd"
head -c 200000 /dev/urandom >"$tmp/download.bin" # served slowly by the backends
secrets=$tmp/secrets
total_requests=0
echo "demo.sh: working in $tmp (confd: $CONFD_BIN)"

# --- 1. etcd ---------------------------------------------------------------------------------

etcd_tls=() rbac_tls=()
if ((tls)); then
  say "TLS: a CA, and a server certificate for 127.0.0.1 (openssl)"
  mkdir -m 700 "$secrets"
  (
    cd "$secrets"
    openssl req -x509 -new -nodes -newkey rsa:2048 -days 2 -subj "/CN=confd demo CA" \
      -keyout ca-key.pem -out ca.pem
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=etcd" -keyout server-key.pem -out server.csr
    printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth, clientAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -sha256 \
      -extfile server.ext -out server.pem
  ) >"$tmp/logs/openssl.log" 2>&1 || die "openssl failed: $(tail -n 3 "$tmp/logs/openssl.log")"
  etcd_tls=(--cert-file "$secrets/server.pem" --key-file "$secrets/server-key.pem"
    --client-cert-auth --trusted-ca-file "$secrets/ca.pem")
  rbac_tls=(--tls)
  info "$secrets/ca.pem; etcd: --cert-file --key-file --client-cert-auth --trusted-ca-file"
fi

say "starting a 3-member etcd cluster (--initial-cluster, --initial-cluster-state new)"
declare -a cport pport
initial_cluster=""
for n in 1 2 3; do
  free_port "cport[n]"
  free_port "pport[n]"
  initial_cluster+="${initial_cluster:+,}m$n=http://127.0.0.1:${pport[n]}"
done
endpoints="$scheme://127.0.0.1:${cport[1]},$scheme://127.0.0.1:${cport[2]},$scheme://127.0.0.1:${cport[3]}"
confd_nodes=() register_nodes=()
for n in 1 2 3; do
  confd_nodes+=(-node "$scheme://127.0.0.1:${cport[n]}")
  register_nodes+=(--node "$scheme://127.0.0.1:${cport[n]}")
done
for n in 1 2 3; do start_etcd "$n"; done
wait_until 30 "all three etcd members healthy" ctl_anon endpoint health
info "members m1 m2 m3, clients on $endpoints"

# --- 2. least privilege ----------------------------------------------------------------------

say "authentication and per-data-centre roles (etcd-rbac.sh)"
"$here/etcd-rbac.sh" --endpoints "$endpoints" --secrets "$secrets" "${rbac_tls[@]}" \
  bx=/service_sgin_bx yz=/service_sgin_yz | sed -n '2,$p'
say "what the roles forbid"
if ((tls)); then
  refused "a write without a client certificate" http -S --tls-max 1.2 --cacert "$secrets/ca.pem" \
    "https://127.0.0.1:${cport[1]}/v3/kv/put" -d '{"key": "L3NlcnZpY2Vfc2dpbl9ieC91cHN0cmVhbS93ZWIvZXZpbA==", "value": "MTAuNi42LjY6ODA="}'
else
  refused "anonymous write" ctl_anon put /service_sgin_bx/upstream/web/evil 10.6.6.6:80
fi
refused "registrar-bx writing yz's keys" ctl_as registrar-bx put /service_sgin_yz/upstream/web/evil 10.6.6.6:80
refused "registrar-bx writing outside upstream/, subdomain/" ctl_as registrar-bx put /service_sgin_bx/other 1
refused "confd-bx (read-only) writing" ctl_as confd-bx put /service_sgin_bx/upstream/web/evil 10.6.6.6:80
refused "confd-bx reading yz's keys" ctl_as confd-bx get /service_sgin_yz/subdomain/web
mapfile -t creds < <(agent_creds registrar-bx)
refused "confd-register as registrar-bx into yz" "$REGISTER_BIN" "${register_nodes[@]}" \
  --prefix /service_sgin_yz --service web --addr 127.0.0.1:1 \
  "${creds[@]}"

# --- 3d. live membership (--dynamic) ---------------------------------------------------------

if ((dynamic)); then
  say "data centre bx, live-membership mode: nginx (+ Lua) and confd -watch (dynamic/ templates)"
  free_port "ports[bx]"
  start_front bx "${ports[bx]}" dynamic
  info "nginx.conf holds the services and domains; instances are pushed to its Lua balancer"

  say "two backends for www.example.com, each with a confd-register agent"
  for b in bx-web-1 bx-web-2; do
    free_port "ports[$b]"
    start_backend "$b" "${ports[$b]}"
    start_agent bx "$b" web "${ports[$b]}" www.example.com example.com
  done
  wait_until 20 "bx-web-1 in rotation" serves bx-web-1 www.example.com "${ports[bx]}"
  wait_until 20 "bx-web-2 in rotation" serves bx-web-2 www.example.com "${ports[bx]}"
  info "nginx has: $(membership_of bx)"
  workers=$(workers_of bx)
  reloads=$(nginx_reloads_of bx)
  info "nginx's worker processes: $workers; nginx.conf reloads so far: $reloads"

  say "a slow download (~10 s) and steady traffic while instances join and leave"
  start "download" curl --noproxy '*' -s -m 60 -H "Host: www.example.com" -o "$tmp/download.got" \
    "http://127.0.0.1:${ports[bx]}/download"
  start_traffic web www.example.com "${ports[bx]}"
  for b in bx-web-3 bx-web-4; do
    free_port "ports[$b]"
    start_backend "$b" "${ports[$b]}"
    t=$(date +%s%N)
    start_agent bx "$b" web "${ports[$b]}" www.example.com example.com
    wait_until 20 "$b in rotation" serves "$b" www.example.com "${ports[bx]}"
    info "$b joined: in rotation $(ms_since "$t") ms after its agent started (checks: 2 × 1 s)"
  done
  t=$(date +%s%N)
  stop agent-bx-web-1
  wait_until 10 "bx-web-1 out of rotation" avoids bx-web-1 www.example.com "${ports[bx]}"
  info "bx-web-1's agent stopped (lease revoked): out of rotation after $(ms_since "$t") ms"
  t=$(date +%s%N)
  stop backend-bx-web-3
  wait_until 15 "bx-web-3's key deleted" key_absent bx /service_sgin_bx/upstream/web/bx-web-3
  info "backend bx-web-3 stopped: its requests retried on the others meanwhile (the balancer"
  info "ejects it), deregistered by its agent after $(ms_since "$t") ms (2 failed checks)"
  wait_until 5 "bx-web-3 out of nginx's membership" membership_lacks bx "${ports[bx-web-3]}"
  info "nginx has: $(membership_of bx)"
  wait_until 30 "the download finishes" finished download
  cmp -s "$tmp/download.bin" "$tmp/download.got" ||
    die "the download was cut: $(stat -c %s "$tmp/download.got" 2>/dev/null || echo 0) of 200000 bytes"
  info "the download finished intact (200000 bytes, same as the backend's file)"
  stop_traffic web
  [[ $(workers_of bx) == "$workers" ]] || die "nginx's workers changed: $workers -> $(workers_of bx)"
  [[ $(nginx_reloads_of bx) == "$reloads" ]] || die "nginx was reloaded for an instance change"
  info "nginx's worker processes: $(workers_of bx) (unchanged); reloads: none; pushes: $(pushes_of bx)"

  say "a new service (api.example.com): nginx.conf changes, one reload"
  free_port "ports[bx-api-1]"
  start_backend bx-api-1 "${ports[bx-api-1]}"
  start_agent bx bx-api-1 api "${ports[bx-api-1]}" api.example.com
  wait_until 20 "bx-api-1 in rotation" serves bx-api-1 api.example.com "${ports[bx]}"
  nginx_t bx
  info "reloads: $(($(nginx_reloads_of bx) - reloads)); nginx's worker processes now: $(workers_of bx)"

  say "summary"
  info "instances joined and left under traffic with no reload: $total_requests requests, 0 failed"
  info "a 10 s download went on through every change; one reload, for the new service"
  info "done in $(elapsed) s; stopping everything"
  exit 0
fi

# --- 3. data centre bx: nginx, confd, backends, agents ----------------------------------------

say "data centre bx: nginx and confd -watch (production/ templates, prefix /service_sgin_bx)"
free_port "ports[bx]"
start_front bx "${ports[bx]}"
info "no service registered yet: upstreams: $(upstreams_of bx)"

say "three backends for two services, each with a confd-register agent (--check /health, --ttl 5)"
free_port "ports[bx-web-1]"
free_port "ports[bx-web-2]"
free_port "ports[bx-api-1]"
start_backend bx-web-1 "${ports[bx-web-1]}"
start_backend bx-web-2 "${ports[bx-web-2]}"
start_backend bx-api-1 "${ports[bx-api-1]}"
start_agent bx bx-web-1 web "${ports[bx-web-1]}" www.example.com example.com
start_agent bx bx-web-2 web "${ports[bx-web-2]}" www.example.com example.com
start_agent bx bx-api-1 api "${ports[bx-api-1]}" api.example.com
wait_until 20 "bx-web-1 in rotation" serves bx-web-1 www.example.com "${ports[bx]}"
wait_until 20 "bx-web-2 in rotation" serves bx-web-2 www.example.com "${ports[bx]}"
wait_until 20 "bx-api-1 in rotation" serves bx-api-1 api.example.com "${ports[bx]}"
info "keys: $(keys_of bx)"
info "upstreams: $(upstreams_of bx)"
nginx_t bx

say "requests by Host"
info "www.example.com  -> $(sample www.example.com "${ports[bx]}" 8)"
info "example.com      -> $(sample example.com "${ports[bx]}" 4)"
info "api.example.com  -> $(sample api.example.com "${ports[bx]}" 4)"
r=$(redirect_of unknown.example.org "${ports[bx]}")
[[ $r == "302 http://www.sina.cn"* ]] || die "unknown Host: expected the seed's redirect, got $r"
info "unknown.example.org -> $r (the seed's default server)"

# --- 4. a backend leaves under traffic ---------------------------------------------------------

say "stopping backend bx-web-2 under traffic: its agent deregisters it"
start_traffic web www.example.com "${ports[bx]}"
sleep 0.5
t_stop=$(date +%s%N)
stop backend-bx-web-2
wait_until 15 "bx-web-2's key deleted" key_absent bx /service_sgin_bx/upstream/web/bx-web-2
t_key=$(date +%s%N)
wait_until 10 "bx-web-2 out of nginx.conf" config_lacks bx "127.0.0.1:${ports[bx-web-2]}"
t_conf=$(date +%s%N)
wait_until 10 "bx-web-2 out of rotation" avoids bx-web-2 www.example.com "${ports[bx]}"
sleep 0.5
info "key gone $(((t_key - t_stop) / 1000000)) ms after the stop (2 failed checks, 1 s apart), nginx.conf updated $(((t_conf - t_key) / 1000000)) ms later"
stop_traffic web
info "upstreams: $(upstreams_of bx)"

# --- 5. a service's last instance leaves --------------------------------------------------------

say "stopping the agent of bx-api-1 (SIGTERM: lease revoked), api's last instance"
stop agent-bx-api-1
wait_until 10 "api out of nginx.conf" config_lacks bx "upstream api "
info "upstreams: $(upstreams_of bx) (no empty 'upstream api { }' for nginx -t to reject)"
nginx_t bx
wait_until 10 "api.example.com redirected" status_is 302 api.example.com "${ports[bx]}"
info "api.example.com -> $(redirect_of api.example.com "${ports[bx]}") (the default server)"

# --- 6. an etcd member dies; registration goes on ------------------------------------------------

# m1 is the first --node/-node of every agent and confd: its death is the fail-over case.
leader_note=" (a follower)"
while IFS=', ' read -r ep _ _ _ is_leader _; do
  [[ $ep == "$scheme://127.0.0.1:${cport[1]}" && $is_leader == true ]] && leader_note=" (the leader)"
done < <(ctl_as confd-bx endpoint status 2>/dev/null | sed 's/ kB,/kB,/; s/ MB,/MB,/')
say "killing etcd member m1$leader_note with kill -9, under traffic; a new backend registers meanwhile"
start_traffic web2 www.example.com "${ports[bx]}"
stop etcd-m1 KILL
wait_until 15 "a leader among m2 and m3" has_leader "$scheme://127.0.0.1:${cport[2]},$scheme://127.0.0.1:${cport[3]}"
info "quorum kept: 2 of 3 members"
free_port "ports[bx-web-3]"
start_backend bx-web-3 "${ports[bx-web-3]}"
start_agent bx bx-web-3 web "${ports[bx-web-3]}" www.example.com example.com
wait_until 25 "bx-web-3 in rotation with m1 down" serves bx-web-3 www.example.com "${ports[bx]}"
info "bx-web-3 registered and in rotation: upstreams: $(upstreams_of bx)"
moved=$(grep -o 'Watch moved to etcd at [^ ]*' "$tmp/logs/confd-bx.log" | tail -n 1 || true)
[[ -z $moved ]] || info "confd: ${moved}"
sleep 1 # some traffic with bx-web-3 in rotation
stop_traffic web2

say "restarting m1: it rejoins with its data directory and catches up"
start_etcd 1
# With authentication on, a health check needs a user (any: a refused read counts as healthy).
wait_until 30 "all three members healthy again" ctl_as confd-bx endpoint health
info "$(ctl_as confd-bx endpoint health 2>&1 | grep -c 'is healthy') of 3 members healthy"

# --- 7. a second data centre on the same etcd ---------------------------------------------------

say "data centre yz: its own prefix /service_sgin_yz, own confd (confd-yz), own nginx"
free_port "ports[yz]"
free_port "ports[yz-web-1]"
start_backend yz-web-1 "${ports[yz-web-1]}"
start_agent yz yz-web-1 web "${ports[yz-web-1]}" www.example.com example.com
start_front yz "${ports[yz]}"
wait_until 20 "yz-web-1 in yz's rotation" serves yz-web-1 www.example.com "${ports[yz]}"
nginx_t yz
info "bx keys: $(keys_of bx)"
info "yz keys: $(keys_of yz)"
bx_seen=$(sample www.example.com "${ports[bx]}" 8)
yz_seen=$(sample www.example.com "${ports[yz]}" 8)
[[ $bx_seen != *yz-* && $yz_seen != *bx-* ]] || die "crosstalk: bx saw $bx_seen, yz saw $yz_seen"
info "www.example.com at bx's nginx -> $bx_seen"
info "www.example.com at yz's nginx -> $yz_seen"
info "api.example.com at yz's nginx -> $(redirect_of api.example.com "${ports[yz]}") (no api in yz)"

# --- summary ---------------------------------------------------------------------------------

say "summary"
info "etcd: 3 members, authentication on; a member was killed and came back"
info "bx: $(upstreams_of bx); nginx.conf updates by confd (each checked by nginx -t, then a reload): $(reloads_of bx)"
info "yz: $(upstreams_of yz); nginx.conf updates: $(reloads_of yz)"
info "requests sent during the changes: $total_requests, failed: 0"
info "refused: writes without credentials, across data centres, and by confd's read-only users"
info "done in $(elapsed) s; stopping everything"
