// What Swift cannot call directly, in small functions prefixed sbx_. One header per topic.
#pragma once
#include "sbx_spawn.h"
#include "sbx_mount.h"
#include "sbx_privileges.h"
#include "sbx_signals.h"
#include "sbx_seccomp.h"
#include "sbx_network.h"
#include "sbx_exec.h"
#include "sbx_landlock.h"
#include "sbx_probe.h"
#include "sbx_creation_guard.h"
#include "sbx_repositories.h"
