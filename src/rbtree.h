/*
 * rbtree.h -- an intrusive red-black tree: the node is embedded in the
 * caller's structure and the caller does the comparisons.
 *
 * The tree never compares keys.  To insert, the caller walks down from
 * root->node comparing its own keys, remembers the last node visited and the
 * address of the empty child pointer it stopped at, then calls dx_rb_link()
 * and dx_rb_insert_color().  Lookups are plain descents written by the
 * caller.  This keeps the tree free of callbacks and lets each user choose
 * its own key type and the order of equal keys.
 *
 * The color lives in the low bit of parent_color; nodes are at least
 * pointer-aligned, so that bit of the parent's address is always zero.
 * Nothing here locks: the owner of the tree serializes all access to it.
 */
#ifndef DX_RBTREE_H
#define DX_RBTREE_H 1

#include <stddef.h>
#include <stdint.h>

struct dx_rb_node {
	uintptr_t parent_color;
	struct dx_rb_node *left, *right;
};

struct dx_rb_root {
	struct dx_rb_node *node;
};

#define DX_RB_ROOT_INIT { NULL }

/* dx_rb_entry -- the structure that embeds the node 'ptr' as 'member'. */
#define dx_rb_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* dx_rb_parent -- the parent of 'n', or NULL for the root. */
static inline struct dx_rb_node *
dx_rb_parent(const struct dx_rb_node *n)
{
	return (struct dx_rb_node *)(n->parent_color & ~(uintptr_t)1);
}

/*
 * dx_rb_link -- hang 'node' at '*link', an empty child pointer of 'parent'
 * (or &root->node with a NULL parent) found while descending.  The node is
 * red and the tree may be unbalanced until dx_rb_insert_color().
 */
void dx_rb_link(struct dx_rb_node *node, struct dx_rb_node *parent,
	struct dx_rb_node **link);

/* dx_rb_insert_color -- rebalance 'root' after dx_rb_link() added 'node'. */
void dx_rb_insert_color(struct dx_rb_node *node, struct dx_rb_root *root);

/* dx_rb_erase -- unlink 'node' from 'root' and rebalance. */
void dx_rb_erase(struct dx_rb_node *node, struct dx_rb_root *root);

/* dx_rb_first -- the leftmost node, or NULL if the tree is empty. */
struct dx_rb_node *dx_rb_first(const struct dx_rb_root *root);

/* dx_rb_last -- the rightmost node, or NULL if the tree is empty. */
struct dx_rb_node *dx_rb_last(const struct dx_rb_root *root);

/* dx_rb_next -- the in-order successor of 'n', or NULL if 'n' is last. */
struct dx_rb_node *dx_rb_next(const struct dx_rb_node *n);

/* dx_rb_prev -- the in-order predecessor of 'n', or NULL if 'n' is first. */
struct dx_rb_node *dx_rb_prev(const struct dx_rb_node *n);

/*
 * dx_rb_replace -- put 'repl' where 'victim' is, without rebalancing.  The
 * caller guarantees that 'repl' sorts exactly where 'victim' did; 'victim'
 * is left out of the tree with stale pointers.
 */
void dx_rb_replace(struct dx_rb_node *victim, struct dx_rb_node *repl,
	struct dx_rb_root *root);

/*
 * dx_rb_verify -- check the red-black invariants and the parent pointers of
 * the whole tree; return its black height (0 when empty) or -1 if any is
 * broken.  Key order is the caller's to check.  Linear time and recursive:
 * for tests and debugging only.
 */
int dx_rb_verify(const struct dx_rb_root *root);

#endif /* DX_RBTREE_H */
