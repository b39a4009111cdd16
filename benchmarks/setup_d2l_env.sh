#!/usr/bin/env bash
# Install d2l==1.0.3 (the book's own library) into benchmarks/.d2l-site, apart from cnnlib.
#
# d2l pins old versions of everything (torch 2.0, numpy 1.23, ...), so it is installed
# with --no-deps next to the main venv's modern torch, and only the few packages it
# imports that the main venv lacks are added beside it (pandas and scipy).
# The benchmark runs the d2l side in a subprocess with PYTHONPATH=benchmarks/.d2l-site;
# cnnlib itself never sees d2l.
#
# Idempotent: a stamp records the installed pins; a matching stamp means nothing to do.
# The install goes to a temporary folder that is renamed into place only when complete,
# so an interrupted run never leaves a half-installed site behind.
#
# Usage: bash benchmarks/setup_d2l_env.sh   (PYTHON=... to pick the interpreter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
site="$here/.d2l-site"
stamp="$site/.installed"
python="${PYTHON:-python}"

# d2l itself, plus what its torch.py imports that a cnnlib venv does not have
# (matplotlib, requests and IPython come with the main venv).
pins=(d2l==1.0.3 pandas==3.1.1 scipy==1.17.1)

if [[ -f "$stamp" && "$(cat "$stamp")" == "${pins[*]}" ]]; then
  echo "d2l env: up to date ($site: ${pins[*]})"
  exit 0
fi

tmp="$(mktemp -d "$here/.d2l-site.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "d2l env: installing ${pins[*]} into $site"
# --no-deps: every other requirement (torch, numpy, ...) comes from the main venv.
# PIP_FIND_LINKS= keeps pip on the package index, as the main venv's install does.
PIP_FIND_LINKS= "$python" -m pip install --quiet --no-deps --target "$tmp" "${pins[@]}"
# Check that the pair works before publishing it: d2l's torch module imports everything.
PYTHONPATH="$tmp" MPLBACKEND=Agg "$python" -c \
  'from d2l import torch as d2l; assert hasattr(d2l, "Trainer") and hasattr(d2l, "LeNet")'
printf '%s' "${pins[*]}" > "$tmp/.installed"
rm -rf "$site"
mv "$tmp" "$site"
trap - EXIT
echo "d2l env: ready ($site)"
