/* Kernel (and libbpf) compatibility in one place: every accessor whose
 * field moved, changed type or is missing somewhere is defined here, with the
 * change it works around. Never LINUX_VERSION_CODE: CO-RE relocations and
 * bpf_core_field_exists() decide against the running kernel's BTF.
 */
#ifndef AGENTMON_CORE_FIXES_BPF_H
#define AGENTMON_CORE_FIXES_BPF_H

/* sock::sk_protocol and sock::sk_type were bit fields (8 and 16 bits in
 * __sk_flags_offset) until v5.6, commit bf9765145b85 ("sock: Make sk_protocol
 * a 16-bit value"), which made them plain u16. The PROBED bit-field read
 * relocates byte offset, size and shifts against the running kernel, so it
 * reads both layouts (and a plain field is a bit field with no shift). */
static __always_inline __u16 am_sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

static __always_inline __u16 am_sk_type(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
}

/* The sixth syscall argument from the saved user registers. libbpf before
 * 1.3 (Debian 12 ships 1.1) has no PT_REGS_PARM6_CORE_SYSCALL; the register
 * is the architecture's syscall ABI (x86-64: r9; arm64: x5). */
#if defined(__TARGET_ARCH_x86)
#define AM_SYSCALL_PARM6(regs) BPF_CORE_READ((regs), r9)
#elif defined(__TARGET_ARCH_arm64)
#define AM_SYSCALL_PARM6(regs) BPF_CORE_READ((struct user_pt_regs *)(regs), regs[5])
#else
#error "AM_SYSCALL_PARM6: add this architecture's sixth syscall argument register"
#endif

#endif
