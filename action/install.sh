#!/usr/bin/env bash
# Installs a released shipgate for the runner: validates every input before any request,
# downloads shipgate-<target>.tar.gz and SHA256SUMS, checks the archive's SHA-256 (and its
# build provenance with `gh attestation verify`), keeps it in the tool cache, unpacks it
# afresh and puts its directory on GITHUB_PATH.
#
# Inputs arrive as environment variables (action.yml maps them), never as script text:
#   INPUT_VERSION            latest | 1.4.0 | v1.4.0 (a prerelease such as 1.5.0-rc.1 too)
#   INPUT_DOWNLOAD_URL       default: $GITHUB_SERVER_URL/<this action's repository>/releases
#   INPUT_VERIFY_PROVENANCE  true | false
#   INPUT_GITHUB_TOKEN       given to gh as GH_TOKEN, to nothing else
# and the runner's RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH,
# GITHUB_OUTPUT, GITHUB_ACTION_PATH, GITHUB_SERVER_URL.
set -euo pipefail

# A workflow command's data with %, CR and LF escaped, so no text can start a new command.
escape() {
  local s=$1
  s=${s//'%'/'%25'}
  s=${s//$'\r'/'%0D'}
  s=${s//$'\n'/'%0A'}
  printf '%s' "$s"
}

fail() {
  printf '::error title=shipgate install::%s\n' "$(escape "$1")"
  exit 1
}

say() {
  printf 'shipgate: %s\n' "$*" >&2
}

need_env() {
  local name=$1
  if [[ -z ${!name:-} ]]; then
    fail "$name is not set (this script runs as a step of the shipgate action)"
  fi
}

# --- inputs, all checked before any request ---------------------------------------------

for name in RUNNER_OS RUNNER_ARCH RUNNER_TOOL_CACHE RUNNER_TEMP GITHUB_PATH GITHUB_OUTPUT; do
  need_env "$name"
done

case "$RUNNER_OS/$RUNNER_ARCH" in
  Linux/X64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-msvc ;;
  *) fail "no shipgate release for runner $RUNNER_OS/$RUNNER_ARCH (released: Linux X64/ARM64, macOS X64/ARM64, Windows X64)" ;;
esac
exe=shipgate
if [[ $RUNNER_OS == Windows ]]; then
  exe=shipgate.exe
fi

version=${INPUT_VERSION:-latest}
semver='^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$'
if [[ $version == latest ]]; then
  tag=latest
elif [[ $version =~ $semver ]]; then
  version=${version#v}
  tag=v$version
else
  fail "version \"$version\" is not latest or a version such as 1.4.0 or v1.4.0"
fi

# The action's own repository: GITHUB_ACTION_PATH is …/_actions/OWNER/REPO/REF when the
# action is used as `OWNER/REPO@REF` (github.action_repository is empty in composite actions).
repo=shipgate/shipgate
action_path=${GITHUB_ACTION_PATH:-}
if [[ $action_path == */_actions/*/*/* ]]; then
  rest=${action_path#*/_actions/}
  owner=${rest%%/*}
  rest=${rest#*/}
  name=${rest%%/*}
  if [[ $owner =~ ^[A-Za-z0-9_.-]+$ && $name =~ ^[A-Za-z0-9_.-]+$ ]]; then
    repo=$owner/$name
  fi
fi

server=${GITHUB_SERVER_URL:-https://github.com}
url=${INPUT_DOWNLOAD_URL:-}
if [[ -z $url ]]; then
  url=$server/$repo/releases
fi
url=${url%/}
# https anywhere, http on loopback only; a host of letters, digits, dots and dashes (so no
# user info: `http://127.0.0.1:1@evil/` is refused), an optional port, a plain path.
path_re='(/[A-Za-z0-9._~%+/-]*)?$'
https_re='^https://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:[0-9]{1,5})?'$path_re
loopback_re='^http://(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|localhost|\[::1\])(:[0-9]{1,5})?'$path_re
if ! [[ $url =~ $https_re || $url =~ $loopback_re ]]; then
  fail "download-url \"$url\" must be https://HOST/PATH (http only on loopback: 127.0.0.1, localhost, [::1]), without user info"
fi

case "${INPUT_VERIFY_PROVENANCE:-true}" in
  true) verify=true ;;
  false) verify=false ;;
  *) fail "verify-provenance \"${INPUT_VERIFY_PROVENANCE}\" is not true or false" ;;
esac

archive=shipgate-$target.tar.gz
top=shipgate-$target
if [[ $tag == latest ]]; then
  base=$url/latest/download
else
  base=$url/download/$tag
fi

# --- helpers ---------------------------------------------------------------------------

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum -- "$1" | cut -d' ' -f1
  else
    shasum -a 256 -- "$1" | cut -d' ' -f1
  fi
}

download() {
  # redirects only to https (a release asset moves to a CDN), retried on transient errors
  curl --fail --silent --show-error --location \
    --proto '=https,http' --proto-redir '=https' \
    --retry 3 --retry-delay 1 --connect-timeout 20 --max-time 600 \
    --output "$2" -- "$1"
}

work=$(mktemp -d "$RUNNER_TEMP/shipgate-install.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# --- the expected sum ------------------------------------------------------------------

say "downloading $base/SHA256SUMS"
download "$base/SHA256SUMS" "$work/SHA256SUMS" || fail "cannot download $base/SHA256SUMS"
# the line naming exactly our archive (`HEX  NAME`, or `HEX *NAME` in binary mode)
expected=$(awk -v name="$archive" '
  NF == 2 && ($2 == name || $2 == "*" name) && $1 ~ /^[0-9a-fA-F]+$/ && length($1) == 64 { print tolower($1) }
' "$work/SHA256SUMS" | sort -u)
if [[ -z $expected ]]; then
  fail "SHA256SUMS of $tag has no line for $archive: refusing to install an archive that cannot be checked"
fi
if [[ $expected == *$'\n'* ]]; then
  fail "SHA256SUMS of $tag names $archive with different sums: refusing to install"
fi

verify_provenance() {
  if [[ $verify != true ]]; then
    return 0
  fi
  if ! command -v gh >/dev/null 2>&1; then
    fail "gh is not installed, so the archive's provenance cannot be verified (or set verify-provenance: false)"
  fi
  say "verifying the provenance of $archive (gh attestation verify --repo $repo)"
  if ! GH_TOKEN=${INPUT_GITHUB_TOKEN:-} gh attestation verify "$1" --repo "$repo" >&2; then
    fail "the provenance of $archive does not verify for $repo: refusing to install"
  fi
}

# --- the archive: from the cache, or downloaded -------------------------------------------

cache=$RUNNER_TOOL_CACHE/shipgate/$version/$target
cached=$cache/$archive
if [[ -f $cached ]]; then
  actual=$(sha256_of "$cached")
  if [[ $actual == "$expected" ]]; then
    say "cache hit: $cached"
  elif [[ $version == latest ]]; then
    say "the cached latest archive is not the latest release any more: downloading it again"
    rm -f -- "$cached"
  else
    rm -f -- "$cached"
    fail "the cached $cached (sha256 $actual) does not match SHA256SUMS of $tag ($expected): it was changed, so it is refused and removed; a re-run downloads it again"
  fi
fi
if [[ ! -f $cached ]]; then
  say "downloading $base/$archive"
  download "$base/$archive" "$work/$archive" || fail "cannot download $base/$archive"
  actual=$(sha256_of "$work/$archive")
  if [[ $actual != "$expected" ]]; then
    rm -f -- "$work/$archive"
    fail "$archive from $base has sha256 $actual, but SHA256SUMS says $expected: refusing to install it"
  fi
  verify_provenance "$work/$archive"
  mkdir -p -- "$cache"
  mv -f -- "$work/$archive" "$cache/.$archive.partial"
  mv -f -- "$cache/.$archive.partial" "$cached"
else
  verify_provenance "$cached"
fi

# --- unpack afresh, only shipgate-<target>/ -------------------------------------------------

mkdir -p -- "$work/unpack"
tar_flags=(--no-same-owner)
if [[ $RUNNER_OS == Windows ]]; then
  # GNU tar would read the `C:` of an absolute Windows path as a remote host
  tar_flags+=(--force-local)
fi
(cd "$work/unpack" && tar "${tar_flags[@]}" -xzf "$cached" "$top") ||
  fail "cannot unpack $top/ from $cached"
if [[ ! -f $work/unpack/$top/$exe ]]; then
  fail "$archive has no $top/$exe"
fi
chmod +x -- "$work/unpack/$top/$exe"
rm -rf -- "${cache:?}/$top"
mv -- "$work/unpack/$top" "$cache/$top"
bin=$cache/$top

installed=$("$bin/$exe" --version) || fail "the installed $bin/$exe does not run"
installed=${installed##* }
if ! [[ $installed =~ ^[0-9A-Za-z.+-]+$ ]]; then
  fail "the installed shipgate printed an unexpected version"
fi
printf '%s\n' "$bin" >>"$GITHUB_PATH"
printf 'shipgate-version=%s\n' "$installed" >>"$GITHUB_OUTPUT"
say "installed shipgate $installed in $bin"
