#!/usr/bin/env bash
# Installs the Debian packages the tests use, when they are missing and we may install them.
#   dnsmasq-base  a real DNS server for the dns-stage tests
#   openssl       `openssl s_server`: TLS servers nobody here wrote
#   iproute2 nftables   network namespaces and firewall faults
#   libwin-hivex-perl  hivexregedit: real registry hive files for the server-side tests
#   tinyproxy-bin a real HTTP CONNECT proxy for the --proxy tests
set -euo pipefail
need=()
command -v dnsmasq >/dev/null 2>&1 || need+=(dnsmasq-base)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v hivexregedit >/dev/null 2>&1 || need+=(libwin-hivex-perl)
command -v tinyproxy >/dev/null 2>&1 || need+=(tinyproxy-bin)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: missing system packages: ${need[*]} (install them as root; the tests that need them skip)" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
