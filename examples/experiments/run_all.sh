#!/usr/bin/env bash
# Run the four reference experiments and copy their plots into docs/img/.
#
#   examples/experiments/run_all.sh            real Ray actors (the numbers for the docs)
#   examples/experiments/run_all.sh --virtual  virtual time, seconds: checks the pipeline
#
# REPEATS (default: 5 for experiment 1, 3 for experiment 2, 2 for experiments 3 and 4), RESULTS (default
# runs/experiments) and COMPARE (default "qnemu compare") may be set in the environment.
# Real runs take about 30 minutes on a 2-core machine (each run: duration_s x the scenario's
# dilation of wall time, plus 5-10 s to start and stop its actors). An experiment that fails is reported
# at the end; the others still run.
set -euo pipefail
cd "$(dirname "$0")/../.."
COMPARE=${COMPARE:-qnemu compare}
REPEATS=${REPEATS:-}
RESULTS=${RESULTS:-runs/experiments}
MODE=("$@")
HERE=examples/experiments
IMG=${IMG:-docs/img}

run() {  # run NAME REPEATS ARGS...: one comparison; its folder is the last "comparison:" line
  local name=$1 repeats=${REPEATS:-$2}; shift 2
  local folder
  folder=$($COMPARE "$@" --repeats "$repeats" --results "$RESULTS" --quiet "${MODE[@]}" \
           | tee >(cat >&2) | sed -n 's/^comparison: //p' | tail -n 1)
  [ -n "$folder" ] || return 1
  mkdir -p "$IMG/$name"
  rm -f "$IMG/$name"/*.png "$IMG/$name/table.md"  # a plot no longer drawn must not linger
  cp "$folder"/*.png "$folder/table.md" "$IMG/$name/"
  echo "$name: $folder -> $IMG/$name/"
}

failed=()
# 1. the latency-coherence gap: T2 from 5 ms to 1 s, the controller at the far end
run latency-coherence 5 "$HERE/latency-coherence.yaml" \
    --controllers centralized,distributed,hierarchical \
    --sweep hardware.trapped_ion.t2_s=0.005,0.02,1 || failed+=(latency-coherence)
# 2. rate-fidelity trade-off: no purification versus Q-NUM's choice of 0-2 rounds
# (one controller: on a single link there is no swap to decide, all three are identical)
run rate-fidelity 3 "$HERE/rate-fidelity.yaml" \
    --controllers centralized \
    --sweep control.max_purification_rounds=0,2 || failed+=(rate-fidelity)
# 3. scheduling: synchronous versus asynchronous, 2, 3, 4 and 6 hops (x axis: the destination)
run scheduling 2 "$HERE/scheduling.yaml" \
    --controllers distributed \
    --sweep tenants.0.dst=n2,n3,n4,n6 --sweep control.scheduling=synchronous,asynchronous || failed+=(scheduling)
# 4. probabilistic swapping: P_swap 0.5 versus 1.0, 2-5 hops
run swap-probability 2 "$HERE/swap-probability.yaml" \
    --controllers distributed \
    --sweep tenants.0.dst=n2,n3,n4,n5 --sweep hardware.trapped_ion.swap_success=0.5,1.0 || failed+=(swap-probability)
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
