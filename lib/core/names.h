/* names — named resources (SPEC.md 1): an argument that contains '/' or
 * starts with '.' is a path; anything else is a name under $EVKIT_HOME
 * (default ${XDG_DATA_HOME:-$HOME/.local/share}/evkit). */
#ifndef EVKIT_NAMES_H
#define EVKIT_NAMES_H

#include <stddef.h>

#include "err.h"

/* 1 if arg is to be taken as a path. */
int name_is_path(const char *arg);
/* Checks a resource name: 1–80 of [A-Za-z0-9_-], with an optional
 * ".fifo" suffix when allow_fifo (counted in the 80).  NULL if valid, else
 * a static reason. */
const char *name_check(const char *name, int allow_fifo);
/* $EVKIT_HOME resolved, in *home (malloc'd): 0, or EV_USAGE when neither
 * EVKIT_HOME nor HOME is set (err.h). */
int name_home(char **home, struct ev_err *e);
/* The file or directory for arg, in *path (malloc'd): arg itself if it is
 * a path, else $EVKIT_HOME/<kind>s/<arg><suffix>.  0, or EV_USAGE for an
 * invalid name ("invalid queue name 'x': why") or no home. */
int name_resolve(const char *arg, const char *kind, const char *suffix, int allow_fifo,
    char **path, struct ev_err *e);
/* mkdir -p with mode 0700 for every directory it makes; -1 with errno. */
int name_mkdirs(const char *dir);
/* mkdir -p of the directory part of path. */
int name_mkparent(const char *path);

#endif
