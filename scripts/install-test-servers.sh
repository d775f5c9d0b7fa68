#!/usr/bin/env bash
# The real servers the tests run (`npm test` runs this first): HAProxy (draining behind a load
# balancer), PostgreSQL, Redis, MariaDB and RabbitMQ (the ready-made checks), Prometheus and its
# Alertmanager (scraping the metrics, alerting on them), Chromium (Debian's, for the browser tests:
# nothing downloads a browser), OpenSSL (certificates), util-linux (setpriv: every server the tests
# start dies with its test process). Installs the missing ones from Debian's packages; the tests
# start their own instances. Where they cannot be installed, the tests that need them fail, naming them.
set -euo pipefail
packages=(haproxy postgresql redis-server mariadb-server rabbitmq-server openssl prometheus prometheus-alertmanager chromium util-linux)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-servers: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "install-test-servers: installing ${missing[*]}"
timeout 600 apt-get update -qq
# Debian starts a packaged server once it is installed; the tests start their own instead.
[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; }
DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${missing[@]}" >/dev/null
