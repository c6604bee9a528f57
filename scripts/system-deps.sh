#!/usr/bin/env bash
# Installs the Debian packages the full test suite uses (ffmpeg, chromium, postgresql, redis-server,
# mkvtoolnix)
# when they are missing and we may (root + apt). Otherwise says which tests will skip; never fails.
set -u
need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v mkvmerge >/dev/null 2>&1 || need+=(mkvtoolnix)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]} from Debian apt (once)"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq >/dev/null && apt-get install -y -qq "${need[@]}" >/dev/null; then
    exit 0
  fi
  echo "system-deps: apt-get install ${need[*]} failed"
else
  echo "system-deps: ${need[*]} missing and apt is not usable here (not root?)"
fi
echo "system-deps: tests that need ${need[*]} will be skipped, each saying why"
exit 0
