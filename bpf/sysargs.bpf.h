/* Syscall arguments read at sys_exit, from the registers the kernel saved on
 * entry (bpf_task_pt_regs): one hook per syscall instead of an enter/exit
 * pair, so a process that is not an agent pays one map lookup, not two.
 * The registers are the syscall ABI's (libbpf's PT_REGS_PARMn_CORE_SYSCALL;
 * the sixth is in core_fixes.bpf.h); only the return register changed. */
#ifndef AGENTMON_SYSARGS_BPF_H
#define AGENTMON_SYSARGS_BPF_H

#define AM_SYSARG0(r) PT_REGS_PARM1_CORE_SYSCALL(r)
#define AM_SYSARG1(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define AM_SYSARG2(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define AM_SYSARG3(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#define AM_SYSARG4(r) PT_REGS_PARM5_CORE_SYSCALL(r)
#define AM_SYSARG5(r) AM_SYSCALL_PARM6(r)       /* core_fixes.bpf.h */

static __always_inline struct pt_regs *am_sys_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

#endif
