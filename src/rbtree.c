/*
 * rbtree.c -- an intrusive red-black tree: rebalancing after the caller links
 * a node, erase, in-order iteration, in-place replacement and an invariant
 * checker.
 *
 * The invariants kept are the usual ones: the root is black, a red node has
 * no red child, and every path from a node down to a NULL child crosses the
 * same number of black nodes.  NULL children count as black.  Together they
 * bound the depth by twice the black height, hence by 2 log2(n + 1).
 */
#include "rbtree.h"

enum {
	RB_RED = 0,
	RB_BLACK = 1,
};

static inline int
rb_color(const struct dx_rb_node *n)
{
	return n->parent_color & 1;
}

static inline int
rb_is_black(const struct dx_rb_node *n)
{
	return n == NULL || rb_color(n) == RB_BLACK;
}

static inline int
rb_is_red(const struct dx_rb_node *n)
{
	return !rb_is_black(n);
}

static inline void
rb_set_color(struct dx_rb_node *n, int color)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | (uintptr_t)color;
}

static inline void
rb_set_parent(struct dx_rb_node *n, struct dx_rb_node *parent)
{
	n->parent_color = (uintptr_t)parent | (n->parent_color & 1);
}

/* change_child -- make the pointer that led to 'old' lead to 'new' instead. */
static inline void
change_child(struct dx_rb_node *old, struct dx_rb_node *new,
	struct dx_rb_node *parent, struct dx_rb_root *root)
{
	if (parent == NULL)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/*
 * rotate_left -- lift the right child of 'x' into its place, 'x' becoming its
 * left child.  Colors are untouched: the callers recolor around rotations.
 */
static void
rotate_left(struct dx_rb_node *x, struct dx_rb_root *root)
{
	struct dx_rb_node *y = x->right;
	struct dx_rb_node *parent = dx_rb_parent(x);

	x->right = y->left;
	if (y->left)
		rb_set_parent(y->left, x);
	y->left = x;
	rb_set_parent(y, parent);
	change_child(x, y, parent, root);
	rb_set_parent(x, y);
}

/* rotate_right -- the mirror of rotate_left(). */
static void
rotate_right(struct dx_rb_node *x, struct dx_rb_root *root)
{
	struct dx_rb_node *y = x->left;
	struct dx_rb_node *parent = dx_rb_parent(x);

	x->left = y->right;
	if (y->right)
		rb_set_parent(y->right, x);
	y->right = x;
	rb_set_parent(y, parent);
	change_child(x, y, parent, root);
	rb_set_parent(x, y);
}

void
dx_rb_link(struct dx_rb_node *node, struct dx_rb_node *parent,
	struct dx_rb_node **link)
{
	/* Red, so that linking leaves every black height unchanged. */
	node->parent_color = (uintptr_t)parent | RB_RED;
	node->left = node->right = NULL;
	*link = node;
}

/*
 * dx_rb_insert_color -- repair a red node that may sit under a red parent.
 *
 * Only the "no red child of a red node" rule can be broken, at 'node'.  A red
 * uncle lets the grandparent's blackness be pushed down to both its children,
 * which moves the problem two levels up; otherwise at most two rotations end
 * it for good.
 */
void
dx_rb_insert_color(struct dx_rb_node *node, struct dx_rb_root *root)
{
	for (;;) {
		struct dx_rb_node *parent = dx_rb_parent(node);
		struct dx_rb_node *gparent, *uncle;

		if (parent == NULL) {
			rb_set_color(node, RB_BLACK);
			return;
		}
		if (rb_is_black(parent))
			return;

		/* A red parent is never the root, so the grandparent exists. */
		gparent = dx_rb_parent(parent);
		if (parent == gparent->left) {
			uncle = gparent->right;
			if (rb_is_red(uncle)) {
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			/*
			 * An inner grandchild is first turned into an outer
			 * one, so that one rotation at the grandparent fixes
			 * both paths.
			 */
			if (node == parent->right) {
				rotate_left(parent, root);
				parent = node;
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rotate_right(gparent, root);
		} else {
			uncle = gparent->left;
			if (rb_is_red(uncle)) {
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (node == parent->left) {
				rotate_right(parent, root);
				parent = node;
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rotate_left(gparent, root);
		}
		return;
	}
}

/*
 * erase_fixup -- restore the black heights after a black node left the tree.
 *
 * Every path through the position of 'x' (which may be NULL, hence the
 * explicit 'parent') is one black short.  A red 'x' simply turns black.
 * Otherwise the sibling subtree is examined: it holds at least one black
 * node more than the short side, so the sibling exists.  A red sibling is
 * rotated up to get a black one; a black sibling with two black children is
 * made red, which moves the deficit up to the parent; a black sibling with a
 * red child lends a node through one or two rotations, which ends the repair.
 */
static void
erase_fixup(struct dx_rb_node *x, struct dx_rb_node *parent,
	struct dx_rb_root *root)
{
	struct dx_rb_node *sib;

	while (x != root->node && rb_is_black(x)) {
		if (x == parent->left) {
			sib = parent->right;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rotate_left(parent, root);
				sib = parent->right;
			}
			if (rb_is_black(sib->left) && rb_is_black(sib->right)) {
				rb_set_color(sib, RB_RED);
				x = parent;
				parent = dx_rb_parent(x);
				continue;
			}
			if (rb_is_black(sib->right)) {
				rb_set_color(sib->left, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rotate_right(sib, root);
				sib = parent->right;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->right, RB_BLACK);
			rotate_left(parent, root);
		} else {
			sib = parent->left;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rotate_right(parent, root);
				sib = parent->left;
			}
			if (rb_is_black(sib->left) && rb_is_black(sib->right)) {
				rb_set_color(sib, RB_RED);
				x = parent;
				parent = dx_rb_parent(x);
				continue;
			}
			if (rb_is_black(sib->left)) {
				rb_set_color(sib->right, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rotate_left(sib, root);
				sib = parent->left;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->left, RB_BLACK);
			rotate_right(parent, root);
		}
		return;
	}
	if (x)
		rb_set_color(x, RB_BLACK);
}

/*
 * dx_rb_erase -- unlink 'node', then repair the tree if a black node went.
 *
 * A node with two children cannot be spliced out directly.  Its in-order
 * successor (which has no left child) takes over its position and color
 * instead, so the node that really disappears from the shape of the tree is
 * the successor, and it is the successor's color whose loss counts.
 */
void
dx_rb_erase(struct dx_rb_node *node, struct dx_rb_root *root)
{
	struct dx_rb_node *child, *parent;
	int color;

	if (node->left == NULL || node->right == NULL) {
		child = node->left ? node->left : node->right;
		parent = dx_rb_parent(node);
		color = rb_color(node);
		if (child)
			rb_set_parent(child, parent);
		change_child(node, child, parent, root);
	} else {
		struct dx_rb_node *succ = node->right;

		while (succ->left)
			succ = succ->left;
		child = succ->right;
		color = rb_color(succ);
		if (succ == node->right) {
			/* The successor keeps its right subtree as it is. */
			parent = succ;
		} else {
			parent = dx_rb_parent(succ);
			parent->left = child;
			if (child)
				rb_set_parent(child, parent);
			succ->right = node->right;
			rb_set_parent(succ->right, succ);
		}
		succ->left = node->left;
		rb_set_parent(succ->left, succ);
		succ->parent_color = node->parent_color;
		change_child(node, succ, dx_rb_parent(node), root);
	}
	if (color == RB_BLACK)
		erase_fixup(child, parent, root);
}

struct dx_rb_node *
dx_rb_first(const struct dx_rb_root *root)
{
	struct dx_rb_node *n = root->node;

	if (n)
		while (n->left)
			n = n->left;
	return n;
}

struct dx_rb_node *
dx_rb_last(const struct dx_rb_root *root)
{
	struct dx_rb_node *n = root->node;

	if (n)
		while (n->right)
			n = n->right;
	return n;
}

/*
 * dx_rb_next -- the leftmost node of the right subtree if there is one, else
 * the first ancestor reached from its left side.
 */
struct dx_rb_node *
dx_rb_next(const struct dx_rb_node *n)
{
	struct dx_rb_node *parent;

	if (n->right) {
		struct dx_rb_node *m = n->right;

		while (m->left)
			m = m->left;
		return m;
	}
	while ((parent = dx_rb_parent(n)) != NULL && n == parent->right)
		n = parent;
	return parent;
}

/* dx_rb_prev -- the mirror of dx_rb_next(). */
struct dx_rb_node *
dx_rb_prev(const struct dx_rb_node *n)
{
	struct dx_rb_node *parent;

	if (n->left) {
		struct dx_rb_node *m = n->left;

		while (m->right)
			m = m->right;
		return m;
	}
	while ((parent = dx_rb_parent(n)) != NULL && n == parent->left)
		n = parent;
	return parent;
}

/*
 * dx_rb_replace -- 'repl' inherits the parent, color and children of
 * 'victim', so the shape and coloring of the tree are unchanged.
 */
void
dx_rb_replace(struct dx_rb_node *victim, struct dx_rb_node *repl,
	struct dx_rb_root *root)
{
	*repl = *victim;
	if (victim->left)
		rb_set_parent(victim->left, repl);
	if (victim->right)
		rb_set_parent(victim->right, repl);
	change_child(victim, repl, dx_rb_parent(victim), root);
}

/*
 * verify_subtree -- the black height of the subtree at 'n', whose parent must
 * be 'parent', or -1 if an invariant is broken anywhere below.
 */
static int
verify_subtree(const struct dx_rb_node *n, const struct dx_rb_node *parent)
{
	int lh, rh;

	if (n == NULL)
		return 0;
	if (dx_rb_parent(n) != parent)
		return -1;
	if (rb_is_red(n) && rb_is_red(parent))
		return -1;
	lh = verify_subtree(n->left, n);
	if (lh < 0)
		return -1;
	rh = verify_subtree(n->right, n);
	if (rh != lh)
		return -1;
	return lh + rb_is_black(n);
}

int
dx_rb_verify(const struct dx_rb_root *root)
{
	if (rb_is_red(root->node))
		return -1;
	return verify_subtree(root->node, NULL);
}
