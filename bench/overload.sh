#!/usr/bin/env bash
# bench/overload.sh: a bounded overload run. dynapi (the README's first
# command: embedded store, example API and demo bank) takes, at the same
# time and for OVERLOAD_DURATION seconds,
#   - wrk with OVERLOAD_CONNECTIONS connections on a guarded route (the
#     example API's GET /example/v1/accounts with the admin's token), and
#   - wrk with LOGIN_CONNECTIONS connections logging in with right
#     credentials (POST /my/logins/direct, DirectLogin),
# while a probe logs in once a second from another loopback address
# (127.0.0.2) and the server's RSS is sampled every 0.2 s.
#
# It passes when the process survives, no right login is refused (no 401),
# every probe login succeeds within PROBE_TIMEOUT seconds, and the peak RSS
# stays under RSS_LIMIT_MB. It prints a summary and writes it to
# bench/results/overload.md. Loopback only; every loop is bounded; what it
# starts is killed on exit.
#
# Knobs (environment): OVERLOAD_DURATION (30) OVERLOAD_CONNECTIONS (500)
# LOGIN_CONNECTIONS (500) RSS_LIMIT_MB (512) PROBE_TIMEOUT (5)
# BENCH_DYNAPI_PORT (18080).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
DURATION=${OVERLOAD_DURATION:-30}
CONNECTIONS=${OVERLOAD_CONNECTIONS:-500}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-500}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-512}
PROBE_TIMEOUT=${PROBE_TIMEOUT:-5}
PORT=${BENCH_DYNAPI_PORT:-18080}
for knob in DURATION CONNECTIONS LOGIN_CONNECTIONS RSS_LIMIT_MB PROBE_TIMEOUT PORT; do
	if [[ ! ${!knob} =~ ^[0-9]+$ ]] || ((${!knob} < 1)); then
		echo "overload: $knob must be a whole number of at least 1, got '${!knob}'" >&2
		exit 2
	fi
done
ADDR=127.0.0.1:$PORT
URL=http://$ADDR
STATUS_LUA=$BENCH_DIR/wrk/status.lua
RESULTS=$BENCH_DIR/results

