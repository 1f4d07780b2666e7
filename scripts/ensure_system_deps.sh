#!/usr/bin/env bash
# Install the system packages the tests need (Chromium for Playwright, the PostgreSQL server for the store
# tests) through apt, but only when they are missing. Quiet when all is there; fails loudly when apt fails.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
    missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "ensure_system_deps: missing ${missing[*]} and not root (no sudo); install them with apt" >&2
        exit 1
    fi
fi

echo "ensure_system_deps: installing ${missing[*]} with apt ..." >&2
log=$(mktemp -t finops-apt.XXXXXX)
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -q >"$log" 2>&1 \
    || ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure_system_deps: FAILED to install ${missing[*]} with apt (log above)" >&2
    rm -f "$log"
    exit 1
fi
rm -f "$log"

[ -x /usr/bin/chromium ] || { echo "ensure_system_deps: /usr/bin/chromium still missing after apt" >&2; exit 1; }
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || { echo "ensure_system_deps: PostgreSQL server binaries still missing after apt" >&2; exit 1; }
echo "ensure_system_deps: installed ${missing[*]}" >&2
