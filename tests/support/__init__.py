"""What the tests share beyond conftest.py: the testbeds they bring up, the rogue speakers they
set loose, an LB pod run by hand, and the exact ip_vs_mh model."""
