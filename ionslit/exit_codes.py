"""Exit codes of the ``ionslit`` command line (what a job script sees)."""

#: The command did what it was asked.
EXIT_OK = 0
#: A failure while running (recorded in the manifest as status ``failed``).
EXIT_FAILURE = 1
#: Invalid input: a bad case, option or results directory; nothing was written.
EXIT_INVALID_INPUT = 2
#: 128 + SIGTERM: the run stopped at a step boundary after writing a checkpoint (status
#: ``interrupted``; continue it with ``ionslit run CASE --restart DIR``).
EXIT_INTERRUPTED = 143
