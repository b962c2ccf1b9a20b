#!/usr/bin/env bash
# build-image.sh: everything the VM tests boot, under $BUILD/vm (default build/vm):
#   vmlinuz            Debian's 6.1 cloud kernel (cgroup v2 with a memory controller, BTF,
#                      kprobes and fentry: a second kernel next to the host's 6.18)
#   modules/*.ko       the few modules the data disk needs (virtio is not built in there)
#   data.ext2          a read-only ext2 disk holding a 256 MiB file, for the page-cache case
#   initramfs.cpio.gz  busybox-static, build/oomcast and its shared libraries, the static leak
#                      workload, /init and the guest test script
# The kernel and the disk are cached (slow to make, never change); the initramfs is rebuilt on
# every call because build/oomcast changes all the time.
# Usage: build-image.sh        (build/oomcast is included when it exists)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
vm=$BUILD/vm
mkdir -p "$vm"
# stdout belongs to run.sh's result lines: everything here (mke2fs, apt) is diagnostics.
exec 1>&2

log() { echo "build-image: $*" >&2; }
die() { echo "build-image: error: $*" >&2; exit 1; }

# Load order matters: insmod does not resolve dependencies (modinfo -F depends says
# virtio_pci needs the other four, virtio_blk needs virtio and virtio_ring).
modules=(
	drivers/virtio/virtio_ring.ko
	drivers/virtio/virtio.ko
	drivers/virtio/virtio_pci_modern_dev.ko
	drivers/virtio/virtio_pci_legacy_dev.ko
	drivers/virtio/virtio_pci.ko
	drivers/block/virtio_blk.ko
)

# --- kernel ------------------------------------------------------------------------------
newest_kernel_pkg() {
	# The signed image packages are named exactly linux-image-6.1.0-N-cloud-amd64; -dbg and
	# -unsigned variants are filtered out by the anchored name.
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

fetch_kernel() {
	local pkg dl
	pkg=$(newest_kernel_pkg)
	if [ -z "$pkg" ]; then
		# Only refresh the package lists when they lack the kernel: apt-get update is slow
		# and touches the whole machine.
		log "no linux-image-6.1.0-*-cloud-amd64 in the apt cache; running apt-get update"
		apt-get update -q >/dev/null || die "apt-get update failed"
		pkg=$(newest_kernel_pkg)
	fi
	[ -n "$pkg" ] || die "no linux-image-6.1.0-*-cloud-amd64 package is known to apt"
	log "fetching $pkg"
	dl=$(mktemp -d "$vm/dl.XXXXXX")
	# -o APT::Sandbox::User=root: the _apt user cannot write into our build directory.
	(cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		{ rm -rf "$dl"; die "apt-get download $pkg failed"; }
	dpkg -x "$dl"/"$pkg"_*.deb "$dl/x" || { rm -rf "$dl"; die "dpkg -x failed"; }
	local kver mdir
	kver=${pkg#linux-image-}
	mdir=$dl/x/lib/modules/$kver/kernel
	mkdir -p "$dl/modules"
	for m in "${modules[@]}"; do
		[ -f "$mdir/$m" ] || { rm -rf "$dl"; die "module $m missing from $pkg"; }
		cp "$mdir/$m" "$dl/modules/"
	done
	cp "$dl"/x/boot/vmlinuz-* "$dl/vmlinuz"
	cp "$dl"/x/boot/config-* "$dl/config"
	# Publish the cache in one step at the end, so an interrupted fetch is never re-used.
	rm -rf "$vm/modules"
	mv "$dl/modules" "$vm/modules"
	mv "$dl/config" "$vm/kernel.config"
	echo "$kver" >"$vm/kernel.version"
	mv "$dl/vmlinuz" "$vm/vmlinuz"
	rm -rf "$dl"
}

if [ -s "$vm/vmlinuz" ] && [ -s "$vm/kernel.version" ] && [ -d "$vm/modules" ]; then
	log "re-using kernel $(cat "$vm/kernel.version")"
else
	fetch_kernel
fi

# --- data disk for the page-cache case ------------------------------------------------------
# A tmpfs file would not do: its pages are shmem (swap-backed, unreclaimable without swap),
# not the clean, reclaimable file cache the case is about. ext2 is handled by the built-in
# ext4 driver. Random contents: mke2fs -d leaves all-zero blocks out as holes.
if [ ! -s "$vm/data.ext2" ]; then
	log "making data.ext2 (256 MiB file)"
	src=$(mktemp -d "$vm/data.XXXXXX")
	head -c $((256 * 1024 * 1024)) /dev/urandom >"$src/big"
	mke2fs -q -F -t ext2 -L oomdata -d "$src" "$vm/data.ext2.tmp" 300M ||
		{ rm -rf "$src" "$vm/data.ext2.tmp"; die "mke2fs failed"; }
	rm -rf "$src"
	mv "$vm/data.ext2.tmp" "$vm/data.ext2"
fi

# --- initramfs ------------------------------------------------------------------------------
stage=$vm/root
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,mnt/data,etc,lib/modules}

# Copy a binary to /bin and every shared library it needs (and the dynamic loader) to the
# same path it has on the host, which is where the loader and the binary's DT_NEEDED look.
add_bin() {
	local src=$1 name=$2 lib libs
	cp -L "$src" "$stage/bin/$name"
	# ldd exits non-zero for static binaries: nothing more to copy then.
	libs=$(ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}') || true
	if ldd "$src" 2>/dev/null | grep -q 'not found'; then
		die "$src needs a library the host does not have: $(ldd "$src" | grep 'not found')"
	fi
	for lib in $libs; do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

[ -x /bin/busybox ] || die "/bin/busybox missing: apt-get install busybox-static"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	log "warning: /bin/busybox does not look static (busybox-static is needed)"
cp /bin/busybox "$stage/bin/busybox"

leak=$BUILD/workloads/leak
[ -x "$leak" ] || die "$leak missing: run make tests-build"
add_bin "$leak" leak

if [ -x "$BUILD/oomcast" ]; then
	add_bin "$BUILD/oomcast" oomcast
else
	log "no $BUILD/oomcast: the image can only run the kernel case"
fi
# bpftool is only there to report facts about the guest kernel (BTF prototypes); optional.
if command -v bpftool >/dev/null 2>&1; then
	add_bin "$(command -v bpftool)" bpftool
fi

cp "$vm"/modules/*.ko "$stage/lib/modules/"
cp "$here/init" "$stage/init"
cp "$here/guest.sh" "$stage/bin/guest.sh"
chmod 755 "$stage/init" "$stage/bin/guest.sh"
# The kernel opens /dev/console for init's stdio before init can mount devtmpfs.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || log "warning: cannot mknod /dev/console"

(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$vm/initramfs.cpio.gz.tmp"
mv "$vm/initramfs.cpio.gz.tmp" "$vm/initramfs.cpio.gz"
log "initramfs $(du -h "$vm/initramfs.cpio.gz" | cut -f1), kernel $(cat "$vm/kernel.version")"
