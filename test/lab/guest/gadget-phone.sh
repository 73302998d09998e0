#!/bin/sh
# Guest side: a USB gadget "phone" on the dummy_hcd virtual controller, served by umtprd
# (Debian's umtp-responder) through FunctionFS. Unlike QEMU's usb-mtp it wears a real phone's
# ids and strings (default 18d1:4ee1, "Pixel Lab") and supports rename (SetObjectPropValue) and
# Android's 0x95Cx operations. Plug/unplug = bind/unbind the UDC, inside the guest.
#
#   gadget-phone.sh setup DIR [VID PID SERIAL PRODUCT]   set up, mode "mtp", not plugged
#   gadget-phone.sh plug [MODE]                          (switch to MODE, then) plug in
#   gadget-phone.sh unplug
#   gadget-phone.sh mode MODE      switch the USB mode; a plugged phone re-enumerates, as a
#                                  phone does when the user picks another mode
#   gadget-phone.sh unlock         a "locked" phone shows its storage (MTP StoreAdded event)
#   gadget-phone.sh status         prints "mode=M plugged=0|1"
#
# MODE (what Android offers in its "USB" notification, with a Pixel's product ids):
#   mtp       File transfer: MTP interface 6/1/1 "MTP"                          4ee1
#   mtp-adb   File transfer + USB debugging: MTP, then ADB 0xff/0x42/1           4ee2
#   ptp       Transfer photos: the same interface named "PTP"                    4ee5
#   adb       No data transfer + USB debugging: the ADB interface only           4ee7
#   charging  No data transfer: one vendor interface without endpoints           4ee1 (ids kept)
#   locked    File transfer on a locked phone: MTP opens, but no storage is listed until
#             "unlock" (umtprd's storage "notmounted", then its mount command)  4ee1
# The ADB and charging interfaces are served by ffs-stub.py (descriptors only, no ADB protocol).
set -e
G=/sys/kernel/config/usb_gadget/ankiphone
STATE=/run/gadget-phone
HERE=$(cd "$(dirname "$0")" && pwd)
STORAGE_NAME="Internal shared storage"

is_plugged() { [ -n "$(cat $G/UDC 2>/dev/null)" ]; }

write_umtprd_conf() { # $1 interface name, $2 storage flags
  . $STATE/ids
  cat > /etc/umtprd/umtprd.conf <<CONF
loop_on_disconnect 1
storage "$dir" "$STORAGE_NAME" "$2"
manufacturer "Google"
product "$product"
serial "$serial"
firmware_version "lab"
interface "$1"
usb_vendor_id $vid
usb_product_id $pid
usb_class 0x6
usb_subclass 0x1
usb_protocol 0x1
usb_dev_version 0x3008
usb_functionfs_mode 0x1
usb_dev_path "/dev/ffs-mtp/ep0"
usb_epin_path "/dev/ffs-mtp/ep1"
usb_epout_path "/dev/ffs-mtp/ep2"
usb_epint_path "/dev/ffs-mtp/ep3"
usb_max_packet_size 0x200
# umtprd's own default is 8 KiB per USB read/write: 64 KiB moves files several times faster
usb_max_rd_buffer_size 0x10000
usb_max_wr_buffer_size 0x10000
CONF
}

# (Re)starts umtprd with the interface name and storage flags of a mode, unless it already runs so.
start_umtprd() { # $1 interface name, $2 storage flags
  want="$1|$2"
  if [ -e $STATE/umtprd.pid ] && kill -0 "$(cat $STATE/umtprd.pid)" 2>/dev/null; then
    [ "$(cat $STATE/umtprd.conf-key)" = "$want" ] && return 0
    kill "$(cat $STATE/umtprd.pid)"
    for i in $(seq 1 50); do kill -0 "$(cat $STATE/umtprd.pid)" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$(cat $STATE/umtprd.pid)" 2>/dev/null || true
  fi
  rm -f $STATE/umtprd.pid
  write_umtprd_conf "$1" "$2"
  # FunctionFS removes the endpoint files when ep0 is closed; they are back once umtprd has
  # written its descriptors
  setsid umtprd > /tmp/umtprd.log 2>&1 < /dev/null &
  echo $! > $STATE/umtprd.pid
  echo "$want" > $STATE/umtprd.conf-key
  for i in $(seq 1 100); do [ -e /dev/ffs-mtp/ep1 ] && return 0; sleep 0.1; done
  echo "umtprd did not open FunctionFS"; cat /tmp/umtprd.log; exit 1
}

# A FunctionFS instance served by ffs-stub.py (kind adb or none), started once.
ensure_stub() { # $1 instance name, $2 kind
  [ -d $G/functions/ffs.$1 ] || mkdir $G/functions/ffs.$1
  mkdir -p /dev/ffs-$1
  mountpoint -q /dev/ffs-$1 || mount -t functionfs "$1" /dev/ffs-$1
  if [ -e $STATE/stub-$1.pid ] && kill -0 "$(cat $STATE/stub-$1.pid)" 2>/dev/null; then return 0; fi
  setsid python3 "$HERE/ffs-stub.py" /dev/ffs-$1 "$2" > /tmp/ffs-stub-$1.log 2>&1 < /dev/null &
  echo $! > $STATE/stub-$1.pid
  for i in $(seq 1 100); do grep -q "ffs-stub ready" /tmp/ffs-stub-$1.log 2>/dev/null && return 0; sleep 0.1; done
  echo "ffs-stub $1 did not start"; cat /tmp/ffs-stub-$1.log; exit 1
}

