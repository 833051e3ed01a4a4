#!/usr/bin/env bash
# Makes sure a Chromium the browser tests can drive is installed and prints
# its path as the last line of stdout. Progress goes to stderr. Idempotent;
# fast when Chromium is there already.
#
# Order: $CHROMIUM_PATH if executable; chromium, chromium-browser,
# google-chrome on PATH; apt-get install chromium (as root) otherwise.
# Fails (exit 1) when none can be found or installed: the browser tests then
# fail too, they never skip.
set -euo pipefail

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

find_browser() {
	if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
		printf '%s\n' "$CHROMIUM_PATH"
		return 0
	fi
	local name
	for name in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$name" >/dev/null 2>&1; then
			command -v "$name"
			return 0
		fi
	done
	return 1
}

if path=$(find_browser); then
	printf '%s\n' "$path"
	exit 0
fi

if ! is_root; then
	log "Chromium is not installed. Install it with:"
	log "    sudo apt-get install -y chromium"
	log "or set CHROMIUM_PATH to a Chromium or Chrome binary."
	exit 1
fi
command -v apt-get >/dev/null 2>&1 || die "Chromium is not installed and there is no apt-get; install Chromium or set CHROMIUM_PATH"
log "installing Chromium with apt-get"
apt-get -o DPkg::Lock::Timeout=600 update >&2
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium fonts-dejavu-core >&2
path=$(find_browser) || die "apt-get install chromium did not provide a chromium binary"
printf '%s\n' "$path"
