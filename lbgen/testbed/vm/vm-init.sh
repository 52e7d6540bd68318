#!/bin/sh
# The guest's second stage (busybox sh; the initramfs's /init loaded the modules and mounted the
# work share on /share). Builds a root on tmpfs from this host's /usr and /etc and the run's
# shares (each at its host path, listed in /share/mounts as "tag path ro|rw"), runs
# /share/command.sh in it with bash, leaves its exit status in /share/status, powers off.
export PATH=/bin
R=/newroot
mkdir -p $R && mount -t tmpfs -o size=512m,mode=755 root $R
mkdir -p $R/usr $R/etc $R/proc $R/sys $R/dev $R/run $R/tmp $R/share $R/root \
  $R/var/log $R/var/lib $R/var/tmp $R/var/cache
ln -s usr/bin $R/bin; ln -s usr/sbin $R/sbin; ln -s usr/lib $R/lib; ln -s usr/lib64 $R/lib64
ln -s /run $R/var/run
chmod 1777 $R/tmp $R/var/tmp
O=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $O,ro,cache=loose usr $R/usr && mount -t 9p -o $O,ro,cache=loose etc $R/etc \
  || { echo "lbgen-vm: the /usr and /etc shares did not mount"; poweroff -f; }
while read -r tag path mode; do
  mkdir -p "$R$path"
  if [ "$mode" = rw ]; then mount -t 9p -o $O,rw "$tag" "$R$path"
  else mount -t 9p -o $O,ro,cache=loose "$tag" "$R$path"; fi || echo "lbgen-vm: share $path did not mount"
done < /share/mounts
mount --bind /share $R/share
mount -t proc proc $R/proc; mount -t sysfs sys $R/sys; mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts; mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t tmpfs -o mode=755 run $R/run
# a syslog for daemons that log there too (keepalived), else glibc writes to the console
chroot $R busybox syslogd -O /var/log/messages
echo "lbgen-vm: root ready at uptime $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r)"
chroot $R /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin HOME=/root \
  TERM=dumb LANG=C.UTF-8 /bin/bash -c 'ip link set lo up; cd /tmp; . /share/command.sh'
echo $? > /share/status
echo "lbgen-vm: done at uptime $(cut -d' ' -f1 /proc/uptime) s"
sync
umount $R/share /share 2>/dev/null
poweroff -f
