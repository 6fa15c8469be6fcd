#!/usr/bin/python3
# Test fixture F2: an ostree-ext "v1 chunked" container image, made with the real OSTree tools.
#
# The commit comes from the ostree CLI (as root, so owners and xattrs on disk are what it records);
# the objects are read back through libostree (python3-gi) and written as ostree-ext tar layers
# (sysroot/ostree/repo/objects/..., bare-split-xattrs conventions) into an OCI image layout.
#
# usage: encapsulate.py OUT [--big MB] [--variant normal|tampered|tampered-large|derived|nolabel]
# OUT gets: src-repo/ (archive repo holding the source commit, ref `ock`), oci/ (the OCI layout,
# tag `ock`), info.json (commit checksum, diff_ids).
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile

import gi

gi.require_version("OSTree", "1.0")
from gi.repository import Gio, GLib, OSTree  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--big", type=int, default=0, help="add this many MB of generated files under usr/share/big")
p.add_argument("--variant", default="normal",
               choices=["normal", "tampered", "tampered-large", "derived", "nolabel"])
args = p.parse_args()

out = os.path.abspath(args.out)
shutil.rmtree(out, ignore_errors=True)
tree = os.path.join(out, "tree")
os.makedirs(tree)


def w(rel, data=b"", mode=0o644, uid=0, gid=0, xattrs=None):
    path = os.path.join(tree, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, gid)  # before chmod: chown clears the setuid bit
    os.chmod(path, mode)
    for k, v in (xattrs or {}).items():
        os.setxattr(path, k, v)
    return path


# The awkward cases an unencapsulator must get right.
w("usr/bin/ock-tool", b"#!/bin/sh\necho ock\n", 0o755,
  xattrs={"security.selinux": b"system_u:object_r:bin_t:s0\0", "user.ock.note": b"exec with xattrs"})
w("usr/bin/setuid-helper", b"\x7fELF fake\n", 0o4755)
os.symlink("ock-tool", os.path.join(tree, "usr/bin/ock-link"))
os.symlink("../../this/target/does/not/exist", os.path.join(tree, "usr/bin/dangling"))
first = w("usr/lib/shared/data.txt", b"shared by hardlinks\n" * 50)
os.link(first, os.path.join(tree, "usr/lib/shared/data-link1.txt"))
os.link(first, os.path.join(tree, "usr/lib/shared/data-link2.txt"))
w("usr/share/empty", b"")
w("usr/share/empty-too", b"", 0o600)
w("usr/etc/os-release", b'NAME="OCK fixture"\nID=ock\nVERSION_ID=1.33\n')
w("usr/etc/kubernetes/kubelet.conf", b"kind: KubeletConfiguration\n", 0o600)
w("usr/lib/etcd-owned/state", b"owned by 998:997\n", 0o640, uid=998, gid=997)
os.makedirs(os.path.join(tree, "usr/lib/etcd-owned/dir"))
os.chown(os.path.join(tree, "usr/lib/etcd-owned/dir"), 998, 997)
os.chmod(os.path.join(tree, "usr/lib/etcd-owned/dir"), 0o750)
os.makedirs(os.path.join(tree, "usr/share/emptydir"))
w("usr/lib/modules/6.12.0-ock/vmlinuz", os.urandom(4096) + b"kernel placeholder", 0o755)
w("usr/lib/modules/6.12.0-ock/initramfs.img", b"initramfs placeholder" * 100, 0o644)
# Larger than an importer's in-memory threshold (256 KiB): the streamed path.
w("usr/lib/modules/6.12.0-ock/kernel/big.ko", os.urandom(300 * 1024) + bytes(300 * 1024), 0o644)
w("usr/share/doc/long/" + "n" * 120 + "/" + "f" * 150 + ".txt", b"a path longer than ustar's 100 bytes\n")
w("usr/share/utf8/caf\u00e9-\u65e5\u672c.txt", "non-ASCII name\n".encode())
for d in ("boot", "sysroot", "var", "tmp"):
    os.makedirs(os.path.join(tree, d), exist_ok=True)
