/*
 * test_rbtree.c -- unit tests of the intrusive red-black tree: order and
 * invariants under random inserts and erases checked against a bitmap model,
 * the iterators at the edges, in-place replacement and equal keys.
 *
 * Every random sequence comes from a fixed seed so that a failure replays
 * exactly.  Walks stop at the first wrong node and the assertion after the
 * loop reports where it was.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "rbtree.h"

struct item {
	uint64_t key;
	unsigned seq;		/* insertion order among equal keys */
	struct dx_rb_node node;
};

static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

/* rng_next -- splitmix64: cheap, full period, good enough for shuffling. */
static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

/* shuffled_indices -- 0 .. n-1 in a random order (Fisher-Yates). */
static size_t *
shuffled_indices(size_t n)
{
	size_t *a = malloc(n * sizeof(*a));

	cr_assert_not_null(a);
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng_below(i + 1);
		size_t t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
	return a;
}

static struct item *
item_of(const struct dx_rb_node *n)
{
	return n ? dx_rb_entry(n, struct item, node) : NULL;
}

/*
 * insert -- the caller's half of an insertion.  Equal keys go to the right,
 * so among equal keys the in-order walk follows insertion order.
 */
static void
insert(struct dx_rb_root *root, struct item *it)
{
	struct dx_rb_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (it->key < item_of(parent)->key)
			link = &parent->left;
		else
			link = &parent->right;
	}
	dx_rb_link(&it->node, parent, link);
	dx_rb_insert_color(&it->node, root);
}

static struct item *
lookup(const struct dx_rb_root *root, uint64_t key)
{
	struct dx_rb_node *n = root->node;

	while (n) {
		struct item *it = item_of(n);

		if (key < it->key)
			n = n->left;
		else if (key > it->key)
			n = n->right;
		else
			return it;
	}
	return NULL;
}

/* key_of -- the key of 'n' for failure messages, which may see NULL. */
static unsigned long long
key_of(const struct dx_rb_node *n)
{
	return n ? item_of(n)->key : ~0ULL;
}

static int
max_depth(const struct dx_rb_node *n)
{
	int l, r;

	if (n == NULL)
		return 0;
	l = max_depth(n->left);
	r = max_depth(n->right);
	return 1 + (l > r ? l : r);
}

/* items_with_keys -- n items whose keys equal their index. */
static struct item *
items_with_keys(size_t n)
{
	struct item *items = calloc(n, sizeof(*items));

	cr_assert_not_null(items);
	for (size_t i = 0; i < n; i++)
		items[i].key = i;
	return items;
}

/* insert_shuffled -- insert every item of 'items' in a random order. */
static void
insert_shuffled(struct dx_rb_root *root, struct item *items, size_t n)
{
	size_t *order = shuffled_indices(n);

	for (size_t i = 0; i < n; i++)
		insert(root, &items[order[i]]);
	free(order);
}

#define BIG_N 100000

Test(rbtree, inorder_walk_is_sorted_after_random_inserts)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *items = items_with_keys(BIG_N);
	struct dx_rb_node *n;
	size_t i = 0;
	int bh;

	rng_seed(1);
	insert_shuffled(&root, items, BIG_N);

	/* Keys are 0 .. N-1, so the i-th node visited must be items[i]. */
	for (n = dx_rb_first(&root); n && item_of(n) == &items[i];
	     n = dx_rb_next(n))
		i++;
	cr_assert_null(n, "node with key %llu visited at position %zu",
		key_of(n), i);
	cr_assert_eq(i, BIG_N, "walk visited %zu of %d nodes", i, BIG_N);

	bh = dx_rb_verify(&root);
	cr_assert_geq(bh, 0, "red-black invariants broken");
	/* A tree of black height h holds at least 2^h - 1 nodes. */
	cr_assert_leq((1ULL << bh) - 1, (unsigned long long)BIG_N);
	free(items);
}

Test(rbtree, backward_walk_is_reverse_sorted_after_random_inserts)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *items = items_with_keys(BIG_N);
	struct dx_rb_node *n;
	size_t i = BIG_N;

	rng_seed(2);
	insert_shuffled(&root, items, BIG_N);

	for (n = dx_rb_last(&root); n && item_of(n) == &items[i - 1];
	     n = dx_rb_prev(n))
		i--;
	cr_assert_null(n, "node with key %llu visited where %zu was expected",
		key_of(n), i - 1);
	cr_assert_eq(i, 0, "%zu nodes never visited", i);
	cr_assert_geq(dx_rb_verify(&root), 0);
	free(items);
}

