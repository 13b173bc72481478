#pragma once
#include <stddef.h>

// The repositories below a directory: the directories that hold a `.git` (a directory, or a
// file as in submodules and worktrees). Symlinks are not followed, other file systems and
// `.git` directories are not entered, and the walk stops 64 levels down. Lists are
// NUL-terminated paths one after the other, in a buffer the caller frees, `*length` its size.
typedef struct sbx_tree sbx_tree;

// Walks `root` (not itself a repository here), keeping each directory's modification time, and
// stops after `limit` directories; NULL with errno when `root` cannot be opened.
sbx_tree *sbx_tree_walk(const char *root, size_t limit);
// Whether the walk stopped at its limit (directories were left unread).
int sbx_tree_cut_short(const sbx_tree *tree);
// The repositories the walk found.
char *sbx_tree_repositories(const sbx_tree *tree, size_t *length);
// The repositories below the root now that were not there at the walk: only the directories
// modified since are read again (a new entry changes its directory's time), and the new ones
// walked whole.
char *sbx_tree_new_repositories(const sbx_tree *tree, size_t *length);
void sbx_tree_free(sbx_tree *tree);
