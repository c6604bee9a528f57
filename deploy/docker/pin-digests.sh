#!/usr/bin/env bash
# Re-pins every third-party base image to the current digest of its tag, in place:
# the Dockerfiles, deploy/compose.yaml and the Kubernetes manifests.
# Needs Docker with buildx and access to the registries; review and commit the diff.
#   bash deploy/docker/pin-digests.sh           rewrite the digests
#   bash deploy/docker/pin-digests.sh --check   exit 1 when a digest differs from its tag's (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
check=false
[ "${1:-}" = "--check" ] && check=true

files=(deploy/docker/*.Dockerfile deploy/compose.yaml deploy/k8s/*/*.yaml)
refs=$(grep -hoE '[a-z0-9./_-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}' "${files[@]}" | sort -u)
status=0
for ref in $refs; do
  image=${ref%@*}
  pinned=${ref#*@}
  current=$(docker buildx imagetools inspect "$image" --format '{{json .Manifest.Digest}}' | tr -d '"')
  if [ "$current" = "$pinned" ]; then
    echo "ok       $image"
  elif $check; then
    echo "stale    $image ($pinned, registry has $current)"
    status=1
  else
    echo "re-pin   $image -> $current"
    sed -i "s|$image@$pinned|$image@$current|g" "${files[@]}"
  fi
done
exit $status
