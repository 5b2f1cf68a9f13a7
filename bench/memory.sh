#!/usr/bin/env bash
# bench/memory.sh: dynapi's memory and document load time, read from
# /proc/PID/status (VmRSS: resident now, VmHWM: the peak since start) of a
# freshly built server in a temporary directory:
#
#   1. idle: the README's first start (embedded store, example API, demo
#      bank), IDLE_WAIT seconds after /healthz first answers;
#   2. logins: LOGINS DirectLogins with right credentials sent at once,
#      LOGIN_ROUNDS times; the peak RSS while they run (sampled every
#      0.05 s, and VmHWM);
#   3. documents: a fresh server (--example=false) given every root
#      document of ../shared/specs, each at its own mount; RSS once they
#      are all served and SETTLE seconds later, and the peak;
#   4. large document: a fresh server given a synthetic 2.5 MB document of
#      300 operations (bench/specgen); the POST's time, best of LOAD_RUNS,
#      and the server's CPU time (utime + stime) during it, which other
#      work on a shared machine changes less.
#
# It prints a table against the targets of issue 10 and writes it to
# bench/results/memory.md; the exit status is 1 when a target is missed.
# Loopback only; what it starts is killed on exit.
#
# Knobs (environment): LOGINS (50) LOGIN_ROUNDS (3) IDLE_WAIT (2) SETTLE (5)
# LOAD_RUNS (3) BENCH_DYNAPI_PORT (18090).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SPECS=$(cd "$ROOT/../shared/specs" 2>/dev/null && pwd) || {
	echo "memory: ../shared/specs is missing" >&2
	exit 2
}
LOGINS=${LOGINS:-50}
LOGIN_ROUNDS=${LOGIN_ROUNDS:-3}
IDLE_WAIT=${IDLE_WAIT:-2}
SETTLE=${SETTLE:-5}
LOAD_RUNS=${LOAD_RUNS:-3}
PORT=${BENCH_DYNAPI_PORT:-18090}
for knob in LOGINS LOGIN_ROUNDS IDLE_WAIT SETTLE LOAD_RUNS PORT; do
	if [[ ! ${!knob} =~ ^[0-9]+$ ]] || ((${!knob} < 1)); then
		echo "memory: $knob must be a whole number of at least 1, got '${!knob}'" >&2
		exit 2
	fi
done
URL=http://127.0.0.1:$PORT
RESULTS=$BENCH_DIR/results

