r"""Colour images from files: a tiny PNG codec, a folder of drawn shapes, resizing, normalising.

Everything is NumPy and the standard library (``zlib``, ``struct``), deterministic from a seed:

* :func:`write_png` / :func:`read_png` -- an 8-bit PNG encoder and decoder (grey, grey + alpha,
  RGB, RGBA; all five row filters: None, Sub, Up, Average, Paeth), with bounded input;
* :func:`draw_shape` and :func:`write_shapes_folder` -- small colour images of four classes
  (circle, square, triangle, cross) in random colours, positions and sizes on noisy
  backgrounds, 20 to 40 pixels a side, written one sub-folder per class;
* :func:`bilinear_resize` -- PyTorch's ``interpolate(mode="bilinear", align_corners=False,
  antialias=False)``;
* :func:`load_image` and :func:`load_image_folder` -- files to ``(N, 3, H, W)`` arrays in [0, 1]
  with integer labels and the sorted class (folder) names;
* :class:`ChannelNormalizer` -- per-channel mean and standard deviation, from the training split only.

The bilinear resize maps output pixel :math:`i` (of :math:`H_\text{out}`) to the source coordinate

.. math:: s = \max\!\left(0,\ (i + \tfrac12)\,\frac{H_\text{in}}{H_\text{out}} - \tfrac12\right),

and mixes the two neighbouring source pixels :math:`\lfloor s \rfloor` and
:math:`\min(\lfloor s \rfloor + 1, H_\text{in} - 1)` with weights :math:`1 - \lambda` and
:math:`\lambda = s - \lfloor s \rfloor`; rows first, then columns.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..init import as_generator

__all__ = ["PNG_SIGNATURE", "MAX_PNG_SIDE", "SHAPE_CLASSES", "write_png", "read_png", "to_rgb",
           "draw_shape", "write_shapes_folder", "bilinear_resize", "load_image", "ImageFolder",
           "load_image_folder", "ChannelNormalizer"]

#: The eight bytes every PNG file starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The largest width or height :func:`read_png` accepts (and at most this many squared pixels).
MAX_PNG_SIDE = 4096
#: The classes :func:`write_shapes_folder` draws, in the (sorted) order of their labels.
SHAPE_CLASSES = ("circle", "cross", "square", "triangle")

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}        # PNG colour type -> samples per pixel
_COLOUR_TYPE = {1: 0, 3: 2, 2: 4, 4: 6}     # samples per pixel -> PNG colour type
_FILTERS = {"none": 0, "sub": 1, "up": 2, "average": 3, "paeth": 4}


# ----------------------------------------------------------------------------- PNG encoder

def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The Paeth predictor (vectorised): whichever of left, up, up-left is closest to left + up - up-left."""
    a, b, c = (v.astype(np.int16) for v in (a, b, c))
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def _filter_row(kind: int, row: np.ndarray, prev: np.ndarray, bpp: int) -> np.ndarray:
    """Filter one scanline (uint8, length W * bpp) given the previous (unfiltered) one."""
    r, p = row.astype(np.int16), prev.astype(np.int16)
    left = np.concatenate([np.zeros(bpp, np.int16), r[:-bpp]])
    up_left = np.concatenate([np.zeros(bpp, np.int16), p[:-bpp]])
    if kind == 0:
        out = r
    elif kind == 1:
        out = r - left
    elif kind == 2:
        out = r - p
    elif kind == 3:
        out = r - (left + p) // 2
    else:
        out = r - _paeth(left, p, up_left)
    return (out % 256).astype(np.uint8)


