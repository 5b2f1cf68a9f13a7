#!/usr/bin/env bash
# bench/run.sh: wrk load benchmark of dynapi against the fiberlimit reference
# server (../shared/bench/fiberlimit), the cost of dynapi's route guard
# (guarded vs public mock GET), spec-load latency, a spec swap under load,
# the record API of a dynamic entity holding 100,000 records (create, get by
# id, filtered list page) next to the mock GET of the same server, and
# connector methods (GET /hello answered by a JavaScript connector method and
# by a REST back end through a method routing) next to the mock GET, and the
# consent check (a UK account-information GET under a consent against the
# same GET guarded by its role), and the call limits (the guarded mock GET
# through a consumer with limits against one without, and optionally with
# metrics and tracing on against off).
# Each target of ../shared/bench/README.md is checked in every round, not
# only on the median; the report says which rounds missed. See
# bench/README.md. Loopback only; every loop is bounded; the servers it
# starts are killed on exit. dynapi bootstraps a super admin from random
# credentials at each start; the script logs in once per start (DirectLogin)
# and sends the token on every management call and guarded workload.
# Every ratio is measured interleaved: in each round of the compare,
# entities and connectors parts, the part's dynapi and a fiberlimit are up
# together and their workloads take turns of DURATION/SLICES seconds (in
# order, then backwards), so a drift of the machine reaches both sides of a
# ratio alike.
#
# Knobs (environment): WORKLOADS (all; or a comma-separated subset of
# compare, spec, swap, entities, connectors, consents, ratelimit) DURATION (12: measured seconds
# per workload and round) SLICES (12: turns the ratio workloads' DURATION is
# split into, at least 1 s each; even, so that the turns' alternating order
# balances) CONNECTIONS (64) ROUNDS (3) WARMUP (2)
# SPEC_RUNS (5) ENTITY_RECORDS (100000)
# BENCH_DYNAPI_PORT (18080) BENCH_FIBER_PORT (18081) BENCH_BACKEND_PORT
# (18082, the REST back end of the connectors part) BENCH_OBSERVE_PORT
# (18083, the ratelimit part's dynapi with OBSERVE_OFF_FLAGS) OBSERVE_OFF_FLAGS
# ("--metrics=false --tracing=false") BENCH_SERVER_CPU /
# BENCH_WRK_CPU (first two CPUs this shell may run on).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
if [[ ! -d "$ROOT/../shared/bench" ]]; then
	echo "bench: ../shared/bench not found beside $ROOT" >&2
	exit 1
fi
SHARED=$(cd "$ROOT/../shared" && pwd)

# WORKLOADS selects the parts to run: compare (mock GET, validated and
# invalid POST against fiberlimit, guarded mock GET), spec (spec load), swap
# (swap under load), entities (record API over 100,000 records), connectors
# (JavaScript connector method and REST back end against the mock GET and
# fiberlimit), consents (an AIS GET under a consent against the same GET
# guarded by its role), ratelimit (the guarded mock GET through a consumer
# with call limits against one without; metrics and tracing on against
# off); all = every part.
WORKLOADS=${WORKLOADS:-all}
RUN_COMPARE=0
RUN_SPEC=0
RUN_SWAP=0
RUN_ENTITIES=0
RUN_CONNECTORS=0
RUN_CONSENTS=0
RUN_RATELIMIT=0
IFS=', ' read -ra WL_PARTS <<<"$WORKLOADS"
for part in "${WL_PARTS[@]}"; do
	case $part in
	"") ;;
	all) RUN_COMPARE=1 RUN_SPEC=1 RUN_SWAP=1 RUN_ENTITIES=1 RUN_CONNECTORS=1 RUN_CONSENTS=1 RUN_RATELIMIT=1 ;;
	compare) RUN_COMPARE=1 ;;
	spec) RUN_SPEC=1 ;;
	swap) RUN_SWAP=1 ;;
	entities) RUN_ENTITIES=1 ;;
	connectors) RUN_CONNECTORS=1 ;;
	consents) RUN_CONSENTS=1 ;;
	ratelimit) RUN_RATELIMIT=1 ;;
	*)
		echo "bench: WORKLOADS: unknown part '$part' (all, compare, spec, swap, entities, connectors, consents, ratelimit)" >&2
		exit 2
		;;
	esac
done
PARTS=""
for part in compare spec swap entities connectors consents ratelimit; do
	flag=RUN_${part^^}
	if ((${!flag})); then PARTS+="${PARTS:+, }$part"; fi
done
if [[ -z $PARTS ]]; then
	echo "bench: WORKLOADS='$WORKLOADS' selects nothing (all, compare, spec, swap, entities, connectors, consents, ratelimit)" >&2
	exit 2
fi
if [[ ! -d "$SHARED/bench/fiberlimit" ]]; then
	echo "bench: ../shared/bench/fiberlimit not found beside $ROOT" >&2
	exit 1
fi

DURATION=${DURATION:-12}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
SLICES=${SLICES:-12}
SPEC_RUNS=${SPEC_RUNS:-5}
ENTITY_RECORDS=${ENTITY_RECORDS:-100000}
DYNAPI_PORT=${BENCH_DYNAPI_PORT:-18080}
FIBER_PORT=${BENCH_FIBER_PORT:-18081}
BACKEND_PORT=${BENCH_BACKEND_PORT:-18082}
OBSERVE_PORT=${BENCH_OBSERVE_PORT:-18083}
for knob in DURATION CONNECTIONS ROUNDS WARMUP SLICES SPEC_RUNS ENTITY_RECORDS DYNAPI_PORT FIBER_PORT BACKEND_PORT OBSERVE_PORT; do
	if [[ ! ${!knob} =~ ^[0-9]+$ ]]; then
		echo "bench: $knob must be a whole number, got '${!knob}'" >&2
		exit 2
	fi
done
if ((DURATION < 1 || CONNECTIONS < 1 || ROUNDS < 1 || SLICES < 1 || SPEC_RUNS < 1)); then
	echo "bench: DURATION, CONNECTIONS, ROUNDS, SLICES and SPEC_RUNS must be at least 1" >&2
	exit 2
fi
# The ratio workloads run in SLICES turns of SLICE_SECS seconds each (wrk
# takes whole seconds), so DURATION is rounded down to a multiple of SLICES,
# and a slice lasts at least 1 s.
SLICE_SECS=$((DURATION / SLICES))
((SLICE_SECS >= 1)) || SLICE_SECS=1
if ((ENTITY_RECORDS < 1000)); then
	echo "bench: ENTITY_RECORDS must be at least 1000 (the filtered page needs 50 matches)" >&2
	exit 2
fi
DYNAPI_ADDR=127.0.0.1:$DYNAPI_PORT
FIBER_ADDR=127.0.0.1:$FIBER_PORT
DYNAPI_URL=http://$DYNAPI_ADDR
FIBER_URL=http://$FIBER_ADDR
BACKEND_ADDR=127.0.0.1:$BACKEND_PORT
BACKEND_URL=http://$BACKEND_ADDR
if ((DYNAPI_PORT == FIBER_PORT || DYNAPI_PORT == BACKEND_PORT || FIBER_PORT == BACKEND_PORT ||
	OBSERVE_PORT == DYNAPI_PORT || OBSERVE_PORT == FIBER_PORT || OBSERVE_PORT == BACKEND_PORT)); then
	echo "bench: BENCH_DYNAPI_PORT, BENCH_FIBER_PORT, BENCH_BACKEND_PORT and BENCH_OBSERVE_PORT must differ" >&2
	exit 2
fi

ACCOUNTS_SPEC=$SHARED/bench/accounts.yaml
PETSTORE_SPEC=$SHARED/bench/petstore.yaml
OB_SPEC=$SHARED/specs/ob-uk-v4.0/account-info-openapi.yaml
BODIES=$SHARED/bench/bodies
LUA=$BENCH_DIR/wrk/body.lua
IDS_LUA=$BENCH_DIR/wrk/ids.lua
ENTITY_DEF=$BENCH_DIR/entity/loan_offer.json
ENTITY_BODY=$BENCH_DIR/entity/create.json
RESULTS=$BENCH_DIR/results
RAW=$RESULTS/raw
for f in "$ACCOUNTS_SPEC" "$PETSTORE_SPEC" "$OB_SPEC" "$BODIES/account-10.json" "$BODIES/account-10-invalid.json" "$LUA" \
	"$IDS_LUA" "$ENTITY_DEF" "$ENTITY_BODY"; do
	[[ -r $f ]] || {
		echo "bench: missing $f" >&2
		exit 1
	}
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "FATAL: $*"
	exit 1
}

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dynapi-bench.XXXXXX")
# SERVER_PIDS[NAME]: the running servers under test, by name (dynapi,
# fiberlimit; their logs are $TMP/NAME.log). The ratio workloads keep a
# dynapi and a fiberlimit up together (each idle unless wrk loads it).
declare -A SERVER_PIDS=()
WRK_PID=""
BACKEND_PID="" # the connectors part's REST back end (fiberlimit on the wrk CPU)
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid
	for pid in "$WRK_PID" "${SERVER_PIDS[@]}" "$BACKEND_PID"; do
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 1 30); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null 2>&1; then
	log "wrk not found: installing the Debian package"
	if [[ $(id -u) -eq 0 ]]; then
		apt-get update && apt-get install -y wrk
	else
		sudo apt-get update && sudo apt-get install -y wrk
	fi
fi
for tool in wrk curl go awk sort; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

# allowed_cpus prints, one per line, the CPUs this shell may run on.
allowed_cpus() {
	local list part
	list=$(taskset -cp $$ 2>/dev/null | sed 's/.*: *//') || return 0
	IFS=',' read -ra parts <<<"$list"
	for part in "${parts[@]}"; do
		if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
			seq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		elif [[ $part =~ ^[0-9]+$ ]]; then
			echo "$part"
		fi
	done
}

