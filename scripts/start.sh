#!/usr/bin/env bash
# The README's main command: installs if needed, then opens the editor. With Electron installed it
# is the desktop app; otherwise (or with --browser) browser mode on http://127.0.0.1:5178 (open the
# URL it prints: it carries this launch's access token).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
browser=0
if [ "${1:-}" = "--browser" ]; then browser=1; shift; fi
if [ $browser -eq 0 ] && [ -x node_modules/.bin/electron ] && node_modules/.bin/electron --version >/dev/null 2>&1; then
  exec npm start
fi
npm run build:renderer --silent
echo "Electron is not installed here: opening browser mode. Open the URL printed below (with its ?token=) in a browser."
exec npm run serve --silent -- "$@"
