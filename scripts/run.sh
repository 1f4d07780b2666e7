#!/usr/bin/env bash
# Start the sidecar (`python -m finops.jobs`), the Streamlit UI and the REST API together.
# Ctrl-C or SIGTERM stops all three; when any one exits, the others are stopped too.
# All run as children of this script (their output in this terminal), so the script can notice any exit.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}

"$PY" -m finops.jobs &
sidecar=$!
"$PY" -m finops ui &  # streamlit on FINOPS_HOST:FINOPS_PORT (127.0.0.1:8501 unless set)
ui=$!
"$PY" -m finops api &  # uvicorn on FINOPS_API_HOST:FINOPS_API_PORT (127.0.0.1:8000 unless set)
api=$!

alive() { kill -0 "$1" 2>/dev/null; }

stop() {
    trap '' INT TERM
    kill -TERM "$sidecar" "$ui" "$api" 2>/dev/null
    for _ in $(seq 1 100); do  # up to 10 s for a clean shutdown, then force
        alive "$sidecar" || alive "$ui" || alive "$api" || break
        sleep 0.1
    done
    kill -KILL "$sidecar" "$ui" "$api" 2>/dev/null
    wait 2>/dev/null
}

trap 'echo "run.sh: stopping sidecar, UI and API" >&2; stop; exit 130' INT
trap 'echo "run.sh: stopping sidecar, UI and API" >&2; stop; exit 143' TERM

wait -n "$sidecar" "$ui" "$api"
rc=$?
for pair in "sidecar:$sidecar" "UI:$ui" "API:$api"; do
    alive "${pair#*:}" || echo "run.sh: the ${pair%%:*} exited ($rc); stopping the others" >&2
done
stop
exit "$rc"
