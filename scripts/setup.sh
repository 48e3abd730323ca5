#!/usr/bin/env bash
# Create .venv and install the project (with test extras when asked).  Sourced by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log=.venv/install.log
    # pip and setuptools are chatty even when quiet: keep their output for when something goes wrong
    if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
           .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "installation failed (log above, also in $log)" >&2
        exit 1
    fi
    touch "$stamp"
fi
