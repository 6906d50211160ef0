#!/usr/bin/env bash
# Runs one Spark peer test with the peers' Python (scripts/install-peers):
#   tests/spark/run.sh <build dir> <test.py>
# The peers folder is ${PINPIPE_PEERS_DIR:-$HOME/.cache/pinpipe/peers}. A missing
# peer fails the test (never a skip).
set -euo pipefail
peers="${PINPIPE_PEERS_DIR:-$HOME/.cache/pinpipe/peers}"
py="$peers/venv/bin/python"
if [ ! -x "$py" ] || ! "$py" -c "import pyspark, delta, deltalake, pyarrow" 2>/dev/null; then
  echo "FAIL: the Spark peers (pyspark, delta-spark, deltalake, pyarrow) are missing in $peers/venv: run scripts/install-deps --test" >&2
  exit 1
fi
command -v java >/dev/null || { echo "FAIL: java is missing (Spark needs it): run scripts/install-deps --test" >&2; exit 1; }
export BUILD_DIR="$1"
exec "$py" "$2"
