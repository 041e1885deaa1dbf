import platform
import sys

import pytest

from digest.speed import memory


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_glibc_takes_the_one_arena_limit():
    assert memory.use_one_arena() is True
