#!/usr/bin/env bash
# The core suites (ca, server, client, dns, demo, config) on Node 24 LTS, the container images'
# runtime, from scripts/node24.sh. Runs the compiled tests in dist/ as they are (CI builds once,
# with the machine's Node, in scripts/test.sh); `npm run build` first when running it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d dist/test ]; then
  echo "test-node24.sh: no dist/test; run 'npm run build' first" >&2
  exit 1
fi
node24="$(bash scripts/node24.sh)"
echo "test-node24.sh: the core suites on $("$node24" --version)" >&2
# The tests start the CLI with process.execPath, so servers and clients run on Node 24 as well.
exec "$node24" --test --test-concurrency=2 \
  $(find dist/test/ca dist/test/server dist/test/client dist/test/dns dist/test/demo dist/test/config \
    -name '*.test.js' | sort)
