# bench/lib.sh — what the bench scripts share; sourced, never run. Sets ROOT, WORK, PIDS, LOADGEN, CLK_TCK and
# defines: say, die, show_log, raise_open_files, build_and_snapshot, start_emulator, start_gateway.
# Everything runs on 127.0.0.1; everything started through it is stopped on exit (also on Ctrl-C).
# shellcheck shell=bash

KEEP_WORK=${KEEP_WORK:-false}               # true: keep the temp dir (logs, gateway.yaml, results) afterwards
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:-}    # extra JVM options for the gateway (none: as `java -jar` runs it)
EMULATOR_JAVA_OPTS=${EMULATOR_JAVA_OPTS:-}
LOADGEN_JAVA_OPTS=${LOADGEN_JAVA_OPTS:--Xms512m -Xmx512m -XX:+UseParallelGC}

BENCH_NAME=$(basename "$0")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/caravan-bench.XXXXXX")
PIDS=()

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do                 # up to 10 s for a clean stop, then force it
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ "$KEEP_WORK" == true ]]; then
        echo "(kept $WORK)"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; exit 1; }

show_log() {   # name file
    printf -- '--- last lines of the %s log (%s) ---\n' "$1" "$2" >&2
    tail -n 40 "$2" >&2 || true
}

raise_open_files() {   # descriptors-needed: raise the soft limit (65536, or the hard limit), note when still short
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    if (( $(ulimit -n) < $1 )); then
        say "note: open-file limit is $(ulimit -n), below the $1 this run wants; some connections may fail"
    fi
}

# Builds the gateway and the emulator when missing or stale, snapshots them into WORK (so a rebuild in the checkout
# during the run cannot pull classes from under the running JVMs) and compiles the load generator.
build_and_snapshot() {
    if [[ ! -f target/caravan.jar || -n "$(find src pom.xml -newer target/caravan.jar -print -quit)" ]]; then
        say "building the gateway (mvn package) ..."
        mvn -B -q -DskipTests package
        mvn -B -q -DskipTests test-compile
    elif [[ ! -f target/test-classes/dev/caravan/emulator/UpstreamEmulator.class ]]; then
        say "building the emulator (mvn test-compile) ..."
        mvn -B -q -DskipTests test-compile
    fi
    [[ -f target/caravan.jar ]] || die "target/caravan.jar is missing after the build"
    [[ -f target/test-classes/dev/caravan/emulator/UpstreamEmulator.class ]] || die "the upstream emulator did not compile"
    cp target/caravan.jar "$WORK/caravan.jar"
    cp -r target/test-classes "$WORK/test-classes"
    mkdir -p "$WORK/loadgen"
    javac -nowarn -d "$WORK/loadgen" bench/LoadGen.java
    # shellcheck disable=SC2206
    LOADGEN=(java $LOADGEN_JAVA_OPTS -cp "$WORK/loadgen" LoadGen)
    CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
}

start_emulator() {   # name port args...: sets <NAME>_PID once it listens (30 s at most)
    local name=$1 port=$2
    shift 2
    # shellcheck disable=SC2086
    java $EMULATOR_JAVA_OPTS -cp "$WORK/test-classes:$WORK/caravan.jar" dev.caravan.emulator.UpstreamEmulator \
        --port "$port" "$@" >"$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 300); do
        if grep -q "emulator listening on $port" "$WORK/$name.log" 2>/dev/null; then
            eval "${name^^}_PID=$pid"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    show_log "$name emulator" "$WORK/$name.log"
    die "the $name emulator did not start"
}

# start_gateway port models...: the gateway from the snapshot jar with WORK/gateway.yaml (written by the caller);
# waits (bounded) for /health and for one chat request on each model. Sets GATEWAY_PID and GATEWAY_READY_SECONDS.
start_gateway() {
    local port=$1 started ready model
    shift
    # shellcheck disable=SC2086
    # MAX_CONNECTIONS: a soak of N streams holds N client connections at once, the default cap (10,000) included
    env PORT="$port" HOST=127.0.0.1 GATEWAY_CONFIG="$WORK/gateway.yaml" LOG_LEVEL=WARN ROUTES_RELOAD=false \
        MAX_CONNECTIONS="${GATEWAY_MAX_CONNECTIONS:-100000}" \
        java $GATEWAY_JAVA_OPTS -jar "$WORK/caravan.jar" >"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    PIDS+=("$GATEWAY_PID")
    started=$(date +%s.%N)
    if ! "${LOADGEN[@]}" wait --url "http://127.0.0.1:$port/health" --timeout-s 90 --pid "$GATEWAY_PID"; then
        show_log gateway "$WORK/gateway.log"
        die "the gateway did not become healthy"
    fi
    ready=$(date +%s.%N)
    GATEWAY_READY_SECONDS=$(awk -v a="$started" -v b="$ready" 'BEGIN { printf "%.1f", b - a }')
    for model in "$@"; do
        if ! "${LOADGEN[@]}" wait --url "http://127.0.0.1:$port/v1/chat/completions" --timeout-s 60 \
            --pid "$GATEWAY_PID" \
            --body "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":1}"; then
            show_log gateway "$WORK/gateway.log"
            die "no lane answered for $model"
        fi
    done
}

gateway_log_summary() {   # the gateway's WARN/ERROR lines, if any, and whether it still runs
    local warns
    warns=$(grep -cE '\b(WARN|ERROR)\b|Exception' "$WORK/gateway.log" || true)
    if [[ "$warns" -gt 0 ]]; then
        say "== Gateway log: $warns WARN/ERROR/exception lines (first 10 shown)"
        grep -E '\b(WARN|ERROR)\b|Exception' "$WORK/gateway.log" | head -n 10 | cut -c1-300
    else
        say "== Gateway log: no WARN/ERROR lines"
    fi
    kill -0 "$GATEWAY_PID" 2>/dev/null || say "!! the gateway process is no longer running"
}
