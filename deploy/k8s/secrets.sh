#!/bin/sh
# Issues the in-cluster certificates with `tlsecho ca` and lays the files out where the
# tlsecho-ca overlay's secretGenerator reads them. Existing certificates are kept unless --force
# (rotation: new leaves from the same root). Run by `make k8s-secrets` / `make k8s-rotate`.
#
#   K8S_NS       namespace the names are issued for (default tlsecho; the kustomization's namespace)
#   K8S_CERTS    tlsecho ca output, minica layout (default certs/k8s)
#   K8S_SECRETS  kustomize input (default deploy/k8s/overlays/tlsecho-ca/secrets)
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
ns=${K8S_NS:-tlsecho}
certs=${K8S_CERTS:-$root/certs/k8s}
secrets=${K8S_SECRETS:-$root/deploy/k8s/overlays/tlsecho-ca/secrets}
cli=$root/dist/src/cli.js
force=
case "${1:-}" in
  --force) force=--force ;;
  '') ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac
[ -f "$cli" ] || { echo "error: $cli is missing; run 'npm run build' first" >&2; exit 1; }

# A Service name in every form a pod may use: short (search path), .<ns>, .<ns>.svc, full FQDN.
forms() {
  for n in "$@"; do printf '%s,%s.%s,%s.%s.svc,%s.%s.svc.cluster.local,' \
    "$n" "$n" "$ns" "$n" "$ns" "$n" "$ns"; done
}

# issue FOLDER NAMES...: one leaf (folder = its first name) for the names plus what
# `kubectl port-forward` reaches (localhost, 127.0.0.1, ::1).
issue() {
  folder=$1
  shift
  if [ -n "$force" ] || [ ! -f "$certs/$folder/cert.pem" ]; then
    node "$cli" ca --out "$certs" --domains "$(forms "$@")localhost" \
      --ip-addresses 127.0.0.1,::1 $force
  else
    echo "keeping $certs/$folder/cert.pem (make k8s-rotate re-issues it)"
  fi
}

issue ponger ponger
issue server1 server1 server2 server3

# The layout kustomize reads: keys 0600 in a 0700 folder, certificates 0644.
umask 077
mkdir -p "$secrets/ponger" "$secrets/echo-server"
install -m 0644 "$certs/minica.pem" "$secrets/ca.crt"
for pair in ponger:ponger echo-server:server1; do
  install -m 0644 "$certs/${pair#*:}/cert.pem" "$secrets/${pair%%:*}/tls.crt"
  install -m 0600 "$certs/${pair#*:}/key.pem" "$secrets/${pair%%:*}/tls.key"
done
echo "kustomize inputs written to $secrets"
