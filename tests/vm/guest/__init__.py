"""The VM suite, collected only inside lbgen's VM: tests/vm/test_boot.py boots it and runs
these."""
