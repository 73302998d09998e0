#!/bin/sh
# Guest job: bring USB up (xHCI + udevd: node-usb's libusb only gets hot-plug events
# through udev's netlink group), then run the command files the host drops into
# $LAB_XCHG/cmd/ (NAME.sh, renamed into place), writing NAME.out and NAME.rc.
# Ends when $LAB_XCHG/cmd/.quit appears; init then powers the guest off.
modprobe xhci_pci || echo "LAB-USB-FAIL modprobe xhci_pci"
mkdir -p /run/udev
/lib/systemd/systemd-udevd --daemon --resolve-names=never 2>/dev/null || echo "LAB-USB-FAIL udevd"
udevadm trigger --action=add --subsystem-match=usb >/dev/null 2>&1
udevadm settle -t 15 || echo "udevadm settle timed out"
D=$LAB_XCHG/cmd
mkdir -p "$D"
echo "LAB-AGENT-READY $(cut -d' ' -f1 /proc/uptime)"
while [ ! -e "$D/.quit" ]; do
  for f in "$D"/*.sh; do
    [ -e "$f" ] || break
    n=${f%.sh}
    mv "$f" "$n.run"
    # each command runs in the background so that a long one (a watcher, a
    # transfer the host is about to interrupt) does not block the others
    ( ( cd /; sh "$n.run" ) > "$n.out" 2>&1 </dev/null; echo $? > "$n.rc.tmp"; mv "$n.rc.tmp" "$n.rc" ) &
  done
  sleep 0.05
done
echo "LAB-AGENT-QUIT"
