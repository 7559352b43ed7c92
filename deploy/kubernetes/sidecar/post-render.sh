#!/bin/sh
# Helm post-renderer: adds the coder-pg-capacity sidecar to Coder's Deployment.
#
#   Helm 3:  helm upgrade --install coder coder-v2/coder -n coder -f values.yaml \
#              --post-renderer ./deploy/kubernetes/sidecar/post-render.sh
#   Helm 4:  helm plugin install ./deploy/kubernetes/sidecar   (once; plugin.yaml)
#            helm upgrade --install coder coder-v2/coder -n coder -f values.yaml \
#              --post-renderer coder-pg-capacity-sidecar
#
# Reads the rendered chart on stdin, writes it with the sidecar on stdout. Needs
# `kubectl` (1.21 or later) or `kustomize` on PATH. Works in a temp dir: concurrent
# runs never share files, and nothing is written beside this script.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cp "$here/kustomization.yaml" "$here/coderd-sidecar.yaml" "$work/"
cat > "$work/chart.yaml"

if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$work" > "$work/out.yaml"
elif command -v kustomize >/dev/null 2>&1; then
  kustomize build "$work" > "$work/out.yaml"
else
  echo "post-render.sh: needs kubectl (1.21 or later) or kustomize on PATH" >&2
  exit 1
fi

# kustomize applies a patch whose target matches nothing silently: say so instead of
# installing Coder without the monitor.
if ! grep -q '^ *- *name: coder-pg-capacity$\|^ *name: coder-pg-capacity$' "$work/out.yaml"; then
  echo "post-render.sh: found no Deployment labelled app.kubernetes.io/name=coder in the chart's output; is this Coder's chart (helm.coder.com/v2)? With coder.nameOverride, change the labelSelector in $here/kustomization.yaml" >&2
  exit 1
fi
cat "$work/out.yaml"
