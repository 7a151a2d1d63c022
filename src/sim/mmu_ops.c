// SPDX-License-Identifier: GPL-2.0-only
/* Pick one build of the MMU port by name (start-up only, never per event). */
#include <string.h>

#include <tdpsim/mmu.h>

const struct tdp_mmu_ops *tdp_mmu_ops_find(const char *name)
{
	static const struct tdp_mmu_ops *const all[] = {
		&tdp_mmu_old_ops,
		&tdp_mmu_new_ops,
	};
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
