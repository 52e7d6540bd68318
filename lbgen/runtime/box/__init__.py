"""On a router's or reflector's box: its frr.conf from out/, with the secrets only it holds."""
