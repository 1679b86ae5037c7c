#!/usr/bin/env bash
# Install the Debian packages the test suite needs, and only those that are missing.
#
#   tests/setup/system-packages.sh            # every package below
#   tests/setup/system-packages.sh prometheus # just these
#
# Why each one:
#   prometheus               promtool (check config/rules, test rules) and the Prometheus
#                            server the scrape integration test starts on loopback
#   prometheus-alertmanager  amtool check-config for deploy/alertmanager/
#   docker-compose           `docker-compose config -q` validates deploy/docker-compose.yml
#                            without a Docker engine (compose v1.29; no engine runs in CI)
#   chromium chromium-driver the console's browser test (Selenium drives /usr/bin/chromium)
#   mosquitto                the MQTT bridge's integration test starts a real MQTT broker
#
# Idempotent: does nothing (and touches no network) when everything is installed.
# Runs `apt-get update` at most once, non-interactively, with no stdin (CI). Fails
# loudly, naming the package, when an install is needed but cannot be done.
set -euo pipefail

DEFAULT_PACKAGES=(prometheus prometheus-alertmanager docker-compose chromium chromium-driver mosquitto)
if [[ $# -gt 0 ]]; then
    wanted=("$@")
else
    wanted=("${DEFAULT_PACKAGES[@]}")
fi

installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for package in "${wanted[@]}"; do
    installed "$package" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

say() { echo "tests/setup/system-packages.sh: $*" >&2; }
if ! command -v apt-get >/dev/null; then
    say "cannot install ${missing[*]}: apt-get not found (not a Debian-based machine); install them by hand"
    exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        say "cannot install ${missing[*]}: needs root (or passwordless sudo); run this script as root"
        exit 1
    fi
else
    as_root=()
fi

say "installing ${missing[*]}"
trap 'say "FAILED to install ${missing[*]} (exit $?): the tests that need them cannot run"' ERR
export DEBIAN_FRONTEND=noninteractive
# Other processes (another engineer's set-up, unattended upgrades) may hold the dpkg lock: wait for it.
apt_options=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 -q -y)
"${as_root[@]}" apt-get "${apt_options[@]}" update </dev/null
"${as_root[@]}" apt-get "${apt_options[@]}" install --no-install-recommends "${missing[@]}" </dev/null

still_missing=()
for package in "${missing[@]}"; do
    installed "$package" || still_missing+=("$package")
done
if [[ ${#still_missing[@]} -gt 0 ]]; then
    say "apt-get finished but these are still not installed: ${still_missing[*]}"
    exit 1
fi
say "installed ${missing[*]}"