log() { printf '[memory %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dynapi-memory.XXXXXX")
SERVER_PID=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	stop_dynapi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl go awk; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "something already listens on port $PORT (set BENCH_DYNAPI_PORT)"

log "building dynapi and the large document"
(cd "$ROOT" && go build -o "$TMP/dynapi" ./cmd/dynapi) || die "dynapi does not build"
(cd "$ROOT" && go run ./bench/specgen -resources 100 >"$TMP/large.json") || die "bench/specgen failed"

rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
PASSWORD=Memory-$(rand_hex 12)
CONSUMER_KEY=memory-$(rand_hex 8)
printf 'DirectLogin: username="admin", password="%s", consumer_key="%s"\n' "$PASSWORD" "$CONSUMER_KEY" >"$TMP/login.headers"

kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }
TICKS=$(getconf CLK_TCK)
cpu_ms() { # the server's CPU time so far, in ms (fields 14 and 15 of stat, after the name)
	sed 's/^.*) //' "/proc/$SERVER_PID/stat" | awk -v hz="$TICKS" '{ printf "%d", ($12 + $13) * 1000 / hz }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# start_dynapi [FLAGS...]: a fresh server on an empty data directory.
start_dynapi() {
	local data
	data=$(mktemp -d "$TMP/data.XXXXXX")
	DYNAPI_ADMIN_USERNAME=admin DYNAPI_ADMIN_PASSWORD=$PASSWORD DYNAPI_ADMIN_CONSUMER_KEY=$CONSUMER_KEY \
		DYNAPI_ADMIN_CONSUMER_SECRET=$(rand_hex 32) \
		"$TMP/dynapi" serve --addr "127.0.0.1:$PORT" --data-dir "$data" --log-format json "$@" \
		>>"$TMP/dynapi.log" 2>&1 &
	SERVER_PID=$!
	local _
	for _ in $(seq 1 200); do
		kill -0 "$SERVER_PID" 2>/dev/null || die "dynapi exited during start-up: $(tail -n 5 "$TMP/dynapi.log")"
		[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$URL/healthz") == 200 ]] && return 0
		sleep 0.05
	done
	die "dynapi did not answer /healthz within 10 s"
}

stop_dynapi() {
	[[ -n $SERVER_PID ]] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

login() { # [N]: prints the status of a DirectLogin, writes the token to $TMP/auth.headers
	local out=$TMP/login-${1:-0}.json code
	code=$(curl -s -o "$out" -w '%{http_code}' --max-time 60 -X POST "$URL/my/logins/direct" -H "@$TMP/login.headers") || true
	if [[ -z ${1:-} && $code == 201 ]]; then
		printf 'Authorization: DirectLogin token="%s"\n' "$(sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p' "$out")" >"$TMP/auth.headers"
	fi
	echo "$code"
}

# ---------------------------------------------------------------- idle
log "idle: the README's first start"
start_dynapi
sleep "$IDLE_WAIT"
IDLE_KB=$(kib VmRSS)
IDLE_HWM_KB=$(kib VmHWM)

# ---------------------------------------------------------------- logins
log "logins: $LOGINS at once, $LOGIN_ROUNDS rounds"
LOGIN_PEAK_KB=0
LOGIN_FAILED=0
LOGIN_MS=()
for round in $(seq 1 "$LOGIN_ROUNDS"); do
	t0=$(date +%s%N)
	pids=()
	for i in $(seq 1 "$LOGINS"); do
		(login "$round-$i" >"$TMP/code-$round-$i") &
		pids+=($!)
	done
	while :; do
		rss=$(kib VmRSS)
		((rss > LOGIN_PEAK_KB)) && LOGIN_PEAK_KB=$rss
		running=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && running=1 && break; done
		((running)) || break
		sleep 0.05
	done
	wait "${pids[@]}"
	LOGIN_MS+=("$((($(date +%s%N) - t0) / 1000000))")
	for i in $(seq 1 "$LOGINS"); do
		[[ $(cat "$TMP/code-$round-$i") == 201 ]] || LOGIN_FAILED=$((LOGIN_FAILED + 1))
	done
done
hwm=$(kib VmHWM)
((hwm > LOGIN_PEAK_KB)) && LOGIN_PEAK_KB=$hwm
LOGIN_AFTER_KB=$(kib VmRSS)
stop_dynapi

# ---------------------------------------------------------------- documents
log "documents: every root document of ../shared/specs"
start_dynapi --example=false
[[ $(login) == 201 ]] || die "login failed: $(cat "$TMP/login-0.json")"
DOCS=0
REFUSED=()
while IFS= read -r -d '' file; do
	rel=${file#"$SPECS"/}
	case $rel in petstore-swagger2-separate/common/* | petstore-swagger2-separate/spec/[!s]*) continue ;; esac
	DOCS=$((DOCS + 1))
	type=application/json
	[[ $file == *.yaml ]] && type=application/yaml
	code=$(curl -s -o "$TMP/doc.json" -w '%{http_code}' --max-time 120 -X POST \
		"$URL/admin/v1/dynamic-endpoints?mount=/doc$DOCS" -H "@$TMP/auth.headers" \
		-H "Content-Type: $type" --data-binary "@$file") || true
	[[ $code == 201 ]] || REFUSED+=("$rel ($code)")
done < <(find "$SPECS" -type f \( -name '*.json' -o -name '*.yaml' \) -print0 | sort -z)
DOCS_RSS_KB=$(kib VmRSS)
sleep "$SETTLE"
DOCS_SETTLED_KB=$(kib VmRSS)
DOCS_HWM_KB=$(kib VmHWM)
stop_dynapi

# ---------------------------------------------------------------- large document
log "large document: $(wc -c <"$TMP/large.json") bytes, $LOAD_RUNS runs"
start_dynapi --example=false
[[ $(login) == 201 ]] || die "login failed: $(cat "$TMP/login-0.json")"
LOAD_MS=()
LOAD_CPU_MS=()
for i in $(seq 1 "$LOAD_RUNS"); do
	cpu0=$(cpu_ms)
	out=$(curl -s -o "$TMP/large-answer.json" -w '%{http_code} %{time_total}' --max-time 120 -X POST \
		"$URL/admin/v1/dynamic-endpoints?mount=/large$i" -H "@$TMP/auth.headers" \
		-H 'Content-Type: application/json' --data-binary "@$TMP/large.json") || true
	[[ ${out%% *} == 201 ]] || die "POST of the large document answered ${out%% *}: $(head -c 500 "$TMP/large-answer.json")"
	LOAD_MS+=("$(awk -v s="${out#* }" 'BEGIN { printf "%.0f", s * 1000 }')")
	LOAD_CPU_MS+=("$(($(cpu_ms) - cpu0))")
done
LARGE_HWM_KB=$(kib VmHWM)
stop_dynapi
BEST_MS=$(printf '%s\n' "${LOAD_MS[@]}" | sort -n | head -n 1)

check() { # TEXT OK
	if (($2)); then echo "- pass: $1"; else echo "- FAIL: $1"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
mkdir -p "$RESULTS"
{
	echo "# Memory and load time"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), dynapi $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg)."
	echo
	echo "| figure | MiB |"
	echo "|---|---|"
	echo "| idle, ${IDLE_WAIT}s after start (VmRSS) | $(mib "$IDLE_KB") |"
	echo "| idle, peak during start (VmHWM) | $(mib "$IDLE_HWM_KB") |"
	echo "| $LOGINS concurrent logins x $LOGIN_ROUNDS, peak | $(mib "$LOGIN_PEAK_KB") |"
	echo "| after the logins (VmRSS) | $(mib "$LOGIN_AFTER_KB") |"
	echo "| $((DOCS - ${#REFUSED[@]})) documents served (VmRSS) | $(mib "$DOCS_RSS_KB") |"
	echo "| the same, ${SETTLE}s later (VmRSS) | $(mib "$DOCS_SETTLED_KB") |"
	echo "| the same, peak (VmHWM) | $(mib "$DOCS_HWM_KB") |"
	echo "| large document server, peak (VmHWM) | $(mib "$LARGE_HWM_KB") |"
	echo
	echo "Login rounds took ${LOGIN_MS[*]} ms; $LOGIN_FAILED logins were not 201."
	echo "Documents submitted: $DOCS; refused: ${REFUSED[*]:-none}."
	echo "Large document ($(wc -c <"$TMP/large.json") bytes, 300 operations): POST ${LOAD_MS[*]} ms; server CPU ${LOAD_CPU_MS[*]} ms."
	echo
	check "idle $(mib "$IDLE_KB") MiB <= 40 MiB" "$(le "$IDLE_KB" $((40 * 1024)))"
	check "$LOGINS concurrent logins peak $(mib "$LOGIN_PEAK_KB") MiB <= 256 MiB, every login 201" \
		"$(($(le "$LOGIN_PEAK_KB" $((256 * 1024))) && LOGIN_FAILED == 0))"
	check "documents $(mib "$DOCS_SETTLED_KB") MiB <= 64 MiB" "$(le "$DOCS_SETTLED_KB" $((64 * 1024)))"
	check "documents peak $(mib "$DOCS_HWM_KB") MiB <= 128 MiB" "$(le "$DOCS_HWM_KB" $((128 * 1024)))"
	check "large document loads in $BEST_MS ms < 1500 ms" "$((BEST_MS < 1500))"
} | tee "$RESULTS/memory.md"
grep -q '^- FAIL' "$RESULTS/memory.md" && exit 1
exit 0
