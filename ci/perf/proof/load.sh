#!/usr/bin/env bash
# A `go test ./...`-like load beside the perf check: compiles and runs the
# pure packages' tests over and over, caches off.
cd "$(dirname "$0")/../../.."
while :; do cd "$(dirname "$0")/../../.." && go test -count=1 ./sim/policy/... ./sim/tenant/... ./sim/domain/... ./sim/seal/... ./sim/measure/... ./sim/wire/... >/dev/null 2>&1; done
