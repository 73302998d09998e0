#!/bin/busybox sh
# /init of the lab's initramfs (built by test/lab/harness/initrd.ts).
# The guest's root is the host's own root over virtio-9p (read-only) with a tmpfs
# overlay on top, so the guest runs the host's node, node_modules and libmtp.
# Kernel parameters: lab.job=<script> lab.xchg=<rw share path, same as on the host>
/bin/busybox mkdir -p /bin /proc /sys /dev /lower /rw /newroot
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod "/modules/$m" 2>/dev/null || echo "lab-init: insmod $m failed"; done

JOB=/bin/true; XCHG=
for p in $(cat /proc/cmdline); do
  case "$p" in
    lab.job=*) JOB="${p#lab.job=}" ;;
    lab.xchg=*) XCHG="${p#lab.xchg=}" ;;
  esac
done
fail() { echo "LAB-INIT-FATAL $*"; poweroff -f; }

# cache=loose is fast; the harness boots a fresh guest per test file, so files the
# host changed before boot are seen as they are
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /lower || fail "9p hostroot"
mount -t tmpfs -o size=75%,mode=755 rw /rw || fail tmpfs
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail overlay
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
mount -t tmpfs -o mode=755 tmpfs $R/run
mount -t tmpfs tmpfs $R/var/run 2>/dev/null
[ -n "$XCHG" ] || fail "no lab.xchg"
mkdir -p "$R$XCHG"
# the exchange folder changes all the time on both sides: no caching
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=none labxchg "$R$XCHG" || fail "9p labxchg"
hostname usblab
echo "LAB-GUEST-READY $(cut -d' ' -f1 /proc/uptime)"
chroot $R /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LAB_XCHG="$XCHG" /bin/sh "$JOB" </dev/console
echo "LAB-JOB-RC $?"
sync
poweroff -f
