// SPDX-License-Identifier: GPL-2.0
/* agentmon's kernel side: one object, one skeleton. Each concern is in its
 * own header; this file only puts them together. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "agentmon.h"

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((void *)(ptr) - __builtin_offsetof(type, member)))
#endif

#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "path.bpf.h"
#include "execpol.bpf.h"
#include "match.bpf.h"
#include "process.bpf.h"
#include "sysargs.bpf.h"
#include "file.bpf.h"
#include "netpol.bpf.h"
#include "net.bpf.h"

char LICENSE[] SEC("license") = "GPL";
