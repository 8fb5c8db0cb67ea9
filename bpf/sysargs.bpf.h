/* Syscall arguments read at sys_exit, from the registers the kernel saved on
 * entry (bpf_task_pt_regs): one hook per syscall instead of an enter/exit
 * pair, so a process that is not an agent pays one map lookup, not two.
 * The registers are the syscall ABI's; only the return register changed. */
#ifndef AGENTMON_SYSARGS_BPF_H
#define AGENTMON_SYSARGS_BPF_H

#if defined(__TARGET_ARCH_x86)
#define AM_SYSARG0(r) BPF_CORE_READ(r, di)
#define AM_SYSARG1(r) BPF_CORE_READ(r, si)
#define AM_SYSARG2(r) BPF_CORE_READ(r, dx)
#define AM_SYSARG3(r) BPF_CORE_READ(r, r10)
#define AM_SYSARG4(r) BPF_CORE_READ(r, r8)
#elif defined(__TARGET_ARCH_arm64)
/* x0 is overwritten by the return value; the kernel keeps it in orig_x0 */
#define AM_SYSARG0(r) BPF_CORE_READ(r, orig_x0)
#define AM_SYSARG1(r) BPF_CORE_READ(r, regs[1])
#define AM_SYSARG2(r) BPF_CORE_READ(r, regs[2])
#define AM_SYSARG3(r) BPF_CORE_READ(r, regs[3])
#define AM_SYSARG4(r) BPF_CORE_READ(r, regs[4])
#else
#error "agentmon: syscall argument registers not defined for this architecture"
#endif

static __always_inline struct pt_regs *am_sys_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

#endif
