#!/bin/bash
# Times `triscope demo` (default size, a new warehouse) from its start to the
# first served page (issue 19 goal 5): the login page answering, then the
# ceo's Telescope served after signing in; and to the models computed
# (the demo serves while they are). Needs curl and bc.
#
#   go build -o triscope ./cmd/triscope
#   scripts/bench-demo-first-page.sh ./triscope [PORT]
#
# The last line is stable, for people and scripts:
#   login page X s, telescope (HTTP 200, STATE) Y s, models done Z s
set -euo pipefail
bin=$(realpath "$1")
port=${2:-18600}
dir=$(mktemp -d /tmp/triscope-demo-first-page-XXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
start=$(date +%s.%N)
"$bin" demo --db "$dir/demo.duckdb" --addr "127.0.0.1:$port" --demo-password bench-demo-pw >out.txt 2>err.txt &
pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/login"; do
  kill -0 $pid 2>/dev/null || { cat err.txt >&2; exit 1; }
  sleep 0.1
done
t_login=$(date +%s.%N)
csrf=$(curl -s -c cj -b cj "http://127.0.0.1:$port/login" | grep -o 'name="csrf[^>]*value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
curl -s -c cj -b cj -o /dev/null -d "username=ceo&password=bench-demo-pw&csrf=$csrf" "http://127.0.0.1:$port/login"
code=$(curl -s -b cj -o page.html -w "%{http_code}" "http://127.0.0.1:$port/telescope")
t_page=$(date +%s.%N)
state=$(grep -q 'notices computing' page.html && echo "models being computed" || echo "models computed")
until grep -q "^refreshed\|^refresh as of" out.txt; do
  kill -0 $pid 2>/dev/null || { cat err.txt >&2; exit 1; }
  sleep 0.2
done
t_models=$(date +%s.%N)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "login page %.1f s, telescope (HTTP %s, %s) %.1f s, models done %.1f s\n" \
  "$(echo "$t_login - $start" | bc)" "$code" "$state" "$(echo "$t_page - $start" | bc)" "$(echo "$t_models - $start" | bc)"
