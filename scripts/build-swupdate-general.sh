#!/usr/bin/env bash
# Builds SWUpdate with suricatta's *general HTTP server* module (suricatta/server_general.c) from Debian's own
# source package: Debian's binary has only the hawkBit module (SWUpdate 2022.12 builds exactly one suricatta
# server; docs/protocols/ddi.md). The build is cached: later runs only print the binary's path.
#
#   scripts/build-swupdate-general.sh           → prints the path of the built swupdate binary
#   UPDRAFT_SWUPDATE_GENERAL_CACHE=/dir ...     → cache folder (default /var/cache/updraft-swupdate-general)
#
# Needs root: it adds deb-src entries for the Debian mirrors already configured and runs apt-get build-dep.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cache="${UPDRAFT_SWUPDATE_GENERAL_CACHE:-/var/cache/updraft-swupdate-general}"
bin="$cache/swupdate-general"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
exec 3>"$cache/build.log"
trap 'echo "build-swupdate-general: failed, see $cache/build.log" >&2' ERR

# deb-src entries for the same mirrors and suites as the configured deb822 binary entries (Debian 12 layout).
if ! grep -rqs -e '^Types:.*deb-src' -e '^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
    >/etc/apt/sources.list.d/updraft-deb-src.sources
  apt-get update -qq >&3 2>&1
fi
apt-get build-dep -y -qq -o DPkg::Lock::Timeout=300 swupdate >&3 2>&1

work="$cache/src"
rm -rf "$work"
mkdir -p "$work"
# The candidate's source first; a mirror may lack it (here the security pool had the binary of deb12u3 but answered
# 404 for its source), so then every other version of the source the configured suites list, newest first. The
# general module is the same in each: what the tests check is its protocol, not the security fix.
fetched=
for version in '' $(apt-cache showsrc swupdate | awk '/^Version:/ {print $2}' | sort -rV | uniq); do
  rm -rf "$work" && mkdir -p "$work"
  if (cd "$work" && apt-get source -qq "swupdate${version:+=$version}" >&3 2>&1); then
    fetched=${version:-candidate}
    break
  fi
done
[ -n "$fetched" ] || { echo "no swupdate source package could be downloaded" >&2; exit 1; }
echo "swupdate source: $fetched" >&3
tree=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'swupdate-*' | head -1)
[ -n "$tree" ] || { echo "no swupdate source tree in $work" >&2; exit 1; }
cd "$tree"

# Debian's own configuration step (debian/rules: defconfig plus hardware compatibility, signed images, ...), then
# the general HTTP server as the one suricatta server instead of hawkBit.
make -f debian/rules override_dh_auto_configure >&3 2>&1
sed -i -e '/CONFIG_SURICATTA_HAWKBIT[ =]/d' -e '/CONFIG_SURICATTA_GENERAL[ =]/d' .config
{
  echo '# CONFIG_SURICATTA_HAWKBIT is not set'
  echo 'CONFIG_SURICATTA_GENERAL=y'
} >>.config
yes '' | make oldconfig >&3 2>&1 || true
for option in CONFIG_SURICATTA_GENERAL CONFIG_HW_COMPATIBILITY CONFIG_SIGNED_IMAGES; do
  grep -q "^$option=y" .config || { echo "$option is not set after make oldconfig" >&2; exit 1; }
done
make -j"$(nproc)" >&3 2>&1
cp swupdate "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
