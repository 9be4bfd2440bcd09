#!/usr/bin/env bash
# `make dist-check`, the console half: the built `orders-sync` answers --help, and
# `run --all --dry-run --json` works on the demo database (made on first use in a throwaway
# home folder) with the built `orders-sync sandbox` serving on 127.0.0.1.
# Usage: packaging/dist_console_check.sh DIST_DIR PYTHON
set -uo pipefail
dist=$1
python=$2
cli="$dist/orders-sync"
home=$(mktemp -d)
sandbox_pid=""
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$home"
}
trap cleanup EXIT
fail() { echo "dist-check: FAILED, $*"; exit 1; }

"$cli" --help >"$home/help.txt" || fail "the built orders-sync --help exited $?"
grep -q "run" "$home/help.txt" || fail "orders-sync --help does not list the run command"

"$cli" sandbox --port 0 >"$home/sandbox.json" 2>"$home/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 100); do
  [ -s "$home/sandbox.json" ] && break
  kill -0 "$sandbox_pid" 2>/dev/null || fail "the built sandbox exited: $(tail -n 3 "$home/sandbox.err")"
  sleep 0.2
done
[ -s "$home/sandbox.json" ] || fail "the built sandbox printed no ready line"
read -r url board token < <("$python" -c 'import json, sys; d = json.loads(sys.stdin.readline()); print(d["url"], d["board_id"], d["token"])' <"$home/sandbox.json")

ORDERS_SYNC_HOME="$home/home" ORDERS_SYNC_MONDAY_URL="$url" ORDERS_SYNC_BOARD_ID="$board" \
  MONDAY_API_TOKEN="$token" "$cli" run --all --dry-run --json >"$home/run.json" 2>"$home/run.err"
code=$?
[ $code -eq 0 ] || fail "orders-sync run --all --dry-run exited $code: $(tail -n 3 "$home/run.err")"
"$python" - "$home/run.json" <<'PY' || fail "the dry run's report is not what it should be"
import json, sys
report = json.loads(open(sys.argv[1], encoding="utf-8").read().strip().splitlines()[-1])
assert report["ok"] and report["dry_run"], report
assert len(report["customers"]) > 10, report
assert {c["status"] for c in report["customers"]} == {"ESTIMATED"}, report
print(f"dist-check: orders-sync run --all --dry-run: {len(report['customers'])} customers estimated")
PY
echo "dist-check: OK, the console orders-sync answers --help and a dry run"
