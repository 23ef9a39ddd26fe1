#!/usr/bin/env bash
# The container image's build context and names, as release.yml's image job makes them
# (and as tests/image.rs runs it, on archives it packs):
#
#   docker/context.sh DIST CONTEXT
#
# unpacks each platform's static binary from DIST/shipgate-<musl target>.tar.gz (the
# archives `cargo xtask dist` packed in the musl build jobs) into CONTEXT/<arch>/shipgate,
# where docker/Dockerfile copies it from for TARGETARCH, with the licences beside them. Then
# it writes to GITHUB_OUTPUT (when set):
#   image      ghcr.io/<owner>/<name>, lower-cased (the registry wants it so)
#   tags       <image>:<version>, and <image>:latest for a stable version (no prerelease
#              part), one a line
#   version    the version, checked
#   context    CONTEXT
#   revision   the commit checked out (the release's tag), when in a git repository
#
# Everything comes in as arguments and environment variables and is checked before use:
#   VERSION            the released version, e.g. 1.4.0 or 1.5.0-rc.1 (a SemVer without
#                      build metadata: an image tag has no `+`)
#   GITHUB_REPOSITORY  owner/name
# Exit: 0 done; 2 a bad input or a missing archive (nothing is written to GITHUB_OUTPUT).
set -euo pipefail

fail() {
  printf 'docker/context.sh: %s\n' "$1" >&2
  exit 2
}

# Docker's platform architecture and the Rust target built for it.
platforms=(
  amd64:x86_64-unknown-linux-musl
  arm64:aarch64-unknown-linux-musl
)

[[ $# -eq 2 ]] || fail "usage: docker/context.sh DIST CONTEXT"
dist=$1
context=$2

version=${VERSION:-}
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
if [[ ! $version =~ $semver || ${#version} -gt 120 ]]; then
  fail "VERSION \`$version\` is not a released version such as 1.4.0 or 1.5.0-rc.1"
fi
repository=${GITHUB_REPOSITORY:-}
if [[ ! $repository =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.][A-Za-z0-9_.-]*$ ]]; then
  fail "GITHUB_REPOSITORY \`$repository\` is not owner/name"
fi
image="ghcr.io/${repository,,}"

for pair in "${platforms[@]}"; do
  target=${pair#*:}
  [[ -f "$dist/shipgate-$target.tar.gz" ]] ||
    fail "$dist/shipgate-$target.tar.gz is missing: the $target build job packs it"
done

mkdir -p "$context"
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
for pair in "${platforms[@]}"; do
  arch=${pair%%:*}
  target=${pair#*:}
  tar -xzf "$dist/shipgate-$target.tar.gz" -C "$unpacked"
  top="$unpacked/shipgate-$target"
  [[ -f "$top/shipgate" ]] || fail "shipgate-$target.tar.gz holds no shipgate-$target/shipgate"
  mkdir -p "$context/$arch"
  install -m 0755 "$top/shipgate" "$context/$arch/shipgate"
  install -m 0644 "$top/LICENSE-MIT" "$top/LICENSE-APACHE" "$context/"
done

tags="$image:$version"
if [[ $version != *-* ]]; then
  tags+=$'\n'"$image:latest"
fi
revision=$(git rev-parse --verify -q 'HEAD^{commit}' 2>/dev/null || true)

printf 'image: %s\ntags:\n%s\ncontext: %s\n' "$image" "$tags" "$context" >&2
if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  {
    printf 'image=%s\n' "$image"
    printf 'version=%s\n' "$version"
    printf 'context=%s\n' "$context"
    printf 'revision=%s\n' "$revision"
    # a multi-line output: its delimiter is random, so no value can end it early
    delimiter="tags_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    printf 'tags<<%s\n%s\n%s\n' "$delimiter" "$tags" "$delimiter"
  } >>"$GITHUB_OUTPUT"
fi
