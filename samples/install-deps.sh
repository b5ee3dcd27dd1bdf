#!/bin/sh
# Installs what certsweep needs to build and test on Debian 12 (bookworm) or
# later: the libraries it links, the test framework, and the real servers the
# tests talk to on loopback (and promtool, from prometheus, that checks the
# Prometheus report), tmux (a real terminal for the text table and the
# progress) and idn2 (A-labels computed apart from certsweep), clang for the
# fuzzers and valgrind; python3-jsonschema validates every JSON report the
# tests make against report/schema/, LibreOffice (headless Calc) opens the
# CSV reports in test_spreadsheet, and Chromium loads the HTML report
# headless in test_report_html; dpkg-dev and file build the .deb (cpack),
# zsh and fish check the completions.  Run as root,
# or as a user who may use sudo.
set -eu
packages="build-essential cmake pkg-config libuv1-dev libssl-dev libcsv-dev \
libc-ares-dev libjansson-dev libidn2-dev libcurl4-openssl-dev libexpat1-dev libsqlite3-dev libcriterion-dev \
nginx dnsmasq-base openssl jq \
valgrind clang libclang-rt-14-dev clang-format-14 groff-base \
postfix dovecot-imapd dovecot-pop3d dovecot-managesieved vsftpd slapd ldap-utils \
postgresql mariadb-server prosody prometheus \
tmux idn2 python3 python3-cryptography bc \
python3-jsonschema libreoffice-calc-nogui chromium \
dpkg-dev file zsh fish"
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: run as root (or install sudo)" >&2
        exit 1
    }
    as_root=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -q
# shellcheck disable=SC2086
$as_root apt-get install -y -q --no-install-recommends $packages
