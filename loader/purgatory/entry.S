/* Entry of crashkit's purgatory. relocate_kernel jumps here in 64-bit mode on identity-mapped
 * page tables, interrupts off, general registers zeroed and the kernel's GDT possibly gone.
 * Everything is RIP-relative: the loader puts this flat image anywhere in the crash region (the
 * build links it at two bases and checks both images are identical).
 *
 * The 64-bit boot protocol (Documentation/arch/x86/boot.rst) wants: a GDT with flat
 * __BOOT_CS = 0x10 (code) and __BOOT_DS = 0x18 (data), CS = 0x10, DS/ES/SS = 0x18, interrupts
 * off, %rsi = boot_params, entry at the kernel's load address + 0x200. */
#include "purgatory_abi.h"

	.section .head, "ax"
	.globl purgatory_start
purgatory_start:
	jmp	entry
	.balign	16
	/* CK_PURGATORY_PARAMS_OFFSET: the loader patches this block in the image. */
	.globl	ck_params
	.hidden	ck_params
ck_params:
	.quad	CK_PURGATORY_MAGIC
	.skip	CK_PARAMS_SIZE - 8

	.text
entry:
	cli
	cld
	leaq	stack_end(%rip), %rsp
	/* lgdt takes an absolute base: fill it in at run time. */
	leaq	gdt(%rip), %rax
	movq	%rax, gdt_desc + 2(%rip)
	lgdt	gdt_desc(%rip)
	movl	$0x18, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	/* Reload CS with a far return. */
	leaq	1f(%rip), %rax
	pushq	$0x10
	pushq	%rax
	lretq
1:
	call	purgatory_main	/* returns only when the digest matched */

	leaq	ck_params(%rip), %rax
	movq	CK_PARAMS_ENTRY_RSI(%rax), %rsi
	movq	CK_PARAMS_ENTRY_RIP(%rax), %rax
	xorl	%ebx, %ebx	/* 0: this is the boot CPU */
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmp	*%rax

	.data
	.balign	16
gdt:
	.quad	0			/* null */
	.quad	0			/* unused */
	.quad	0x00af9a000000ffff	/* 0x10: 64-bit code, flat */
	.quad	0x00cf92000000ffff	/* 0x18: data, flat 4 GiB */
gdt_end:
	.balign	8
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	0

	/* The stack lives in the image (not .bss) so the segment's bytes are the whole program. */
	.balign	16
stack:
	.skip	16384
stack_end:

	.section .note.GNU-stack, "", @progbits
