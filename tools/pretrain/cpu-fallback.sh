#!/usr/bin/env bash
# The starter model's CPU fallback pretraining (issue 18 item 3; docs/pretraining.md), in the
# background at the lowest CPU and I/O priority, resuming the run in $LIMELIGHT_PRETRAIN_HOME
# (default ~/.cache/limelight-pretrain, outside the work tree) where it last stopped.
#   tools/pretrain/cpu-fallback.sh start [cpuPretrain options]   build, then start with nohup
#   tools/pretrain/cpu-fallback.sh stop                          SIGTERM: saves a checkpoint, exits
#   tools/pretrain/cpu-fallback.sh status                        pid, last log lines
# Run from the repository root after `npm ci` and `npm run corpus`.
set -euo pipefail

HOME_DIR=${LIMELIGHT_PRETRAIN_HOME:-$HOME/.cache/limelight-pretrain}
PID_FILE=$HOME_DIR/train.pid
LOG=$HOME_DIR/train.log
mkdir -p "$HOME_DIR"

running() {
  # A killed job can stay a zombie until its adoptive parent reaps it: that is not running.
  [ -f "$PID_FILE" ] && ps -o stat= -p "$(cat "$PID_FILE")" 2>/dev/null | grep -qv '^Z'
}

case "${1:-}" in
  start)
    shift
    if running; then
      echo "cpu-fallback: already running as pid $(cat "$PID_FILE") (log: $LOG)." >&2
      exit 1
    fi
    if [ ! -f .cache/corpus/train.bin ]; then
      echo "cpu-fallback: .cache/corpus/train.bin is missing; build the corpus first: npm run corpus" >&2
      exit 2
    fi
    # Its own bundle, outside the work tree: `node tools/build.mjs --tests` wipes out/ while others build.
    # The compute threads load poolWorker.js from next to the bundle.
    node_modules/.bin/esbuild tools/pretrain/cpuPretrain.ts engine/runtime/poolWorker.ts --bundle --platform=node \
      --target=node20 --format=cjs --log-level=warning --entry-names='[name]' --outdir="$HOME_DIR/bin"
    IONICE=()
    if command -v ionice >/dev/null; then IONICE=(ionice -c 3); fi
    # setsid: its own session, so the job outlives the shell (and the process group) that started it.
    setsid nohup "${IONICE[@]}" nice -n 19 node "$HOME_DIR/bin/cpuPretrain.js" --data .cache/corpus --run "$HOME_DIR/run" "$@" >>"$LOG" 2>&1 &
    echo $! >"$PID_FILE"
    echo "cpu-fallback: started pid $! (log: $LOG)"
    ;;
  stop)
    if ! running; then
      echo "cpu-fallback: not running." >&2
      exit 0
    fi
    pid=$(cat "$PID_FILE")
    kill -TERM "$pid"
    # The trainer finishes its step (a paused one wakes within 2 s) and saves a checkpoint.
    for _ in $(seq 1 300); do
      running || { echo "cpu-fallback: stopped; the checkpoint is saved."; exit 0; }
      sleep 1
    done
    echo "cpu-fallback: pid $pid still runs after 300 s (a checkpoint save under heavy load?); check $LOG." >&2
    exit 1
    ;;
  status)
    if running; then echo "running: pid $(cat "$PID_FILE")"; else echo "not running"; fi
    tail -n 5 "$LOG" 2>/dev/null || true
    ;;
  *)
    echo "usage: tools/pretrain/cpu-fallback.sh start [options] | stop | status" >&2
    exit 2
    ;;
esac
