#pragma once

// Drops every capability: bounding set, ambient, inheritable, permitted, effective; and locks
// the securebits so that uid 0 inside gains nothing back on execve. Returns 0, or -errno with
// *step naming the call that failed.
int sbx_drop_all_capabilities(const char **step);

// PR_SET_NO_NEW_PRIVS; returns 0 or -errno.
int sbx_set_no_new_privs(void);

// PR_SET_DUMPABLE; a non-dumpable init cannot be ptraced by the command it runs.
int sbx_set_dumpable(int dumpable);
