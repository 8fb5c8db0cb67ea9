#!/usr/bin/env bash
# Regenerate vmlinux.h (all kernel types, for CO-RE) from the running kernel's BTF.
set -euo pipefail
out=${1:?usage: gen-vmlinux.sh OUT}
btf=/sys/kernel/btf/vmlinux
[ -r "$btf" ] || { echo "gen-vmlinux: $btf: not readable (kernel built without BTF?)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
