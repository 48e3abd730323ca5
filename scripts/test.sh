#!/usr/bin/env bash
# The test command of the README and of CI: install what the suite needs, then run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/python -m pytest -q -rs "$@"
