#!/usr/bin/env bash
# The main job on a fresh machine: install, load the shipped seed district into the embedded SQLite
# database, run a recorded placement round, write the placements and the union's seniority audit.
# Pass --serve to start the web app afterwards (http://127.0.0.1:8000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export STAFFING_DATABASE_URL="${STAFFING_DATABASE_URL:-sqlite:///staffing.db}"
mkdir -p out
.venv/bin/staffing import --replace seed_data/small
.venv/bin/staffing demo-users
.venv/bin/staffing place --time-limit 20 --out out/placements.csv
.venv/bin/staffing audit --out out/audit.csv
if [ "${1:-}" = "--serve" ]; then
    .venv/bin/staffing serve
fi
