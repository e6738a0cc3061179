"""The frozen plugins run in a pytest of their own (tests/test_compat.py): their tables
(``hello_message``, ``garbage_checkin``) would clash with the installed examples' in one
process."""

collect_ignore = ["hello_0_1", "garbage_1_0"]
