#!/usr/bin/env bash
# Install every build and test dependency of agentmon from Debian packages.
# Idempotent and non-interactive: packages already present are left alone.
set -euo pipefail

PKGS=(
  make gcc clang llvm libc6-dev pkg-config     # toolchain (clang/llvm: BPF objects)
  bpftool                                      # skeleton generation, vmlinux.h
  libbpf-dev libelf-dev zlib1g-dev             # libbpf and what it links against
  libjansson-dev libssl-dev                    # JSON and sha256 (libcrypto)
  libcmocka-dev                                # unit tests
  libclang-rt-14-dev                           # libFuzzer + sanitizer runtimes for clang
  python3 python3-pytest jq                    # kernel/integration tests
  iproute2 procps util-linux valgrind          # test helpers (ss, ps, setpriv), leak checks
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
