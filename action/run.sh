#!/usr/bin/env bash
# Runs the installed shipgate with the action's `args`, which are DATA, never evaluated:
# several lines give one argument per line (blank lines skipped); one line is split on
# whitespace, with no globbing, no quotes, no substitutions. Writes `exit-code=N` to
# GITHUB_OUTPUT and exits with shipgate's code (the binary writes its own outputs too).
set -euo pipefail

args=${INPUT_ARGS:-}
words=()
if [[ $args == *$'\n'* ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    if [[ -n ${line//[[:space:]]/} ]]; then
      words+=("$line")
    fi
  done <<<"$args"
else
  set -f
  read -r -a words <<<"$args"
  set +f
fi

if ((${#words[@]} == 0)); then
  printf 'shipgate: args is empty: nothing to run\n' >&2
  exit 0
fi

set +e
shipgate "${words[@]}"
code=$?
set -e
if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  printf 'exit-code=%s\n' "$code" >>"$GITHUB_OUTPUT"
fi
exit "$code"
