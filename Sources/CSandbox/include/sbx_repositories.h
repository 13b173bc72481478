#pragma once
#include <stddef.h>

// The directories below `root` (not `root` itself) that hold a `.git` (a directory, or a file as
// in submodules and worktrees), as NUL-terminated paths one after the other in a buffer the
// caller frees; `*length` is the buffer's size. Symlinks are not followed, other file systems
// and `.git` directories are not entered, and the walk stops 64 levels down. NULL with errno
// when `root` cannot be opened.
char *sbx_find_repositories(const char *root, size_t *length);