SERVER_PIN=()
WRK_PIN=()
PINNING="none (taskset missing)"
if command -v taskset >/dev/null 2>&1; then
	mapfile -t CPUS < <(allowed_cpus)
	if ((${#CPUS[@]} >= 2)); then
		SERVER_CPU=${BENCH_SERVER_CPU:-${CPUS[0]}}
		WRK_CPU=${BENCH_WRK_CPU:-${CPUS[1]}}
		SERVER_PIN=(taskset -c "$SERVER_CPU")
		WRK_PIN=(taskset -c "$WRK_CPU")
		PINNING="servers on CPU $SERVER_CPU, wrk on CPU $WRK_CPU"
	else
		PINNING="none: only ${#CPUS[@]} CPU available, servers and wrk share it"
		log "WARNING: fewer than two CPUs; running unpinned, absolute figures are not comparable with a two-core run"
	fi
else
	log "WARNING: taskset not found; running unpinned"
fi

# ---------------------------------------------------------------- build
log "building dynapi (parts: $PARTS) into $TMP"
(cd "$ROOT" && go build -o "$TMP/dynapi" ./cmd/dynapi) || die "dynapi does not build"
(cd "$SHARED/bench/fiberlimit" && go build -o "$TMP/fiberlimit" .) || die "fiberlimit does not build"
if ((RUN_ENTITIES)); then
	(cd "$ROOT" && go build -o "$TMP/fill" ./bench/fill) || die "bench/fill does not build"
fi
LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
if awk -v l="$LOAD_BEFORE" 'BEGIN { exit !(l + 0 > 1.0) }'; then
	log "WARNING: load average is $LOAD_BEFORE before the run: other work on this machine will skew the figures"
fi
rm -rf "$RAW"
mkdir -p "$RAW"

# ---------------------------------------------------------------- credentials
# dynapi bootstraps its super admin and first consumer app from these at the
# first start of each (empty) data directory. They are random per run and
# reach curl through header files in $TMP (mode 0700), never its argv.
rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
ADMIN_USERNAME="admin"
ADMIN_PASSWORD=Bench-$(rand_hex 12)         # >= 10 characters
ADMIN_CONSUMER_KEY=bench-$(rand_hex 8)      # [A-Za-z0-9._~-]
ADMIN_CONSUMER_SECRET=$(rand_hex 32)        # 64 characters (32..1024)
LOGIN_HEADERS=$TMP/login.headers            # DirectLogin credentials
AUTH_HEADERS=$TMP/auth.headers              # Authorization: DirectLogin token="..." of the current start
printf 'DirectLogin: username="%s", password="%s", consumer_key="%s"\n' \
	"$ADMIN_USERNAME" "$ADMIN_PASSWORD" "$ADMIN_CONSUMER_KEY" >"$LOGIN_HEADERS"
AUTHORIZATION="" # the Authorization header value of the current dynapi start
AUTH=(-H "@$AUTH_HEADERS")

# ---------------------------------------------------------------- documents
# PUBLIC_SPEC: accounts.yaml with x-dynapi-public: true and security: [] added
# to each operation, so dynapi's public routes do the work fiberlimit does (no
# credentials). Nothing else changes: removing the added lines must give the
# original back byte for byte. accounts.yaml itself, unchanged, is served at
# /guarded, where each operation needs its role.
PUBLIC_SPEC=$TMP/accounts-public.yaml
PUBLIC_OPS=$(awk -v out="$PUBLIC_SPEC" '
	/^[^ #]/ { in_paths = ($0 ~ /^paths:[ \t]*$/) }
	{ print > out }
	in_paths && /^    (get|put|post|delete|options|head|patch|trace):[ \t]*$/ {
		print "      x-dynapi-public: true" > out
		print "      security: []" > out
		n++
	}
	END { print n + 0 }' "$ACCOUNTS_SPEC")
((PUBLIC_OPS > 0)) || die "no operation found under paths: in $ACCOUNTS_SPEC"
grep -vxF -e '      x-dynapi-public: true' -e '      security: []' "$PUBLIC_SPEC" | cmp -s - "$ACCOUNTS_SPEC" ||
	die "the public copy of $(basename "$ACCOUNTS_SPEC") differs from it by more than the public marks"

# Connectors part: copies of the public copy whose operation ids carry a
# suffix (hello -> helloJS, served at /js; helloREST at /rest). Operation ids
# name connector methods across all documents, so the script of helloJS and
# the routing of helloREST touch no other copy. Nothing else changes: the
# script checks that each copy differs from the public copy in exactly its
# operationId lines, by the suffix only.
HELLO_OP=hello # operationId of GET /hello in accounts.yaml
JS_SPEC=$TMP/accounts-public-js.yaml
REST_SPEC=$TMP/accounts-public-rest.yaml
JS_METHOD=${HELLO_OP}JS
REST_METHOD=${HELLO_OP}REST

# suffixed_copy SUFFIX OUT: writes the public copy with SUFFIX appended to
# every operation id to OUT and checks it.
suffixed_copy() {
	local suffix=$1 out=$2 changed
	sed -E "s/^( +operationId: +)([A-Za-z0-9_.-]+)\$/\\1\\2$suffix/" "$PUBLIC_SPEC" >"$out"
	changed=$(awk -v s="$suffix" '
		NR == FNR { a[FNR] = $0; n = FNR; next }
		{
			m = FNR
			if ($0 == a[FNR]) next
			if ($0 == a[FNR] s && a[FNR] ~ /^ +operationId: +[A-Za-z0-9_.-]+$/) c++
			else bad++
		}
		END { if (bad || m != n) exit 1; print c + 0 }' "$PUBLIC_SPEC" "$out") ||
		die "$(basename "$out") differs from the public copy by more than the operation id suffix $suffix"
	((changed == PUBLIC_OPS)) ||
		die "$(basename "$out"): $changed operation ids renamed, want $PUBLIC_OPS (an operationId that is not a plain word?)"
	grep -qxE " +operationId: +$HELLO_OP$suffix" "$out" || die "$(basename "$out") has no operationId $HELLO_OP$suffix"
}
if ((RUN_CONNECTORS)); then
	grep -qxE ' +operationId: +'"$HELLO_OP" "$PUBLIC_SPEC" || die "$(basename "$ACCOUNTS_SPEC") has no operationId $HELLO_OP"
	suffixed_copy JS "$JS_SPEC"
	suffixed_copy REST "$REST_SPEC"
fi

# ---------------------------------------------------------------- servers
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_healthy() { # NAME URL: the server NAME (of SERVER_PIDS) answers URL
	local name=$1 url=$2 i
	for i in $(seq 1 100); do
		kill -0 "${SERVER_PIDS[$name]}" 2>/dev/null || {
			tail -n 20 "$TMP/$name.log" >&2 || true
			die "$name exited during start-up (log above)"
		}
		if curl -s -o /dev/null --max-time 1 "$url"; then
			return 0
		fi
		sleep 0.1
	done
	die "$name not healthy after 10 s: $url"
}

# start_dynapi [DATA_DIR]: dynapi on DATA_DIR (default: a new empty one),
# logged in, with the flags of DYNAPI_FLAGS added. DYNAPI_NAME (default
# dynapi) names it in SERVER_PIDS and its log: a second dynapi is started
# with it and DYNAPI_PORT, DYNAPI_ADDR and DYNAPI_URL set local to a caller.
DYNAPI_FLAGS=()
start_dynapi() {
	port_in_use "$DYNAPI_PORT" && die "something already listens on $DYNAPI_ADDR (set BENCH_DYNAPI_PORT)"
	local data=${1:-} name=${DYNAPI_NAME:-dynapi}
	[[ -n $data ]] || data=$(mktemp -d "$TMP/data.XXXXXX")
	# wrk's connections all come from loopback: one address standing for
	# many clients, so the per-address connection cap is raised above them.
	# The create workload stores records as the admin for as long as it
	# runs: no record quota, so that it measures writes, not refusals.
	GOMAXPROCS=1 DYNAPI_ADMIN_USERNAME="$ADMIN_USERNAME" DYNAPI_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
		DYNAPI_ADMIN_CONSUMER_KEY="$ADMIN_CONSUMER_KEY" DYNAPI_ADMIN_CONSUMER_SECRET="$ADMIN_CONSUMER_SECRET" \
		DYNAPI_RECORD_QUOTA_COUNT=-1 DYNAPI_RECORD_QUOTA_BYTES=-1 \
		"${SERVER_PIN[@]}" "$TMP/dynapi" serve \
		--addr "$DYNAPI_ADDR" --data-dir "$data" --example=false --log-format json \
		--max-conns-per-ip "$((2 * CONNECTIONS + 64))" "${DYNAPI_FLAGS[@]}" \
		>>"$TMP/$name.log" 2>&1 &
	SERVER_PIDS[$name]=$!
	local i healthy=0
	for i in $(seq 1 100); do
		kill -0 "${SERVER_PIDS[$name]}" 2>/dev/null || break
		if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$DYNAPI_URL/healthz") == 200 ]]; then
			healthy=1
			break
		fi
		sleep 0.1
	done
	if ((!healthy)); then
		tail -n 20 "$TMP/$name.log" >&2 || true
		die "$name did not answer 200 on /healthz within 10 s (log above)"
	fi
	login
}

# login: DirectLogin as the bootstrapped admin (once per dynapi start); sets
# AUTHORIZATION and writes it to $AUTH_HEADERS for curl (-H @file).
login() {
	local code token
	AUTHORIZATION=""
	: >"$AUTH_HEADERS"
	code=$(curl -s -o "$TMP/login.json" -w '%{http_code}' --max-time 30 -X POST \
		"$DYNAPI_URL/my/logins/direct" -H "@$LOGIN_HEADERS") || true
	token=$(sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p' "$TMP/login.json" | head -n 1)
	if [[ $code != 201 || -z $token ]]; then
		head -c 2000 "$TMP/login.json" >&2 || true
		echo >&2
		die "POST /my/logins/direct answered $code, want 201 with a token"
	fi
	AUTHORIZATION="DirectLogin token=\"$token\""
	printf 'Authorization: %s\n' "$AUTHORIZATION" >"$AUTH_HEADERS"
}

# start_dynapi_with_accounts: a fresh dynapi serving the public copy of
# accounts.yaml at / and at /exposed, and accounts.yaml itself (guarded) at
# /guarded. The guard's cost is GET /guarded/hello against GET
# /exposed/hello, both with the admin's token: the same server and requests
# of the same bytes but the path's first letter (a longer request costs more
# to receive and parse, which is no cost of the guard), so the two differ
# by the guard only.
start_dynapi_with_accounts() {
	start_dynapi
	load_accounts
}

# load_accounts: submits the public copy of accounts.yaml at / and
# /exposed, and accounts.yaml (guarded) at /guarded, to the running dynapi.
load_accounts() {
	local public
	submit "mount=/exposed" "$PUBLIC_SPEC" >/dev/null
	submit "mount=/" "$PUBLIC_SPEC" >/dev/null
	public=$(grep -o '"public" *: *true' "$TMP/submit.json" | wc -l)
	((public == PUBLIC_OPS)) || {
		cat "$TMP/submit.json" >&2
		die "the public copy of accounts.yaml has $public public operations, want $PUBLIC_OPS (x-dynapi-public ignored?)"
	}
	submit "mount=/guarded" "$ACCOUNTS_SPEC" >/dev/null
	grep -q '"role" *: *"CanGetDynamicEndpoint_hello"' "$TMP/submit.json" || {
		cat "$TMP/submit.json" >&2
		die "accounts.yaml at /guarded: GET /hello does not require CanGetDynamicEndpoint_hello"
	}
}

# start_fiberlimit: the reference server on FIBER_ADDR, on the server CPU,
# GOMAXPROCS=1. It may run beside a dynapi: the ratio workloads keep both up
# and load one at a time.
start_fiberlimit() {
	port_in_use "$FIBER_PORT" && die "something already listens on $FIBER_ADDR (set BENCH_FIBER_PORT)"
	GOMAXPROCS=1 "${SERVER_PIN[@]}" "$TMP/fiberlimit" -addr "$FIBER_ADDR" >>"$TMP/fiberlimit.log" 2>&1 &
	SERVER_PIDS[fiberlimit]=$!
	wait_healthy fiberlimit "$FIBER_URL/hello"
}

# assert_alive fails the run, with the log, if any running server died.
assert_alive() {
	local name rc
	for name in "${!SERVER_PIDS[@]}"; do
		kill -0 "${SERVER_PIDS[$name]}" 2>/dev/null && continue
		rc=0
		wait "${SERVER_PIDS[$name]}" 2>/dev/null || rc=$?
		tail -n 30 "$TMP/$name.log" >&2 || true
		unset "SERVER_PIDS[$name]"
		die "$name died under load (exit status $rc; log above)"
	done
}

# stop_pid: asks process $1 to stop, waits up to 5s, then kills it.
stop_pid() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# stop_server stops every running server (dynapi, fiberlimit), failing the
# run first if one died.
stop_server() {
	local name
	assert_alive
	for name in "${!SERVER_PIDS[@]}"; do
		stop_pid "${SERVER_PIDS[$name]}"
		unset "SERVER_PIDS[$name]"
	done
	AUTHORIZATION=""
	: >"$AUTH_HEADERS"
}

# submit URL-QUERY FILE: POSTs an OpenAPI document to dynapi, prints its id.
submit() {
	local query=$1 file=$2 code
	code=$(curl -s -o "$TMP/submit.json" -w '%{http_code}' --max-time 30 -X POST \
		"$DYNAPI_URL/admin/v1/dynamic-endpoints?$query" "${AUTH[@]}" \
		-H 'Content-Type: application/yaml' --data-binary "@$file")
	[[ $code == 201 ]] || {
		cat "$TMP/submit.json" >&2
		die "POST $(basename "$file") ?$query answered $code, want 201"
	}
	endpoint_id <"$TMP/submit.json"
}

endpoint_id() { sed -n 's/.*"dynamic_endpoint_id" *: *"\([^"]*\)".*/\1/p' | head -n 1; }

# expect_status NAME WANT AUTH METHOD URL [BODY_FILE]: one curl request, must
# answer WANT. AUTH is "token" (send the admin's DirectLogin token) or "none".
expect_status() {
	local name=$1 want=$2 auth=$3 method=$4 url=$5 body=${6:-} code
	local args=(-s -o "$TMP/check.out" -w '%{http_code}' --max-time 5 -X "$method")
	[[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
	[[ $auth == token ]] && args+=("${AUTH[@]}")
	code=$(curl "${args[@]}" "$url") || true
	if [[ $code != "$want" ]]; then
		head -c 2000 "$TMP/check.out" >&2 || true
		echo >&2
		die "$name: $method $url ($auth) answered $code, want $want"
	fi
}

# ---------------------------------------------------------------- wrk
# run_wrk OUT SECONDS URL [BODY_FILE [AUTHORIZATION [SCRIPT]]]: SCRIPT is
# the wrk Lua script (default body.lua); ids.lua also reads WRK_IDS_FILE,
# WRK_PATH_PREFIX and WRK_IDS_START from the environment of the call.
run_wrk() {
	local out=$1 secs=$2 url=$3 body=${4:-} authorization=${5:-} script=${6:-$LUA}
	WRK_BODY_FILE="$body" WRK_AUTHORIZATION="$authorization" WRK_IDS_FILE="${WRK_IDS_FILE:-}" WRK_PATH_PREFIX="${WRK_PATH_PREFIX:-}" \
		WRK_IDS_START="${WRK_IDS_START:-0}" \
		"${WRK_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${secs}s" --latency -s "$script" "$url" >"$out" 2>&1 ||
		{
			cat "$out" >&2
			die "wrk failed against $url"
		}
}

# parse_wrk FILE prints: req/s, p99 in ms, requests, non-2xx/3xx count, socket errors.
parse_wrk() {
	awk '
		function ms(v) {
			if (v ~ /us$/) return (v + 0) / 1000
			if (v ~ /ms$/) return v + 0
			if (v ~ /m$/)  return (v + 0) * 60000
			if (v ~ /s$/)  return (v + 0) * 1000
			return v + 0
		}
		/^Requests\/sec:/          { rps = $2 }
		/^[ \t]*99%/               { p99 = ms($2) }
		/ requests in /            { req = $1 }
		/Socket errors:/           { gsub(",", ""); sock = $4 + $6 + $8 + $10 }
		/Non-2xx or 3xx responses:/ { non = $NF }
		END {
			if (rps == "" || p99 == "") exit 1
			printf "%s %.3f %d %d %d\n", rps, p99, req, non, sock
		}' "$1" || {
		cat "$1" >&2
		die "cannot parse wrk output $1"
	}
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

now_ns() { date +%s%N; }

# queue KEY STATUS RAW URL [BODY [AUTHORIZATION [SCRIPT]]]: adds a
# workload for the next measure_turns: the status every response must have,
# RAW, the stem of its raw wrk output files, and run_wrk's arguments from
# URL on.
Q_KEY=() Q_STATUS=() Q_RAW=() Q_URL=() Q_BODY=() Q_AUTH=() Q_SCRIPT=()
queue() {
	Q_KEY+=("$1")
	Q_STATUS+=("$2")
	Q_RAW+=("$3")
	Q_URL+=("$4")
	Q_BODY+=("${5:-}")
	Q_AUTH+=("${6:-}")
	Q_SCRIPT+=("${7:-$LUA}")
}

# run_queued Q SECONDS OUT: one wrk run of queued workload Q into OUT; the
# servers must still be alive after it. Sets RUN to its parsed figures
# (parse_wrk). WRK_IDS_START, for ids.lua, is the number of requests the
# workload's KEY has had so far, warm-ups included: each run goes on with
# the ids where the last one stopped.
declare -A IDS_DONE
RUN=()
run_queued() {
	local q=$1 key=${Q_KEY[$1]}
	WRK_IDS_START=${IDS_DONE[$key]:-0} \
		run_wrk "$3" "$2" "${Q_URL[q]}" "${Q_BODY[q]}" "${Q_AUTH[q]}" "${Q_SCRIPT[q]}"
	assert_alive
	read -ra RUN < <(parse_wrk "$3")
	IDS_DONE[$key]=$((${IDS_DONE[$key]:-0} + RUN[2]))
}

# measure_turns TURNS SECONDS: measures the queued workloads against the
# running servers, then empties the queue. Each workload gets one warm-up
# of WARMUP seconds, then TURNS turns in which every workload runs once for
# SECONDS, one after the other, in queue order in odd turns and backwards
# in even ones, so slow drifts of the machine reach both sides of every
# ratio alike. A workload's figure for the round is its
# requests over its measured time, summed over its slices
# (sum req / sum(req / rps)), its p99 the worst slice's; both are appended
# to its KEY's rounds. STATUS_BAD[KEY] gains every socket error and every
# response not of STATUS's class (2xx, or for a 4xx STATUS anything but
# 2xx). One run of DURATION: measure_turns 1 "$DURATION".
measure_turns() {
	local turns=$1 secs=$2 n=${#Q_KEY[@]} i q t key rps p99 req non sock
	local -a sum_req sum_time worst
	for ((q = 0; q < n; q++)); do
		sum_req[q]=0 sum_time[q]=0 worst[q]=0
		((WARMUP == 0)) || run_queued "$q" "$WARMUP" "$TMP/warmup.txt"
	done
	for ((t = 1; t <= turns; t++)); do
		((turns == 1)) || log "turn $t/$turns: $n workloads, ${secs}s each"
		for ((i = 0; i < n; i++)); do
			# Odd turns run the queue in order, even turns backwards
			# (A B C, C B A, ...): over an even number of turns every
			# workload's slices sit at the same mean time, so a drift of
			# the machine within the round cancels out of every ratio.
			q=$i
			((t % 2 == 1)) || q=$((n - 1 - i))
			key=${Q_KEY[q]}
			run_queued "$q" "$secs" "${Q_RAW[q]}-s$t.txt"
			read -r rps p99 req non sock <<<"${RUN[*]}"
			sum_req[q]=$((sum_req[q] + req))
			sum_time[q]=$(awk -v a="${sum_time[q]}" -v r="$req" -v s="$rps" -v d="$secs" 'BEGIN { printf "%.6f", a + (s > 0 ? r / s : d) }')
			worst[q]=$(awk -v a="${worst[q]}" -v b="$p99" 'BEGIN { print (b + 0 > a + 0 ? b : a) }')
			if [[ ${Q_STATUS[q]} == 2* ]]; then
				STATUS_BAD[$key]=$((${STATUS_BAD[$key]:-0} + sock + non))
			else
				STATUS_BAD[$key]=$((${STATUS_BAD[$key]:-0} + sock + req - non))
			fi
		done
	done
	for ((q = 0; q < n; q++)); do
		key=${Q_KEY[q]}
		rps=$(awk -v r="${sum_req[q]}" -v t="${sum_time[q]}" 'BEGIN { printf "%.2f", (t > 0 ? r / t : 0) }')
		RPS[$key]+=" $rps"
		P99[$key]+=" ${worst[q]}"
		ROUND_LOG[$key]+="${ROUND_LOG[$key]:+, }$rps"
	done
	Q_KEY=() Q_STATUS=() Q_RAW=() Q_URL=() Q_BODY=() Q_AUTH=() Q_SCRIPT=()
}

# round_ratios NUMS DENS MIN: each round's NUMS[i] / DENS[i] (space-separated
# lists of the same rounds), "*" marking one below MIN, then a tab and how
# many rounds were below MIN. Every round must meet a target, not only the
# median.
round_ratios() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) {
			r = (y[i] > 0 ? x[i] / y[i] : 0)
			printf "%s%.2f%s", (i > 1 ? ", " : ""), r, (r < t ? "*" : "")
			miss += (r < t)
		}
		printf "\t%d\n", miss
	}'
}

# round_limits RPS P99 MIN_RPS MAX_P99: each round's req/s and p99
# ("5210 req/s 12.3 ms", "*" marking a round under MIN_RPS or over MAX_P99
# ms), then a tab and how many rounds missed.
round_limits() {
	awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) {
			bad = (x[i] + 0 < lo + 0 || y[i] + 0 > hi + 0)
			printf "%s%s req/s %s ms%s", (i > 1 ? ", " : ""), x[i], y[i], (bad ? "*" : "")
			miss += bad
		}
		printf "\t%d\n", miss
	}'
}

# verdict MISSES BAD: PASS, or FAIL with how many rounds missed the target
# and how many responses had an unexpected status (the caller sets FAILED).
verdict() {
	local misses=$1 bad=$2 why=""
	((misses == 0)) || why="$misses of $ROUNDS rounds missed the target"
	((bad == 0)) || why+="${why:+; }$bad responses of an unexpected status or socket errors"
	if [[ -z $why ]]; then
		echo PASS
	else
		echo "FAIL ($why)"
	fi
}

port_in_use "$DYNAPI_PORT" && die "something already listens on $DYNAPI_ADDR (set BENCH_DYNAPI_PORT)"
if ((RUN_COMPARE || RUN_ENTITIES || RUN_CONNECTORS || RUN_CONSENTS)); then
	port_in_use "$FIBER_PORT" && die "something already listens on $FIBER_ADDR (set BENCH_FIBER_PORT)"
fi
if ((RUN_CONNECTORS)); then
	port_in_use "$BACKEND_PORT" && die "something already listens on $BACKEND_ADDR (set BENCH_BACKEND_PORT)"
fi

declare -A RPS P99 STATUS_BAD ROUND_LOG
FAILED=0
COMPARE_ROUNDS=()   # per-round target lines of the report, by part
ENTITY_ROUNDS=()
CONNECTOR_ROUNDS=()
CONSENT_ROUNDS=()
RATELIMIT_ROUNDS=()

# ---------------------------------------------------------------- workloads
if ((RUN_COMPARE)); then
	WL_NAME=("mock GET" "validated POST" "invalid POST")
	WL_DYN_PATH=(/hello /accounts /accounts)
	WL_FIB_PATH=(/hello /validate /validate)
	WL_METHOD=(GET POST POST)
	WL_BODY=("" "$BODIES/account-10.json" "$BODIES/account-10-invalid.json")
	WL_STATUS=(200 201 400)
	WL_TARGET=(0.9 0.9 0.9) # x fiberlimit, every round (../shared/bench/README.md)
	# Servers measured in each round, in this order (backwards in even
	# turns): the two sides of every target ratio run back to back, so that
	# they meet the machine in the same state. "dynapi" is the public route
	# (no credentials, as fiberlimit); "guarded" is dynapi's GET /guarded/hello
	# with the admin's DirectLogin token (role CanGetDynamicEndpoint_hello),
	# measured in each turn right after "exposed", the public copy's GET
	# /exposed/hello (a path as long) with the same token, which a public
	# route ignores: the two requests are the same bytes.
	WL_SERVERS=("exposed guarded dynapi fiberlimit" "dynapi fiberlimit" "dynapi fiberlimit")
	GUARDED_PATH=/guarded/hello
	EXPOSED_PATH=/exposed/hello
	GUARDED_TARGET=0.95 # guarded / public, every round

	# Each round: one dynapi and one fiberlimit, both up (each idle unless wrk
	# loads it), every workload of every server checked with curl, then
	# measured in SLICES interleaved turns.
	for r in $(seq 1 "$ROUNDS"); do
		start_dynapi_with_accounts
		start_fiberlimit
		for w in "${!WL_NAME[@]}"; do
			for server in ${WL_SERVERS[$w]}; do
				authorization=""
				case $server in
				dynapi)
					url=$DYNAPI_URL${WL_DYN_PATH[$w]}
					# Public: answers without credentials, as fiberlimit does.
					expect_status "${WL_NAME[$w]} ($server)" "${WL_STATUS[$w]}" none "${WL_METHOD[$w]}" "$url" "${WL_BODY[$w]}"
					;;
				exposed)
					# The same token as the guarded GET, which this public
					# route ignores: both requests are the same bytes.
					url=$DYNAPI_URL$EXPOSED_PATH
					authorization=$AUTHORIZATION
					expect_status "${WL_NAME[$w]} ($server)" "${WL_STATUS[$w]}" token "${WL_METHOD[$w]}" "$url" "${WL_BODY[$w]}"
					;;
				guarded)
					url=$DYNAPI_URL$GUARDED_PATH
					authorization=$AUTHORIZATION
					expect_status "guarded ${WL_NAME[$w]} without credentials" 401 none "${WL_METHOD[$w]}" "$url" "${WL_BODY[$w]}"
					expect_status "guarded ${WL_NAME[$w]} with the token" "${WL_STATUS[$w]}" token "${WL_METHOD[$w]}" "$url" "${WL_BODY[$w]}"
					;;
				fiberlimit)
					url=$FIBER_URL${WL_FIB_PATH[$w]}
					expect_status "${WL_NAME[$w]} ($server)" "${WL_STATUS[$w]}" none "${WL_METHOD[$w]}" "$url" "${WL_BODY[$w]}"
					;;
				esac
				queue "$w,$server" "${WL_STATUS[$w]}" "$RAW/w$w-r$r-$server" "$url" "${WL_BODY[$w]}" "$authorization"
			done
		done
		log "compare: round $r/$ROUNDS, ${#Q_KEY[@]} workloads on dynapi and fiberlimit, interleaved"
		measure_turns "$SLICES" "$SLICE_SECS"
		stop_server
	done
fi

# ---------------------------------------------------------------- spec load
if ((RUN_SPEC)); then
	log "spec load: $(basename "$OB_SPEC") at mount /ob, $SPEC_RUNS runs"
	start_dynapi # no document: only the admin, logged in
	POST_MS=()
	READY_MS=()
	POLLS=()
	for i in $(seq 1 "$SPEC_RUNS"); do
		t0=$(now_ns)
		out=$(curl -s -o "$TMP/ob.json" -w '%{http_code} %{time_total}' --max-time 60 -X POST \
			"$DYNAPI_URL/admin/v1/dynamic-endpoints?mount=/ob" "${AUTH[@]}" \
			-H 'Content-Type: application/yaml' --data-binary "@$OB_SPEC") || true
		[[ ${out%% *} == 201 ]] || {
			head -c 2000 "$TMP/ob.json" >&2 || true
			die "spec load run $i: POST answered '${out%% *}', want 201"
		}
		polls=0
		deadline=$(($(now_ns) + 30000000000))
		# The document is bound to its consent profile: GET /accounts is
		# answered under a consent only, so the admin's token, bound to
		# none, gets the consent check's 403 once the route is served (404
		# before).
		until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${AUTH[@]}" "$DYNAPI_URL/ob/accounts") == 403 ]]; do
			polls=$((polls + 1))
			(($(now_ns) < deadline)) || die "spec load run $i: GET /ob/accounts not 403 (consent check) within 30 s of the POST"
		done
		t1=$(now_ns)
		POST_MS+=("$(awk -v s="${out#* }" 'BEGIN { printf "%.1f", s * 1000 }')")
		READY_MS+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')")
		POLLS+=("$polls")
		id=$(endpoint_id <"$TMP/ob.json")
		[[ -n $id ]] || die "spec load run $i: no dynamic_endpoint_id in the 201"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE \
			"$DYNAPI_URL/admin/v1/dynamic-endpoints/$id" "${AUTH[@]}") || true
		[[ $code == 2* ]] || die "spec load run $i: DELETE answered $code"
		deadline=$(($(now_ns) + 10000000000))
		while [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${AUTH[@]}" "$DYNAPI_URL/ob/accounts") == 403 ]]; do
			(($(now_ns) < deadline)) || die "spec load run $i: /ob/accounts still served 10 s after DELETE"
		done
	done
	assert_alive
	stop_server
	SPEC_POST=$(median "${POST_MS[@]}")
	SPEC_READY=$(median "${READY_MS[@]}")
fi

# ---------------------------------------------------------------- swap under load
if ((RUN_SWAP)); then
	log "swap under load: wrk on dynapi GET /hello for ${DURATION}s while petstore is POSTed and DELETEd"
	start_dynapi_with_accounts
	expect_status "swap (dynapi)" 200 none GET "$DYNAPI_URL/hello"
	SWAP_RAW=$RAW/swap.txt
	WRK_BODY_FILE="" "${WRK_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$DYNAPI_URL/hello" >"$SWAP_RAW" 2>&1 &
	WRK_PID=$!
	SWAPS=0
	SWAP_FAILS=0
	SWAP_FAIL_NOTES=()
	swap_fail() {
		SWAP_FAILS=$((SWAP_FAILS + 1))
		((${#SWAP_FAIL_NOTES[@]} < 5)) && SWAP_FAIL_NOTES+=("$1")
		return 0
	}
	sleep 0.5 # let wrk connect first
	n=0
	while kill -0 "$WRK_PID" 2>/dev/null && ((n < 100000)); do
		n=$((n + 1))
		code=$("${WRK_PIN[@]}" curl -s -o "$TMP/swap.json" -w '%{http_code}' --max-time 10 -X POST \
			"$DYNAPI_URL/admin/v1/dynamic-endpoints?mount=/swap$n" "${AUTH[@]}" \
			-H 'Content-Type: application/yaml' --data-binary "@$PETSTORE_SPEC") || true
		if [[ $code != 201 ]]; then
			swap_fail "swap $n: POST answered $code: $(head -c 300 "$TMP/swap.json" 2>/dev/null)"
			continue
		fi
		id=$(endpoint_id <"$TMP/swap.json")
		code=$("${WRK_PIN[@]}" curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${AUTH[@]}" "$DYNAPI_URL/swap$n/pets") || true
		[[ $code == 200 ]] || swap_fail "swap $n: GET /swap$n/pets answered $code"
		code=$("${WRK_PIN[@]}" curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE \
			"$DYNAPI_URL/admin/v1/dynamic-endpoints/$id" "${AUTH[@]}") || true
		[[ $code == 2* ]] || swap_fail "swap $n: DELETE answered $code"
		code=$("${WRK_PIN[@]}" curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${AUTH[@]}" "$DYNAPI_URL/swap$n/pets") || true
		[[ $code == 404 ]] || swap_fail "swap $n: GET /swap$n/pets after DELETE answered $code"
		SWAPS=$((SWAPS + 1))
	done
	wrk_rc=0
	wait "$WRK_PID" || wrk_rc=$?
	WRK_PID=""
	((wrk_rc == 0)) || {
		cat "$SWAP_RAW" >&2
		die "wrk failed during the swap check"
	}
	assert_alive
	stop_server
	read -r SW_RPS SW_P99 SW_REQ SW_NON SW_SOCK < <(parse_wrk "$SWAP_RAW")
	SW_ERRORS=$((SW_NON + SW_SOCK))
fi

# ---------------------------------------------------------------- entities
# The record API of a dynamic entity holding ENTITY_RECORDS records, next to
# the mock GET of the same server. Prepared once: a first dynapi start on
# ENTITY_DIR bootstraps the admin, takes the two accounts documents (for the
# mock GET rows) and the LoanOffer definition over HTTP and stops; bench/fill
# then writes the records straight into its store, in batches. Each round
# starts a dynapi on a copy of ENTITY_DIR for the read workloads, and another
# on a fresh copy for create, so each one sees exactly the filled records
# (create adds to its copy only).
ENTITY=LoanOffer
ENTITY_PATH=/entities/$ENTITY
ENTITY_DIR=$TMP/entity-data
ENTITY_IDS=$TMP/entity-ids.txt
ENTITY_FILTER=P3 # one of the ten products: matches a tenth of the records
ENTITY_RUN_DIR=""

# json_total FILE prints the "total" of a list response, or nothing.
json_total() { sed -n 's/.*"total" *: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1; }

# start_entity_server: a fresh dynapi, logged in, on a copy of ENTITY_DIR;
# checks that the record API counts every filled record.
start_entity_server() {
	local code total
	ENTITY_RUN_DIR=$(mktemp -d "$TMP/entity-run.XXXXXX")
	cp -R "$ENTITY_DIR/." "$ENTITY_RUN_DIR/"
	# Flush the copy, so the first measured commit does not pay for it.
	sync
	start_dynapi "$ENTITY_RUN_DIR"
	code=$(curl -s -o "$TMP/count.json" -w '%{http_code}' --max-time 30 "${AUTH[@]}" \
		"$DYNAPI_URL$ENTITY_PATH?count=true&limit=1") || true
	total=$(json_total "$TMP/count.json")
	if [[ $code != 200 || $total != "$ENTITY_RECORDS" ]]; then
		head -c 2000 "$TMP/count.json" >&2 || true
		echo >&2
		die "GET $ENTITY_PATH?count=true&limit=1 answered $code, total '$total', want 200 and $ENTITY_RECORDS"
	fi
}

stop_entity_server() {
	stop_server
	[[ -z $ENTITY_RUN_DIR ]] || rm -rf "$ENTITY_RUN_DIR"
	ENTITY_RUN_DIR=""
}

# check_filtered_page: the filtered list answers a full page of the filter's
# product and a cursor to the next.
check_filtered_page() {
	local code all match
	code=$(curl -s -o "$TMP/page.json" -w '%{http_code}' --max-time 10 "${AUTH[@]}" "$1") || true
	all=$(grep -o '"product" *: *"[^"]*"' "$TMP/page.json" | wc -l)
	match=$(grep -o "\"product\" *: *\"$ENTITY_FILTER\"" "$TMP/page.json" | wc -l)
	if [[ $code != 200 ]] || ((all != 50 || match != 50)) || ! grep -q '"next_cursor" *: *"' "$TMP/page.json"; then
		head -c 2000 "$TMP/page.json" >&2 || true
		echo >&2
		die "GET $1 answered $code with $match of $all records of product $ENTITY_FILTER, want 200, 50 of 50 and a next_cursor"
	fi
}

# report_entities prints the entity table and notes. Targets
# (../shared/bench/README.md), every round: get by id >= ENTITY_GET_TARGET x
# fiberlimit GET /hello of the same round; create >= CREATE_MIN_RPS req/s
# with p99 <= CREATE_MAX_P99 ms. Other rows have no throughput target.
ENTITY_GET_TARGET=0.5
CREATE_MIN_RPS=5000
CREATE_MAX_P99=30
report_entities() {
	local w d g f rps p99 vs_mock vs_guarded vs_fiber target result rounds misses fw
	fw=$((${#EW_NAME[@]} - 1)) # the fiberlimit row
	# shellcheck disable=SC2086 # word splitting of the round lists is wanted
	d=$(median ${RPS[e0,x]})
	# shellcheck disable=SC2086
	g=$(median ${RPS[e1,x]})
	# shellcheck disable=SC2086
	f=$(median ${RPS[e$fw,x]})
	printf '| %-16s | %-44s | %10s | %10s | %11s | %14s | %12s | %-22s | %-6s |\n' \
		workload request req/s p99 "/ mock GET" "/ guarded GET" "/ fiberlimit" target result
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------ ---------------------------------------------- -----------: -----------: ------------: ---------------: -------------: ------------------------ --------
	for w in "${!EW_NAME[@]}"; do
		# shellcheck disable=SC2086
		rps=$(median ${RPS[e$w,x]})
		# shellcheck disable=SC2086
		p99=$(median ${P99[e$w,x]})
		vs_mock=$(awk -v a="$rps" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		vs_guarded=$(awk -v a="$rps" -v b="$g" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		vs_fiber=$(awk -v a="$rps" -v b="$f" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		target=-
		misses=0
		case ${EW_NAME[$w]} in
		"get by id")
			target=">= $ENTITY_GET_TARGET x fiberlimit"
			IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[e$w,x]}" "${RPS[e$fw,x]}" "$ENTITY_GET_TARGET")
			ENTITY_ROUNDS+=("get by id / fiberlimit GET per round: $rounds")
			;;
		create)
			target=">= $CREATE_MIN_RPS req/s, p99 <= $CREATE_MAX_P99 ms"
			IFS=$'\t' read -r rounds misses < <(round_limits "${RPS[e$w,x]}" "${P99[e$w,x]}" "$CREATE_MIN_RPS" "$CREATE_MAX_P99")
			ENTITY_ROUNDS+=("create per round: $rounds")
			;;
		esac
		result=$(verdict "$misses" "${STATUS_BAD[e$w,x]}")
		[[ $result == PASS ]] || FAILED=1
		printf '| %-16s | %-44s | %10s | %7s ms | %11s | %14s | %12s | %-22s | %-6s |\n' \
			"${EW_NAME[$w]}" "${EW_SHOW[$w]}" "$rps" "$p99" "$vs_mock" "$vs_guarded" "$vs_fiber" "$target" "$result"
	done
	echo
	echo "Entity $ENTITY ($(basename "$ENTITY_DEF")): $ENTITY_RECORDS records, products P0..P9 evenly (product=$ENTITY_FILTER: $FILTER_TOTAL, by ?count=true), store ${ENTITY_DB_MB} MB;"
	echo "filled in ${FILL_S} s by bench/fill (records.Store.Create, 5000 per transaction, NoSync), ${PREPARE_S} s with the server start that defined it."
	echo "Each round: a dynapi on a copy of the filled data directory (total $ENTITY_RECORDS checked by GET $ENTITY_PATH?count=true&limit=1 at each start) and a fiberlimit, both up;"
	echo "every row but create measured interleaved ($SLICES turns of ${SLICE_SECS}s, see the header), then create alone for ${DURATION}s on a fresh copy (it adds records; absolute targets)."
	echo "The accounts documents are loaded as in the compare part; entity requests and the guarded GET carry the admin's DirectLogin token."
	echo "get by id: every id once in a shuffled order (wrk/ids.lua), each slice going on where the workload's last run stopped;"
	echo "create: $(basename "$ENTITY_BODY"), each acknowledged write fsynced (concurrent writes share a commit); its p99 is that of its one run."
	echo "/ mock GET, / guarded GET, / fiberlimit: req/s over dynapi's public GET /hello, its guarded GET /guarded/hello and fiberlimit's GET /hello, same rounds (medians)."
	echo "Every round must meet its target (* in the rounds below marks one that did not); FAIL also means an unexpected status."
}

if ((RUN_ENTITIES)); then
	EW_NAME=("mock GET" "guarded mock GET" "get by id" "filtered list" "create" "fiberlimit GET")
	EW_SHOW=("GET /hello" "GET /guarded/hello" "GET $ENTITY_PATH/{id}" "GET $ENTITY_PATH?product=$ENTITY_FILTER&limit=50" "POST $ENTITY_PATH" "fiberlimit GET /hello")
	EW_URL=("$DYNAPI_URL/hello" "$DYNAPI_URL/guarded/hello" "$DYNAPI_URL/" "$DYNAPI_URL$ENTITY_PATH?product=$ENTITY_FILTER&limit=50" "$DYNAPI_URL$ENTITY_PATH" "$FIBER_URL/hello")
	EW_AUTH=(none token token token token none)
	EW_BODY=("" "" "" "" "$ENTITY_BODY" "")
	EW_SCRIPT=("$LUA" "$LUA" "$IDS_LUA" "$LUA" "$LUA" "$LUA")
	EW_STATUS=(200 200 200 200 201 200)
	EW_CREATE=4 # the create row: alone on a fresh server, absolute targets
	# The order the rows but create are measured in each turn (backwards in
	# even turns): get by id, the row with a target, right before
	# fiberlimit's GET, its other side.
	EW_ORDER=(0 1 3 2 5)

	# entity_authorization W prints workload W's Authorization header value
	# for wrk (the current start's token, or nothing).
	entity_authorization() {
		[[ ${EW_AUTH[$1]} != token ]] || echo "$AUTHORIZATION"
	}

	# check_entity_workload W: curl checks workload W against the running
	# servers before it is measured.
	check_entity_workload() {
		local w=$1 url=${EW_URL[$1]}
		case $w in
		0 | 5) expect_status "entities ${EW_NAME[$w]}" 200 none GET "$url" ;;
		1)
			expect_status "entities ${EW_NAME[$w]} without credentials" 401 none GET "$url"
			expect_status "entities ${EW_NAME[$w]} with the token" 200 token GET "$url"
			;;
		2)
			expect_status "entities ${EW_NAME[$w]} without credentials" 401 none GET "$DYNAPI_URL$ENTITY_PATH/$SAMPLE_ID"
			expect_status "entities ${EW_NAME[$w]} with the token" 200 token GET "$DYNAPI_URL$ENTITY_PATH/$SAMPLE_ID"
			;;
		3) check_filtered_page "$url" ;;
		4) expect_status "entities ${EW_NAME[$w]}" 201 token POST "$url" "${EW_BODY[$w]}" ;;
		esac
	}

	log "entities: defining $ENTITY on a first start (data directory $ENTITY_DIR)"
	mkdir -p "$ENTITY_DIR"
	t0=$(now_ns)
	start_dynapi "$ENTITY_DIR"
	load_accounts
	code=$(curl -s -o "$TMP/entity.json" -w '%{http_code}' --max-time 30 -X POST \
		"$DYNAPI_URL/admin/v1/dynamic-entities" "${AUTH[@]}" \
		-H 'Content-Type: application/json' --data-binary "@$ENTITY_DEF") || true
	if [[ $code != 201 ]] || ! grep -q "\"entity_name\" *: *\"$ENTITY\"" "$TMP/entity.json"; then
		head -c 2000 "$TMP/entity.json" >&2 || true
		echo >&2
		die "POST /admin/v1/dynamic-entities $(basename "$ENTITY_DEF") answered $code, want 201 defining $ENTITY"
	fi
	stop_server
	log "entities: filling $ENTITY_RECORDS $ENTITY records (bench/fill)"
	t1=$(now_ns)
	"$TMP/fill" -data-dir "$ENTITY_DIR" -entity "$ENTITY" -records "$ENTITY_RECORDS" -ids "$ENTITY_IDS" >"$TMP/fill.out" 2>&1 || {
		cat "$TMP/fill.out" >&2
		die "bench/fill failed"
	}
	t2=$(now_ns)
	FILL_S=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	PREPARE_S=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	log "entities: $(tail -n 1 "$TMP/fill.out") (${FILL_S} s with the program's start)"
	ids=$(wc -l <"$ENTITY_IDS")
	((ids == ENTITY_RECORDS)) || die "bench/fill wrote $ids ids, want $ENTITY_RECORDS"
	ENTITY_DB_MB=$(du -m "$ENTITY_DIR/dynapi.db" | cut -f1)
	SAMPLE_ID=$(sed -n "$((ENTITY_RECORDS / 2))p" "$ENTITY_IDS")

	# Once: the server sees the records, and the filter matches a tenth.
	start_entity_server
	code=$(curl -s -o "$TMP/count.json" -w '%{http_code}' --max-time 30 "${AUTH[@]}" \
		"$DYNAPI_URL$ENTITY_PATH?product=$ENTITY_FILTER&count=true&limit=1") || true
	FILTER_TOTAL=$(json_total "$TMP/count.json")
	want=$(((ENTITY_RECORDS + 6) / 10)) # i % 10 == 3 for i < ENTITY_RECORDS
	if [[ $code != 200 || $FILTER_TOTAL != "$want" ]]; then
		head -c 2000 "$TMP/count.json" >&2 || true
		echo >&2
		die "GET $ENTITY_PATH?product=$ENTITY_FILTER&count=true answered $code, total '$FILTER_TOTAL', want 200 and $want"
	fi
	log "entities: the server counts $ENTITY_RECORDS $ENTITY records, $FILTER_TOTAL of product $ENTITY_FILTER"
	stop_entity_server

	# Each round: one dynapi on a copy of the filled directory and one
	# fiberlimit, both up (each idle unless wrk loads it); every workload but
	# create checked with curl, then measured in SLICES interleaved turns.
	# create changes the store and has absolute targets: it runs alone, for
	# DURATION, on a fresh copy of its own.
	for r in $(seq 1 "$ROUNDS"); do
		start_entity_server
		start_fiberlimit
		for w in "${EW_ORDER[@]}"; do
			check_entity_workload "$w"
			queue "e$w,x" "${EW_STATUS[$w]}" "$RAW/entities-w$w-r$r" "${EW_URL[$w]}" "${EW_BODY[$w]}" "$(entity_authorization "$w")" "${EW_SCRIPT[$w]}"
		done
		log "entities: round $r/$ROUNDS, ${#Q_KEY[@]} workloads on dynapi and fiberlimit, interleaved"
		WRK_IDS_FILE=$ENTITY_IDS WRK_PATH_PREFIX=$ENTITY_PATH/ measure_turns "$SLICES" "$SLICE_SECS"
		stop_entity_server
		w=$EW_CREATE
		start_entity_server
		check_entity_workload "$w"
		log "entities ${EW_NAME[$w]}: round $r/$ROUNDS (${EW_SHOW[$w]}, with the DirectLogin token, alone for ${DURATION}s)"
		queue "e$w,x" "${EW_STATUS[$w]}" "$RAW/entities-w$w-r$r" "${EW_URL[$w]}" "${EW_BODY[$w]}" "$(entity_authorization "$w")" "${EW_SCRIPT[$w]}"
		measure_turns 1 "$DURATION"
		stop_entity_server
	done
fi

# ---------------------------------------------------------------- connectors
# GET /hello of accounts.yaml answered four ways, measured interleaved:
# dynapi's mock (the public copy at /), a JavaScript connector method
# (helloJS at /js), a REST back end reached through a method routing
# (helloREST at /rest; the back end is fiberlimit itself, on the wrk CPU),
# and fiberlimit's GET /hello (the reference, on the server CPU). The three
# dynapi rows run against the same server (all three documents, the script,
# the routing, the back end up), so they differ by the path only.
JS_TARGET=0.5   # JS connector GET >= 0.5x fiberlimit /hello, every round (../shared/bench/README.md)
REST_TARGET=0.3 # REST-routed GET >= 0.3x fiberlimit /hello, every round
HELLO_BODY=$TMP/hello.body # dynapi's mock answer to GET /hello, fetched at each start

# start_backend: fiberlimit as the REST back end on BACKEND_ADDR, pinned to
# the wrk CPU (never dynapi's), GOMAXPROCS=1.
start_backend() {
	port_in_use "$BACKEND_PORT" && die "something already listens on $BACKEND_ADDR (set BENCH_BACKEND_PORT)"
	GOMAXPROCS=1 "${WRK_PIN[@]}" "$TMP/fiberlimit" -addr "$BACKEND_ADDR" >>"$TMP/backend.log" 2>&1 &
	BACKEND_PID=$!
	local i
	for i in $(seq 1 100); do
		kill -0 "$BACKEND_PID" 2>/dev/null || {
			tail -n 20 "$TMP/backend.log" >&2 || true
			die "the REST back end (fiberlimit on $BACKEND_ADDR) exited during start-up (log above)"
		}
		if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BACKEND_URL/hello") == 200 ]]; then
			return 0
		fi
		sleep 0.1
	done
	die "the REST back end (fiberlimit on $BACKEND_ADDR) not healthy after 10 s"
}

# stop_backend fails the run if the back end died, then stops it.
stop_backend() {
	[[ -n $BACKEND_PID ]] || return 0
	if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
		tail -n 30 "$TMP/backend.log" >&2 || true
		BACKEND_PID=""
		die "the REST back end died under load (log above)"
	fi
	stop_pid "$BACKEND_PID"
	BACKEND_PID=""
}

# submit_public QUERY FILE: submit, and the 201 must list every operation
# of FILE as public.
submit_public() {
	local public
	submit "$1" "$2" >/dev/null
	public=$(grep -o '"public" *: *true' "$TMP/submit.json" | wc -l)
	((public == PUBLIC_OPS)) || {
		cat "$TMP/submit.json" >&2
		die "$(basename "$2") at ?$1 has $public public operations, want $PUBLIC_OPS"
	}
}

# admin_json NAME METHOD PATH FILE WANT: one management call with the
# admin's token and a JSON body; the answer is left in $TMP/admin.json.
admin_json() {
	local name=$1 method=$2 path=$3 file=$4 want=$5 code
	code=$(curl -s -o "$TMP/admin.json" -w '%{http_code}' --max-time 30 -X "$method" \
		"$DYNAPI_URL$path" "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary "@$file") || true
	[[ $code == "$want" ]] || {
		head -c 2000 "$TMP/admin.json" >&2 || true
		echo >&2
		die "$name: $method $path answered $code, want $want"
	}
}

# json_field NAME FILE prints the first string value of NAME in FILE.
json_field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n 1; }

# fetch NAME URL OUT: GET URL without credentials; must answer 200; the
# body is written to OUT.
fetch() {
	local code
	code=$(curl -s -o "$3" -w '%{http_code}' --max-time 5 "$2") || true
	[[ $code == 200 ]] || {
		head -c 2000 "$3" >&2 || true
		echo >&2
		die "$1: GET $2 answered $code, want 200"
	}
}

# same_body NAME FILE: FILE must hold exactly dynapi's mock body.
same_body() {
	cmp -s "$2" "$HELLO_BODY" || {
		echo "mock ($(wc -c <"$HELLO_BODY") bytes): $(head -c 400 "$HELLO_BODY")" >&2
		echo "$1 ($(wc -c <"$2") bytes): $(head -c 400 "$2")" >&2
		die "$1 does not answer the mock's body byte for byte"
	}
}

# same_json NAME FILE: FILE must hold the mock's JSON with its members in
# any order (fiberlimit writes them in its own order, dynapi's mock sorted):
# the same length, and, both being flat objects whose strings hold no quote,
# backslash or comma, the same members.
FLAT_MEMBER='"[^"\\,]*":("[^"\\,]*"|true|false|null|-?[0-9][0-9.eE+-]*)'
FLAT_OBJECT="\\{($FLAT_MEMBER(,$FLAT_MEMBER)*)?\\}"
same_json() {
	local f
	for f in "$HELLO_BODY" "$2"; do
		grep -qxE "$FLAT_OBJECT" "$f" || {
			head -c 400 "$f" >&2
			echo >&2
			die "$1: $(basename "$f") is not a flat JSON object of plain members; cannot compare it member by member"
		}
	done
	if [[ $(wc -c <"$2") != "$(wc -c <"$HELLO_BODY")" ]] ||
		! cmp -s <(tr -d '{}' <"$2" | tr ',' '\n' | sort) <(tr -d '{}' <"$HELLO_BODY" | tr ',' '\n' | sort); then
		echo "mock ($(wc -c <"$HELLO_BODY") bytes): $(head -c 400 "$HELLO_BODY")" >&2
		echo "$1 ($(wc -c <"$2") bytes): $(head -c 400 "$2")" >&2
		die "$1 does not answer the mock's JSON (same members, same length)"
	fi
}

# start_connector_server: the REST back end, then a fresh dynapi, logged in,
# serving the public copy at /, the JS copy at /js and the REST copy at
# /rest, with a JavaScript connector method for helloJS and a method routing
# of helloREST to the back end. Each is proven to answer before it is given
# its final form: the script first returns a random probe, the routing first
# points at a path the back end does not serve (404 passed on); then both are
# updated (PUT) to answer the mock's body, which curl checks byte for byte.
start_connector_server() {
	local probe script_id routing_id body code
	start_backend
	start_dynapi
	submit_public "mount=/" "$PUBLIC_SPEC"
	submit_public "mount=/js" "$JS_SPEC"
	submit_public "mount=/rest" "$REST_SPEC"
	fetch "mock GET" "$DYNAPI_URL/hello" "$HELLO_BODY"
	if LC_ALL=C grep -q '[^ -~]' "$HELLO_BODY" || (($(wc -l <"$HELLO_BODY") > 0)); then
		die "GET /hello answered a body with a line break or a non-ASCII byte; it cannot go into the script as it is"
	fi

	# JavaScript connector method: a probe, then the mock's body.
	probe=probe-$(rand_hex 8)
	printf '{"method_name": "%s", "method_body": "return {\\"probe\\": \\"%s\\"};", "programming_lang": "js"}\n' \
		"$JS_METHOD" "$probe" >"$TMP/script.json"
	admin_json "connector method $JS_METHOD" POST /admin/v1/connector-methods "$TMP/script.json" 201
	script_id=$(json_field connector_method_id "$TMP/admin.json")
	[[ -n $script_id ]] || die "POST /admin/v1/connector-methods: no connector_method_id in the 201"
	fetch "JS connector probe" "$DYNAPI_URL/js/hello" "$TMP/probe.out"
	grep -q "\"probe\" *: *\"$probe\"" "$TMP/probe.out" || {
		head -c 400 "$TMP/probe.out" >&2
		echo >&2
		die "GET /js/hello is not answered by the connector method $JS_METHOD (no probe $probe in the answer)"
	}
	body=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$HELLO_BODY") # JSON string escaping (ASCII, one line)
	printf '{"method_name": "%s", "method_body": "return %s;", "programming_lang": "js"}\n' \
		"$JS_METHOD" "$body" >"$TMP/script.json"
	admin_json "connector method $JS_METHOD" PUT "/admin/v1/connector-methods/$script_id" "$TMP/script.json" 200
	fetch "JS connector GET" "$DYNAPI_URL/js/hello" "$TMP/js.out"
	same_body "GET /js/hello (connector method $JS_METHOD)" "$TMP/js.out"

	# Method routing to the REST back end: a probe path, then the back end's root.
	printf '{"method_name": "%s", "connector_name": "rest", "is_bank_id_exact_match": false, "bank_id_pattern": ".*", "parameters": [{"key": "url", "value": "%s/%s"}]}\n' \
		"$REST_METHOD" "$BACKEND_URL" "$probe" >"$TMP/routing.json"
	admin_json "method routing $REST_METHOD" POST /admin/v1/method-routings "$TMP/routing.json" 201
	routing_id=$(json_field method_routing_id "$TMP/admin.json")
	[[ -n $routing_id ]] || die "POST /admin/v1/method-routings: no method_routing_id in the 201"
	code=$(curl -s -o "$TMP/probe.out" -w '%{http_code}' --max-time 15 "$DYNAPI_URL/rest/hello") || true
	[[ $code == 404 ]] || {
		head -c 400 "$TMP/probe.out" >&2
		echo >&2
		die "GET /rest/hello routed to $BACKEND_URL/$probe/hello answered $code, want the back end's 404 passed on"
	}
	printf '{"method_name": "%s", "connector_name": "rest", "is_bank_id_exact_match": false, "bank_id_pattern": ".*", "parameters": [{"key": "url", "value": "%s"}]}\n' \
		"$REST_METHOD" "$BACKEND_URL" >"$TMP/routing.json"
	admin_json "method routing $REST_METHOD" PUT "/admin/v1/method-routings/$routing_id" "$TMP/routing.json" 200
	fetch "REST connector GET" "$DYNAPI_URL/rest/hello" "$TMP/rest.out"
	same_json "GET /rest/hello (routed to $BACKEND_URL)" "$TMP/rest.out"
	# The mock still answers from the spec.
	fetch "mock GET" "$DYNAPI_URL/hello" "$TMP/mock.out"
	same_body "GET /hello (mock)" "$TMP/mock.out"
}

# report_connectors prints the connectors table and notes.
report_connectors() {
	local w f d rps p99 vs_fiber vs_mock target result rounds misses
	# shellcheck disable=SC2086 # word splitting of the round lists is wanted
	f=$(median ${RPS[c3,x]})
	# shellcheck disable=SC2086
	d=$(median ${RPS[c0,x]})
	printf '| %-18s | %-22s | %10s | %10s | %12s | %10s | %-7s | %-6s |\n' \
		workload request req/s p99 "/ fiberlimit" "/ mock GET" target result
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------------- ------------------------ -----------: -----------: -------------: -----------: --------- --------
	for w in "${!CW_NAME[@]}"; do
		# shellcheck disable=SC2086
		rps=$(median ${RPS[c$w,x]})
		# shellcheck disable=SC2086
		p99=$(median ${P99[c$w,x]})
		vs_fiber=$(awk -v a="$rps" -v b="$f" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		vs_mock=$(awk -v a="$rps" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		target=-
		misses=0
		if [[ -n ${CW_TARGET[$w]} ]]; then
			target=">= ${CW_TARGET[$w]}"
			IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[c$w,x]}" "${RPS[c3,x]}" "${CW_TARGET[$w]}")
			CONNECTOR_ROUNDS+=("${CW_NAME[$w]} / fiberlimit GET per round: $rounds")
		fi
		result=$(verdict "$misses" "${STATUS_BAD[c$w,x]}")
		[[ $result == PASS ]] || FAILED=1
		printf '| %-18s | %-22s | %10s | %7s ms | %12s | %10s | %-7s | %-6s |\n' \
			"${CW_NAME[$w]}" "${CW_SHOW[$w]}" "$rps" "$p99" "$vs_fiber" "$vs_mock" "$target" "$result"
	done
	echo
	echo "Connectors: each round one dynapi, its back end and a fiberlimit, all up, the four rows interleaved ($SLICES turns of ${SLICE_SECS}s, see the header);"
	echo "dynapi serves the public copy of accounts.yaml at / (mock), a copy with operation ids suffixed JS at /js"
	echo "and one suffixed REST at /rest. /js/hello is answered by the JavaScript connector method $JS_METHOD (\`return <the mock's $(wc -c <"$HELLO_BODY")-byte body>;\`),"
	echo "/rest/hello by a method routing of $REST_METHOD to connector rest, url $BACKEND_URL: fiberlimit as the back end, GOMAXPROCS=1, sharing wrk's CPU (${WRK_CPU:-unpinned}), never dynapi's."
	echo "Each round's start proves both (a probe script, a probe routing to a path the back end 404s, then PUT to the final form); curl checks /js/hello answers the mock's body byte for byte,"
	echo "/rest/hello and fiberlimit the same JSON (same length and members; the mock writes keys sorted, fiberlimit in its own order)."
	echo "/ fiberlimit: req/s over fiberlimit's GET /hello (server CPU, as in compare); / mock GET: over dynapi's GET /hello, same rounds, same server."
	echo "Targets (../shared/bench/README.md), every round against fiberlimit's GET /hello of the same round: JS connector GET >= $JS_TARGET x, REST connector GET >= $REST_TARGET x"
	echo "(* in the rounds below marks a round that missed). FAIL also means a response other than 200."
}

if ((RUN_CONNECTORS)); then
	CW_NAME=("mock GET" "JS connector GET" "REST connector GET" "fiberlimit GET")
	CW_SHOW=("dynapi GET /hello" "dynapi GET /js/hello" "dynapi GET /rest/hello" "fiberlimit GET /hello")
	CW_URL=("$DYNAPI_URL/hello" "$DYNAPI_URL/js/hello" "$DYNAPI_URL/rest/hello" "$FIBER_URL/hello")
	# The order the rows are measured in each turn (backwards in even turns):
	# the JavaScript GET, the closer target, right before fiberlimit's GET;
	# the REST GET one further.
	CW_ORDER=(0 2 1 3)
	CW_TARGET=("" "$JS_TARGET" "$REST_TARGET" "")
	# Each round: the back end, a dynapi set up by start_connector_server (which
	# checks the mock, the script and the routing) and one fiberlimit, all up
	# (each idle unless wrk loads it); then the four workloads in SLICES
	# interleaved turns.
	for r in $(seq 1 "$ROUNDS"); do
		start_connector_server
		start_fiberlimit
		fetch "fiberlimit GET" "$FIBER_URL/hello" "$TMP/fiber.out"
		same_json "fiberlimit GET /hello" "$TMP/fiber.out"
		for w in "${CW_ORDER[@]}"; do
			queue "c$w,x" 200 "$RAW/connectors-w$w-r$r" "${CW_URL[$w]}"
		done
		log "connectors: round $r/$ROUNDS, ${#Q_KEY[@]} workloads on dynapi and fiberlimit, interleaved"
		measure_turns "$SLICES" "$SLICE_SECS"
		stop_server
		stop_backend
	done
fi

# ---------------------------------------------------------------- consents
# The consent check's cost: the UK v4.0 account-information document served
# twice by one dynapi, bound to its consent profile at its own mount and
# without one (?consent_profile=none) at /plain; GET .../accounts/ID/balances
# (answered by the mock) under an authorised consent's token, against the
# same GET at /plain with the TPP's client-credentials token, which passes the
# operation's role instead. Both tokens are the engine's JWTs.
CONSENT_TARGET=0.85
CONSENT_BANK=bench-bank
CONSENT_ACCOUNT=bench-1
CONSENT_PATH=/open-banking/v4.0/aisp/accounts/$CONSENT_ACCOUNT/balances
PLAIN_PATH=/plain/accounts/$CONSENT_ACCOUNT/balances
TPP_REDIRECT=http://127.0.0.1:9/callback # never followed: the JSON API hands the code back

# form_call NAME PATH WANT OUT BASIC FORM...: a form POST with HTTP Basic
# client authentication; must answer WANT, the body left in OUT.
form_call() {
	local name=$1 path=$2 want=$3 out=$4 basic=$5 code
	shift 5
	code=$(curl -s -o "$out" -w '%{http_code}' --max-time 30 -X POST "$DYNAPI_URL$path" \
		-u "$basic" "$@") || true
	[[ $code == "$want" ]] || {
		head -c 2000 "$out" >&2 || true
		echo >&2
		die "$name: POST $path answered $code, want $want"
	}
}

# bearer_call NAME METHOD PATH WANT AUTHORIZATION [FILE]: one request with an
# Authorization header (and a JSON body from FILE); the answer is left in
# $TMP/call.json.
bearer_call() {
	local name=$1 method=$2 path=$3 want=$4 authorization=$5 file=${6:-} code
	local -a body=()
	[[ -z $file ]] || body=(-H 'Content-Type: application/json' --data-binary "@$file")
	code=$(curl -s -o "$TMP/call.json" -w '%{http_code}' --max-time 30 -X "$method" "$DYNAPI_URL$path" \
		-H "Authorization: $authorization" "${body[@]}") || true
	[[ $code == "$want" ]] || {
		head -c 2000 "$TMP/call.json" >&2 || true
		echo >&2
		die "$name: $method $path answered $code, want $want"
	}
}

# start_consent_server: a fresh dynapi (one-time codes in the JSON API,
# hour-long tokens) serving the UK document both ways, a bank with the
# admin's account, a TPP's consumer, and a consent the admin authorised for
# that account through the JSON API, its code exchanged with PKCE. Sets
# PSU_AUTHORIZATION (the consent's token) and TPP_AUTHORIZATION (the TPP's
# client-credentials token).
start_consent_server() {
	local admin_id key secret cc consent request_uri authorisation otp redirect code verifier challenge
	DYNAPI_FLAGS=(--sca-dev --oauth2-token-ttl 1h)
	start_dynapi
	DYNAPI_FLAGS=()
	submit "" "$OB_SPEC" >/dev/null
	grep -q '"id" *: *"uk-ob-v4.0-ais"' "$TMP/submit.json" || {
		head -c 2000 "$TMP/submit.json" >&2
		die "the UK v4.0 document was not bound to the consent profile uk-ob-v4.0-ais"
	}
	submit "mount=/plain&consent_profile=none" "$OB_SPEC" >/dev/null
	curl -s -o "$TMP/user.json" --max-time 10 "$DYNAPI_URL/my/user" "${AUTH[@]}" || true
	admin_id=$(json_field user_id "$TMP/user.json")
	[[ -n $admin_id ]] || die "GET /my/user: no user_id"
	printf '{"bank_id": "%s", "short_name": "Bench", "full_name": "Bench Bank"}\n' "$CONSENT_BANK" >"$TMP/bank.json"
	admin_json "bank" POST /admin/v1/banks "$TMP/bank.json" 201
	printf '{"bank_id": "%s", "role_name": "CanCreateAccount"}\n' "$CONSENT_BANK" >"$TMP/grant.json"
	admin_json "grant CanCreateAccount" POST "/admin/v1/users/$admin_id/entitlements" "$TMP/grant.json" 201
	printf '{"account_id": "%s", "currency": "EUR", "label": "bench", "balance": {"currency": "EUR", "amount": "10.00"}, "owners": [{"user_id": "%s"}]}\n' \
		"$CONSENT_ACCOUNT" "$admin_id" >"$TMP/account.json"
	admin_json "account" POST "/banks/$CONSENT_BANK/accounts" "$TMP/account.json" 201
	printf '{"name": "bench TPP", "redirect_uris": ["%s"]}\n' "$TPP_REDIRECT" >"$TMP/consumer.json"
	admin_json "TPP consumer" POST /my/consumers "$TMP/consumer.json" 201
	key=$(json_field consumer_key "$TMP/admin.json")
	secret=$(json_field consumer_secret "$TMP/admin.json")
	[[ -n $key && -n $secret ]] || die "POST /my/consumers: no consumer_key or consumer_secret"
	form_call "client credentials" /oauth2/token 200 "$TMP/cc.json" "$key:$secret" -d grant_type=client_credentials
	cc=$(json_field access_token "$TMP/cc.json")
	TPP_AUTHORIZATION="Bearer $cc"
	printf '{"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances"]}, "Risk": {}}\n' >"$TMP/consent.json"
	bearer_call "consent" POST /open-banking/v4.0/aisp/account-access-consents 201 "$TPP_AUTHORIZATION" "$TMP/consent.json"
	consent=$(json_field ConsentId "$TMP/call.json")
	[[ -n $consent ]] || die "no ConsentId in the 201"
	verifier=$(rand_hex 32)
	challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
	form_call "PAR" /oauth2/par 201 "$TMP/par.json" "$key:$secret" -d response_type=code \
		--data-urlencode "client_id=$key" --data-urlencode "redirect_uri=$TPP_REDIRECT" --data-urlencode "scope=openid accounts" \
		-d state=bench -d code_challenge_method=S256 --data-urlencode "code_challenge=$challenge" --data-urlencode "consent_id=$consent"
	request_uri=$(json_field request_uri "$TMP/par.json")
	printf '{"client_id": "%s", "request_uri": "%s"}\n' "$key" "$request_uri" >"$TMP/open.json"
	admin_json "open the authorisation" POST /my/consent-authorisations "$TMP/open.json" 201
	authorisation=$(json_field authorisation_id "$TMP/admin.json")
	printf '{"accounts": ["%s"]}\n' "$CONSENT_ACCOUNT" >"$TMP/choice.json"
	admin_json "choose the account" POST "/my/consent-authorisations/$authorisation/accounts" "$TMP/choice.json" 200
	otp=$(json_field code "$TMP/admin.json")
	[[ -n $otp ]] || die "no one-time code in the JSON API's answer (--sca-dev)"
	printf '{"answer": "%s"}\n' "$otp" >"$TMP/answer.json"
	admin_json "answer the one-time code" POST "/my/consent-authorisations/$authorisation/sca" "$TMP/answer.json" 200
	redirect=$(json_field redirect_uri "$TMP/admin.json")
	# JSON writes & as \u0026: the code ends at either.
	code=$(printf '%s' "$redirect" | sed -n 's/.*[?&]code=\([^&\\]*\).*/\1/p')
	[[ -n $code ]] || die "no code in the redirect $redirect"
	form_call "code exchange" /oauth2/token 200 "$TMP/psu.json" "$key:$secret" -d grant_type=authorization_code \
		--data-urlencode "code=$code" --data-urlencode "redirect_uri=$TPP_REDIRECT" --data-urlencode "code_verifier=$verifier"
	PSU_AUTHORIZATION="Bearer $(json_field access_token "$TMP/psu.json")"
	# Both sides answer, and each is checked the way it claims to be.
	bearer_call "GET under the consent" GET "$CONSENT_PATH" 200 "$PSU_AUTHORIZATION"
	bearer_call "GET at /plain" GET "$PLAIN_PATH" 200 "$TPP_AUTHORIZATION"
	bearer_call "GET under no consent" GET "$CONSENT_PATH" 403 "$TPP_AUTHORIZATION"
	bearer_call "another account under the consent" GET /open-banking/v4.0/aisp/accounts/other-1/balances 403 "$PSU_AUTHORIZATION"
	expect_status "GET at /plain without a token" 401 none GET "$DYNAPI_URL$PLAIN_PATH"
}

# report_consents prints the consents table.
report_consents() {
	local c p f cp pp ratio rounds misses result vs_fiber
	# shellcheck disable=SC2086 # word splitting of the round lists is wanted
	c=$(median ${RPS[k0,x]})
	# shellcheck disable=SC2086
	p=$(median ${RPS[k1,x]})
	# shellcheck disable=SC2086
	f=$(median ${RPS[k2,x]})
	# shellcheck disable=SC2086
	cp=$(median ${P99[k0,x]})
	# shellcheck disable=SC2086
	pp=$(median ${P99[k1,x]})
	ratio=$(awk -v a="$c" -v b="$p" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	vs_fiber=$(awk -v a="$c" -v b="$f" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[k0,x]}" "${RPS[k1,x]}" "$CONSENT_TARGET")
	CONSENT_ROUNDS+=("consent-checked / role-checked AIS GET per round: $rounds")
	result=$(verdict "$misses" "$((${STATUS_BAD[k0,x]} + ${STATUS_BAD[k1,x]} + ${STATUS_BAD[k2,x]}))")
	[[ $result == PASS ]] || FAILED=1
	printf '| %-20s | %13s | %12s | %6s | %12s | %10s | %10s | %-7s | %-6s |\n' \
		workload "consent req/s" "plain req/s" ratio "/ fiberlimit" "consent p99" "plain p99" target result
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------------- --------------: -------------: -------: -------------: -----------: -----------: --------- --------
	printf '| %-20s | %13s | %12s | %6s | %12s | %7s ms | %7s ms | %-7s | %-6s |\n' \
		"AIS GET, consent" "$c" "$p" "$ratio" "$vs_fiber" "$cp" "$pp" ">= $CONSENT_TARGET" "$result"
	echo
	echo "Consents: each round one dynapi serving ob-uk-v4.0/account-info-openapi.yaml bound to uk-ob-v4.0-ais (default mount) and again with"
	echo "?consent_profile=none at /plain, and a fiberlimit; consent: GET $CONSENT_PATH with the access token of a consent the admin authorised"
	echo "for $CONSENT_ACCOUNT (PAR, JSON API with --sca-dev, code exchange with PKCE); plain: GET $PLAIN_PATH with the TPP's client-credentials"
	echo "token (the operation's role instead of the consent). Both answered by the mock. Checked each round: both 200, the client-credentials token"
	echo "403 under the profile, another account 403, /plain 401 without a token. ratio = consent / plain; / fiberlimit: consent over fiberlimit's"
	echo "GET /hello (information). Target: >= $CONSENT_TARGET in every round."
}

if ((RUN_CONSENTS)); then
	command -v openssl >/dev/null 2>&1 || die "openssl is required for the consents part (PKCE)"
	KW_URL=("$DYNAPI_URL$CONSENT_PATH" "$DYNAPI_URL$PLAIN_PATH" "$FIBER_URL/hello")
	for r in $(seq 1 "$ROUNDS"); do
		start_consent_server
		start_fiberlimit
		queue "k0,x" 200 "$RAW/consents-w0-r$r" "${KW_URL[0]}" "" "$PSU_AUTHORIZATION"
		queue "k1,x" 200 "$RAW/consents-w1-r$r" "${KW_URL[1]}" "" "$TPP_AUTHORIZATION"
		queue "k2,x" 200 "$RAW/consents-w2-r$r" "${KW_URL[2]}"
		log "consents: round $r/$ROUNDS, consent-checked and role-checked AIS GET and fiberlimit, interleaved"
		measure_turns "$SLICES" "$SLICE_SECS"
		stop_server
	done
fi

# ---------------------------------------------------------------- ratelimit
# The call limits' cost: one dynapi serving accounts.yaml (guarded) at
# /guarded, its GET /hello called with the admin's DirectLogin token through
# two consumer apps: one limited far above what the load reaches, in every
# period of fixed length (second, minute, hour, day: four windows counted on
# every call), one without limits. Optional pair: the same GET through the
# unlimited app of a second dynapi set up alike but started with
# OBSERVE_OFF_FLAGS (metrics and tracing off), against the first (their
# defaults); skipped, saying so, when the binary does not know those flags.
RATELIMIT_TARGET=0.95
OBSERVE_TARGET=0.95
OBSERVE_OFF_FLAGS=${OBSERVE_OFF_FLAGS---metrics=false --tracing=false}
OBSERVE_URL=http://127.0.0.1:$OBSERVE_PORT
HIGH_LIMIT=1000000000
OBSERVE=""      # 1 when the observability pair runs
OBSERVE_NOTE="" # why it did not

# app_login NAME: registers a consumer app NAME as the admin and logs the
# admin in through it; sets APP_ID and APP_AUTHORIZATION. The password
# reaches curl through a header file, never its argv.
app_login() {
	local name=$1 key code token
	printf '{"name": "%s"}\n' "$name" >"$TMP/app.json"
	admin_json "consumer $name" POST /admin/v1/consumers "$TMP/app.json" 201
	APP_ID=$(json_field consumer_id "$TMP/admin.json")
	key=$(json_field consumer_key "$TMP/admin.json")
	[[ -n $APP_ID && -n $key ]] || die "POST /admin/v1/consumers: no consumer_id or consumer_key"
	printf 'DirectLogin: username="%s", password="%s", consumer_key="%s"\n' \
		"$ADMIN_USERNAME" "$ADMIN_PASSWORD" "$key" >"$TMP/app-login.headers"
	code=$(curl -s -o "$TMP/app-login.json" -w '%{http_code}' --max-time 30 -X POST \
		"$DYNAPI_URL/my/logins/direct" -H "@$TMP/app-login.headers") || true
	token=$(json_field token "$TMP/app-login.json")
	[[ $code == 201 && -n $token ]] || die "login through the consumer $name answered $code, want 201 with a token"
	APP_AUTHORIZATION="DirectLogin token=\"$token\""
}

# setup_limits: on the running dynapi, accounts.yaml at /guarded and two
# apps, one with call limits of HIGH_LIMIT per second, minute, hour and day
# (LIMITED_AUTHORIZATION), one without (UNLIMITED_AUTHORIZATION); and
# proof that limits bite: a third app limited to one call a second gets a
# 429 with Retry-After and RateLimit fields among three calls made within
# a second.
setup_limits() {
	local i code refused=0
	submit "mount=/guarded" "$ACCOUNTS_SPEC" >/dev/null
	app_login "bench limited"
	LIMITED_AUTHORIZATION=$APP_AUTHORIZATION
	printf '{"per_second_call_limit": "%s", "per_minute_call_limit": "%s", "per_hour_call_limit": "%s", "per_day_call_limit": "%s"}\n' \
		"$HIGH_LIMIT" "$HIGH_LIMIT" "$HIGH_LIMIT" "$HIGH_LIMIT" >"$TMP/limits.json"
	admin_json "call limits" PUT "/admin/v1/consumers/$APP_ID/call-limits" "$TMP/limits.json" 200
	app_login "bench unlimited"
	UNLIMITED_AUTHORIZATION=$APP_AUTHORIZATION
	app_login "bench tight"
	printf '{"per_second_call_limit": "1"}\n' >"$TMP/tight.json"
	admin_json "tight call limits" PUT "/admin/v1/consumers/$APP_ID/call-limits" "$TMP/tight.json" 200
	for i in 1 2 3; do
		code=$(curl -s -o "$TMP/tight.out" -D "$TMP/tight.headers" -w '%{http_code}' --max-time 1 \
			"$DYNAPI_URL/guarded/hello" -H "Authorization: $APP_AUTHORIZATION") || true
		if [[ $code == 429 ]] && grep -qi '^Retry-After: [0-9]' "$TMP/tight.headers" &&
			grep -qi '^RateLimit: "consumer-second";r=0;t=' "$TMP/tight.headers"; then
			refused=1
		fi
	done
	((refused)) || die "a consumer limited to one call a second was never refused (429 with Retry-After and RateLimit) in three calls"
	bearer_call "limited consumer" GET /guarded/hello 200 "$LIMITED_AUTHORIZATION"
	bearer_call "unlimited consumer" GET /guarded/hello 200 "$UNLIMITED_AUTHORIZATION"
	expect_status "GET /guarded/hello without a token" 401 none GET "$DYNAPI_URL/guarded/hello"
}

# observe_flags_known: the dynapi binary lists every flag of
# OBSERVE_OFF_FLAGS in serve's usage.
observe_flags_known() {
	local usage flag
	usage=$("$TMP/dynapi" serve -h 2>&1 || true)
	for flag in $OBSERVE_OFF_FLAGS; do
		flag=${flag%%=*}
		flag=${flag#-}
		flag=${flag#-}
		grep -qE "^ +-$flag( |\$)" <<<"$usage" || return 1
	done
}

# start_observe_off: a second dynapi at OBSERVE_URL with OBSERVE_OFF_FLAGS,
# set up as the first (setup_limits); sets OFF_AUTHORIZATION to its
# unlimited app's token.
start_observe_off() {
	port_in_use "$OBSERVE_PORT" && die "something already listens on 127.0.0.1:$OBSERVE_PORT (set BENCH_OBSERVE_PORT)"
	local DYNAPI_PORT=$OBSERVE_PORT DYNAPI_ADDR=127.0.0.1:$OBSERVE_PORT DYNAPI_URL=$OBSERVE_URL DYNAPI_NAME=dynapi-observe-off
	local -a DYNAPI_FLAGS
	read -ra DYNAPI_FLAGS <<<"$OBSERVE_OFF_FLAGS"
	start_dynapi
	setup_limits
	OFF_AUTHORIZATION=$UNLIMITED_AUTHORIZATION
}

# ratio_row LABEL A B TARGET: a row of the ratelimit table, the median
# req/s of queued workload A over B's (their keys), every round checked
# against TARGET.
ratio_row() {
	local label=$1 a=$2 b=$3 target=$4 ra rb pa pb ratio rounds misses result
	# shellcheck disable=SC2086 # word splitting of the round lists is wanted
	ra=$(median ${RPS[$a]}) rb=$(median ${RPS[$b]}) pa=$(median ${P99[$a]}) pb=$(median ${P99[$b]})
	ratio=$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[$a]}" "${RPS[$b]}" "$target")
	RATELIMIT_ROUNDS+=("$label per round: $rounds")
	result=$(verdict "$misses" "$((${STATUS_BAD[$a]} + ${STATUS_BAD[$b]}))")
	[[ $result == PASS ]] || FAILED=1
	printf '| %-22s | %12s | %12s | %6s | %6s ms | %6s ms | %-7s | %-6s |\n' \
		"$label" "$ra" "$rb" "$ratio" "$pa" "$pb" ">= $target" "$result"
}

# report_ratelimit prints the ratelimit table.
report_ratelimit() {
	printf '| %-22s | %12s | %12s | %6s | %9s | %9s | %-7s | %-6s |\n' \
		workload "A req/s" "B req/s" "A / B" "A p99" "B p99" target result
	printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------------: -------------: -------: ----------: ----------: --------- --------
	ratio_row "limited / unlimited" "l0,x" "l1,x" "$RATELIMIT_TARGET"
	[[ -z $OBSERVE ]] || ratio_row "observability on / off" "l1,x" "l2,x" "$OBSERVE_TARGET"
	echo
	echo "Ratelimit: each round one dynapi serving accounts.yaml (guarded) at /guarded; GET /guarded/hello with the admin's DirectLogin token"
	echo "through two consumer apps of that server, one with call limits of $HIGH_LIMIT per second, minute, hour and day (four windows"
	echo "counted per call), one without; checked each round: a third app limited to one call a second gets a 429 with Retry-After and"
	echo "RateLimit, both apps 200, 401 without a token. ratio = limited / unlimited. Target: >= $RATELIMIT_TARGET in every round."
	if [[ -n $OBSERVE ]]; then
		echo "Observability: the unlimited app's GET on that dynapi (default flags) against the same GET on a second one set up alike and"
		echo "started with '$OBSERVE_OFF_FLAGS' (BENCH_OBSERVE_PORT $OBSERVE_PORT), interleaved. ratio = on / off. Target: >= $OBSERVE_TARGET in every round."
	else
		echo "Observability pair not run: $OBSERVE_NOTE"
	fi
}

if ((RUN_RATELIMIT)); then
	if [[ -z ${OBSERVE_OFF_FLAGS// /} ]]; then
		OBSERVE_NOTE="OBSERVE_OFF_FLAGS is empty."
	elif observe_flags_known; then
		OBSERVE=1
	else
		OBSERVE_NOTE="this dynapi does not know the flags '$OBSERVE_OFF_FLAGS' (OBSERVE_OFF_FLAGS)."
	fi
	[[ -n $OBSERVE ]] || log "ratelimit: the metrics and tracing pair is skipped: $OBSERVE_NOTE"
	for r in $(seq 1 "$ROUNDS"); do
		start_dynapi
		setup_limits
		queue "l0,x" 200 "$RAW/ratelimit-w0-r$r" "$DYNAPI_URL/guarded/hello" "" "$LIMITED_AUTHORIZATION"
		queue "l1,x" 200 "$RAW/ratelimit-w1-r$r" "$DYNAPI_URL/guarded/hello" "" "$UNLIMITED_AUTHORIZATION"
		if [[ -n $OBSERVE ]]; then
			start_observe_off
			queue "l2,x" 200 "$RAW/ratelimit-w2-r$r" "$OBSERVE_URL/guarded/hello" "" "$OFF_AUTHORIZATION"
		fi
		log "ratelimit: round $r/$ROUNDS, guarded GET through a limited and an unlimited consumer${OBSERVE:+, and with observability off}, interleaved"
		measure_turns "$SLICES" "$SLICE_SECS"
		stop_server
	done
fi

# ---------------------------------------------------------------- report
REPORT=$TMP/report.md
{
	echo "# dynapi load benchmark"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), dynapi $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)'),"
	echo "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null), $PINNING, GOMAXPROCS=1,"
	echo "wrk -t1 -c$CONNECTIONS, $ROUNDS rounds, medians of rounds; 1-minute load average before the run: $LOAD_BEFORE (above ~1, other work on the machine skews the figures)."
	if ((RUN_COMPARE || RUN_ENTITIES || RUN_CONNECTORS || RUN_CONSENTS || RUN_RATELIMIT)); then
		echo
		echo "Ratios are measured interleaved. On this kind of shared VM two short wrk runs of the same server seconds apart differ by up to ~30 %,"
		echo "so two servers measured one after the other can drift apart for no reason of their own. In each round of compare, entities and connectors,"
		echo "the part's dynapi and a fiberlimit are both up on the server CPU (the one wrk is not loading is idle and takes next to no CPU); every workload gets"
		echo "one ${WARMUP}s warm-up, then $SLICES turns in which each workload runs once for ${SLICE_SECS}s, one after the other (odd turns in order, even turns"
		echo "backwards, so a drift within the round cancels out), so both sides of every ratio meet the same drift (${SLICES} x ${SLICE_SECS}s measured per workload and round). A round's req/s = its requests / its measured time over the slices;"
		echo "its p99 = the worst slice's p99 (conservative). The tables give medians of rounds."
		echo "Entity create (absolute targets; it adds records) keeps a fresh server and one ${DURATION}s run after the warm-up; the swap check is one ${DURATION}s run."
	fi
	if ((RUN_COMPARE || RUN_SWAP || RUN_ENTITIES)); then
		echo "dynapi serves accounts.yaml marked public at / and /exposed (no credentials, as fiberlimit) and unchanged at /guarded"
		echo "(role needed; DirectLogin token of the bootstrapped admin, one login per server start)."
	fi
	if ((RUN_CONNECTORS)); then
		echo "Connectors part: dynapi serves the public copy at /, copies with operation ids suffixed JS at /js and REST at /rest (see the notes under its table)."
	fi
	echo "Parts run (WORKLOADS): $PARTS."
	echo
	if ((RUN_COMPARE)); then
		printf '| %-14s | %12s | %16s | %6s | %10s | %14s | %-7s | %-6s |\n' \
			workload "dynapi req/s" "fiberlimit req/s" ratio "dynapi p99" "fiberlimit p99" target result
		printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------------- -------------: -----------------: -------: -----------: ---------------: --------- --------
		for w in "${!WL_NAME[@]}"; do
			# shellcheck disable=SC2086 # word splitting of the round lists is wanted
			d=$(median ${RPS[$w,dynapi]})
			# shellcheck disable=SC2086
			f=$(median ${RPS[$w,fiberlimit]})
			# shellcheck disable=SC2086
			dp=$(median ${P99[$w,dynapi]})
			# shellcheck disable=SC2086
			fp=$(median ${P99[$w,fiberlimit]})
			ratio=$(awk -v d="$d" -v f="$f" 'BEGIN { printf "%.2f", (f > 0 ? d / f : 0) }')
			IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[$w,dynapi]}" "${RPS[$w,fiberlimit]}" "${WL_TARGET[$w]}")
			COMPARE_ROUNDS+=("${WL_NAME[$w]}, dynapi / fiberlimit per round: $rounds")
			result=$(verdict "$misses" "$((${STATUS_BAD[$w,dynapi]} + ${STATUS_BAD[$w,fiberlimit]}))")
			[[ $result == PASS ]] || FAILED=1
			printf '| %-14s | %12s | %16s | %6s | %7s ms | %11s ms | %-7s | %-6s |\n' \
				"${WL_NAME[$w]}" "$d" "$f" "$ratio" "$dp" "$fp" ">= ${WL_TARGET[$w]}" "$result"
		done
		echo
		# The guard's cost: GET /guarded/hello with the token against the public
		# GET /exposed/hello, both dynapi, measured in the same mock GET rounds.
		# shellcheck disable=SC2086
		g=$(median ${RPS[0,guarded]})
		# shellcheck disable=SC2086
		d=$(median ${RPS[0,exposed]})
		# shellcheck disable=SC2086
		gp=$(median ${P99[0,guarded]})
		# shellcheck disable=SC2086
		dp=$(median ${P99[0,exposed]})
		ratio=$(awk -v g="$g" -v d="$d" 'BEGIN { printf "%.2f", (d > 0 ? g / d : 0) }')
		IFS=$'\t' read -r rounds misses < <(round_ratios "${RPS[0,guarded]}" "${RPS[0,exposed]}" "$GUARDED_TARGET")
		COMPARE_ROUNDS+=("guarded / public per round: $rounds")
		result=$(verdict "$misses" "$((${STATUS_BAD[0,guarded]} + ${STATUS_BAD[0,exposed]}))")
		[[ $result == PASS ]] || FAILED=1
		printf '| %-16s | %13s | %12s | %6s | %8s | %10s | %-7s | %-6s |\n' \
			workload "guarded req/s" "public req/s" ratio "guarded p99" "public p99" target result
		printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------ --------------: -------------: -------: ------------: -----------: --------- --------
		printf '| %-16s | %13s | %12s | %6s | %8s ms | %7s ms | %-7s | %-6s |\n' \
			"guarded mock GET" "$g" "$d" "$ratio" "$gp" "$dp" ">= $GUARDED_TARGET" "$result"
		echo
		echo "Each round: one dynapi and one fiberlimit up together; each turn runs dynapi GET $EXPOSED_PATH and $GUARDED_PATH, dynapi GET /hello, fiberlimit GET /hello,"
		echo "dynapi and fiberlimit validated POST, dynapi and fiberlimit invalid POST (${SLICE_SECS}s each; backwards in even turns, both sides of every ratio back to back);"
		echo "curl checks every workload's status once per round."
		echo "guarded: dynapi GET $GUARDED_PATH with Authorization: DirectLogin token (401 without it, checked each round); public: dynapi GET $EXPOSED_PATH"
		echo "with the same header, which the public copy ignores (requests of the same length, differing by the guard only); ratio = guarded / public."
		echo "Ratios are medians of rounds; every round must meet its target (../shared/bench/README.md), see the rounds below (* marks a round that missed)."
		echo
	fi
	if ((RUN_SPEC)); then
		echo "Spec load ($(basename "$OB_SPEC"), ?mount=/ob, median of $SPEC_RUNS): POST ${SPEC_POST} ms (curl time_total), GET /ob/accounts served (the consent check's 403 to the admin's token) after ${SPEC_READY} ms from the start of the POST."
		echo
	fi
	if ((RUN_SWAP)); then
		if ((SW_ERRORS == 0 && SWAP_FAILS == 0 && SWAPS > 0)); then swap_result=PASS; else
			swap_result=FAIL
			FAILED=1
		fi
		echo "Swap under load: $SWAPS petstore POST+DELETE cycles (admin DirectLogin token) during ${DURATION}s of public GET /hello ($SW_REQ requests, $SW_RPS req/s, p99 $SW_P99 ms): $SW_NON non-2xx, $SW_SOCK socket errors, $SWAP_FAILS failed admin steps (target 0): $swap_result."
		for note in "${SWAP_FAIL_NOTES[@]}"; do echo "- $note"; done
		echo
	fi
	if ((RUN_ENTITIES)); then
		report_entities
		echo
	fi
	if ((RUN_CONNECTORS)); then
		report_connectors
		echo
	fi
	if ((RUN_CONSENTS)); then
		report_consents
		echo
	fi
	if ((RUN_RATELIMIT)); then
		report_ratelimit
		echo
	fi
	echo "Rounds (req/s):"
	echo
	if ((RUN_COMPARE)); then
		for w in "${!WL_NAME[@]}"; do
			line=""
			for server in ${WL_SERVERS[$w]}; do
				line+="${line:+; }$server ${ROUND_LOG[$w,$server]}"
			done
			echo "- ${WL_NAME[$w]}: $line"
		done
	fi
	if ((RUN_ENTITIES)); then
		for w in "${!EW_NAME[@]}"; do
			echo "- entities, ${EW_NAME[$w]}: ${ROUND_LOG[e$w,x]}"
		done
	fi
	if ((RUN_CONNECTORS)); then
		for w in "${!CW_NAME[@]}"; do
			echo "- connectors, ${CW_NAME[$w]}: ${ROUND_LOG[c$w,x]}"
		done
	fi
	if ((RUN_CONSENTS)); then
		echo "- consents, consent-checked GET: ${ROUND_LOG[k0,x]}; role-checked GET: ${ROUND_LOG[k1,x]}; fiberlimit GET: ${ROUND_LOG[k2,x]}"
	fi
	if ((RUN_RATELIMIT)); then
		echo "- ratelimit, limited consumer: ${ROUND_LOG[l0,x]}; unlimited consumer: ${ROUND_LOG[l1,x]}${OBSERVE:+; observability off: ${ROUND_LOG[l2,x]:-}}"
	fi
	if ((RUN_SPEC)); then
		echo "- spec load: POST ms ${POST_MS[*]}; ready ms ${READY_MS[*]}; extra polls ${POLLS[*]}"
	fi
	errors=$(grep -c '"level":"ERROR"' "$TMP/dynapi.log" 2>/dev/null || true)
	echo "- dynapi log: ${errors:-0} ERROR lines"
	echo
	echo "Targets per round (* marks a round that missed its target):"
	echo
	for line in "${COMPARE_ROUNDS[@]}" "${ENTITY_ROUNDS[@]}" "${CONNECTOR_ROUNDS[@]}" "${CONSENT_ROUNDS[@]}" "${RATELIMIT_ROUNDS[@]}"; do
		echo "- $line"
	done
} >"$REPORT"
grep '"level":"ERROR"' "$TMP/dynapi.log" 2>/dev/null | head -n 5 >&2 || true

mkdir -p "$RESULTS"
cp "$REPORT" "$RESULTS/latest.md"
echo
cat "$REPORT"
echo
log "written to ${RESULTS#"$ROOT"/}/latest.md (raw wrk output under ${RAW#"$ROOT"/}/)"
exit "$FAILED"
