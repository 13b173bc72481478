#pragma once

// Brings the loopback interface up in the current network namespace; returns 0 or -errno.
int sbx_loopback_up(void);
