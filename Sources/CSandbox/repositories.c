#define _GNU_SOURCE
#include "sbx_repositories.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct list { char *bytes; size_t length, capacity; };
struct directory { char *path; struct timespec modified; };

struct sbx_tree {
    dev_t device;
    size_t root_length;
    struct list repositories;
    struct directory *directories;  // sorted by path after the walk
    size_t count, capacity;
    size_t limit;
    int cut_short;
};

static void add(struct list *list, const char *path) {
    size_t size = strlen(path) + 1;
    if (list->length + size > list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 4096;
        while (capacity < list->length + size) capacity *= 2;
        char *bytes = realloc(list->bytes, capacity);
        if (bytes == NULL) return;  // out of memory: the list is cut short
        list->bytes = bytes;
        list->capacity = capacity;
    }
    memcpy(list->bytes + list->length, path, size);
    list->length += size;
}

static void remember(sbx_tree *tree, const char *path, const struct stat *info) {
    if (tree->count == tree->capacity) {
        size_t capacity = tree->capacity ? tree->capacity * 2 : 256;
        struct directory *grown = realloc(tree->directories, capacity * sizeof *grown);
        if (grown == NULL) return;
        tree->directories = grown;
        tree->capacity = capacity;
    }
    char *copy = strdup(path);
    if (copy == NULL) return;
    tree->directories[tree->count++] = (struct directory){ copy, info->st_mtim };
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const struct directory *)a)->path, ((const struct directory *)b)->path);
}

static const struct directory *known(const sbx_tree *tree, const char *path) {
    struct directory key = { (char *)path, { 0, 0 } };
    return bsearch(&key, tree->directories, tree->count, sizeof key, by_path);
}

// Reads the directory open at `fd` (taken over and closed), whose path is `path`: a `.git` in
// it makes it a repository; its subdirectories are walked, all of them (`only_new` false), or
// those the first walk did not see. `remembering`: keep each directory's time (the first walk).
static void walk(sbx_tree *tree, int fd, char *path, size_t path_length, int depth, int only_new, int remembering,
                 struct list *found) {
    struct stat info;
    if (fstat(fd, &info) != 0) { close(fd); return; }
    if (remembering && tree->count >= tree->limit) { tree->cut_short = 1; close(fd); return; }
    if (remembering) remember(tree, path, &info);
    DIR *directory = fdopendir(fd);
    if (directory == NULL) { close(fd); return; }
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        if (strcmp(name, ".git") == 0) {
            if (path_length != tree->root_length) add(found, path);
            continue;
        }
        unsigned char type = entry->d_type;
        if (type == DT_UNKNOWN) {
            if (fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
            type = S_ISDIR(info.st_mode) ? DT_DIR : DT_REG;
        }
        size_t name_length = strlen(name);
        if (type != DT_DIR || depth >= 64 || path_length + 1 + name_length >= PATH_MAX) continue;
        path[path_length] = '/';
        memcpy(path + path_length + 1, name, name_length + 1);
        if (!only_new || known(tree, path) == NULL) {
            int child = openat(dirfd(directory), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child >= 0 && fstat(child, &info) == 0 && info.st_dev == tree->device) {
                walk(tree, child, path, path_length + 1 + name_length, depth + 1, 0, remembering, found);
            } else if (child >= 0) {
                close(child);
            }
        }
        path[path_length] = 0;
    }
    closedir(directory);
}

int sbx_tree_cut_short(const sbx_tree *tree) { return tree->cut_short; }

sbx_tree *sbx_tree_walk(const char *root, size_t limit) {
    size_t root_length = strlen(root);
    if (root_length >= PATH_MAX) { errno = ENAMETOOLONG; return NULL; }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return NULL;
    sbx_tree *tree = calloc(1, sizeof *tree);
    struct stat info;
    if (tree == NULL || fstat(fd, &info) != 0) { free(tree); close(fd); return NULL; }
    char path[PATH_MAX];
    memcpy(path, root, root_length + 1);
    while (root_length > 1 && path[root_length - 1] == '/') path[--root_length] = 0;
    tree->device = info.st_dev;
    tree->root_length = root_length;
    tree->limit = limit;
    walk(tree, fd, path, root_length, 0, 0, 1, &tree->repositories);
    qsort(tree->directories, tree->count, sizeof *tree->directories, by_path);
    return tree;
}

static char *copy_list(const struct list *list, size_t *length) {
    *length = list->length;
    char *bytes = malloc(list->length + 1);
    if (bytes != NULL && list->length > 0) memcpy(bytes, list->bytes, list->length);
    return bytes;
}

char *sbx_tree_repositories(const sbx_tree *tree, size_t *length) {
    return copy_list(&tree->repositories, length);
}

char *sbx_tree_new_repositories(const sbx_tree *tree, size_t *length) {
    struct list found = { 0 };
    sbx_tree *mutable = (sbx_tree *)tree;
    for (size_t i = 0; i < tree->count; i++) {
        const struct directory *entry = &tree->directories[i];
        struct stat info;
        if (lstat(entry->path, &info) != 0 || !S_ISDIR(info.st_mode) || info.st_dev != tree->device) continue;
        if (info.st_mtim.tv_sec == entry->modified.tv_sec && info.st_mtim.tv_nsec == entry->modified.tv_nsec) continue;
        int fd = open(entry->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) continue;
        char path[PATH_MAX];
        size_t path_length = strlen(entry->path);
        memcpy(path, entry->path, path_length + 1);
        // Depth is not kept per directory: new trees are walked up to 64 levels below here.
        walk(mutable, fd, path, path_length, 0, 1, 0, &found);
    }
    char *result = copy_list(&found, length);
    free(found.bytes);
    return result;
}

void sbx_tree_free(sbx_tree *tree) {
    if (tree == NULL) return;
    for (size_t i = 0; i < tree->count; i++) free(tree->directories[i].path);
    free(tree->directories);
    free(tree->repositories.bytes);
    free(tree);
}
