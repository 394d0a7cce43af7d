#!/usr/bin/env bash
# The README's test command: sets up what the tests need on a fresh Debian/Ubuntu machine, then
# runs every test. Tests that need something missing (a Docker engine, `ip netns`, browsers) say
# so and skip, unless TLSECHO_REQUIRE_DOCKER / _NETNS / _BROWSERS / _KUBECTL / _BENCH=1 (as CI sets)
# make them fail.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real: openssl (verify), iproute2 (netns), dnsutils (dig),
# the browsers and certutil, curl, make and setfacl (the deploy tests run Makefile targets), wrk,
# nginx and h2load (the benchmark's test). Installed only when missing and when we may (root + apt).
packages=()
command -v openssl >/dev/null || packages+=(openssl)
command -v ip >/dev/null || packages+=(iproute2)
command -v dig >/dev/null || packages+=(dnsutils)
command -v curl >/dev/null || packages+=(curl)
command -v make >/dev/null || packages+=(make)
command -v setfacl >/dev/null || packages+=(acl)
command -v certutil >/dev/null || packages+=(libnss3-tools)
command -v wrk >/dev/null || packages+=(wrk)
command -v h2load >/dev/null || packages+=(nghttp2-client)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || packages+=(nginx-light)
command -v chromium >/dev/null || packages+=(chromium)
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || packages+=(firefox-esr)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${packages[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "test.sh: missing ${packages[*]} (install them for the full suite); the tests that need them will skip" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run lint
npm test
