"""`lbgen router-fib`: resilient ECMP on a router whose zebra installs hash-threshold routes."""