def write_png(path, image, filter_type="none", compress_level: int = 6) -> Path:
    """Write an 8-bit image as a PNG file.

    Parameters
    ----------
    path : str or Path
    image : ndarray of uint8, shape (H, W) (grey), (H, W, 1), (H, W, 2) (grey + alpha),
        (H, W, 3) (RGB) or (H, W, 4) (RGBA)
    filter_type : {"none", "sub", "up", "average", "paeth", "cycle"} or int 0-4
        The row filter of every scanline; ``"cycle"`` uses 0, 1, 2, 3, 4, 0, ... row by row.
    compress_level : int
        zlib level, 0-9.

    Returns
    -------
    Path
        The file written.
    """
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise TypeError(f"write_png takes uint8 images (0-255); got dtype {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _COLOUR_TYPE or min(img.shape[:2]) < 1:
        raise ValueError(f"image must have shape (H, W) or (H, W, C) with C in 1-4; got {np.shape(image)}")
    h, w, bpp = img.shape
    if isinstance(filter_type, str):
        if filter_type != "cycle" and filter_type not in _FILTERS:
            raise ValueError(f"filter_type must be one of {sorted(_FILTERS)}, 'cycle' or 0-4; got {filter_type!r}")
        kinds = [i % 5 for i in range(h)] if filter_type == "cycle" else [_FILTERS[filter_type]] * h
    elif isinstance(filter_type, (int, np.integer)) and 0 <= filter_type <= 4:
        kinds = [int(filter_type)] * h
    else:
        raise ValueError(f"filter_type must be a filter name, 'cycle' or 0-4; got {filter_type!r}")
    rows = img.reshape(h, w * bpp)
    prev = np.zeros(w * bpp, np.uint8)
    raw = bytearray()
    for kind, row in zip(kinds, rows):
        raw.append(kind)
        raw += _filter_row(kind, row, prev, bpp).tobytes()
        prev = row
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[bpp], 0, 0, 0)
    path = Path(path)
    path.write_bytes(PNG_SIGNATURE + _chunk(b"IHDR", header)
                     + _chunk(b"IDAT", zlib.compress(bytes(raw), compress_level)) + _chunk(b"IEND", b""))
    return path


# ----------------------------------------------------------------------------- PNG decoder

def _unfilter(raw: bytes, h: int, w: int, bpp: int) -> np.ndarray:
    """Undo the row filters of the decompressed stream: (H, W * bpp) uint8."""
    stride = w * bpp
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.uint8)
    for i in range(h):
        start = i * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind == 0:
            row = line.copy()
        elif kind == 1:      # Sub: a running sum along each channel
            row = (np.cumsum(line.reshape(w, bpp), axis=0, dtype=np.int64) % 256).astype(np.uint8).ravel()
        elif kind == 2:      # Up
            row = ((line.astype(np.int16) + prev) % 256).astype(np.uint8)
        elif kind in (3, 4):  # Average and Paeth depend on the byte just decoded: one byte at a time
            cur = bytearray(line.tobytes())
            up = prev.tobytes()
            for j in range(stride):
                a = cur[j - bpp] if j >= bpp else 0
                b = up[j]
                if kind == 3:
                    pred = (a + b) >> 1
                else:
                    c = up[j - bpp] if j >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[j] = (cur[j] + pred) & 0xFF
            row = np.frombuffer(bytes(cur), np.uint8)
        else:
            raise ValueError(f"corrupt PNG: unknown row filter {kind} in row {i}")
        out[i] = row
        prev = row
    return out


def read_png(path, max_side: int = MAX_PNG_SIDE) -> np.ndarray:
    """Decode an 8-bit, non-interlaced grey, grey + alpha, RGB or RGBA PNG file.

    Parameters
    ----------
    path : str or Path
    max_side : int
        Refuse images wider or taller than this (a guard against huge or hostile files).

    Returns
    -------
    ndarray of uint8, shape (H, W, C)
        ``C`` is 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA), as stored in the file.

    Raises
    ------
    ValueError
        Not a PNG file, a corrupt or truncated one (bad CRC, missing chunks, wrong data
        length), dimensions above ``max_side``, or a kind this decoder does not read
        (palette, 1/2/4/16-bit samples, interlacing).
    """
    path = Path(path)
    blob = path.read_bytes()
    if not blob.startswith(PNG_SIGNATURE):
        raise ValueError(f"{path.name} is not a PNG file (its first bytes are {blob[:8]!r})")
    pos, header, idat = len(PNG_SIGNATURE), None, []
    while True:
        if pos + 8 > len(blob):
            raise ValueError(f"{path.name}: truncated PNG (no IEND chunk)")
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        payload = blob[pos + 8:pos + 8 + length]
        if len(payload) != length or pos + 12 + length > len(blob):
            raise ValueError(f"{path.name}: truncated PNG chunk {kind!r}")
        (crc,) = struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])
        if crc != zlib.crc32(kind + payload):
            raise ValueError(f"{path.name}: corrupt PNG (CRC mismatch in chunk {kind!r})")
        pos += 12 + length
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"{path.name}: corrupt PNG header")
            header = struct.unpack(">IIBBBBB", payload)
            w, h, depth, colour, _, _, interlace = header
            if w < 1 or h < 1 or w > max_side or h > max_side:
                raise ValueError(f"{path.name}: image of {w}x{h} pixels; this reader accepts at most "
                                 f"{max_side} pixels a side (max_side)")
            if depth != 8 or colour not in _CHANNELS:
                raise ValueError(f"{path.name}: only 8-bit grey, grey+alpha, RGB and RGBA PNGs are read; "
                                 f"this one has bit depth {depth} and colour type {colour}")
            if interlace != 0:
                raise ValueError(f"{path.name}: interlaced PNGs are not read")
        elif kind == b"IDAT":
            if header is None:
                raise ValueError(f"{path.name}: corrupt PNG (IDAT before IHDR)")
            idat.append(payload)
        elif kind == b"IEND":
            break
    if header is None or not idat:
        raise ValueError(f"{path.name}: corrupt PNG (no IHDR or no image data)")
    w, h, _, colour, _, _, _ = header
    bpp = _CHANNELS[colour]
    expected = h * (1 + w * bpp)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(idat), expected + 1)   # bounded: never more than the image needs
    except zlib.error as exc:
        raise ValueError(f"{path.name}: corrupt PNG data ({exc})") from None
    if len(raw) != expected:
        raise ValueError(f"{path.name}: PNG data holds {len(raw)} bytes; {w}x{h} with {bpp} channels needs {expected}")
    return _unfilter(raw, h, w, bpp).reshape(h, w, bpp)