Test(rbtree, depth_stays_logarithmic_after_sorted_inserts)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *items = items_with_keys(BIG_N);
	int log2n = 0;

	/* Ascending keys would make an unbalanced tree a list. */
	for (size_t i = 0; i < BIG_N; i++)
		insert(&root, &items[i]);
	while ((1UL << log2n) < BIG_N + 1UL)
		log2n++;
	cr_assert_geq(dx_rb_verify(&root), 0);
	cr_assert_leq(max_depth(root.node), 2 * log2n);
	free(items);
}

#define MODEL_KEYS (1 << 14)
#define MODEL_OPS 200000
#define MODEL_PHASE 10000
#define MODEL_CHECK_EVERY 1000

struct model {
	struct dx_rb_root root;
	struct item items[MODEL_KEYS];
	uint64_t present[MODEL_KEYS / 64];
	size_t count;
};

static bool
model_has(const struct model *m, size_t k)
{
	return m->present[k / 64] >> (k % 64) & 1;
}

static void
model_flip(struct model *m, size_t k)
{
	m->present[k / 64] ^= 1ULL << (k % 64);
}

/* model_pick -- a random key that is (or is not) in the model. */
static size_t
model_pick(const struct model *m, bool present)
{
	size_t k = rng_below(MODEL_KEYS);

	while (model_has(m, k) != present)
		k = (k + 1) % MODEL_KEYS;
	return k;
}

static void
model_insert(struct model *m, size_t k)
{
	m->items[k].key = k;
	insert(&m->root, &m->items[k]);
	model_flip(m, k);
	m->count++;
}

/* model_erase -- erase key 'k' found by lookup; false if lookup failed. */
static bool
model_erase(struct model *m, size_t k)
{
	struct item *it = lookup(&m->root, k);

	if (it != &m->items[k])
		return false;
	dx_rb_erase(&it->node, &m->root);
	model_flip(m, k);
	m->count--;
	return true;
}

/* model_check -- the tree is valid and holds exactly the model's keys. */
static void
model_check(const struct model *m, size_t op)
{
	struct dx_rb_node *n;
	size_t seen = 0;
	uint64_t prev = 0;

	cr_assert_geq(dx_rb_verify(&m->root), 0,
		"invariants broken after op %zu", op);
	for (n = dx_rb_first(&m->root); n; n = dx_rb_next(n)) {
		uint64_t key = item_of(n)->key;

		if ((seen > 0 && key <= prev) || !model_has(m, key))
			break;
		prev = key;
		seen++;
	}
	cr_assert_null(n, "after op %zu: key %llu out of order or not in model",
		op, key_of(n));
	cr_assert_eq(seen, m->count, "after op %zu: tree has %zu keys, model %zu",
		op, seen, m->count);
}

Test(rbtree, interleaved_inserts_and_erases_match_a_bitmap_model)
{
	struct model *m = calloc(1, sizeof(*m));
	size_t op;

	cr_assert_not_null(m);
	rng_seed(3);
	/*
	 * Alternate phases favour inserts then erases, so the tree keeps
	 * growing large and shrinking small instead of hovering at half full.
	 */
	for (op = 1; op <= MODEL_OPS; op++) {
		bool growing = (op / MODEL_PHASE) % 2 == 0;
		bool ins = rng_below(4) < (growing ? 3u : 1u);

		if (m->count == 0)
			ins = true;
		else if (m->count == MODEL_KEYS)
			ins = false;
		if (ins) {
			model_insert(m, model_pick(m, false));
		} else {
			size_t k = model_pick(m, true);

			cr_assert(model_erase(m, k),
				"op %zu: lookup of key %zu failed", op, k);
		}
		if (op % MODEL_CHECK_EVERY == 0)
			model_check(m, op);
	}
	for (; m->count > 0; op++) {
		size_t k = model_pick(m, true);

		cr_assert(model_erase(m, k), "op %zu: lookup of key %zu failed",
			op, k);
		if (op % MODEL_CHECK_EVERY == 0)
			model_check(m, op);
	}
	model_check(m, op);
	cr_assert_null(m->root.node);
	free(m);
}

Test(rbtree, erasing_each_node_during_a_walk_empties_the_tree)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *items = items_with_keys(BIG_N);
	struct dx_rb_node *n, *next;
	size_t i = 0;
	bool valid = true;

	rng_seed(4);
	insert_shuffled(&root, items, BIG_N);
	/* The successor is taken before the erase rewires the tree. */
	for (n = dx_rb_first(&root); n && item_of(n) == &items[i]; n = next) {
		next = dx_rb_next(n);
		dx_rb_erase(n, &root);
		if (++i % MODEL_CHECK_EVERY == 0 && dx_rb_verify(&root) < 0) {
			valid = false;
			break;
		}
	}
	cr_assert(valid, "invariants broken after %zu erases", i);
	cr_assert_null(n, "node with key %llu reached after %zu erases",
		key_of(n), i);
	cr_assert_eq(i, BIG_N);
	cr_assert_null(root.node);
	free(items);
}

