#!/usr/bin/env bash
# deps.sh: install with apt-get whatever the build and the tests need and is missing.
# Quick when everything is present: it checks files, and calls apt-get only for gaps.
set -euo pipefail

# package -> a file that proves it is installed
declare -A need=(
	[clang]=/usr/bin/clang
	[llvm]=/usr/bin/llvm-strip
	[libbpf-dev]=/usr/include/bpf/libbpf.h
	[bpftool]=/usr/sbin/bpftool
	[libelf-dev]=/usr/include/libelf.h
	[zlib1g-dev]=/usr/include/zlib.h
	[libcurl4-openssl-dev]=/usr/include/x86_64-linux-gnu/curl/curl.h
	[libjson-c-dev]=/usr/include/json-c/json.h
	[libmicrohttpd-dev]=/usr/include/microhttpd.h
	[libssl-dev]=/usr/include/openssl/hmac.h
	[pkg-config]=/usr/bin/pkg-config
	[make]=/usr/bin/make
	[gcc]=/usr/bin/gcc
	[python3]=/usr/bin/python3
	[busybox-static]=/bin/busybox
	[golang-go]=/usr/bin/go
	[cpio]=/usr/bin/cpio
	[qemu-system-x86]=/usr/bin/qemu-system-x86_64
	[prometheus]=/usr/bin/prometheus
	[prometheus-alertmanager]=/usr/bin/prometheus-alertmanager
	[librsvg2-bin]=/usr/bin/rsvg-convert
	[yamllint]=/usr/bin/yamllint
	[libclang-rt-14-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
	[python3-yaml]=/usr/lib/python3/dist-packages/yaml/__init__.py
	[curl]=/usr/bin/curl
	[iproute2]=/usr/bin/ss
	[e2fsprogs]=/usr/sbin/mke2fs
	[podman]=/usr/bin/podman
	[runc]=/usr/sbin/runc
)

missing=()
for pkg in "${!need[@]}"; do
	[ -e "${need[$pkg]}" ] || missing+=("$pkg")
done
# curl.h lives under the multiarch dir on other architectures
if [[ " ${missing[*]-} " == *" libcurl4-openssl-dev "* ]] && ls /usr/include/*/curl/curl.h >/dev/null 2>&1; then
	missing=("${missing[@]/libcurl4-openssl-dev}")
fi
missing=($(printf '%s\n' "${missing[@]-}" | grep -v '^$' || true))

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done" >&2