def to_rgb(image) -> np.ndarray:
    """An (H, W, C) uint8 image with C in 1-4 as (H, W, 3) RGB: grey is repeated, alpha dropped."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected an (H, W, C) image with C in 1-4; got shape {img.shape}")
    if img.shape[2] <= 2:
        return np.repeat(img[:, :, :1], 3, axis=2)
    return img[:, :, :3]


# ----------------------------------------------------------------------------- drawing

def draw_shape(kind: str, size: int = 32, seed=None) -> np.ndarray:
    """One image of class ``kind`` (see :data:`SHAPE_CLASSES`): a (size, size, 3) uint8 array.

    The shape has a random colour, position and size (two fifths to about seven tenths of the image)
    on a background of another random colour with Gaussian noise; colours of shape and
    background differ by at least 0.35 in some channel, so the shape stays visible.
    """
    if kind not in SHAPE_CLASSES:
        raise ValueError(f"kind must be one of {SHAPE_CLASSES}; got {kind!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 8 <= size <= 512:
        raise ValueError(f"size must be an int from 8 to 512; got {size!r}")
    rng = as_generator(seed)
    background = rng.uniform(0, 1, 3)
    colour = rng.uniform(0, 1, 3)
    while np.max(np.abs(colour - background)) < 0.35:
        colour = rng.uniform(0, 1, 3)
    radius = rng.uniform(size / 5, size / 2.8)
    cy, cx = rng.uniform(radius, size - radius, 2)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dy, dx = (yy - cy) / radius, (xx - cx) / radius
    if kind == "circle":
        mask = dx ** 2 + dy ** 2 <= 1
    elif kind == "square":
        mask = (np.abs(dx) <= 0.8) & (np.abs(dy) <= 0.8)
    elif kind == "triangle":    # pointing up: apex at the top, base at the bottom
        mask = (dy <= 0.8) & (dy >= -1 + 2 * np.abs(dx))
    else:                       # a plus sign of two bars
        mask = ((np.abs(dx) <= 0.3) & (np.abs(dy) <= 1)) | ((np.abs(dy) <= 0.3) & (np.abs(dx) <= 1))
    img = np.where(mask[:, :, None], colour, background) + rng.normal(0, 0.06, (size, size, 3))
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def write_shapes_folder(path, per_class: int = 100, seed=0, min_size: int = 20, max_size: int = 40,
                        filter_type="cycle") -> Path:
    """Write ``per_class`` PNG images of each class to ``path/<class>/<class>_NNN.png``.

    Each image is square with a side drawn uniformly from ``min_size..max_size``, so a loader
    must resize. Returns ``path``.
    """
    if int(per_class) != per_class or per_class < 1:
        raise ValueError(f"per_class must be a positive int; got {per_class!r}")
    if not 8 <= min_size <= max_size <= 512:
        raise ValueError(f"need 8 <= min_size <= max_size <= 512; got {min_size}, {max_size}")
    rng = as_generator(seed)
    root = Path(path)
    for kind in SHAPE_CLASSES:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(int(per_class)):
            side = int(rng.integers(min_size, max_size + 1))
            write_png(root / kind / f"{kind}_{i:03d}.png", draw_shape(kind, side, rng), filter_type=filter_type)
    return root


# ----------------------------------------------------------------------------- resizing and loading

def _resize_axis(x: np.ndarray, out: int, axis: int) -> np.ndarray:
    n = x.shape[axis]
    src = np.maximum((np.arange(out) + 0.5) * (n / out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = (src - i0).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = out
    lam = lam.reshape(shape)
    return np.take(x, i0, axis=axis) * (1 - lam) + np.take(x, i1, axis=axis) * lam


def bilinear_resize(X, size) -> np.ndarray:
    """Resize images ``(..., H, W)`` to ``(..., H_out, W_out)`` bilinearly (PyTorch's align_corners=False).

    Without anti-aliasing, strong downsampling (more than a factor of two) skips pixels,
    as PyTorch's ``antialias=False`` does.

    Parameters
    ----------
    X : ndarray, shape (..., H, W)
        Float images (integers are converted to float64).
    size : (int, int)
        ``(H_out, W_out)``.

    Returns
    -------
    ndarray, shape (..., H_out, W_out)
    """
    X = np.asarray(X)
    if X.ndim < 2 or min(X.shape[-2:]) < 1:
        raise ValueError(f"expected images with height and width as the last two axes; got shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    size = tuple(size)
    if len(size) != 2 or any(isinstance(s, bool) or int(s) != s or s < 1 for s in size):
        raise ValueError(f"size must be two positive ints (H_out, W_out); got {size!r}")
    out = _resize_axis(X, int(size[0]), X.ndim - 2)
    return _resize_axis(out, int(size[1]), X.ndim - 1)


def load_image(path, size=(16, 16), dtype=np.float32) -> np.ndarray:
    """One PNG file as a (3, H, W) array in [0, 1], resized to ``size`` (None keeps its size)."""
    img = to_rgb(read_png(path)).astype(dtype) / 255
    img = np.transpose(img, (2, 0, 1))
    if size is not None and tuple(img.shape[1:]) != tuple(size):
        img = bilinear_resize(img, size)
    return np.clip(img, 0, 1).astype(dtype, copy=False)


class ImageFolder(NamedTuple):
    """What :func:`load_image_folder` returns (it unpacks as ``X, y, class_names``)."""

    X: np.ndarray            #: (N, 3, H, W) images in [0, 1]
    y: np.ndarray            #: (N,) integer labels, indices into class_names
    class_names: list        #: the sorted sub-folder names


def load_image_folder(path, size=(16, 16), dtype=np.float32, max_images: int = 100_000) -> ImageFolder:
    """Every ``*.png`` of ``path/<class>/``, resized to ``size``, with labels from the sorted folder names.

    Parameters
    ----------
    path : str or Path
        A folder with one sub-folder per class (as :func:`write_shapes_folder` writes).
    size : (int, int)
        ``(H, W)`` of every returned image (bilinear resize, :func:`bilinear_resize`).
    dtype : numpy dtype
        float32 (default) or float64.
    max_images : int
        Refuse folders holding more images than this.

    Returns
    -------
    ImageFolder
        ``X`` (N, 3, H, W) in [0, 1], ``y`` (N,) int64, ``class_names`` (list of str); files are
        read in sorted order, class by class.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder")
    class_names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_names:
        raise ValueError(f"{root} holds no class sub-folders")
    files = [(f, k) for k, name in enumerate(class_names) for f in sorted((root / name).glob("*.png"))]
    if not files:
        raise ValueError(f"no .png files in the sub-folders of {root}")
    if len(files) > max_images:
        raise ValueError(f"{root} holds {len(files)} images; max_images is {max_images}")
    X = np.stack([load_image(f, size, dtype) for f, _ in files])
    y = np.array([k for _, k in files], dtype=np.int64)
    return ImageFolder(X, y, class_names)


class ChannelNormalizer:
    """Per-channel standardisation of (N, C, H, W) images: ``(x - mean_c) / std_c``.

    :meth:`fit` reads the training split only; the same ``mean_`` and ``std_`` (shape (C,))
    then transform the validation and test splits and any new image.
    """

    def __init__(self, eps: float = 1e-8):
        self.eps = float(eps)
        self.mean_ = self.std_ = None

    def fit(self, X) -> "ChannelNormalizer":
        X = np.asarray(X)
        if X.ndim != 4:
            raise ValueError(f"expected images (N, C, H, W); got shape {X.shape}")
        self.mean_ = X.mean(axis=(0, 2, 3), dtype=np.float64)
        self.std_ = X.std(axis=(0, 2, 3), dtype=np.float64)
        return self

    def transform(self, X) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("ChannelNormalizer.transform called before fit")
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[1] != len(self.mean_):
            raise ValueError(f"expected images (N, {len(self.mean_)}, H, W); got shape {X.shape}")
        dtype = X.dtype if X.dtype.kind == "f" else np.float64
        mean = self.mean_.astype(dtype)[None, :, None, None]
        std = (self.std_ + self.eps).astype(dtype)[None, :, None, None]
        return ((X - mean) / std).astype(dtype, copy=False)

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)
