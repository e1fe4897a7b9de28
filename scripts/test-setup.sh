#!/usr/bin/env bash
# One-time test prerequisites (npm `pretest`): the Debian tools the client tests drive and the
# /etc/hosts names of the test registries. Idempotent; a machine that already has everything
# is left untouched without calling apt.
set -euo pipefail

PACKAGES=(skopeo buildah umoci docker.io podman runc slirp4netns docker-registry postgresql busybox-static openssl curl apache2-utils git openssh-server openssh-client)
HOSTS_LINE='127.0.0.1 contoso.localhost baseartifacts.localhost publicregistry.localhost berthtest1.localhost berthtest2.localhost'

fail() {
  echo "test-setup: $*" >&2
  exit 1
}

trap 'fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

if [[ $(id -u) -ne 0 ]]; then
  fail "must run as root (it installs Debian packages and edits /etc/hosts)"
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ $status != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  log=$(mktemp)
  # Keep package scripts from starting system services (dockerd, postgresql): the tests start
  # their own instances on private sockets and ports.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=true
  fi
  if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } >"$log" 2>&1; then
    if $own_policy; then rm -f "$policy"; fi
    cat "$log" >&2
    rm -f "$log"
    fail "installing ${missing[*]} failed"
  fi
  if $own_policy; then rm -f "$policy"; fi
  rm -f "$log"
fi

if ! grep -qxF "$HOSTS_LINE" /etc/hosts; then
  # keep the appended line on its own even if the file lacks a final newline
  if [[ -s /etc/hosts && -n $(tail -c1 /etc/hosts) ]]; then
    echo >>/etc/hosts
  fi
  echo "$HOSTS_LINE" >>/etc/hosts
fi
