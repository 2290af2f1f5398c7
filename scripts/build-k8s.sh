#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane, etcd, kwok and kwokctl from the Go module proxy, once
# per machine, into a cache keyed by version. Prints progress; does nothing when the cache is warm.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${KOLLA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kolla-kubernetes}"
BIN_DIR="$CACHE_ROOT/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin"
export GOFLAGS="${GOFLAGS:--trimpath}" CGO_ENABLED=0

want=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl)
missing=()
for b in "${want[@]}"; do [[ -x "$BIN_DIR/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$BIN_DIR"
  exit 0
fi

command -v go >/dev/null || { echo "build-k8s: go is not installed" >&2; exit 1; }
mkdir -p "$BIN_DIR"
work="$CACHE_ROOT/gobuild-$KUBE_VERSION"
mkdir -p "$work"
step() { echo "[build-k8s $(date +%H:%M:%S)] $*" >&2; }

# kube-apiserver, kube-controller-manager, kube-scheduler: k8s.io/kubernetes replaces its staging
# modules with local paths, so a module of ours requires it and points each staging module at the
# matching v0.X.Y release.
if [[ " ${missing[*]} " == *" kube-"* ]]; then
  staging_version="v0.${KUBE_VERSION#v1.}"
  mkdir -p "$work/kube"
  cd "$work/kube"
  if [[ ! -f go.sum ]]; then
    step "resolving k8s.io/kubernetes $KUBE_VERSION (staging modules at $staging_version)"
    modfile=$(curl -fsSL "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/$KUBE_VERSION.mod")
    {
      echo "module kolla-kubernetes/k8s-build"
      echo
      echo "go 1.26.0"
      echo
      echo "require k8s.io/kubernetes $KUBE_VERSION"
      echo
      echo "replace ("
      sed -n '/^replace (/,/^)/p' <<<"$modfile" | grep '=> ./staging' |
        awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
      echo ")"
    } >go.mod
    cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
    go mod tidy >&2
  fi
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION")"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    [[ -x "$BIN_DIR/$b" ]] && continue
    step "building $b $KUBE_VERSION (a cold build takes several minutes)"
    go build -ldflags "$ldflags" -o "$BIN_DIR/$b.tmp" "k8s.io/kubernetes/cmd/$b"
    mv "$BIN_DIR/$b.tmp" "$BIN_DIR/$b"
  done
fi

# etcd's server module carries replace directives, which `go install pkg@version` refuses; a
# module of ours requires it instead (its sibling modules resolve to the same release).
if [[ ! -x "$BIN_DIR/etcd" ]]; then
  mkdir -p "$work/etcd"
  cd "$work/etcd"
  if [[ ! -f go.sum ]]; then
    step "resolving etcd $ETCD_VERSION"
    printf 'module kolla-kubernetes/etcd-build\n\ngo 1.26.0\n' >go.mod
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
  fi
  step "building etcd $ETCD_VERSION"
  go build -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd"
fi

# kwokctl is kwok's cluster manager. `kollakube cluster up` launches the processes itself (it needs
# its own PKI, node-IP and Stage set-up), but kwokctl ships in the same cache for people who know
# it (e.g. `kwokctl create cluster --runtime binary` with these binaries).
for b in kwok kwokctl; do
  [[ -x "$BIN_DIR/$b" ]] && continue
  step "building $b $KWOK_VERSION"
  GOBIN="$BIN_DIR" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/$b@$KWOK_VERSION"
done

step "binaries ready in $BIN_DIR"
echo "$BIN_DIR"
