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

struct found { char *bytes; size_t length, capacity; };

static void add(struct found *found, const char *path) {
    size_t size = strlen(path) + 1;
    if (found->length + size > found->capacity) {
        size_t capacity = found->capacity ? found->capacity * 2 : 4096;
        while (capacity < found->length + size) capacity *= 2;
        char *bytes = realloc(found->bytes, capacity);
        if (bytes == NULL) return;  // out of memory: the list is cut short
        found->bytes = bytes;
        found->capacity = capacity;
    }
    memcpy(found->bytes + found->length, path, size);
    found->length += size;
}

// Walks the directory open at `fd` (taken over and closed), whose path is `path`.
static void walk(int fd, dev_t device, char *path, size_t path_length, int depth, int is_root, struct found *found) {
    DIR *directory = fdopendir(fd);
    if (directory == NULL) { close(fd); return; }
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        if (strcmp(name, ".git") == 0) {
            if (!is_root) add(found, path);
            continue;
        }
        unsigned char type = entry->d_type;
        if (type == DT_UNKNOWN) {
            struct stat info;
            if (fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
            type = S_ISDIR(info.st_mode) ? DT_DIR : DT_REG;
        }
        if (type != DT_DIR || depth >= 64) continue;
        size_t name_length = strlen(name);
        if (path_length + 1 + name_length >= PATH_MAX) continue;
        int child = openat(dirfd(directory), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) continue;
        struct stat info;
        if (fstat(child, &info) != 0 || info.st_dev != device) { close(child); continue; }
        path[path_length] = '/';
        memcpy(path + path_length + 1, name, name_length + 1);
        walk(child, device, path, path_length + 1 + name_length, depth + 1, 0, found);
        path[path_length] = 0;
    }
    closedir(directory);
}

char *sbx_find_repositories(const char *root, size_t *length) {
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat info;
    if (fstat(fd, &info) != 0) { close(fd); return NULL; }
    char path[PATH_MAX];
    size_t root_length = strlen(root);
    if (root_length >= PATH_MAX) { close(fd); errno = ENAMETOOLONG; return NULL; }
    memcpy(path, root, root_length + 1);
    while (root_length > 1 && path[root_length - 1] == '/') path[--root_length] = 0;
    struct found found = { 0 };
    walk(fd, info.st_dev, path, root_length, 0, 1, &found);
    *length = found.length;
    return found.bytes ? found.bytes : calloc(1, 1);
}