log() { printf '[overload %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dynapi-overload.XXXXXX")
SERVER_PID=""
PIDS=()
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in "${PIDS[@]}" "$SERVER_PID"; do
		[[ -n $pid ]] && kill "$pid" 2>/dev/null || true
	done
	sleep 0.5
	for pid in "${PIDS[@]}" "$SERVER_PID"; do
		[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null 2>&1; then
	log "wrk not found: installing the Debian package"
	if [[ $(id -u) -eq 0 ]]; then
		apt-get update && apt-get install -y wrk
	else
		sudo apt-get update && sudo apt-get install -y wrk
	fi
fi
for tool in wrk curl go awk taskset; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "something already listens on $ADDR (set BENCH_DYNAPI_PORT)"

# Two connections per wrk worker at least, and the open files they need.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((CONNECTIONS + LOGIN_CONNECTIONS + 256))
(($(ulimit -n) >= need)) || die "open file limit $(ulimit -n) is below the $need this run needs"

log "building dynapi"
(cd "$ROOT" && go build -o "$TMP/dynapi" ./cmd/dynapi) || die "dynapi does not build"

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
USERNAME=admin
PASSWORD=Overload-$(rand_hex 12)
CONSUMER_KEY=overload-$(rand_hex 8)
DIRECTLOGIN="username=\"$USERNAME\", password=\"$PASSWORD\", consumer_key=\"$CONSUMER_KEY\""
printf 'DirectLogin: %s\n' "$DIRECTLOGIN" >"$TMP/login.headers"

# The server on the first CPU, the load on the second (when there are two).
mapfile -t CPUS < <(taskset -cp $$ | sed 's/.*: *//' | tr ',' '\n' |
	awk -F- '{ if (NF == 2) for (i = $1; i <= $2; i++) print i; else print $1 }')
SERVER_PIN=()
LOAD_PIN=()
if ((${#CPUS[@]} >= 2)); then
	SERVER_PIN=(taskset -c "${CPUS[0]}")
	LOAD_PIN=(taskset -c "${CPUS[1]}")
fi

log "starting dynapi on $ADDR"
DYNAPI_ADMIN_USERNAME=$USERNAME DYNAPI_ADMIN_PASSWORD=$PASSWORD DYNAPI_ADMIN_CONSUMER_KEY=$CONSUMER_KEY \
	DYNAPI_ADMIN_CONSUMER_SECRET=$(rand_hex 32) \
	"${SERVER_PIN[@]}" "$TMP/dynapi" serve --addr "$ADDR" --data-dir "$TMP/data" --log-format json \
	--max-conns-per-ip "$((CONNECTIONS + LOGIN_CONNECTIONS + 64))" \
	>"$TMP/dynapi.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
	kill -0 "$SERVER_PID" 2>/dev/null || die "dynapi exited during start-up: $(tail -n 5 "$TMP/dynapi.log")"
	[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/healthz") == 200 ]] && break
	sleep 0.1
done

login() { # [CURL ARGS...]: prints the HTTP status, leaves the body in $TMP/login.json
	curl -s -o "$TMP/login.json" -w '%{http_code}' -X POST "$URL/my/logins/direct" -H "@$TMP/login.headers" "$@" || true
}
[[ $(login --max-time 30) == 201 ]] || die "the first login failed: $(cat "$TMP/login.json")"
TOKEN=$(sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p' "$TMP/login.json")
AUTHORIZATION="DirectLogin token=\"$TOKEN\""
GUARDED=$URL/example/v1/accounts
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: $AUTHORIZATION" "$GUARDED")
[[ $code == 200 ]] || die "GET $GUARDED answered $code, want 200"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$GUARDED")
[[ $code == 401 ]] || die "GET $GUARDED without credentials answered $code, want 401"

log "overload: $CONNECTIONS connections on $GUARDED and $LOGIN_CONNECTIONS on logins for ${DURATION}s"
WRK_AUTHORIZATION=$AUTHORIZATION "${LOAD_PIN[@]}" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
	--latency -s "$STATUS_LUA" "$GUARDED" >"$TMP/guarded.txt" 2>&1 &
PIDS+=($!)
GUARDED_WRK=$!
WRK_METHOD=POST WRK_DIRECTLOGIN=$DIRECTLOGIN "${LOAD_PIN[@]}" wrk -t2 -c"$LOGIN_CONNECTIONS" -d"${DURATION}s" \
	--timeout 10s --latency -s "$STATUS_LUA" "$URL/my/logins/direct" >"$TMP/login.txt" 2>&1 &
PIDS+=($!)
LOGIN_WRK=$!

# Sample RSS and probe logins until the load ends.
peak_kb=0
probes=0
probe_ok=0
probe_worst_ms=0
next_probe=$(date +%s)
end=$(($(date +%s) + DURATION + 15))
while kill -0 "$GUARDED_WRK" 2>/dev/null || kill -0 "$LOGIN_WRK" 2>/dev/null; do
	kill -0 "$SERVER_PID" 2>/dev/null || die "dynapi died under load: $(tail -n 20 "$TMP/dynapi.log")"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	((rss > peak_kb)) && peak_kb=$rss
	if (($(date +%s) >= next_probe)); then
		next_probe=$(($(date +%s) + 1))
		start=$(date +%s%N)
		code=$(login --max-time "$PROBE_TIMEOUT" --interface 127.0.0.2)
		ms=$((($(date +%s%N) - start) / 1000000))
		probes=$((probes + 1))
		[[ $code == 201 ]] && probe_ok=$((probe_ok + 1))
		((ms > probe_worst_ms)) && probe_worst_ms=$ms
		[[ $code == 201 ]] || log "probe login answered $code after ${ms} ms"
	fi
	(($(date +%s) < end)) || die "wrk did not finish within ${DURATION}s + 15s"
	sleep 0.2
done
wait "$GUARDED_WRK" || die "wrk on the guarded route failed: $(cat "$TMP/guarded.txt")"
wait "$LOGIN_WRK" || die "wrk on logins failed: $(cat "$TMP/login.txt")"
PIDS=()
kill -0 "$SERVER_PID" 2>/dev/null || die "dynapi died under load: $(tail -n 20 "$TMP/dynapi.log")"
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
((hwm_kb > peak_kb)) && peak_kb=$hwm_kb
after=$(login --max-time 30)

statuses() { awk '/^status / { printf "%s%s: %s", sep, $2, $3; sep = ", " }' "$1"; }
count() { awk -v c="$2" '$1 == "status" && $2 == c { n += $3 } END { print n + 0 }' "$1"; }
field() { awk -v k="$2" '$0 ~ k { print $0; exit }' "$1"; }
errors_line() { grep -h 'Socket errors' "$1" || echo "no socket errors"; }
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
p99() { awk '/^[ \t]*99%/ { print $2 }' "$1"; }

refused=$(count "$TMP/login.txt" 401)
peak_mb=$(((peak_kb + 1023) / 1024))

check() { # CONDITION-TEXT OK
	if (($2)); then echo "- pass: $1"; else
		echo "- FAIL: $1"

	fi
}
mkdir -p "$RESULTS"
{
	echo "# Overload run"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), ${DURATION}s, dynapi $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "server on CPU ${CPUS[0]:-any}, load on CPU ${CPUS[1]:-any}; load average before $(cut -d' ' -f1 /proc/loadavg)."
	echo
	echo "| load | connections | req/s | p99 | statuses | socket errors |"
	echo "|---|---|---|---|---|---|"
	echo "| guarded GET | $CONNECTIONS | $(rps "$TMP/guarded.txt") | $(p99 "$TMP/guarded.txt") | $(statuses "$TMP/guarded.txt") | $(errors_line "$TMP/guarded.txt") |"
	echo "| right logins | $LOGIN_CONNECTIONS | $(rps "$TMP/login.txt") | $(p99 "$TMP/login.txt") | $(statuses "$TMP/login.txt") | $(errors_line "$TMP/login.txt") |"
	echo
	echo "Probe logins from 127.0.0.2: $probe_ok of $probes succeeded, slowest ${probe_worst_ms} ms."
	echo "Peak RSS: ${peak_mb} MiB (bound ${RSS_LIMIT_MB} MiB). Login after the run: $after."
	echo
	check "the process survived" 1
	check "no right login refused with 401 ($refused)" "$((refused == 0))"
	check "every probe login succeeded within ${PROBE_TIMEOUT}s ($probe_ok/$probes)" "$((probes > 0 && probe_ok == probes))"
	check "peak RSS ${peak_mb} MiB <= ${RSS_LIMIT_MB} MiB" "$((peak_mb <= RSS_LIMIT_MB))"
	check "a login after the run succeeds ($after)" "$((after == 201))"
} | tee "$RESULTS/overload.md"
grep -q '^- FAIL' "$RESULTS/overload.md" && exit 1
exit 0
