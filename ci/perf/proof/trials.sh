#!/usr/bin/env bash
# The proof runs of ci/perf/run, one after another, with load.sh beside.
cd "$(dirname "$0")/../../.."
for t in unchanged-1 w27000-1 unchanged-2 w27000-2 unchanged-3 w27000-3 unchanged-4 w27000-4 unchanged-5 w27000-5 w54000-1 w18000-1 w18000-2 w18000-3 w22000-1 w22000-2 w22000-3; do
	case $t in
	unchanged-*) args=(--unchanged) ;;
	w*) n=${t#w}; args=(--work "${n%-*}") ;;
	esac
	{
		echo "# $(date -u +%H:%M:%S) ci/perf/run ${args[*]}; uptime: $(uptime)"
		start=$(date +%s)
		mkdir -p "${PROOF_OUT:-/tmp/perf-proof}"; PERF_OUT="${PROOF_OUT:-/tmp/perf-proof}/$t" ci/perf/run "${args[@]}"
		echo "# exit $? after $(( $(date +%s) - start )) s, uptime: $(uptime)"
	} > "${PROOF_OUT:-/tmp/perf-proof}/$t".log 2>&1
done
