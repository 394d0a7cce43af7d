#!/usr/bin/env bash
# The README's test command: sets up what the tests need on a fresh Debian/Ubuntu machine, then
# runs every test. Tests that need something missing (a Docker engine, `ip netns`, browsers) say
# so and skip, unless TLSECHO_REQUIRE_DOCKER / _NETNS / _BROWSERS / _KUBECTL / _BENCH=1 (as CI sets)
# make them fail.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real: openssl (verify), iproute2 (netns), dnsutils (dig),
# the browsers and certutil, curl and make (the deploy tests run Makefile targets), a JDK and Go
# (trust stores, chain checks), wrk, nginx and h2load (the benchmark's test), tshark (the key
# log). Installed only when missing and when we may (root + apt).
packages=()
command -v openssl >/dev/null || packages+=(openssl)
command -v ip >/dev/null || packages+=(iproute2)
command -v dig >/dev/null || packages+=(dnsutils)
command -v curl >/dev/null || packages+=(curl)
command -v make >/dev/null || packages+=(make)
command -v certutil >/dev/null || packages+=(libnss3-tools)
command -v javac >/dev/null || packages+=(default-jdk-headless) # ca install --stores java: keytool + a Java client
command -v go >/dev/null || packages+=(golang-go) # Go crypto/x509 verifies the CA's chains and name constraints
command -v wrk >/dev/null || packages+=(wrk)
command -v h2load >/dev/null || packages+=(nghttp2-client)
command -v tshark >/dev/null || packages+=(tshark)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || packages+=(nginx-light)
command -v chromium >/dev/null || packages+=(chromium)
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || packages+=(firefox-esr)

# apt-get, waiting (bounded: TLSECHO_APT_LOCK_WAIT seconds, default 300) while another apt or dpkg
# process (unattended-upgrades, a second terminal) holds its lock, instead of failing at once.
apt_get() {
  local limit=${TLSECHO_APT_LOCK_WAIT:-300} start=$SECONDS said='' err
  while :; do
    err=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=5 -qq "$@" 2>&1 >/dev/null) && return 0
    if ! grep -qE 'Could not get lock|Unable to lock|Unable to acquire' <<<"$err"; then
      printf '%s\n' "$err" >&2
      return 1
    fi
    local holder
    holder=$(grep -m1 -oE 'held by process [0-9]+( \([^)]*\))?' <<<"$err" || echo 'held by another process')
    if ((SECONDS - start >= limit)); then
      echo "test.sh: apt's lock is still ${holder} after ${limit}s; run again when it has finished" >&2
      return 1
    fi
    [ -n "$said" ] || echo "test.sh: apt's lock is ${holder}; waiting up to ${limit}s for it" >&2
    said=1
    sleep 5
  done
}

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${packages[*]}" >&2
    apt_get update
    apt_get install -y "${packages[@]}"
  else
    echo "test.sh: missing ${packages[*]} (install them for the full suite); the tests that need them will skip" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run lint
npm test
