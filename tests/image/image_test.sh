#!/usr/bin/env bash
# Builds the kolla-operator image with scripts/build-operator-image into a temporary directory,
# with every builder available (umoci, tar), and checks the OCI layout: index → manifest →
# config and layers with valid sha256 digests and sizes, diff_ids of the uncompressed layers,
# the entrypoint, a non-root user, the files of each layer; then runs the binary from the
# unpacked image with the image's own dynamic loader and libraries (and, as root, the entry
# script and helm inside a chroot as the image's user).
# Usage: image_test.sh SOURCE_DIR KOLLA_OPERATOR_BINARY. Exit 77 (skipped) without the tools.
set -euo pipefail
src=$1
binary=$2
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in jq tar gzip sha256sum ldd; do command -v $t >/dev/null || skip "$t is not installed"; done
[[ -x $binary ]] || skip "no kolla-operator binary at $binary"
helm=$src/.tools/bin/helm
[[ -x $helm ]] || helm=$(command -v helm || true)
[[ -n $helm ]] || skip "helm is not installed (scripts/setup)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
builders=(tar)
if command -v umoci >/dev/null; then builders+=(umoci); else echo "note: umoci not installed; only the tar builder is tested"; fi

blob() { echo "$1/blobs/${2%%:*}/${2#*:}"; }
check_blob() {  # check_blob LAYOUT DIGEST SIZE
  local file
  file=$(blob "$1" "$2")
  [[ -f $file ]] || fail "blob $2 missing"
  [[ $(sha256sum "$file" | cut -d' ' -f1) == "${2#sha256:}" ]] || fail "blob $2: wrong sha256"
  [[ $(stat -c %s "$file") == "$3" ]] || fail "blob $2: size $(stat -c %s "$file") != $3"
}

for builder in "${builders[@]}"; do
  echo "=== builder $builder"
  out=$work/$builder
  "$src/scripts/build-operator-image" --builder "$builder" --binary "$binary" --helm "$helm" \
    --tag test "$out" >/dev/null
  [[ $(jq -r .imageLayoutVersion "$out/oci-layout") == 1.0.0 ]] || fail "oci-layout"
  desc=$(jq -c '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "test")' "$out/index.json")
  [[ -n $desc ]] || fail "index.json has no manifest tagged test"
  mdigest=$(jq -r .digest <<<"$desc")
  check_blob "$out" "$mdigest" "$(jq -r .size <<<"$desc")"
  manifest=$(blob "$out" "$mdigest")
  [[ $(jq -r .schemaVersion "$manifest") == 2 ]] || fail "manifest schemaVersion"
  cdigest=$(jq -r .config.digest "$manifest")
  check_blob "$out" "$cdigest" "$(jq -r .config.size "$manifest")"
  config=$(blob "$out" "$cdigest")

  [[ $(jq -c .config.Entrypoint "$config") == '["/usr/local/bin/kolla-operator-start"]' ]] ||
    fail "entrypoint is $(jq -c .config.Entrypoint "$config")"
  user=$(jq -r '.config.User // ""' "$config")
  case ${user%%:*} in ''|0|root) fail "the image runs as root (User '$user')" ;; esac
  [[ $(jq -r '.config.Labels["org.opencontainers.image.title"]' "$config") == kolla-operator ]] || fail "title label"
  [[ $(jq -r '.config.Labels["org.opencontainers.image.version"]' "$config") == test ]] || fail "version label"
  jq -e '.config.Env | index("KOLLA_HOME=/opt/kolla-operator")' "$config" >/dev/null || fail "KOLLA_HOME"
  [[ $(jq -r .os "$config") == linux ]] || fail "os"

  nlayers=$(jq '.layers | length' "$manifest")
  [[ $nlayers -eq 3 ]] || fail "$nlayers layers, expected 3"
  [[ $(jq '.rootfs.diff_ids | length' "$config") -eq $nlayers ]] || fail "diff_ids count"
  rootfs=$work/rootfs-$builder
  mkdir -p "$rootfs"
  : > "$work/files"
  for i in $(seq 0 $((nlayers - 1))); do
    ldigest=$(jq -r ".layers[$i].digest" "$manifest")
    check_blob "$out" "$ldigest" "$(jq -r ".layers[$i].size" "$manifest")"
    [[ $(jq -r ".layers[$i].mediaType" "$manifest") == application/vnd.oci.image.layer.v1.tar+gzip ]] || fail "layer media type"
    diff_id=$(gzip -dc "$(blob "$out" "$ldigest")" | sha256sum | cut -d' ' -f1)
    [[ sha256:$diff_id == $(jq -r ".rootfs.diff_ids[$i]" "$config") ]] || fail "layer $i: diff_id mismatch"
    tar -tvzf "$(blob "$out" "$ldigest")" >> "$work/files"
    tar -xzf "$(blob "$out" "$ldigest")" -C "$rootfs" --no-same-owner
  done
  for f in usr/local/bin/kolla-operator usr/local/bin/kolla-operator-start usr/local/bin/helm bin/sh \
           etc/passwd opt/kolla-operator/charts/keystone/Chart.yaml \
           opt/kolla-operator/charts/kolla-common/Chart.yaml; do
    grep -Eq " (\./)?$f\$" "$work/files" || fail "no $f in the layers"
  done
  grep -Eq '^drwxrwxrwt .* (\./)?tmp/?$' "$work/files" || fail "/tmp is not mode 1777"
  if grep -Eq ' (\./)?opt/kolla-operator/charts/kolla-operator/' "$work/files"; then fail "the operator chart is in the image"; fi
  grep -q '^kolla-operator:x:65532:' "$rootfs/etc/passwd" || fail "no user 65532 in /etc/passwd"

  if command -v skopeo >/dev/null; then
    inspected=$(skopeo inspect "oci:$out:test")
    [[ $(jq -r .Digest <<<"$inspected") == "$mdigest" ]] || fail "skopeo sees another digest"
    [[ $(jq '.Layers | length' <<<"$inspected") -eq 3 ]] || fail "skopeo sees another layer count"
    echo "skopeo inspect: ok ($mdigest)"
  fi

  # The binary runs with only what the image holds: its loader and libraries.
  loader=$(find "$rootfs/lib64" "$rootfs/lib" "$rootfs/usr/lib" -name 'ld-linux*.so*' 2>/dev/null | head -n1 || true)
  [[ -n $loader ]] || fail "no dynamic loader in the image"
  libpath=$(find "$rootfs" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  help=$("$loader" --inhibit-cache --library-path "$libpath" "$rootfs/usr/local/bin/kolla-operator" --help)
  grep -q -- --leader-elect <<<"$help" || fail "kolla-operator --help from the image's libraries"
  if [[ $(id -u) -eq 0 ]] && chroot=$(command -v chroot); then
    env_args=()
    while IFS= read -r e; do env_args+=("$e"); done < <(jq -r '.config.Env[]' "$config")
    help=$(env -i "${env_args[@]}" "$chroot" --userspec=65532:65532 "$rootfs" /usr/local/bin/kolla-operator-start --help)
    grep -q -- --leader-elect <<<"$help" || fail "entry script in the chroot"
    rendered=$(env -i "${env_args[@]}" "$chroot" --userspec=65532:65532 "$rootfs" \
      /usr/local/bin/helm template memcached /opt/kolla-operator/charts/memcached)
    grep -q '^kind: Deployment' <<<"$rendered" || fail "helm template in the chroot"
    echo "chroot as 65532: entry script and helm template ok"
  fi
  echo "builder $builder: ok"
done
echo "PASS"
