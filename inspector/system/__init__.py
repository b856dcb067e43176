"""The process and its files: errors and exit statuses, how a run ends, reading inputs with a
one-line hint, writing private files (0600, no symlinks), time parsing. The lowest layer: it
imports nothing else from `inspector`."""

__all__ = ["errors", "input_files", "private_files", "process_exit", "times"]