os.symlink("sysroot/ostree", os.path.join(tree, "ostree"))
if args.big:
    # Many files of mixed sizes and compressibility, like /usr: the benchmark's input.
    rnd = random.Random(14)
    left = args.big * 1024 * 1024
    i = 0
    while left > 0:
        size = min(left, rnd.choice([300, 2000, 8000, 30000, 120000]))
        half = os.urandom(size // 2)
        w(f"usr/share/big/d{i % 97}/f{i}", half + bytes(size - len(half)), 0o644)
        left -= size
        i += 1

src = os.path.join(out, "src-repo")
subprocess.run(["ostree", "init", "--repo=" + src, "--mode=archive"], check=True)
subprocess.run(["ostree", "commit", "--repo=" + src, "--branch=ock", "--tree=dir=" + tree,
                "--subject=OCK fixture", "--add-metadata-string=version=1.33.1",
                "--add-metadata=ostree.bootable=true", "--timestamp=2026-11-21T00:00:00Z"],
               check=True, stdout=subprocess.DEVNULL)
shutil.rmtree(tree)

repo = OSTree.Repo.new(Gio.File.new_for_path(src))
repo.open(None)
_, commit = repo.resolve_rev("ock", False)
_, objs = repo.list_objects(OSTree.RepoListObjectsFlags.ALL, None)
meta, content = [], []
for key in objs.keys():
    csum, otype = key.unpack()
    (content if otype == OSTree.ObjectType.FILE else meta).append((csum, otype))
meta.sort()
content.sort()
EXT = {OSTree.ObjectType.COMMIT: "commit", OSTree.ObjectType.DIR_TREE: "dirtree",
       OSTree.ObjectType.DIR_META: "dirmeta", OSTree.ObjectType.COMMIT_META: "commitmeta"}
R = "sysroot/ostree/repo/"


def objpath(csum, ext):
    return f"{R}objects/{csum[:2]}/{csum[2:]}.{ext}"


class Layer:
    def __init__(self):
        self.raw = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.raw, mode="w", format=tarfile.PAX_FORMAT)
        self.xattrs_written = set()
        self.skeleton()

    def add(self, name, data=None, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.linkname = kind, mode, uid, gid, link
        ti.mtime = 0
        ti.size = len(data) if data is not None and kind == tarfile.REGTYPE else 0
        self.tar.addfile(ti, io.BytesIO(data) if ti.size else None)

    def skeleton(self):
        for d in ["sysroot", "sysroot/ostree", R[:-1], R + "objects"]:
            self.add(d, kind=tarfile.DIRTYPE, mode=0o755)
        for i in range(256):
            self.add(f"{R}objects/{i:02x}", kind=tarfile.DIRTYPE, mode=0o755)
        for d in ["refs", "refs/heads", "refs/mirrors", "refs/remotes", "state", "tmp", "tmp/cache", "extensions"]:
            self.add(R + d, kind=tarfile.DIRTYPE, mode=0o755)
        self.add(R + "config", b"[core]\nrepo_version=1\nmode=bare-split-xattrs\n")

    def content(self, csum, tamper=False):
        _, stream, info, xattrs = repo.load_file(csum, None)
        xbytes = xattrs.get_data_as_bytes().get_data() if xattrs is not None else b""
        xcsum = hashlib.sha256(xbytes).hexdigest()
        if xcsum not in self.xattrs_written:
            self.add(objpath(xcsum, "file-xattrs"), xbytes)
            self.xattrs_written.add(xcsum)
        self.add(objpath(csum, "file-xattrs-link"), kind=tarfile.LNKTYPE, link=objpath(xcsum, "file-xattrs"))
        uid, gid = info.get_attribute_uint32("unix::uid"), info.get_attribute_uint32("unix::gid")
        mode = info.get_attribute_uint32("unix::mode")
        if info.get_file_type() == Gio.FileType.SYMBOLIC_LINK:
            self.add(objpath(csum, "file"), kind=tarfile.SYMTYPE, mode=0o777, uid=uid, gid=gid,
                     link=info.get_symlink_target())
            return
        data = b""
        while True:
            chunk = stream.read_bytes(1 << 20, None).get_data()
            if not chunk:
                break
            data += chunk
        if tamper:
            data = data[:-1] + bytes([data[-1] ^ 1])
        self.add(objpath(csum, "file"), data, mode=mode & 0o7777, uid=uid, gid=gid)

    def finish(self):
        self.tar.close()
        raw = self.raw.getvalue()
        gz = gzip.compress(raw, compresslevel=1, mtime=0)
        return raw, gz


# Layer 0, the commit layer: every metadata object, and the content objects not in a chunk.
# Layer 1, a "component" chunk: the content under usr/lib and usr/share (half the objects).
l0, l1 = Layer(), Layer()
for csum, otype in meta:
    _, v = repo.load_variant(otype, csum)
    l0.add(objpath(csum, EXT[otype]), v.get_data_as_bytes().get_data())
_, detached = repo.read_commit_detached_metadata(commit, None)
if detached is not None:
    l0.add(objpath(commit, "commitmeta"), detached.get_data_as_bytes().get_data())
tampered_done = False
for i, (csum, _) in enumerate(content):
    target = l1 if i % 2 else l0
    info = repo.load_file(csum, None)[2]
    regular = info.get_file_type() == Gio.FileType.REGULAR and info.get_size() > 0
    wanted = {"tampered": regular and info.get_size() < 65536 and target is l1,
              "tampered-large": regular and info.get_size() > 512 * 1024}.get(args.variant, False)
    if wanted and not tampered_done and info.get_size() > 512 * 1024:
        target = l1  # keep the tampered object in the chunk layer
    tamper = wanted and not tampered_done
    tampered_done = tampered_done or tamper
    target.content(csum, tamper)
# A checkout path, as ostree-ext writes them (hardlinks to objects); importers ignore it.
l0.add("usr", kind=tarfile.DIRTYPE, mode=0o755)
l0.add("usr/checkout-link", kind=tarfile.LNKTYPE, link=objpath(content[0][0], "file"))

layers = [l0.finish(), l1.finish()]
annotations = [{}, {"ostree.components": "fixture-lib,fixture-share"}]
if args.variant == "derived":
    d = io.BytesIO()
    t = tarfile.open(fileobj=d, mode="w", format=tarfile.PAX_FORMAT)
    ti = tarfile.TarInfo("etc/derived.conf")
    data = b"added by a Containerfile\n"
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
    t.close()
    layers.append((d.getvalue(), gzip.compress(d.getvalue(), mtime=0)))
    annotations.append({})

oci = os.path.join(out, "oci")
blobs = os.path.join(oci, "blobs", "sha256")
os.makedirs(blobs)


def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h, len(data)


diff_ids, descs = [], []
for (raw, gz), ann in zip(layers, annotations):
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    dg, size = blob(gz)
    desc = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": dg, "size": size}
    if ann:
        desc["annotations"] = ann
    descs.append(desc)
labels = {"ostree.commit": commit, "ostree.final-diffid": diff_ids[1], "ostree.bootable": "true",
          "containers.bootc": "1", "version": "1.33.1", "org.opencontainers.image.version": "1.33.1"}
if args.variant == "nolabel":
    del labels["ostree.final-diffid"]
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, "amd64")
config = {"architecture": arch, "os": "linux", "created": "2026-11-21T00:00:00Z",
          "config": {"Labels": labels},
          "rootfs": {"type": "layers", "diff_ids": diff_ids},
          "history": [{"created": "2026-11-21T00:00:00Z", "created_by": "ostree export"} for _ in layers]}
cdg, csize = blob(json.dumps(config, sort_keys=True).encode())
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": csize},
            "layers": descs, "annotations": {k: v for k, v in labels.items() if k.startswith("ostree.")}}
mdg, msize = blob(json.dumps(manifest, sort_keys=True).encode())
with open(os.path.join(oci, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(oci, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": mdg, "size": msize,
         "annotations": {"org.opencontainers.image.ref.name": "ock"}}]}, f)
with open(os.path.join(out, "info.json"), "w") as f:
    json.dump({"commit": commit, "diffIds": diff_ids, "manifestDigest": mdg,
               "contentObjects": len(content), "metadataObjects": len(meta)}, f)
sys.exit(0)