link_only() { # the functions of configuration c.1, in this order
  for l in $G/configs/c.1/ffs.*; do [ -L "$l" ] && rm "$l"; done
  for f in "$@"; do ln -s $G/functions/ffs.$f $G/configs/c.1/; done
}

apply_mode() { # $1 mode; the UDC must be unbound
  . $STATE/ids
  case "$1" in
  mtp) start_umtprd MTP rw; link_only mtp; p=$pid ;;
  locked) start_umtprd MTP rw,notmounted; link_only mtp; p=$pid ;;
  ptp) start_umtprd PTP rw; link_only mtp; p=0x4ee5 ;;
  mtp-adb) start_umtprd MTP rw; ensure_stub adb adb; link_only mtp adb; p=0x4ee2 ;;
  adb) ensure_stub adb adb; link_only adb; p=0x4ee7 ;;
  charging) ensure_stub none none; link_only none; p=$pid ;;
  *) echo "unknown mode $1 (mtp, mtp-adb, ptp, adb, charging, locked)"; exit 2 ;;
  esac
  # Pixel ids only when the phone wears Google's vendor id; other ids stay as set up
  [ "$vid" = 0x18d1 ] || p=$pid
  echo "$p" > $G/idProduct
  echo "$1" > $STATE/mode
}

bind() {
  udc=$(ls /sys/class/udc | head -1)
  # a FunctionFS instance may take a moment to become ready after its descriptors are written
  for i in $(seq 1 50); do echo "$udc" > $G/UDC 2>/dev/null && return 0; sleep 0.1; done
  echo "$udc" > $G/UDC
}

# Android starts its MTP server afresh for every USB connection, and so does the lab phone.
# umtprd (loop_on_disconnect) notices a disconnect only seconds later, then closes and reopens
# FunctionFS — which unbinds the gadget again if it was plugged back in meanwhile (seen in the
# lab: a mode switch or a quick re-plug that never enumerates, OpenSession never answered after a
# cut). So every unplug restarts it at once, in the state it had (mode; a locked phone that was
# unlocked stays so).
restart_responder() {
  [ -e $STATE/umtprd.pid ] || return 0
  key=$(cat $STATE/umtprd.conf-key)
  old=$(cat $STATE/umtprd.pid)
  kill "$old" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$old" 2>/dev/null || true
  rm -f $STATE/umtprd.pid
  [ "$key" = unlocked ] && key="MTP|rw"
  start_umtprd "${key%%|*}" "${key#*|}"
}
unbind() { if is_plugged; then echo "" > $G/UDC; restart_responder; fi; }

case "${1:-}" in
setup)
  dir=$2; vid=${3:-0x18d1}; pid=${4:-0x4ee1}; serial=${5:-GADGET01}; product=${6:-Pixel Lab}
  mkdir -p "$dir" /dev/ffs-mtp /etc/umtprd $STATE
  printf 'dir=%s\nvid=%s\npid=%s\nserial=%s\nproduct=%s\n' "'$dir'" "$vid" "$pid" "'$serial'" "'$product'" > $STATE/ids
  modprobe dummy_hcd
  modprobe libcomposite
  modprobe usb_f_fs
  mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
  mkdir -p $G/strings/0x409 $G/configs/c.1/strings/0x409 $G/functions/ffs.mtp
  echo "$vid" > $G/idVendor
  echo "$pid" > $G/idProduct
  echo "$serial" > $G/strings/0x409/serialnumber
  echo Google > $G/strings/0x409/manufacturer
  echo "$product" > $G/strings/0x409/product
  echo MTP > $G/configs/c.1/strings/0x409/configuration
  mountpoint -q /dev/ffs-mtp || mount -t functionfs mtp /dev/ffs-mtp
  apply_mode mtp
  echo "gadget ready"
  ;;
plug)
  [ -z "${2:-}" ] || { unbind; apply_mode "$2"; }
  bind
  ;;
unplug)
  # already unbound when the guest pulled it itself (the unplug tests' exact cut points)
  if is_plugged; then unbind; else restart_responder; fi
  ;;
mode)
  was=0; is_plugged && was=1
  unbind
  apply_mode "$2"
  [ $was = 0 ] || bind
  ;;
unlock)
  umtprd "-cmd:mount:$STORAGE_NAME" >/dev/null
  # the running umtprd no longer matches any mode's start state: the next mode restarts it
  echo unlocked > $STATE/umtprd.conf-key
  ;;
status) echo "mode=$(cat $STATE/mode) plugged=$(is_plugged && echo 1 || echo 0)" ;;
*) echo "usage: $0 setup DIR [VID PID SERIAL PRODUCT] | plug [MODE] | unplug | mode MODE | unlock | status"; exit 2 ;;
esac
