/* annealer/ann_util.c — the containers behind the annealer's model: id
 * vectors and a name index.
 * Growth doubles; every function that allocates returns 0 or -ENOMEM
 * and leaves the container unchanged on failure. */
#include "annealer/ann_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ann_array_grow(void **v, uint32_t *cap, uint32_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	if (*cap >= UINT32_MAX / 2)
		return -ENOMEM;
	uint32_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*v, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* ---- id vectors ---- */

int ann_vec_reserve(struct ann_vec *vec, uint32_t cap)
{
	if (cap <= vec->cap)
		return 0;
	uint32_t *p = realloc(vec->v, (size_t)cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	vec->v = p;
	vec->cap = cap;
	return 0;
}

int ann_vec_grow_to(struct ann_vec *vec, uint32_t need)
{
	if (need <= vec->cap)
		return 0;
	uint32_t cap = vec->cap < UINT32_MAX / 2 ? vec->cap * 2 : UINT32_MAX;
	return ann_vec_reserve(vec, cap > need ? cap : need);
}

int ann_vec_push(struct ann_vec *vec, uint32_t x)
{
	if (vec->n == vec->cap) {
		if (vec->cap >= UINT32_MAX / 2)
			return -ENOMEM;
		int rc = ann_vec_reserve(vec, vec->cap ? vec->cap * 2 : 4);
		if (rc)
			return rc;
	}
	vec->v[vec->n++] = x;
	return 0;
}

void ann_vec_free(struct ann_vec *vec)
{
	free(vec->v);
	vec->v = NULL;
	vec->n = vec->cap = 0;
}

/* ---- name index ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

uint32_t ann_index_get(const struct ann_index *ix, const char *name, ann_name_fn *name_of,
		       const void *owner)
{
	if (ix->cap == 0)
		return ANN_NONE;
	size_t mask = ix->cap - 1;
	for (size_t i = (size_t)name_hash(name) & mask;; i = (i + 1) & mask) {
		uint32_t s = ix->slot[i];
		if (s == 0)
			return ANN_NONE;
		if (strcmp(name_of(owner, s - 1), name) == 0)
			return s - 1;
	}
}

static void index_place(uint32_t *slot, size_t cap, const char *name, uint32_t id)
{
	size_t mask = cap - 1;
	size_t i = (size_t)name_hash(name) & mask;
	while (slot[i] != 0)
		i = (i + 1) & mask;
	slot[i] = id + 1;
}

int ann_index_put(struct ann_index *ix, const char *name, uint32_t id, ann_name_fn *name_of,
		  const void *owner)
{
	if ((ix->n + 1) * 2 > ix->cap) {  /* keep the load at most 1/2 */
		size_t ncap = ix->cap ? ix->cap * 2 : 64;
		uint32_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slot[i])
				index_place(ns, ncap, name_of(owner, ix->slot[i] - 1), ix->slot[i] - 1);
		free(ix->slot);
		ix->slot = ns;
		ix->cap = ncap;
	}
	index_place(ix->slot, ix->cap, name, id);
	ix->n++;
	return 0;
}

void ann_index_free(struct ann_index *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = ix->n = 0;
}
