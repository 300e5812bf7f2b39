"""Compiled templates shared by every app in the process.

Jinja compiles each template the first time an app's environment loads it, and keeps the
result in that environment only. A process normally holds one app, but the test suite makes
an app per test, and compiling templates was a third of a page test's time (25 s of 72 s
for 93 tests, cProfile). :data:`SHARED` is a Jinja bytecode cache in memory: the first app to
compile a template leaves its code object here and the next app's environment loads it.

The key is Jinja's own: the template's name and a SHA-1 of its source, so a changed template
is compiled again. Every app built by :func:`tracker.create_app` sets up Jinja the same way
(the same extensions, filters and autoescaping), which is what makes sharing the code safe.
"""

from __future__ import annotations

import threading

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class MemoryBytecodeCache(BytecodeCache):
    """Compiled template code by Jinja's cache key, in this process's memory."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()


SHARED = MemoryBytecodeCache()
