#!/bin/sh
# Guest side: a USB gadget "phone" on the dummy_hcd virtual controller, served by umtprd
# (Debian's umtp-responder) through FunctionFS. Unlike QEMU's usb-mtp it wears a real phone's
# ids and strings (default 18d1:4ee1, "Pixel Lab") and supports rename (SetObjectPropValue) and
# Android's 0x95Cx operations. Plug/unplug = bind/unbind the UDC, inside the guest.
#   gadget-phone.sh setup DIR [VID PID SERIAL PRODUCT] | plug | unplug
set -e
G=/sys/kernel/config/usb_gadget/ankiphone
case "${1:-}" in
setup)
  dir=$2; vid=${3:-0x18d1}; pid=${4:-0x4ee1}; serial=${5:-GADGET01}; product=${6:-Pixel Lab}
  mkdir -p "$dir" /dev/ffs-mtp /etc/umtprd
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
  [ -e $G/configs/c.1/ffs.mtp ] || ln -s $G/functions/ffs.mtp $G/configs/c.1/
  mountpoint -q /dev/ffs-mtp || mount -t functionfs mtp /dev/ffs-mtp
  # /etc is the guest's tmpfs overlay: the host's /etc is not touched
  cat > /etc/umtprd/umtprd.conf <<CONF
loop_on_disconnect 1
storage "$dir" "Internal shared storage" "rw"
manufacturer "Google"
product "$product"
serial "$serial"
firmware_version "lab"
interface "MTP"
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
CONF
  setsid umtprd > /tmp/umtprd.log 2>&1 < /dev/null &
  for i in $(seq 1 100); do [ -e /dev/ffs-mtp/ep1 ] && break; sleep 0.1; done
  [ -e /dev/ffs-mtp/ep1 ] || { echo "umtprd did not open FunctionFS"; cat /tmp/umtprd.log; exit 1; }
  echo "gadget ready"
  ;;
plug) ls /sys/class/udc | head -1 > $G/UDC ;;
unplug) echo "" > $G/UDC ;;
*) echo "usage: $0 setup DIR [VID PID SERIAL PRODUCT] | plug | unplug"; exit 2 ;;
esac
