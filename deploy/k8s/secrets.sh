#!/bin/sh
# Issues the in-cluster certificates with `tlsecho ca` and lays the files out where the
# tlsecho-ca overlay's secretGenerator reads them. Existing certificates are kept unless --force
# (rotation: new leaves from the same root). Run by `make k8s-secrets` / `make k8s-rotate`.
#
#   K8S_NS       namespace the names are issued for (default tlsecho; the kustomization's namespace)
#   K8S_CERTS    tlsecho ca output, minica layout (default certs/k8s)
#   K8S_SECRETS  kustomize input (default deploy/k8s/overlays/tlsecho-ca/secrets)
#
# --lab also issues the failure lab (docs/lab.md) for the lab overlay: its own two-tier CA (so
# incomplete-chain can be issued: a pathlen:0 root can sign no intermediate), the lab server's
# pair and `tlsecho ca lab` for <kind>.<K8S_NS>.svc.cluster.local, laid out for overlays/lab.
#   K8S_LAB_CERTS    the lab's CA folder (default <K8S_CERTS>/lab-ca)
#   K8S_LAB_SECRETS  kustomize input (default deploy/k8s/overlays/lab/secrets)
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
ns=${K8S_NS:-tlsecho}
certs=${K8S_CERTS:-$root/certs/k8s}
secrets=${K8S_SECRETS:-$root/deploy/k8s/overlays/tlsecho-ca/secrets}
cli=$root/dist/src/cli.js
lab_certs=${K8S_LAB_CERTS:-$certs/lab-ca}
lab_secrets=${K8S_LAB_SECRETS:-$root/deploy/k8s/overlays/lab/secrets}
force=
lab=
for arg in "$@"; do
  case "$arg" in
    --force) force=--force ;;
    --lab) lab=1 ;;
    *) echo "usage: $0 [--force] [--lab] (unknown argument '$arg')" >&2; exit 2 ;;
  esac
done
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

[ -n "$lab" ] || exit 0

# The lab: a CA of its own, two-tier, made once (never rotated by --force, as the root above).
domain=$ns.svc.cluster.local
if [ -n "$force" ] || [ ! -f "$lab_certs/lab-server/cert.pem" ]; then
  node "$cli" ca --intermediate --out "$lab_certs" --domains "$(forms lab-server)localhost" \
    --ip-addresses 127.0.0.1,::1 $force
else
  echo "keeping $lab_certs/lab-server/cert.pem (make k8s-rotate re-issues it)"
fi
node "$cli" ca lab --out "$lab_certs" --domain "$domain" $force
mkdir -p "$lab_secrets"
install -m 0644 "$lab_certs/minica.pem" "$lab_secrets/ca.crt"
install -m 0644 "$lab_certs/lab-server/cert.pem" "$lab_secrets/tls.crt"
install -m 0600 "$lab_certs/lab-server/key.pem" "$lab_secrets/tls.key"
# The names of src/lab/names.ts (test/k8s/lab.test.ts checks the two agree).
for kind in good expired not-yet-valid wrong-name untrusted self-signed client-cert tls12 incomplete-chain; do
  dir=$lab_certs/lab/$kind.$domain
  [ -f "$dir/cert.pem" ] && [ -f "$dir/key.pem" ] ||
    { echo "error: $dir/cert.pem or key.pem is missing: tlsecho ca lab did not issue $kind.$domain" >&2; exit 1; }
  install -m 0644 "$dir/cert.pem" "$lab_secrets/$kind.crt"
  install -m 0600 "$dir/key.pem" "$lab_secrets/$kind.key"
done
echo "lab kustomize inputs written to $lab_secrets"
