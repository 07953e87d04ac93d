# Sourced by the image scripts that start from Debian's packages (console.sh, services.sh).
# Needs cache_root set; run as root (debootstrap, chroot).

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# Whatever debootstrap or chroot left mounted under a tree, so that removing the tree never reaches
# the machine's own /proc, /sys or /dev.
unmount_under() {
  local mount
  for mount in $(awk -v tree="$1/" 'index($2, tree) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount"
  done
}

# debian_root SUITE PACKAGES: prints the path of a tar of a minimal Debian root file system with
# PACKAGES (comma-separated) installed, built with debootstrap and cached by suite, packages and
# mirror; documentation and apt's lists and downloads left out.
debian_root() {
  local suite=$1 packages=$2 tar tree
  tar=$cache_root/rootfs/$suite-$(echo "$packages $DEBIAN_MIRROR" | sha256sum | cut -c1-12).tar
  if [ ! -s "$tar" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is needed (apt-get install debootstrap)" >&2; return 1; }
    mkdir -p "$cache_root/rootfs"
    tree=$(mktemp -d "$cache_root/rootfs/.tree.XXXXXX")
    debootstrap --variant=minbase --include="$packages" "$suite" "$tree" "$DEBIAN_MIRROR" >&2 ||
      { unmount_under "$tree"; rm -rf "$tree"; return 1; }
    unmount_under "$tree"
    rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/* "$tree"/usr/share/doc \
      "$tree"/usr/share/man "$tree"/usr/share/info "$tree"/dev/* "$tree"/proc/* "$tree"/sys/*
    tar --numeric-owner -C "$tree" -cf "$tar.tmp" .
    rm -rf "$tree"
    mv "$tar.tmp" "$tar"
  fi
  echo "$tar"
}

# pack_image TREE ARCHIVE OCIARCHIVE-ARGS...: a tar of TREE with fixed owners, order and times (the
# same tree makes the same layer), then the OCI archive; TREE is removed.
pack_image() {
  local tree=$1 archive=$2 ociarchive=$cache_root/.ociarchive-$$
  shift 2
  tar --numeric-owner --sort=name --mtime=@0 -C "$tree" -cf "$archive.rootfs" .
  rm -rf "$tree"
  (cd "$(dirname "${BASH_SOURCE[0]}")" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$ociarchive" ./cmd/ociarchive)
  "$ociarchive" -rootfs "$archive.rootfs" -o "$archive" "$@" >/dev/null
  rm -f "$archive.rootfs" "$ociarchive"
}
