"""One malloc arena for the whole process, so memory one thread frees serves the next.

glibc gives each thread that allocates its own arena (up to eight per core),
and memory freed into one arena is never handed out by another. In a large
build the main thread frees the documents once the worker processes have
them, while the stories made of them arrive unpickled by the process pool's
result thread, in an arena of its own: both stay resident. Measured at 10,000
entries (bench/build.py, figures in the README) this lowers the main process's
peak RSS in the same time (digest's other threads wait on sockets and pipes, not on malloc).
Only `digest build` asks for it: the build is where it was measured.
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8
"""mallopt's parameter number for the arena limit (glibc's malloc.h)."""


def use_one_arena() -> bool:
    """Limit glibc to one arena, before threads start; False where there is no glibc (nothing changes)."""
    if sys.platform != "linux":
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # musl has none, and no arenas
    return bool(mallopt is not None and mallopt(M_ARENA_MAX, 1))
