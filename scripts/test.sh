#!/usr/bin/env bash
# The test command of the README and of CI: install what the suite needs, check the import layers, then run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
# layers one way (.importlinter): web -> services -> solver -> domain
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q -rs "$@"
