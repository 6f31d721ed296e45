#!/usr/bin/env bash
# The README's test command: a clean install (offline-safe) and the whole suite: type-check, lint,
# unit and integration tests, renderer component tests, browser end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --clean
npm test
