#!/usr/bin/env bash
# Installs the Debian packages in mk/debian-packages.txt that are missing, and only those.
# Idempotent: when everything is present it only prints one line and exits 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"

missing=()
while read -r pkg; do
	case "$pkg" in '' | '#'*) continue ;; esac
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done <"$list"

if ((${#missing[@]} == 0)); then
	echo "deps: all $(grep -cv '^\(#\|$\)' "$list") Debian packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if ((EUID != 0)); then
	if command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "deps: missing packages (${missing[*]}) and not root: run 'make deps' as root" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq --no-install-recommends "${missing[@]}"
