"""The frozen 0.1 plugin runs in a pytest of its own (tests/test_compat.py): its table
``hello_message`` would clash with the installed examples/hello's in one process."""

collect_ignore = ["hello_0_1"]
