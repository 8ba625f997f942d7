"""Keeping TensorFlow's own C++ log lines off a recipe's terminal.

TensorFlow writes start-up lines to standard error from C++ before Python can
configure anything (`TF_CPP_MIN_LOG_LEVEL` does not reach the ones absl
writes "before absl::InitializeLog() is called"): oneDNN, CUDA probing, CPU
instruction sets. `hide_tensorflow_logs` routes file descriptor 2 through
a filter that drops exactly those lines and passes everything else on, in
order, so a user sees the recipe's own lines, its progress and any error.
`--tf-logs` shows them again.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# absl/TensorFlow C++ log lines ("I0000 00:00:1796.. 1649 port.cc:153] ..."), absl's notice about them,
# Python absl logging of TensorFlow and tensorflow-datasets ("WARNING:absl:Variant folder ... has no
# dataset_info.json") and the continuation line of the CPU-instructions message.
TENSORFLOW_LOG_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|(?:INFO|WARNING):absl:"
    rb"|To enable the following instructions: )"
)


def hide_tensorflow_logs() -> None:
    """Filter TensorFlow's C++ log lines out of this process's standard error, from now to its exit."""
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not TENSORFLOW_LOG_LINE.match(line):
                    os.write(terminal, line)

    thread = threading.Thread(target=pump, name="tensorflow-log-filter", daemon=True)
    thread.start()

    def drain() -> None:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # closes the pipe's last writer: the filter reads to the end and stops
        thread.join(timeout=5)

    atexit.register(drain)