Test(rbtree, empty_tree_has_no_first_or_last_node)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;

	cr_assert_null(dx_rb_first(&root));
	cr_assert_null(dx_rb_last(&root));
	cr_assert_eq(dx_rb_verify(&root), 0);
}

Test(rbtree, single_node_is_first_and_last_and_has_no_neighbours)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item it = { .key = 42 };

	insert(&root, &it);
	cr_assert_eq(dx_rb_first(&root), &it.node);
	cr_assert_eq(dx_rb_last(&root), &it.node);
	cr_assert_null(dx_rb_next(&it.node));
	cr_assert_null(dx_rb_prev(&it.node));
	cr_assert_null(dx_rb_parent(&it.node));
	cr_assert_eq(dx_rb_verify(&root), 1, "a lone root must be black");

	dx_rb_erase(&it.node, &root);
	cr_assert_null(root.node);
	cr_assert_null(dx_rb_first(&root));
	cr_assert_null(dx_rb_last(&root));
	cr_assert_eq(dx_rb_verify(&root), 0);
}

#define REPLACE_N 1000

Test(rbtree, replace_keeps_order_and_invariants)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *orig = items_with_keys(REPLACE_N);
	struct item *repl = items_with_keys(REPLACE_N);
	size_t *order;
	struct dx_rb_node *n;
	size_t i, bad = REPLACE_N;
	int bh;

	rng_seed(5);
	insert_shuffled(&root, orig, REPLACE_N);
	bh = dx_rb_verify(&root);
	cr_assert_geq(bh, 0);

	/*
	 * Replace in a random order, so that replaced and original nodes are
	 * mixed as parents and children, and the root is replaced on the way.
	 */
	order = shuffled_indices(REPLACE_N);
	for (i = 0; i < REPLACE_N && bad == REPLACE_N; i++) {
		dx_rb_replace(&orig[order[i]].node, &repl[order[i]].node, &root);
		if (dx_rb_verify(&root) != bh)
			bad = i;
	}
	free(order);
	cr_assert_eq(bad, REPLACE_N, "shape changed at replacement %zu", bad);

	i = 0;
	for (n = dx_rb_first(&root); n && item_of(n) == &repl[i];
	     n = dx_rb_next(n))
		i++;
	cr_assert_null(n, "wrong node at position %zu", i);
	cr_assert_eq(i, REPLACE_N);

	/* The replacements must be fully wired in: erase them all. */
	for (i = 0; i < REPLACE_N; i++)
		dx_rb_erase(&repl[i].node, &root);
	cr_assert_null(root.node);
	free(orig);
	free(repl);
}

#define DUP_N 10000
#define DUP_KEYS 32

/* dup_walk_ok -- keys ascend, and equal keys come in insertion order. */
static bool
dup_walk_ok(const struct dx_rb_root *root, size_t *count)
{
	const struct item *prev = NULL;
	struct dx_rb_node *n;

	*count = 0;
	for (n = dx_rb_first(root); n; n = dx_rb_next(n)) {
		const struct item *it = item_of(n);

		if (prev && (it->key < prev->key ||
			     (it->key == prev->key && it->seq <= prev->seq)))
			return false;
		prev = it;
		(*count)++;
	}
	return true;
}

Test(rbtree, equal_keys_placed_to_the_right_keep_insertion_order)
{
	struct dx_rb_root root = DX_RB_ROOT_INIT;
	struct item *items = calloc(DUP_N, sizeof(*items));
	size_t i, count;

	cr_assert_not_null(items);
	rng_seed(6);
	for (i = 0; i < DUP_N; i++) {
		items[i].key = rng_below(DUP_KEYS);
		items[i].seq = i;
		insert(&root, &items[i]);
	}
	cr_assert_geq(dx_rb_verify(&root), 0);
	cr_assert(dup_walk_ok(&root, &count), "equal keys out of order");
	cr_assert_eq(count, DUP_N);

	/* Erasing moves successors around; the relative order must survive. */
	for (i = 0; i < DUP_N; i += 3)
		dx_rb_erase(&items[i].node, &root);
	cr_assert_geq(dx_rb_verify(&root), 0);
	cr_assert(dup_walk_ok(&root, &count),
		"equal keys out of order after erases");
	cr_assert_eq(count, DUP_N - (DUP_N + 2) / 3);
	free(items);
}
