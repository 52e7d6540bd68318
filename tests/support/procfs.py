"""What the kernel prints in /proc, for the LB pod's parsers and probes: sessions and IPVS."""

from __future__ import annotations

# /proc/net/tcp as the kernel prints it: 172.16.20.2:41000 → 10.0.0.109:179 established,
# a listening socket, and a session to another host's port 179 in TIME_WAIT
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 021410AC:A028 6D00000A:00B3 01 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 021410AC:A029 6E00000A:00B3 06 00000000:00000000 00:00000000 00000000     0        0 3 1
"""

# /proc/net/ip_vs with TCP 10.1.1.1:80 (mh) and one real server
PROC_NET_IP_VS = """\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A010101:0050 mh
  -> AC100105:1F90      Masq    1      0          0
"""
