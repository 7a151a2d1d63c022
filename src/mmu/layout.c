// SPDX-License-Identifier: GPL-2.0-only
/* Identity of this build of the MMU port (one per ACC layout). */
#include "mmu-int.h"

const char *kvm_mmu_layout_name(void);

const char *kvm_mmu_layout_name(void)
{
#if TDP_ACC_LAYOUT == TDP_LAYOUT_NEW
	return "new";
#else
	return "old";
#endif
}
