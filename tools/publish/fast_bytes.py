"""Hand raw pictures to the client library at memory speed.

moq-ffi 0.3.12's generated UniFFI bindings copy a ``bytes`` argument into Rust's buffer one byte per
Python loop iteration (``_UniffiRustBufferBuilder.write``): a 640x360 I420 picture (345,600 bytes)
takes about a tenth of a second that way, so 30 fps cannot be fed. :func:`install` replaces that one
method with a single ``memmove`` of the same bytes to the same place; reading is untouched (it slices
already). ``tests/tools/test_publish_live.py`` checks that both write identical buffers.
"""

from __future__ import annotations

import ctypes


def install() -> bool:
    """Swap in the fast copy; False (and the library's own copy stays) if the bindings look different."""
    try:
        from moq_ffi._uniffi import moq as bindings
    except ImportError:
        return False
    builder = getattr(bindings, "_UniffiRustBufferBuilder", None)
    if builder is None or not hasattr(builder, "_reserve") or getattr(builder.write, "fast", False):
        return builder is not None and getattr(builder.write, "fast", False)

    def write(self, value) -> None:
        data = bytes(value)
        with self._reserve(len(data)):
            address = ctypes.cast(self.rbuf.data, ctypes.c_void_p).value
            ctypes.memmove(address + self.rbuf.len, data, len(data))

    write.fast = True  # type: ignore[attr-defined]
    write.original = builder.write  # type: ignore[attr-defined]
    builder.write = write
    return True
