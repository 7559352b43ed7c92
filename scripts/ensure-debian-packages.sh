#!/usr/bin/env bash
# ensure-debian-packages.sh PKG...
#
# Makes sure the binaries of the named Debian packages are on PATH. Quiet and a
# no-op when they all are. Otherwise, as root, installs the missing packages with
# `apt-get install -y --no-install-recommends` (running `apt-get update` first when
# the package lists do not know them); not as root, exits 1 naming the packages to
# install. Tests call it so that a missing tool fails loudly instead of skipping.
set -euo pipefail

# Package -> binaries that prove it is installed. Debian ships Alertmanager's
# server as prometheus-alertmanager (not alertmanager). A package not listed here
# is checked through dpkg's status instead.
binaries_of() {
  case "$1" in
    prometheus) echo "prometheus promtool" ;;
    prometheus-alertmanager) echo "prometheus-alertmanager amtool" ;;
    prometheus-postgres-exporter) echo "prometheus-postgres-exporter" ;;
    chromium) echo "chromium" ;;
    openssl) echo "openssl" ;;
    *) echo "" ;;
  esac
}

is_present() {
  local pkg=$1 bins bin
  bins=$(binaries_of "$pkg")
  if [[ -z $bins ]]; then
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == "install ok installed" ]]
    return
  fi
  for bin in $bins; do
    # /usr/sbin is not on every user's PATH; look there too.
    command -v "$bin" >/dev/null 2>&1 || [[ -x /usr/sbin/$bin ]] || [[ -x /usr/bin/$bin ]] || return 1
  done
}

if [[ $# -eq 0 ]]; then
  echo "usage: $0 DEBIAN-PACKAGE..." >&2
  exit 2
fi

missing=()
for pkg in "$@"; do
  is_present "$pkg" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian package(s): ${missing[*]}" >&2
  echo "install with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian package(s): ${missing[*]}; apt-get is not available on this machine to install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# An image fresh from a registry has empty package lists: update only when apt does
# not know a candidate version for one of the packages.
needs_update=0
for pkg in "${missing[@]}"; do
  candidate=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [[ -z $candidate || $candidate == "(none)" ]]; then needs_update=1; fi
done
if [[ $needs_update -eq 1 ]]; then
  echo "ensure-debian-packages: apt-get update" >&2
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || { echo "apt-get update failed; cannot install: ${missing[*]}" >&2; exit 1; }
fi

install_missing() {
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
}
echo "ensure-debian-packages: installing ${missing[*]}" >&2
if ! install_missing; then
  # Lists that know the package but are old point at files the mirror no longer has:
  # refresh them once and retry.
  if [[ $needs_update -eq 0 ]] && apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 && install_missing; then
    :
  else
    echo "apt-get install failed; install by hand: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

still=()
for pkg in "${missing[@]}"; do
  is_present "$pkg" || still+=("$pkg")
done
if [[ ${#still[@]} -gt 0 ]]; then
  echo "installed but binaries still missing for Debian package(s): ${still[*]}" >&2
  exit 1
fi
