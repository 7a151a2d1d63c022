/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Public, layout-independent view of the MMU port.
 *
 * The port in src/mmu/ is compiled twice: once with the pre-series ACC layout
 * (ACC_EXEC=1, WRITE=2, USER=4; u8 permissions[16]) and once with the
 * MBEC/GMET series' layout (ACC_READ=1, WRITE=2, USER/USER_EXEC=4, EXEC=8;
 * u16 permissions[16]).  Callers outside src/mmu/ pick one build through
 * struct tdp_mmu_ops at start-up; nothing on the per-event path branches on
 * the layout.
 */
#ifndef TDPSIM_MMU_H
#define TDPSIM_MMU_H

/* Values of TDP_ACC_LAYOUT (set per build by CMake). Macros, for #if. */
#define TDP_LAYOUT_OLD 0
#define TDP_LAYOUT_NEW 1

#endif /* TDPSIM_MMU_H */
